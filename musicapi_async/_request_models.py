"""Frozen attrs models of the requests, one per family: sonic, persona, upload, lyrics,
nuro, studio, producer, riffusion, bpm.

They use MusicAPI's own wire field names, so the vendor's documentation maps one to one;
``None`` means "not sent". Kept apart from the result models (``_result_models``): what
a caller sends and what the service answers change for different reasons. ``_models`` is
the import path for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from ._model_base import Family, _OpenStrEnum, _redact

__all__ = [
    "BpmRequest",
    "LyricsRequest",
    "NuroInstrumentalRequest",
    "NuroVocalRequest",
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
    "UploadRequest",
]


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


@attrs.frozen(kw_only=True)
class BpmRequest:
    """Body of ``POST /api/v1/sonic/bpm``: a clip made within the last 24 hours."""

    clip_id: str
