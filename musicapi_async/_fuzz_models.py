"""Frozen attrs models of the FUZZ families' requests: producer and riffusion (MUSICAPI.md §15).

Apart from ``_request_models`` so that they are created when one of these families is
first used, not with the SDK; MusicAPI's own wire field names, ``None`` meaning "not
sent".
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from ._model_base import Family, _OpenStrEnum, _redact

__all__ = [
    "ProducerDownloadRequest",
    "ProducerRequest",
    "ProducerTaskType",
    "ProducerUploadRequest",
    "RiffusionRequest",
    "RiffusionTaskType",
    "RiffusionUploadRequest",
]


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
