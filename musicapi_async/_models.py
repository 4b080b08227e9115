"""Frozen attrs models for MusicAPI requests and results. No I/O and no JSON here.

Request models use MusicAPI's own wire field names, so the vendor's documentation maps
one to one; ``None`` means "not sent". How models become JSON (and back) is owned by
the converter in ``_convert``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, ClassVar, Final, Literal

import attrs

__all__ = [
    "BpmRequest",
    "BpmResult",
    "Clip",
    "ClipPair",
    "ClipState",
    "Credits",
    "Family",
    "LyricsCandidate",
    "LyricsRequest",
    "MediaKind",
    "NuroInstrumentalRequest",
    "NuroVocalRequest",
    "Persona",
    "PersonaRequest",
    "ProducerDownloadRequest",
    "ProducerRequest",
    "ProducerTaskType",
    "ProducerUploadRequest",
    "RiffusionRequest",
    "RiffusionTaskType",
    "RiffusionUploadRequest",
    "SonicRequest",
    "SonicTaskType",
    "StudioConfig",
    "StudioRequest",
    "TaskAccepted",
    "TaskSnapshot",
    "UploadRequest",
    "UploadedClip",
]


MediaKind = Literal["audio", "image", "video"]


def _redact(value: object) -> str:
    """Repr of a secret: says whether it is set, never what it is."""
    return "None" if value is None else "'***'"


class _OpenStrEnum(enum.StrEnum):
    """A str enum that keeps values it does not know instead of failing.

    The real API drifts: a new state or task type must reach the caller intact, compare
    equal to its wire string, and simply not be one of the known members.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        # A known value in another case or spelling ("SUCCEEDED", "in-progress") is the
        # member; only a value no member stands for becomes a new, unknown one.
        folded = value.strip().casefold().replace("-", "_").replace(" ", "_")
        known = cls._value2member_map_.get(folded) or cls._synonyms().get(folded)
        if known is not None:
            return known
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member

    @classmethod
    def _synonyms(cls) -> Mapping[str, Any]:
        """Other wire spellings of known members (folded), for ``_missing_``."""
        return {}

    @property
    def is_known(self) -> bool:
        """Whether this value is one of the documented members (not a new wire value)."""
        return type(self).__members__.get(self._name_) is self


class ClipState(_OpenStrEnum):
    """The state of one clip; compares equal to the wire string.

    Known states are read in any case, and the obvious synonyms map to them
    (``"SUCCEEDED"``, ``"complete"`` -> ``SUCCEEDED``; ``"error"`` -> ``FAILED``). Any other
    value is kept as it came (``is_known`` is ``False``); a clip in it is not terminal.
    """

    PENDING = "pending"
    RUNNING = "running"
    STREAMING = "streaming"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        """Whether the clip will not change any more."""
        return self in _TERMINAL_STATES

    @classmethod
    def _synonyms(cls) -> Mapping[str, Any]:
        return _STATE_SYNONYMS


_TERMINAL_STATES: Final = frozenset({ClipState.SUCCEEDED, ClipState.FAILED})
# Spellings other services (and other MusicAPI families) use for the same states. Only
# unambiguous ones: a word that could mean "still working" is left an unknown state.
_STATE_SYNONYMS: Final[Mapping[str, ClipState]] = {
    **dict.fromkeys(("success", "succeed", "successful", "complete", "completed", "done",
                     "finished"), ClipState.SUCCEEDED),
    **dict.fromkeys(("fail", "failure", "error", "errored", "cancelled", "canceled"),
                    ClipState.FAILED),
    **dict.fromkeys(("queued", "submitted", "not_start", "not_started", "waiting"),
                    ClipState.PENDING),
    **dict.fromkeys(("in_progress", "processing", "generating"), ClipState.RUNNING),
}  # fmt: skip


class Family(enum.StrEnum):
    """The product family a task belongs to; each has its own task endpoint and shape."""

    SONIC = "sonic"
    NURO = "nuro"
    STUDIO = "studio"
    PRODUCER = "producer"
    RIFFUSION = "riffusion"


class SonicTaskType(_OpenStrEnum):
    """Values of ``task_type`` on ``POST /api/v1/sonic/create``."""

    CREATE_MUSIC = "create_music"
    EXTEND_MUSIC = "extend_music"
    CONCAT_MUSIC = "concat_music"
    COVER_MUSIC = "cover_music"
    PERSONA_MUSIC = "persona_music"
    EXTEND_UPLOAD_MUSIC = "extend_upload_music"
    COVER_UPLOAD_MUSIC = "cover_upload_music"
    REMASTER = "remaster"
    ADD_INSTRUMENTAL = "add_instrumental"
    ADD_VOCALS = "add_vocals"


# --------------------------------------------------------------------------- requests


@attrs.frozen(kw_only=True)
class SonicRequest:
    """Body of ``POST /api/v1/sonic/create`` (every ``task_type``)."""

    task_type: SonicTaskType = SonicTaskType.CREATE_MUSIC
    custom_mode: bool | None = None
    mv: str | None = None
    prompt: str | None = None
    title: str | None = None
    tags: str | None = None
    negative_tags: str | None = None
    make_instrumental: bool | None = None
    gpt_description_prompt: str | None = None
    continue_clip_id: str | None = None
    continue_at: float | None = None
    persona_id: str | None = None
    auto_lyrics: bool | None = None
    vocal_gender: str | None = None
    style_weight: float | None = None
    weirdness_constraint: float | None = None
    audio_weight: float | None = None
    variation_category: str | None = None
    overpainting_start_s: float | None = None
    overpainting_end_s: float | None = None
    use_suno_cdn: bool | None = None
    duration: int | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = attrs.field(default=None, repr=_redact)

    family: ClassVar[Family] = Family.SONIC


@attrs.frozen(kw_only=True)
class PersonaRequest:
    """Body of ``POST /api/v1/sonic/persona`` in the documented seed shape.

    The newer ``clip_id``/``describe`` spellings are accepted by the API too; this model
    sends the seed's ``continue_clip_id``/``description``.
    """

    name: str
    continue_clip_id: str
    description: str | None = None
    styles: str | None = None
    vox_audio_id: str | None = None
    vocal_start_s: float | None = None
    vocal_end_s: float | None = None


@attrs.frozen(kw_only=True)
class UploadRequest:
    """Body of ``POST /api/v1/sonic/upload``: a public URL of an audio file.

    ``callback_url`` (MUSICAPI.md §5.2, documented on the sister site only) asks for the
    result to be posted there; the answer may then carry a ``task_id`` instead of a clip.
    """

    url: str
    callback_url: str | None = None


@attrs.frozen(kw_only=True)
class LyricsRequest:
    """Body of ``POST /api/v1/sonic/lyrics``."""

    description: str


@attrs.frozen(kw_only=True)
class NuroVocalRequest:
    """Body of ``POST /api/v1/nuro/create`` with ``type: vocal``."""

    type: str = attrs.field(default="vocal", init=False)
    lyrics: str
    gender: str | None = None
    genre: str | None = None
    mood: str | None = None
    timbre: str | None = None
    duration: int | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = attrs.field(default=None, repr=_redact)

    family: ClassVar[Family] = Family.NURO


@attrs.frozen(kw_only=True)
class NuroInstrumentalRequest:
    """Body of ``POST /api/v1/nuro/create`` with ``type: bgm``."""

    type: str = attrs.field(default="bgm", init=False)
    description: str
    genre: tuple[str, ...] | None = None
    mood: tuple[str, ...] | None = None
    instrument: tuple[str, ...] | None = None
    theme: tuple[str, ...] | None = None
    duration: int | None = None
    version: str | None = None
    segments: tuple[Mapping[str, Any], ...] | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = attrs.field(default=None, repr=_redact)

    family: ClassVar[Family] = Family.NURO


@attrs.frozen(kw_only=True)
class StudioConfig:
    """The ``config`` object of a studio request (``source`` flattened to its song id)."""

    mode: str = "regular"
    source_song_id: str | None = None
    context_length: float | None = None


@attrs.frozen(kw_only=True)
class StudioRequest:
    """Body of ``POST /api/v1/studio/create``; defaults are the documented examples."""

    prompt: str
    lyrics_type: str = "generate"
    model_type: str = "studio130-v1.5"
    lyrics: str | None = None
    bypass_prompt_optimization: bool | None = None
    seed: int | None = None
    song_section_start: float | None = None
    song_section_end: float | None = None
    lyrics_placement_start: float | None = None
    lyrics_placement_end: float | None = None
    prompt_strength: float = 0.5
    clarity_strength: float = 0.25
    lyrics_strength: float = 0.5
    generation_quality: float = 0.75
    negative_prompt: str | None = None
    config: StudioConfig = attrs.field(factory=StudioConfig)

    family: ClassVar[Family] = Family.STUDIO


# --------------------------------------------------------------------- producer


class ProducerTaskType(_OpenStrEnum):
    """Values of ``task_type`` on ``POST /api/v1/producer/create`` (MUSICAPI.md §15.2).

    ``music_variation``, ``swap_music_vocals`` and ``swap_music_sound`` are retired: the
    API answers them 410 Gone (``EndpointGone``). They stay members so a caller can still
    name them (and get that answer) while old code is migrated.
    """

    CREATE_MUSIC = "create_music"
    EXTEND_MUSIC = "extend_music"
    EXTEND_UPLOAD_MUSIC = "extend_upload_music"
    REPLACE_MUSIC = "replace_music"
    REPLACE_UPLOAD_MUSIC = "replace_upload_music"
    COVER_MUSIC = "cover_music"
    MUSIC_VARIATION = "music_variation"
    SWAP_MUSIC_VOCALS = "swap_music_vocals"
    SWAP_MUSIC_SOUND = "swap_music_sound"


@attrs.frozen(kw_only=True)
class ProducerRequest:
    """Body of ``POST /api/v1/producer/create`` (every ``task_type``); one song per task.

    The legacy spellings ``starts``, ``ends``, ``lyrics_text`` and ``cover_strength`` are
    still accepted by the API (and here); ``make_instrumental``, ``lyrics_strength``,
    ``sound_strength`` and ``weirdness`` are accepted but ignored by the current model
    (Lyria 3 Pro), and passed through as given.
    """

    task_type: ProducerTaskType = ProducerTaskType.CREATE_MUSIC
    sound: str | None = None
    lyrics: str | None = None
    mv: str | None = None
    title: str | None = None
    seed: int | str | None = None
    make_instrumental: bool | None = None
    clip_id: str | None = None
    starts_at: float | None = None
    ends_at: float | None = None
    length: int | None = None
    instruction: str | None = None
    strength: float | None = None
    bpm: int | str | None = None
    extend_s: float | None = None
    lyrics_strength: float | None = None
    sound_strength: float | None = None
    weirdness: float | None = None
    starts: float | None = None
    ends: float | None = None
    lyrics_text: str | None = None
    cover_strength: float | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = attrs.field(default=None, repr=_redact)

    family: ClassVar[Family] = Family.PRODUCER


@attrs.frozen(kw_only=True)
class ProducerUploadRequest:
    """Body of ``POST /api/v1/producer/upload``: a public audio URL; answered by a task."""

    audio_url: str
    webhook_url: str | None = None
    webhook_secret: str | None = attrs.field(default=None, repr=_redact)

    family: ClassVar[Family] = Family.PRODUCER


@attrs.frozen(kw_only=True)
class ProducerDownloadRequest:
    """Body of ``POST /api/v1/producer/download``: a clip's file (mp3 or wav), as a task."""

    clip_id: str
    format: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = attrs.field(default=None, repr=_redact)

    family: ClassVar[Family] = Family.PRODUCER


class RiffusionTaskType(_OpenStrEnum):
    """Values of ``task_type`` on ``POST /api/v1/riffusion/create`` (MUSICAPI.md §15.1)."""

    CREATE_MUSIC = "create_music"
    EXTEND_MUSIC = "extend_music"
    COVER_MUSIC = "cover_music"
    REPLACE_MUSIC = "replace_music"
    SWAP_MUSIC_SOUND = "swap_music_sound"
    SWAP_MUSIC_VOCALS = "swap_music_vocals"
    EXTEND_UPLOAD_MUSIC = "extend_upload_music"
    COVER_UPLOAD_MUSIC = "cover_upload_music"
    REPLACE_UPLOAD_MUSIC = "replace_upload_music"
    SWAP_UPLOAD_MUSIC_SOUND = "swap_upload_music_sound"
    SWAP_UPLOAD_MUSIC_VOCALS = "swap_upload_music_vocals"


@attrs.frozen(kw_only=True)
class RiffusionRequest:
    """Body of ``POST /api/v1/riffusion/create`` (deprecated upstream); two songs per task."""

    task_type: RiffusionTaskType = RiffusionTaskType.CREATE_MUSIC
    mv: str = "FUZZ-1.1"
    custom_mode: bool = False
    make_instrumental: bool = False
    lyrics: str | None = None
    prompt: str | None = None
    sound: str | None = None
    title: str | None = None
    vocal_variation: float | None = None
    continue_clip_id: str | None = None
    continue_at: float | None = None
    replace_start_time: float | None = None
    replace_end_time: float | None = None

    family: ClassVar[Family] = Family.RIFFUSION


@attrs.frozen(kw_only=True)
class RiffusionUploadRequest:
    """Body of ``POST /api/v1/riffusion/upload``: a public, copyright-free audio URL."""

    url: str


# --------------------------------------------------------------------------- results


@attrs.frozen(kw_only=True)
class TaskAccepted:
    """A generation request was accepted and billed; ``task_id`` names the task."""

    task_id: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class Clip:
    """One generated song, whichever family produced it.

    ``duration`` is in seconds (the API sends an integer or a decimal string). Fields the
    server sent that this model does not name are kept in ``extra``.
    """

    clip_id: str
    state: ClipState
    title: str | None = None
    tags: str | None = None
    lyrics: str | None = None
    audio_url: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    duration: float | None = None
    mv: str | None = None
    created_at: str | None = None
    gpt_description_prompt: str | None = None
    # The voice a create-voice task made, on its succeeded clip (use with persona_music).
    persona_id: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def is_terminal(self) -> bool:
        """Whether this clip will not change any more."""
        return self.state.is_terminal


@attrs.frozen(kw_only=True)
class ClipPair:
    """One extension of an upload-extend task with ``auto_concat``, and its whole song.

    ``full`` is ``None`` while the concat runs: the pair is over only once it is there
    (or the extension failed, so no concat will come).
    """

    extended: Clip
    full: Clip | None = None
    # Keys of the pair object besides the two clips, kept as sent.
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def complete(self) -> bool:
        """Whether neither clip will change any more."""
        if self.extended.state is ClipState.FAILED:
            return True
        return self.extended.is_terminal and self.full is not None and self.full.is_terminal


@attrs.frozen(kw_only=True)
class TaskSnapshot:
    """What one poll of a task's endpoint said.

    Attributes:
        ready: ``False`` while the API answers ``{"type": "not_ready"}`` (no clips yet).
        status: the family-level status (nuro/studio), verbatim.
        progress: percent complete where the family reports it (nuro, studio).
    """

    task_id: str
    family: Family
    clips: tuple[Clip, ...] = ()
    ready: bool = True
    status: str | None = None
    progress: float | None = None
    message: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    # Upload-extend with auto_concat: the clips as the API pairs them (``clips`` holds
    # each pair's extension, then its full song once there).
    pairs: tuple[ClipPair, ...] = ()

    # Whether the task is over: ready, with clips, every one of them terminal, and every
    # pair's full song there. Computed once: the poller and every waiter ask on each poll.
    done: bool = attrs.field(init=False, repr=False, eq=False)

    @done.default
    def _done(self) -> bool:
        return (
            self.ready
            and bool(self.clips)
            and all(c.is_terminal for c in self.clips)
            and all(p.complete for p in self.pairs)
        )

    @property
    def failed_clips(self) -> tuple[Clip, ...]:
        """The clips that ended ``failed``."""
        return tuple(c for c in self.clips if c.state is ClipState.FAILED)


@attrs.frozen(kw_only=True)
class Persona:
    """A created persona; pass ``persona_id`` to ``sonic.create_with_persona``."""

    persona_id: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class UploadedClip:
    """An uploaded audio file; ``clip_id`` feeds the ``*_upload_music`` task types.

    With a ``callback_url`` the upload may be answered asynchronously: ``clip_id`` is then
    empty and ``task_id`` names the upload until the callback brings the clip.
    """

    clip_id: str = ""
    task_id: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class LyricsCandidate:
    """One of the lyrics the API wrote for a description."""

    title: str
    lyrics: str


@attrs.frozen(kw_only=True)
class BpmRequest:
    """Body of ``POST /api/v1/sonic/bpm``: a clip made within the last 24 hours."""

    clip_id: str


@attrs.frozen(kw_only=True)
class BpmResult:
    """A clip's tempo in beats per minute: average, fastest and slowest."""

    avg_bpm: float
    max_bpm: float
    min_bpm: float
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class Credits:
    """The account's balance; ``extra_credits`` are spent first and do not expire."""

    credits: int
    extra_credits: int = 0
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def total(self) -> int:
        """Subscription and extra credits together."""
        return self.credits + self.extra_credits
