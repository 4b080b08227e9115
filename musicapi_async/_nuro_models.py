"""Frozen attrs models of the nuro requests (``POST /api/v1/nuro/create``).

Apart from ``_request_models`` so that they are created when nuro is first used, not
with the SDK; MusicAPI's own wire field names, ``None`` meaning "not sent".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from ._model_base import Family, _redact

__all__ = ["NuroInstrumentalRequest", "NuroVocalRequest"]


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
