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

Adding an endpoint is one row here, its models, one resource method and its emulator
behaviour.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Final, Generic, Literal, TypeVar
from urllib.parse import quote

import attrs

from . import _sonic_task_validation as stv
from . import _sonic_validation as sv
from . import _validation as v
from . import _validation_fuzz as vf
from ._batch_models import (
    BatchAccepted,
    BatchStatus,
    SonicBatchRequest,
    parse_batch_accepted,
    parse_batch_status,
    validate_sonic_batch,
)
from ._models import (
    BpmRequest,
    BpmResult,
    Credits,
    Family,
    LyricsCandidate,
    LyricsRequest,
    NuroInstrumentalRequest,
    NuroVocalRequest,
    Persona,
    PersonaRequest,
    ProducerDownloadRequest,
    ProducerRequest,
    ProducerUploadRequest,
    RiffusionRequest,
    RiffusionUploadRequest,
    SonicRequest,
    StudioRequest,
    TaskAccepted,
    TaskSnapshot,
    UploadedClip,
    UploadRequest,
)
from ._parse import Parser, parse_accepted, parse_lyrics, snapshot_parser, value_parser
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

__all__ = [
    "CREATE_ENDPOINTS",
    "ENDPOINTS",
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
        request_types: request models this endpoint takes (empty for GETs).
        result: the model the answer is parsed into (for ``TASK`` rows: ``TaskAccepted``).
        parse: reads the answer's JSON object (envelope included) into ``Res``.
        validator: checks the wire body before it is sent; ``None`` only for GETs.
        cost: the documented price.
        billable: whether a successful call costs credits (so it is never re-sent blindly).
        answer: whether a value comes back now or a task to poll.
        polled_by: the name of the row that polls the task (``TASK`` rows only).
        kinds: the command-line input kinds this row serves, each with its request type.
        emulate: the name of the emulator's behaviour for this row (``emulator._app``);
            a name, because the client never imports the emulator.
    """

    name: str
    method: Literal["GET", "POST"]
    path: str
    family: Family
    request_types: tuple[type[Req], ...]
    result: type
    parse: Parser[Res] = attrs.field(repr=False)
    validator: Validator | None = attrs.field(repr=False)
    cost: Cost
    billable: bool
    answer: Answer
    polled_by: str | None
    kinds: Mapping[str, type[Req]]
    emulate: str

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


def _task_row(family: Family, name: str, path: str) -> Endpoint[None, TaskSnapshot]:
    return Endpoint(
        name=name,
        method="GET",
        path=path,
        family=family,
        request_types=(),
        result=TaskSnapshot,
        parse=snapshot_parser(family),
        validator=None,
        cost=FREE,
        billable=False,
        answer=Answer.VALUE,
        polled_by=None,
        kinds={},
        emulate=f"{family.value}_task",
    )


# Prices: MUSICAPI.md §12, the [V4] column where versions disagree (the figure the
# emulator charges and the tests pin). Persona and upload are undocumented for
# musicapi.ai; the sister site's 1 and 2 are used.
SONIC_CREATE: Final = Endpoint[SonicRequest, TaskAccepted](
    name="sonic.create",
    method="POST",
    path="/api/v1/sonic/create",
    family=Family.SONIC,
    request_types=(SonicRequest,),
    result=TaskAccepted,
    parse=parse_accepted,
    validator=v.validate_sonic,
    cost=Cost(credits=15, by_task_type={"concat_music": 2}),
    billable=True,
    answer=Answer.TASK,
    polled_by="sonic.task",
    kinds={"sonic": SonicRequest},
    emulate="sonic_create",
)
SONIC_PERSONA: Final = Endpoint[PersonaRequest, Persona](
    name="sonic.persona",
    method="POST",
    path="/api/v1/sonic/persona",
    family=Family.SONIC,
    request_types=(PersonaRequest,),
    result=Persona,
    parse=value_parser(Persona),
    validator=v.validate_persona,
    cost=Cost(credits=1),
    billable=True,
    answer=Answer.VALUE,
    polled_by=None,
    kinds={"persona": PersonaRequest},
    emulate="persona",
)
SONIC_UPLOAD: Final = Endpoint[UploadRequest, UploadedClip](
    name="sonic.upload",
    method="POST",
    path="/api/v1/sonic/upload",
    family=Family.SONIC,
    request_types=(UploadRequest,),
    result=UploadedClip,
    parse=value_parser(UploadedClip),
    validator=v.validate_upload,
    cost=Cost(credits=2),
    billable=True,
    answer=Answer.VALUE,
    polled_by=None,
    kinds={"upload": UploadRequest},
    emulate="upload",
)
SONIC_TASK: Final = _task_row(Family.SONIC, "sonic.task", "/api/v1/sonic/task/{task_id}")
LYRICS_CREATE: Final = Endpoint[LyricsRequest, list[LyricsCandidate]](
    name="lyrics.create",
    method="POST",
    path="/api/v1/sonic/lyrics",
    family=Family.SONIC,
    request_types=(LyricsRequest,),
    result=LyricsCandidate,
    parse=parse_lyrics,
    validator=v.validate_lyrics,
    cost=Cost(credits=10, pool="lyrics"),
    billable=True,
    answer=Answer.VALUE,
    polled_by=None,
    kinds={"lyrics": LyricsRequest},
    emulate="lyrics",
)
NURO_CREATE: Final = Endpoint[NuroVocalRequest | NuroInstrumentalRequest, TaskAccepted](
    name="nuro.create",
    method="POST",
    path="/api/v1/nuro/create",
    family=Family.NURO,
    request_types=(NuroVocalRequest, NuroInstrumentalRequest),
    result=TaskAccepted,
    parse=parse_accepted,
    validator=v.validate_nuro,
    cost=Cost(credits=10),
    billable=True,
    answer=Answer.TASK,
    polled_by="nuro.task",
    kinds={"nuro_vocal": NuroVocalRequest, "nuro_instrumental": NuroInstrumentalRequest},
    emulate="nuro_create",
)
NURO_TASK: Final = _task_row(Family.NURO, "nuro.task", "/api/v1/nuro/task/{task_id}")
STUDIO_CREATE: Final = Endpoint[StudioRequest, TaskAccepted](
    name="studio.create",
    method="POST",
    path="/api/v1/studio/create",
    family=Family.STUDIO,
    request_types=(StudioRequest,),
    result=TaskAccepted,
    parse=parse_accepted,
    validator=v.validate_studio,
    cost=Cost(credits=15),
    billable=True,
    answer=Answer.TASK,
    polled_by="studio.task",
    kinds={"studio": StudioRequest},
    emulate="studio_create",
)
STUDIO_TASK: Final = _task_row(Family.STUDIO, "studio.task", "/api/v1/studio/task/{task_id}")
# 1 credit on the sister site (MUSICAPI.md §10), the only figure documented.
SONIC_BPM: Final = Endpoint[BpmRequest, BpmResult](
    name="sonic.bpm",
    method="POST",
    path="/api/v1/sonic/bpm",
    family=Family.SONIC,
    request_types=(BpmRequest,),
    result=BpmResult,
    parse=value_parser(BpmResult),
    validator=v.validate_clip_ref,
    cost=Cost(credits=1),
    billable=True,
    answer=Answer.VALUE,
    polled_by=None,
    kinds={"bpm": BpmRequest},
    emulate="bpm",
)
# ------------------------------------------------------------ sonic utilities (issue 13)
# Prices: MUSICAPI.md §10/§12; where sources conflict the higher figure is used, so a
# budget never under-counts.


def _utility_row(
    name: str, path: str, request: type[Req], result: type[Res], validator: Validator,
    credits: int, kind: str, *, once_per_clip: bool = False,
) -> Endpoint[Req, Res]:  # fmt: skip
    return Endpoint(
        name=name, method="POST", path=path, family=Family.SONIC, request_types=(request,),
        result=result, parse=value_parser(result), validator=validator,
        cost=Cost(credits=credits, once_per_clip=once_per_clip), billable=True,
        answer=Answer.VALUE, polled_by=None, kinds={kind: request}, emulate=name,
    )  # fmt: skip


# 1 credit (3P 2026-07) or 2 ([NEW-SITE], 3P 2026-10): CONFLICT, the higher figure.
SONIC_WAV: Final = _utility_row(
    "sonic.wav", "/api/v1/sonic/wav", WavRequest, WavResult, v.validate_clip_ref, 2, "wav"
)
# 1 credit on the sister site, billed once per clip: the 202 "still preparing" answers
# that follow are retried free.
SONIC_MIDI: Final = _utility_row(
    "sonic.midi",
    "/api/v1/sonic/midi",
    MidiRequest,
    MidiResult,
    v.validate_clip_ref,
    1,
    "midi",
    once_per_clip=True,
)
SONIC_VOX: Final = _utility_row(
    "sonic.vox", "/api/v1/sonic/vox", VoxRequest, VoxResult, sv.validate_vox, 1, "vox"
)
# 1 credit on the first call for a clip; repeats are free (3P).
SONIC_ALIGNED_LYRICS: Final = _utility_row(
    "sonic.aligned_lyrics", "/api/v1/sonic/aligned-lyrics", AlignedLyricsRequest,
    AlignedLyrics, v.validate_clip_ref, 1, "aligned_lyrics", once_per_clip=True,
)  # fmt: skip
SONIC_UPSAMPLE_TAGS: Final = _utility_row(
    "sonic.upsample_tags", "/api/v1/sonic/upsample-tags", UpsampleTagsRequest, UpsampledTags,
    sv.validate_upsample_tags, 1, "upsample_tags",
)  # fmt: skip
# 2 credits, sister site only; a 202 while preparing is retried free (billed once per clip).
SONIC_DOWNLOAD: Final = _utility_row(
    "sonic.download", "/api/v1/sonic/download", DownloadRequest, DownloadResult,
    sv.validate_download, 2, "download", once_per_clip=True,
)  # fmt: skip


def _stems_row(
    name: str, path: str, request: type[Req], credits: int, kind: str
) -> Endpoint[Req, TaskAccepted]:
    return Endpoint(
        name=name, method="POST", path=path, family=Family.SONIC, request_types=(request,),
        result=TaskAccepted, parse=parse_accepted, validator=v.validate_clip_ref,
        cost=Cost(credits=credits), billable=True, answer=Answer.TASK, polled_by="sonic.task",
        kinds={kind: request}, emulate=name,
    )  # fmt: skip


# 15 ([V2-3P], [NEW-SITE]) / 20 (sister) / 30 ("four stems", 2026-10): CONFLICT, the higher.
SONIC_STEMS_BASIC: Final = _stems_row(
    "sonic.stems_basic", "/api/v1/sonic/stems/basic", StemsRequest, 30, "stems"
)
# 75 ([NEW-SITE], 3P) / 50 (sister): CONFLICT, the higher.
SONIC_STEMS_FULL: Final = _stems_row(
    "sonic.stems_full", "/api/v1/sonic/stems/full", StemsFullRequest, 75, "stems_full"
)
# 10-14 on the sister site (14 on advanced models or description mode): the higher.
SONIC_MASHUP: Final = Endpoint[MashupRequest, TaskAccepted](
    name="sonic.mashup", method="POST", path="/api/v1/sonic/mashup", family=Family.SONIC,
    request_types=(MashupRequest,), result=TaskAccepted, parse=parse_accepted,
    validator=sv.validate_mashup, cost=Cost(credits=14), billable=True, answer=Answer.TASK,
    polled_by="sonic.task", kinds={"mashup": MashupRequest}, emulate="sonic.mashup",
)  # fmt: skip
# Tasks from audio (issue 13): each answers a task id polled at /sonic/task like a create.


def _audio_task_row(
    name: str, path: str, request: type[Req], validator: Validator, credits: int, kind: str
) -> Endpoint[Req, TaskAccepted]:
    return Endpoint(
        name=name, method="POST", path=path, family=Family.SONIC, request_types=(request,),
        result=TaskAccepted, parse=parse_accepted, validator=validator,
        cost=Cost(credits=credits), billable=True, answer=Answer.TASK, polled_by="sonic.task",
        kinds={kind: request}, emulate=name,
    )  # fmt: skip


# UNDOCUMENTED price: priced as its parts, each at its higher figure: upload 2 (§15.2) +
# extend 15 ([V4], 3P) + the concat auto_concat runs 2 ([V4]) = 19, charged whether or
# not auto_concat is set, so a budget never under-counts.
SONIC_UPLOAD_EXTEND: Final = _audio_task_row(
    "sonic.upload_extend", "/api/v1/sonic/upload-extend", UploadExtendRequest,
    stv.validate_upload_extend, 19, "upload_extend",
)  # fmt: skip
# UNDOCUMENTED price: upload 2 + cover 15 ([V4], 3P; sister 10-14) = 17.
SONIC_UPLOAD_COVER: Final = _audio_task_row(
    "sonic.upload_cover", "/api/v1/sonic/upload-cover", UploadCoverRequest,
    stv.validate_upload_cover, 17, "upload_cover",
)  # fmt: skip
# 14 (sister, the only figure) + 2 for the upload a ``url`` sample starts with = 16,
# charged for either source: a budget over-counts a clip sample by 2, never under.
SONIC_SAMPLE: Final = _audio_task_row(
    "sonic.sample", "/api/v1/sonic/sample", SampleRequest, stv.validate_sample, 16, "sample"
)
# 10 on the sister site, whose 10-credit edits (remaster, add_*) cost 15 on musicapi.ai
# (3P 2026-07/10): CONFLICT by analogy, the higher.
SONIC_REPLACE_SECTION: Final = _audio_task_row(
    "sonic.replace_section", "/api/v1/sonic/replace-section", ReplaceSectionRequest,
    stv.validate_replace_section, 15, "replace_section",
)  # fmt: skip
# 4 credits ([V4], sister). The path is UNDOCUMENTED by MusicAPI (doc slug create-voice):
# /api/v1/sonic/create-voice is the vendor client's (musicapi-sdk 0.1.0).
SONIC_CREATE_VOICE: Final = _audio_task_row(
    "sonic.create_voice", "/api/v1/sonic/create-voice", CreateVoiceRequest,
    stv.validate_create_voice, 4, "create_voice",
)  # fmt: skip
# ------------------------------------------------------------ end of sonic utilities
CREDITS: Final = Endpoint[None, Credits](
    name="credits",
    method="GET",
    path="/api/v1/get-credits",
    family=Family.SONIC,
    request_types=(),
    result=Credits,
    parse=value_parser(Credits),
    validator=None,
    cost=FREE,
    billable=False,
    answer=Answer.VALUE,
    polled_by=None,
    kinds={},
    emulate="credits",
)

# ----------------------------------------------------------- producer and riffusion
# Prices (MUSICAPI.md §12): where sources conflict, the higher figure, so a budget is
# never short. Producer create: 10 (sister site, the only figure); extend and replace:
# 12 ([V4]); cover is undocumented and priced as an edit (12). Upload and download: 2
# (§15.2, sister site). Riffusion: 12 (2025-06) over the sister site's 10.
_PRODUCER_EDIT: Final = 12
PRODUCER_CREATE: Final = Endpoint[ProducerRequest, TaskAccepted](
    name="producer.create",
    method="POST",
    path="/api/v1/producer/create",
    family=Family.PRODUCER,
    request_types=(ProducerRequest,),
    result=TaskAccepted,
    parse=parse_accepted,
    validator=vf.validate_producer,
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
    kinds={"producer": ProducerRequest},
    emulate="producer_create",
)
PRODUCER_UPLOAD: Final = Endpoint[ProducerUploadRequest, TaskAccepted](
    name="producer.upload",
    method="POST",
    path="/api/v1/producer/upload",
    family=Family.PRODUCER,
    request_types=(ProducerUploadRequest,),
    result=TaskAccepted,
    parse=parse_accepted,
    validator=vf.validate_producer_upload,
    cost=Cost(credits=2),
    billable=True,
    answer=Answer.TASK,
    polled_by="producer.task",
    kinds={"producer_upload": ProducerUploadRequest},
    emulate="producer_upload",
)
PRODUCER_DOWNLOAD: Final = Endpoint[ProducerDownloadRequest, TaskAccepted](
    name="producer.download",
    method="POST",
    path="/api/v1/producer/download",
    family=Family.PRODUCER,
    request_types=(ProducerDownloadRequest,),
    result=TaskAccepted,
    parse=parse_accepted,
    validator=vf.validate_producer_download,
    cost=Cost(credits=2),
    billable=True,
    answer=Answer.TASK,
    polled_by="producer.task",
    kinds={"producer_download": ProducerDownloadRequest},
    emulate="producer_download",
)
PRODUCER_TASK: Final = _task_row(
    Family.PRODUCER, "producer.task", "/api/v1/producer/task/{task_id}"
)
RIFFUSION_CREATE: Final = Endpoint[RiffusionRequest, TaskAccepted](
    name="riffusion.create",
    method="POST",
    path="/api/v1/riffusion/create",
    family=Family.RIFFUSION,
    request_types=(RiffusionRequest,),
    result=TaskAccepted,
    parse=parse_accepted,
    validator=vf.validate_riffusion,
    cost=Cost(credits=12),
    billable=True,
    answer=Answer.TASK,
    polled_by="riffusion.task",
    kinds={"riffusion": RiffusionRequest},
    emulate="riffusion_create",
)
RIFFUSION_UPLOAD: Final = Endpoint[RiffusionUploadRequest, UploadedClip](
    name="riffusion.upload",
    method="POST",
    path="/api/v1/riffusion/upload",
    family=Family.RIFFUSION,
    request_types=(RiffusionUploadRequest,),
    result=UploadedClip,
    parse=value_parser(UploadedClip),
    validator=vf.validate_riffusion_upload,
    cost=Cost(credits=2),
    billable=True,
    answer=Answer.VALUE,
    polled_by=None,
    kinds={"riffusion_upload": RiffusionUploadRequest},
    emulate="riffusion_upload",
)
RIFFUSION_TASK: Final = _task_row(
    Family.RIFFUSION, "riffusion.task", "/api/v1/riffusion/task/{task_id}"
)

# ------------------------------------------------------------------ sonic batch (issue 13)
# MUSICAPI.md §10: "credits same as per-item create": the sum of the items' create prices.
# The answer holds several task ids (``Answer.TASKS``); each is a sonic task, polled by
# ``sonic.task`` or, for the whole batch at once, by ``sonic.batch_status``.
SONIC_BATCH: Final = Endpoint[SonicBatchRequest, BatchAccepted](
    name="sonic.batch", method="POST", path="/api/v1/sonic/batch", family=Family.SONIC,
    request_types=(SonicBatchRequest,), result=BatchAccepted, parse=parse_batch_accepted,
    validator=validate_sonic_batch, cost=Cost(credits=15, per_item=SONIC_CREATE.cost),
    billable=True, answer=Answer.TASKS, polled_by=None, kinds={"sonic_batch": SonicBatchRequest},
    emulate="sonic.batch",
)  # fmt: skip
# The batch id travels as a query parameter; ``{task_id}`` is how a row names its one id.
SONIC_BATCH_STATUS: Final = Endpoint[None, BatchStatus](
    name="sonic.batch_status", method="GET", path="/api/v1/sonic/batch?batch_id={task_id}",
    family=Family.SONIC, request_types=(), result=BatchStatus, parse=parse_batch_status,
    validator=None, cost=FREE, billable=False, answer=Answer.VALUE, polled_by=None, kinds={},
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
_BY_REQUEST: Final[Mapping[type, Endpoint[Any, Any]]] = {
    t: ep for ep in ROWS for t in ep.request_types
}
_BY_KIND: Final[Mapping[str, Endpoint[Any, Any]]] = {k: ep for ep in ROWS for k in ep.kinds}
KIND_TYPES: Final[Mapping[str, type]] = {k: t for ep in ROWS for k, t in ep.kinds.items()}


def row_for(request: object) -> Endpoint[Any, Any]:
    """The row that takes ``request``'s type.

    Raises:
        KeyError: no row takes it.
    """
    return _BY_REQUEST[type(request)]


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
