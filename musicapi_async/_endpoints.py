"""The table of MusicAPI endpoints: one typed row carries everything about its endpoint.

A row (``Endpoint[Req, Res]``) says how to call the endpoint (method, path with its path
parameters, family, request types), how its answer is read (its parser, which knows the
envelope), how a request is checked before it is sent (its validator), what it costs
(documented credits, the pool they come from, and whether it is billable: a billable
POST is never re-sent unless it provably never reached the server or was explicitly
refused, see ``_retry``), whether it answers with a value now or with a task to poll (and
which row polls it), which command-line input kinds it serves, and the emulator's
behaviour for it.

Rules, enforced by ``tests/unit/test_endpoints.py``:

1. Every map from something else to a row is derived from ``ROWS`` below, never written
   by hand: ``ENDPOINTS`` (name), ``row_for`` (request type), ``TASK_ENDPOINTS`` (family),
   ``endpoint_for_kind`` (command-line kind), ``CREATE_ENDPOINTS`` (rows that start tasks).
2. A row has no silent defaults: every POST has a validator, every billable row a price,
   every task-starting row the row that polls it, every row an emulator behaviour.

Rows name their models (``"_sonic_models.WavRequest"``, see ``_model_base.model_name``)
and the functions of rarely used endpoints (``_later``) instead of importing them: creating
the attrs classes is most of what importing a model module costs, so a family's models
load when one of its rows is first used, not when the SDK is imported. Each constant's
annotation gives its row's types for the type checker, and a test holds every name to
its annotation.

Adding an endpoint is one row here, its models, one resource method and its emulator
behaviour.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeVar
from urllib.parse import quote

import attrs

from . import _validation as v
from ._model_base import Family, model_name, resolve
from ._parse import Parser, parse_accepted, parse_lyrics, snapshot_parser, value_parser

if TYPE_CHECKING:
    from ._batch_models import BatchAccepted, BatchStatus, SonicBatchRequest
    from ._fuzz_models import (
        ProducerDownloadRequest,
        ProducerRequest,
        ProducerUploadRequest,
        RiffusionRequest,
        RiffusionUploadRequest,
    )
    from ._models import (
        BpmRequest,
        BpmResult,
        Credits,
        LyricsCandidate,
        LyricsRequest,
        Persona,
        PersonaRequest,
        SonicRequest,
        TaskAccepted,
        TaskSnapshot,
        UploadedClip,
        UploadRequest,
    )
    from ._nuro_models import NuroInstrumentalRequest, NuroVocalRequest
    from ._sonic_models import (
        AlignedLyrics,
        AlignedLyricsRequest,
        DownloadRequest,
        DownloadResult,
        MashupRequest,
        MidiRequest,
        MidiResult,
        StemsFullRequest,
        StemsRequest,
        UpsampledTags,
        UpsampleTagsRequest,
        VoxRequest,
        VoxResult,
        WavRequest,
        WavResult,
    )
    from ._sonic_task_models import (
        CreateVoiceRequest,
        ReplaceSectionRequest,
        SampleRequest,
        UploadCoverRequest,
        UploadExtendRequest,
    )
    from ._studio_models import StudioRequest

__all__ = [
    "CREATE_ENDPOINTS",
    "ENDPOINTS",
    "KIND_TYPES",
    "ROWS",
    "TASK_ENDPOINTS",
    "Answer",
    "Cost",
    "Endpoint",
    "Pool",
    "cost_of",
    "endpoint_for_kind",
    "row_for",
]

Req = TypeVar("Req")
Res = TypeVar("Res")
Pool = Literal["credits", "lyrics"]
Validator = Callable[..., None]


def _later(name: str) -> Callable[..., Any]:
    """The function ``name`` (``"_validation_fuzz.validate_producer"``), imported when it
    is first called: the validators and parsers of rarely used rows (and the models some
    of them import) load with their row's first use, not with the table."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return resolve(name)(*args, **kwargs)

    call.__qualname__ = call.__name__ = name.rpartition(".")[2]
    return call


class _Models(Mapping[str, type]):
    """Model classes by key, given by name; each is imported when first looked up."""

    __slots__ = ("_names",)

    def __init__(self, names: Mapping[str, str]) -> None:
        self._names = names

    def __getitem__(self, key: str) -> type:
        cls: type = resolve(self._names[key])
        return cls

    def __contains__(self, key: object) -> bool:  # without importing the class
        return key in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"{{{', '.join(f'{k!r}: {n}' for k, n in self._names.items())}}}"


class Answer(enum.Enum):
    """What a successful call returns."""

    VALUE = "value"  # the result itself, now
    TASK = "task"  # a task id; the result comes from polling ``polled_by``
    # Several task ids at once (a batch): each is a task of the row's family, polled by
    # the family's task row (or, together, by the batch's own GET; see ``_batch_polling``).
    TASKS = "tasks"


@attrs.frozen(kw_only=True)
class Cost:
    """The documented price of one call (MUSICAPI.md §12).

    Attributes:
        credits: what one call costs; 0 for free calls.
        pool: the balance it is drawn from.
        by_task_type: prices of a ``task_type`` that differs from ``credits``.
    """

    credits: int
    pool: Pool = "credits"
    by_task_type: Mapping[str, int] = attrs.field(factory=dict)
    # The first call per clip is billed, repeats are free (aligned lyrics). A budget
    # still counts every call: it may over-count, never under-count.
    once_per_clip: bool = False
    # A batch: the call costs the sum of its ``items``, each priced by this cost.
    per_item: Cost | None = None

    def of(self, body: Mapping[str, Any]) -> int:
        """The price of one call with ``body`` as its wire body."""
        if self.per_item is not None:
            items = body.get("items")
            if not isinstance(items, list):
                return 0
            return sum(self.per_item.of(i) for i in items if isinstance(i, Mapping))
        task_type = body.get("task_type")
        return self.by_task_type.get(str(task_type), self.credits) if task_type else self.credits


FREE: Final = Cost(credits=0)


@attrs.frozen(kw_only=True)
class Endpoint(Generic[Req, Res]):
    """One row of the table.

    Attributes:
        name: stable identifier (``"sonic.create"``), used in counters, journals, errors.
        method: HTTP method.
        path: path template; ``{task_id}`` is its one path parameter.
        family: the product family; its task endpoint polls what this row starts.
        request_models: the names of the request models this endpoint takes (empty for
            GETs); ``request_types`` are the classes.
        result_model: the name of the model the answer is parsed into (for ``TASK`` rows:
            ``TaskAccepted``); ``result`` is the class.
        parse: reads the answer's JSON object (envelope included) into ``Res``.
        validator: checks the wire body before it is sent; ``None`` only for GETs.
        cost: the documented price.
        billable: whether a successful call costs credits (so it is never re-sent blindly).
        answer: whether a value comes back now or a task to poll.
        polled_by: the name of the row that polls the task (``TASK`` rows only).
        kind_models: the command-line input kinds this row serves, each with the name of
            its request model; ``kinds`` maps them to the classes.
        emulate: the name of the emulator's behaviour for this row (``emulator._app``);
            a name, because the client never imports the emulator.
    """

    name: str
    method: Literal["GET", "POST"]
    path: str
    family: Family
    request_models: tuple[str, ...]
    result_model: str
    parse: Parser[Res] = attrs.field(repr=False)
    validator: Validator | None = attrs.field(repr=False)
    cost: Cost
    billable: bool
    answer: Answer
    polled_by: str | None
    kind_models: Mapping[str, str]
    emulate: str

    @property
    def request_types(self) -> tuple[type[Req], ...]:
        """The request model classes (importing their modules on first use)."""
        return tuple(resolve(name) for name in self.request_models)

    @property
    def result(self) -> type:
        """The result model class (importing its module on first use)."""
        cls: type = resolve(self.result_model)
        return cls

    @property
    def kinds(self) -> Mapping[str, type[Req]]:
        """The command-line input kinds this row serves, each with its request class."""
        return _Models(self.kind_models)

    def url_path(self, task_id: str | None = None) -> str:
        """The concrete path, with ``task_id`` filled in (percent-escaped) where asked.

        Escaping keeps every id inside its one path segment: ``/``, ``?``, ``#``, ``%``
        or CRLF in an id can never reach another path or split the request.
        """
        if "{task_id}" in self.path:
            if not task_id:
                raise ValueError(f"{self.name} needs a task id")
            return self.path.replace("{task_id}", quote(task_id, safe=""))
        return self.path


_ACCEPTED: Final = "_result_models.TaskAccepted"


def _task_row(family: Family, name: str, path: str) -> Endpoint[None, TaskSnapshot]:
    return Endpoint(
        name=name,
        method="GET",
        path=path,
        family=family,
        request_models=(),
        result_model="_result_models.TaskSnapshot",
        parse=snapshot_parser(family),
        validator=None,
        cost=FREE,
        billable=False,
        answer=Answer.VALUE,
        polled_by=None,
        kind_models={},
        emulate=f"{family.value}_task",
    )


# Prices: MUSICAPI.md §12, the [V4] column where versions disagree (the figure the
# emulator charges and the tests pin). Persona and upload are undocumented for
# musicapi.ai; the sister site's 1 and 2 are used.
SONIC_CREATE: Final[Endpoint[SonicRequest, TaskAccepted]] = Endpoint(
    name="sonic.create",
    method="POST",
    path="/api/v1/sonic/create",
    family=Family.SONIC,
    request_models=("_request_models.SonicRequest",),
    result_model=_ACCEPTED,
    parse=parse_accepted,
    validator=v.validate_sonic,
    cost=Cost(credits=15, by_task_type={"concat_music": 2}),
    billable=True,
    answer=Answer.TASK,
    polled_by="sonic.task",
    kind_models={"sonic": "_request_models.SonicRequest"},
    emulate="sonic_create",
)
SONIC_PERSONA: Final[Endpoint[PersonaRequest, Persona]] = Endpoint(
    name="sonic.persona",
    method="POST",
    path="/api/v1/sonic/persona",
    family=Family.SONIC,
    request_models=("_request_models.PersonaRequest",),
    result_model="_result_models.Persona",
    parse=value_parser("_result_models.Persona"),
    validator=v.validate_persona,
    cost=Cost(credits=1),
    billable=True,
    answer=Answer.VALUE,
    polled_by=None,
    kind_models={"persona": "_request_models.PersonaRequest"},
    emulate="persona",
)
SONIC_UPLOAD: Final[Endpoint[UploadRequest, UploadedClip]] = Endpoint(
    name="sonic.upload",
    method="POST",
    path="/api/v1/sonic/upload",
    family=Family.SONIC,
    request_models=("_request_models.UploadRequest",),
    result_model="_result_models.UploadedClip",
    parse=value_parser("_result_models.UploadedClip"),
    validator=v.validate_upload,
    cost=Cost(credits=2),
    billable=True,
    answer=Answer.VALUE,
    polled_by=None,
    kind_models={"upload": "_request_models.UploadRequest"},
    emulate="upload",
)
SONIC_TASK: Final = _task_row(Family.SONIC, "sonic.task", "/api/v1/sonic/task/{task_id}")
LYRICS_CREATE: Final[Endpoint[LyricsRequest, list[LyricsCandidate]]] = Endpoint(
    name="lyrics.create",
    method="POST",
    path="/api/v1/sonic/lyrics",
    family=Family.SONIC,
    request_models=("_request_models.LyricsRequest",),
    result_model="_result_models.LyricsCandidate",
    parse=parse_lyrics,
    validator=v.validate_lyrics,
    cost=Cost(credits=10, pool="lyrics"),
    billable=True,
    answer=Answer.VALUE,
    polled_by=None,
    kind_models={"lyrics": "_request_models.LyricsRequest"},
    emulate="lyrics",
)
NURO_CREATE: Final[Endpoint[NuroVocalRequest | NuroInstrumentalRequest, TaskAccepted]] = Endpoint(
    name="nuro.create",
    method="POST",
    path="/api/v1/nuro/create",
    family=Family.NURO,
    request_models=("_nuro_models.NuroVocalRequest", "_nuro_models.NuroInstrumentalRequest"),
    result_model=_ACCEPTED,
    parse=parse_accepted,
    validator=v.validate_nuro,
    cost=Cost(credits=10),
    billable=True,
    answer=Answer.TASK,
    polled_by="nuro.task",
    kind_models={
        "nuro_vocal": "_nuro_models.NuroVocalRequest",
        "nuro_instrumental": "_nuro_models.NuroInstrumentalRequest",
    },
    emulate="nuro_create",
)
NURO_TASK: Final = _task_row(Family.NURO, "nuro.task", "/api/v1/nuro/task/{task_id}")
STUDIO_CREATE: Final[Endpoint[StudioRequest, TaskAccepted]] = Endpoint(
    name="studio.create",
    method="POST",
    path="/api/v1/studio/create",
    family=Family.STUDIO,
    request_models=("_studio_models.StudioRequest",),
    result_model=_ACCEPTED,
    parse=parse_accepted,
    validator=v.validate_studio,
    cost=Cost(credits=15),
    billable=True,
    answer=Answer.TASK,
    polled_by="studio.task",
    kind_models={"studio": "_studio_models.StudioRequest"},
    emulate="studio_create",
)
STUDIO_TASK: Final = _task_row(Family.STUDIO, "studio.task", "/api/v1/studio/task/{task_id}")
# 1 credit on the sister site (MUSICAPI.md §10), the only figure documented.
SONIC_BPM: Final[Endpoint[BpmRequest, BpmResult]] = Endpoint(
    name="sonic.bpm",
    method="POST",
    path="/api/v1/sonic/bpm",
    family=Family.SONIC,
    request_models=("_request_models.BpmRequest",),
    result_model="_result_models.BpmResult",
    parse=value_parser("_result_models.BpmResult"),
    validator=v.validate_clip_ref,
    cost=Cost(credits=1),
    billable=True,
    answer=Answer.VALUE,
    polled_by=None,
    kind_models={"bpm": "_request_models.BpmRequest"},
    emulate="bpm",
)
# ------------------------------------------------------------ sonic utilities (issue 13)
# Prices: MUSICAPI.md §10/§12; where sources conflict the higher figure is used, so a
# budget never under-counts.


def _utility_row(
    name: str, path: str, request: str, result: str, validator: Validator, credits: int,
    kind: str, *, once_per_clip: bool = False,
) -> Endpoint[Any, Any]:  # fmt: skip
    """A sonic utility's row; ``request`` and ``result`` name models of ``_sonic_models``."""
    request, result = f"_sonic_models.{request}", f"_sonic_models.{result}"
    return Endpoint(
        name=name, method="POST", path=path, family=Family.SONIC, request_models=(request,),
        result_model=result, parse=value_parser(result), validator=validator,
        cost=Cost(credits=credits, once_per_clip=once_per_clip), billable=True,
        answer=Answer.VALUE, polled_by=None, kind_models={kind: request}, emulate=name,
    )  # fmt: skip


# 1 credit (3P 2026-07) or 2 ([NEW-SITE], 3P 2026-10): CONFLICT, the higher figure.
SONIC_WAV: Final[Endpoint[WavRequest, WavResult]] = _utility_row(
    "sonic.wav", "/api/v1/sonic/wav", "WavRequest", "WavResult", v.validate_clip_ref, 2, "wav"
)
# 1 credit on the sister site, billed once per clip: the 202 "still preparing" answers
# that follow are retried free.
SONIC_MIDI: Final[Endpoint[MidiRequest, MidiResult]] = _utility_row(
    "sonic.midi", "/api/v1/sonic/midi", "MidiRequest", "MidiResult", v.validate_clip_ref, 1,
    "midi", once_per_clip=True,
)  # fmt: skip
SONIC_VOX: Final[Endpoint[VoxRequest, VoxResult]] = _utility_row(
    "sonic.vox", "/api/v1/sonic/vox", "VoxRequest", "VoxResult",
    _later("_sonic_validation.validate_vox"), 1, "vox",
)  # fmt: skip
# 1 credit on the first call for a clip; repeats are free (3P).
SONIC_ALIGNED_LYRICS: Final[Endpoint[AlignedLyricsRequest, AlignedLyrics]] = _utility_row(
    "sonic.aligned_lyrics", "/api/v1/sonic/aligned-lyrics", "AlignedLyricsRequest",
    "AlignedLyrics", v.validate_clip_ref, 1, "aligned_lyrics", once_per_clip=True,
)  # fmt: skip
SONIC_UPSAMPLE_TAGS: Final[Endpoint[UpsampleTagsRequest, UpsampledTags]] = _utility_row(
    "sonic.upsample_tags", "/api/v1/sonic/upsample-tags", "UpsampleTagsRequest",
    "UpsampledTags", _later("_sonic_validation.validate_upsample_tags"), 1, "upsample_tags",
)  # fmt: skip
# 2 credits, sister site only; a 202 while preparing is retried free (billed once per clip).
SONIC_DOWNLOAD: Final[Endpoint[DownloadRequest, DownloadResult]] = _utility_row(
    "sonic.download", "/api/v1/sonic/download", "DownloadRequest", "DownloadResult",
    _later("_sonic_validation.validate_download"), 2, "download", once_per_clip=True,
)  # fmt: skip


def _task_starting_row(
    name: str, path: str, request: str, validator: Validator, credits: int, kind: str
) -> Endpoint[Any, TaskAccepted]:
    """A sonic row whose answer is a task polled at /sonic/task like a create's."""
    return Endpoint(
        name=name, method="POST", path=path, family=Family.SONIC, request_models=(request,),
        result_model=_ACCEPTED, parse=parse_accepted, validator=validator,
        cost=Cost(credits=credits), billable=True, answer=Answer.TASK, polled_by="sonic.task",
        kind_models={kind: request}, emulate=name,
    )  # fmt: skip


# 15 ([V2-3P], [NEW-SITE]) / 20 (sister) / 30 ("four stems", 2026-10): CONFLICT, the higher.
SONIC_STEMS_BASIC: Final[Endpoint[StemsRequest, TaskAccepted]] = _task_starting_row(
    "sonic.stems_basic", "/api/v1/sonic/stems/basic", "_sonic_models.StemsRequest",
    v.validate_clip_ref, 30, "stems",
)  # fmt: skip
# 75 ([NEW-SITE], 3P) / 50 (sister): CONFLICT, the higher.
SONIC_STEMS_FULL: Final[Endpoint[StemsFullRequest, TaskAccepted]] = _task_starting_row(
    "sonic.stems_full", "/api/v1/sonic/stems/full", "_sonic_models.StemsFullRequest",
    v.validate_clip_ref, 75, "stems_full",
)  # fmt: skip
# 10-14 on the sister site (14 on advanced models or description mode): the higher.
SONIC_MASHUP: Final[Endpoint[MashupRequest, TaskAccepted]] = Endpoint(
    name="sonic.mashup", method="POST", path="/api/v1/sonic/mashup", family=Family.SONIC,
    request_models=("_sonic_models.MashupRequest",), result_model=_ACCEPTED,
    parse=parse_accepted, validator=_later("_sonic_validation.validate_mashup"),
    cost=Cost(credits=14), billable=True, answer=Answer.TASK, polled_by="sonic.task",
    kind_models={"mashup": "_sonic_models.MashupRequest"}, emulate="sonic.mashup",
)  # fmt: skip
# Tasks from audio (issue 13): each answers a task id polled at /sonic/task like a create.
# UNDOCUMENTED price: priced as its parts, each at its higher figure: upload 2 (§15.2) +
# extend 15 ([V4], 3P) + the concat auto_concat runs 2 ([V4]) = 19, charged whether or
# not auto_concat is set, so a budget never under-counts.
SONIC_UPLOAD_EXTEND: Final[Endpoint[UploadExtendRequest, TaskAccepted]] = _task_starting_row(
    "sonic.upload_extend", "/api/v1/sonic/upload-extend",
    "_sonic_task_models.UploadExtendRequest",
    _later("_sonic_task_validation.validate_upload_extend"), 19, "upload_extend",
)  # fmt: skip
# UNDOCUMENTED price: upload 2 + cover 15 ([V4], 3P; sister 10-14) = 17.
SONIC_UPLOAD_COVER: Final[Endpoint[UploadCoverRequest, TaskAccepted]] = _task_starting_row(
    "sonic.upload_cover", "/api/v1/sonic/upload-cover", "_sonic_task_models.UploadCoverRequest",
    _later("_sonic_task_validation.validate_upload_cover"), 17, "upload_cover",
)  # fmt: skip
# 14 (sister, the only figure) + 2 for the upload a ``url`` sample starts with = 16,
# charged for either source: a budget over-counts a clip sample by 2, never under.
SONIC_SAMPLE: Final[Endpoint[SampleRequest, TaskAccepted]] = _task_starting_row(
    "sonic.sample", "/api/v1/sonic/sample", "_sonic_task_models.SampleRequest",
    _later("_sonic_task_validation.validate_sample"), 16, "sample",
)  # fmt: skip
# 10 on the sister site, whose 10-credit edits (remaster, add_*) cost 15 on musicapi.ai
# (3P 2026-07/10): CONFLICT by analogy, the higher.
SONIC_REPLACE_SECTION: Final[Endpoint[ReplaceSectionRequest, TaskAccepted]] = (
    _task_starting_row(
        "sonic.replace_section", "/api/v1/sonic/replace-section",
        "_sonic_task_models.ReplaceSectionRequest",
        _later("_sonic_task_validation.validate_replace_section"), 15, "replace_section",
    )
)  # fmt: skip
# 4 credits ([V4], sister). The path is UNDOCUMENTED by MusicAPI (doc slug create-voice):
# /api/v1/sonic/create-voice is the vendor client's (musicapi-sdk 0.1.0).
SONIC_CREATE_VOICE: Final[Endpoint[CreateVoiceRequest, TaskAccepted]] = _task_starting_row(
    "sonic.create_voice", "/api/v1/sonic/create-voice", "_sonic_task_models.CreateVoiceRequest",
    _later("_sonic_task_validation.validate_create_voice"), 4, "create_voice",
)  # fmt: skip
# ------------------------------------------------------------ end of sonic utilities
CREDITS: Final[Endpoint[None, Credits]] = Endpoint(
    name="credits",
    method="GET",
    path="/api/v1/get-credits",
    family=Family.SONIC,
    request_models=(),
    result_model="_result_models.Credits",
    parse=value_parser("_result_models.Credits"),
    validator=None,
    cost=FREE,
    billable=False,
    answer=Answer.VALUE,
    polled_by=None,
    kind_models={},
    emulate="credits",
)

# ----------------------------------------------------------- producer and riffusion
# Prices (MUSICAPI.md §12): where sources conflict, the higher figure, so a budget is
# never short. Producer create: 10 (sister site, the only figure); extend and replace:
# 12 ([V4]); cover is undocumented and priced as an edit (12). Upload and download: 2
# (§15.2, sister site). Riffusion: 12 (2025-06) over the sister site's 10.
_PRODUCER_EDIT: Final = 12
PRODUCER_CREATE: Final[Endpoint[ProducerRequest, TaskAccepted]] = Endpoint(
    name="producer.create",
    method="POST",
    path="/api/v1/producer/create",
    family=Family.PRODUCER,
    request_models=("_fuzz_models.ProducerRequest",),
    result_model=_ACCEPTED,
    parse=parse_accepted,
    validator=_later("_validation_fuzz.validate_producer"),
    cost=Cost(
        credits=10,
        by_task_type=dict.fromkeys(
            (
                "extend_music",
                "extend_upload_music",
                "replace_music",
                "replace_upload_music",
                "cover_music",
            ),
            _PRODUCER_EDIT,
        ),
    ),
    billable=True,
    answer=Answer.TASK,
    polled_by="producer.task",
    kind_models={"producer": "_fuzz_models.ProducerRequest"},
    emulate="producer_create",
)
PRODUCER_UPLOAD: Final[Endpoint[ProducerUploadRequest, TaskAccepted]] = Endpoint(
    name="producer.upload",
    method="POST",
    path="/api/v1/producer/upload",
    family=Family.PRODUCER,
    request_models=("_fuzz_models.ProducerUploadRequest",),
    result_model=_ACCEPTED,
    parse=parse_accepted,
    validator=_later("_validation_fuzz.validate_producer_upload"),
    cost=Cost(credits=2),
    billable=True,
    answer=Answer.TASK,
    polled_by="producer.task",
    kind_models={"producer_upload": "_fuzz_models.ProducerUploadRequest"},
    emulate="producer_upload",
)
PRODUCER_DOWNLOAD: Final[Endpoint[ProducerDownloadRequest, TaskAccepted]] = Endpoint(
    name="producer.download",
    method="POST",
    path="/api/v1/producer/download",
    family=Family.PRODUCER,
    request_models=("_fuzz_models.ProducerDownloadRequest",),
    result_model=_ACCEPTED,
    parse=parse_accepted,
    validator=_later("_validation_fuzz.validate_producer_download"),
    cost=Cost(credits=2),
    billable=True,
    answer=Answer.TASK,
    polled_by="producer.task",
    kind_models={"producer_download": "_fuzz_models.ProducerDownloadRequest"},
    emulate="producer_download",
)
PRODUCER_TASK: Final = _task_row(
    Family.PRODUCER, "producer.task", "/api/v1/producer/task/{task_id}"
)
RIFFUSION_CREATE: Final[Endpoint[RiffusionRequest, TaskAccepted]] = Endpoint(
    name="riffusion.create",
    method="POST",
    path="/api/v1/riffusion/create",
    family=Family.RIFFUSION,
    request_models=("_fuzz_models.RiffusionRequest",),
    result_model=_ACCEPTED,
    parse=parse_accepted,
    validator=_later("_validation_fuzz.validate_riffusion"),
    cost=Cost(credits=12),
    billable=True,
    answer=Answer.TASK,
    polled_by="riffusion.task",
    kind_models={"riffusion": "_fuzz_models.RiffusionRequest"},
    emulate="riffusion_create",
)
RIFFUSION_UPLOAD: Final[Endpoint[RiffusionUploadRequest, UploadedClip]] = Endpoint(
    name="riffusion.upload",
    method="POST",
    path="/api/v1/riffusion/upload",
    family=Family.RIFFUSION,
    request_models=("_fuzz_models.RiffusionUploadRequest",),
    result_model="_result_models.UploadedClip",
    parse=value_parser("_result_models.UploadedClip"),
    validator=_later("_validation_fuzz.validate_riffusion_upload"),
    cost=Cost(credits=2),
    billable=True,
    answer=Answer.VALUE,
    polled_by=None,
    kind_models={"riffusion_upload": "_fuzz_models.RiffusionUploadRequest"},
    emulate="riffusion_upload",
)
RIFFUSION_TASK: Final = _task_row(
    Family.RIFFUSION, "riffusion.task", "/api/v1/riffusion/task/{task_id}"
)

# ------------------------------------------------------------------ sonic batch (issue 13)
# MUSICAPI.md §10: "credits same as per-item create": the sum of the items' create prices.
# The answer holds several task ids (``Answer.TASKS``); each is a sonic task, polled by
# ``sonic.task`` or, for the whole batch at once, by ``sonic.batch_status``.
SONIC_BATCH: Final[Endpoint[SonicBatchRequest, BatchAccepted]] = Endpoint(
    name="sonic.batch", method="POST", path="/api/v1/sonic/batch", family=Family.SONIC,
    request_models=("_batch_models.SonicBatchRequest",),
    result_model="_batch_models.BatchAccepted", parse=_later("_batch_models.parse_batch_accepted"),
    validator=_later("_batch_models.validate_sonic_batch"),
    cost=Cost(credits=15, per_item=SONIC_CREATE.cost), billable=True, answer=Answer.TASKS,
    polled_by=None, kind_models={"sonic_batch": "_batch_models.SonicBatchRequest"},
    emulate="sonic.batch",
)  # fmt: skip
# The batch id travels as a query parameter; ``{task_id}`` is how a row names its one id.
SONIC_BATCH_STATUS: Final[Endpoint[None, BatchStatus]] = Endpoint(
    name="sonic.batch_status", method="GET", path="/api/v1/sonic/batch?batch_id={task_id}",
    family=Family.SONIC, request_models=(), result_model="_batch_models.BatchStatus",
    parse=_later("_batch_models.parse_batch_status"), validator=None, cost=FREE,
    billable=False, answer=Answer.VALUE, polled_by=None, kind_models={},
    emulate="sonic.batch_status",
)  # fmt: skip

ROWS: Final[tuple[Endpoint[Any, Any], ...]] = (
    SONIC_CREATE,
    SONIC_PERSONA,
    SONIC_UPLOAD,
    SONIC_TASK,
    LYRICS_CREATE,
    NURO_CREATE,
    NURO_TASK,
    STUDIO_CREATE,
    STUDIO_TASK,
    SONIC_BPM,
    SONIC_WAV,
    SONIC_MIDI,
    SONIC_VOX,
    SONIC_ALIGNED_LYRICS,
    SONIC_UPSAMPLE_TAGS,
    SONIC_DOWNLOAD,
    SONIC_STEMS_BASIC,
    SONIC_STEMS_FULL,
    SONIC_MASHUP,
    SONIC_UPLOAD_EXTEND,
    SONIC_UPLOAD_COVER,
    SONIC_SAMPLE,
    SONIC_REPLACE_SECTION,
    SONIC_CREATE_VOICE,
    CREDITS,
    # producer and riffusion
    PRODUCER_CREATE,
    PRODUCER_UPLOAD,
    PRODUCER_DOWNLOAD,
    PRODUCER_TASK,
    RIFFUSION_CREATE,
    RIFFUSION_UPLOAD,
    RIFFUSION_TASK,
    # sonic batch
    SONIC_BATCH,
    SONIC_BATCH_STATUS,
)

# ------------------------------------------------------------ derived maps, never by hand

ENDPOINTS: Final[Mapping[str, Endpoint[Any, Any]]] = {ep.name: ep for ep in ROWS}
# The rows that start a task (creates, batches): they share the governor's create budget.
CREATE_ENDPOINTS: Final[Mapping[str, Endpoint[Any, Any]]] = {
    ep.name: ep for ep in ROWS if ep.answer in (Answer.TASK, Answer.TASKS)
}
# The task endpoint of each family, where its generations are polled.
TASK_ENDPOINTS: Final[Mapping[Family, Endpoint[Any, TaskSnapshot]]] = {
    ep.family: ENDPOINTS[ep.polled_by] for ep in ROWS if ep.polled_by is not None
}
# By model name (``model_name``), so that no model is imported to build them.
_BY_REQUEST: Final[Mapping[str, Endpoint[Any, Any]]] = {
    name: ep for ep in ROWS for name in ep.request_models
}
_BY_KIND: Final[Mapping[str, Endpoint[Any, Any]]] = {k: ep for ep in ROWS for k in ep.kind_models}
# Each kind's class is imported when first looked up: the command line asks for one.
KIND_TYPES: Final[Mapping[str, type]] = _Models(
    {k: name for ep in ROWS for k, name in ep.kind_models.items()}
)


def row_for(request: object) -> Endpoint[Any, Any]:
    """The row that takes ``request``'s type.

    Raises:
        KeyError: no row takes it.
    """
    cls = type(request)
    ep = _BY_REQUEST[model_name(cls)]
    if cls not in ep.request_types:  # a class of the same name that is not the model
        raise KeyError(cls)
    return ep


def endpoint_for_kind(kind: str) -> Endpoint[Any, Any]:
    """The row a command-line input kind (``"sonic"``, ``"nuro_vocal"``, ...) is sent to."""
    return _BY_KIND[kind]


def cost_of(endpoint: str | Endpoint[Any, Any], body: Mapping[str, Any]) -> tuple[int, Pool]:
    """The documented cost of one call, and the pool it is drawn from.

    Args:
        endpoint: a row, or its name.
        body: the wire body that is (or was) sent.

    Returns:
        ``(credits, pool)``; ``(0, "credits")`` for free calls.
    """
    ep = ENDPOINTS[endpoint] if isinstance(endpoint, str) else endpoint
    return ep.cost.of(body), ep.cost.pool
