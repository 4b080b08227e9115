"""Frozen attrs models of the sonic requests every client may send: sonic, persona,
upload, lyrics, bpm.

The other families' requests live in their own modules (``_nuro_models``,
``_studio_models``, ``_fuzz_models``, and the sonic utilities' in ``_sonic_models``),
imported when the family is first used: creating attrs classes is most of what importing
a model module costs.

They use MusicAPI's own wire field names, so the vendor's documentation maps one to one;
``None`` means "not sent". Kept apart from the result models (``_result_models``): what
a caller sends and what the service answers change for different reasons. ``_models`` is
the import path for both.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from ._model_base import Family, _OpenStrEnum, _redact

__all__ = [
    "BpmRequest",
    "LyricsRequest",
    "PersonaRequest",
    "SonicRequest",
    "SonicTaskType",
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
class BpmRequest:
    """Body of ``POST /api/v1/sonic/bpm``: a clip made within the last 24 hours."""

    clip_id: str
