"""Frozen attrs models of the studio request (``POST /api/v1/studio/create``).

Apart from ``_request_models`` so that they are created when studio is first used, not
with the SDK; MusicAPI's own wire field names, ``None`` meaning "not sent".
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from ._model_base import Family

__all__ = ["StudioConfig", "StudioRequest"]


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
