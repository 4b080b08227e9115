"""Frozen attrs models for MusicAPI requests and results. No I/O and no JSON here.

Request models use MusicAPI's own wire field names, so the vendor's documentation maps
one to one; ``None`` means "not sent". How models become JSON (and back) is owned by
the converter in ``_convert``.

This module is the one import path for every model: the shared vocabulary lives in
``_model_base``, the requests in ``_request_models`` and the results in ``_result_models``
(split so each stays readable).
"""

from __future__ import annotations

from ._model_base import ClipState, Family, MediaKind
from ._request_models import (
    BpmRequest,
    LyricsRequest,
    NuroInstrumentalRequest,
    NuroVocalRequest,
    PersonaRequest,
    ProducerDownloadRequest,
    ProducerRequest,
    ProducerTaskType,
    ProducerUploadRequest,
    RiffusionRequest,
    RiffusionTaskType,
    RiffusionUploadRequest,
    SonicRequest,
    SonicTaskType,
    StudioConfig,
    StudioRequest,
    UploadRequest,
)
from ._result_models import (
    BpmResult,
    Clip,
    ClipPair,
    Credits,
    LyricsCandidate,
    Persona,
    TaskAccepted,
    TaskSnapshot,
    UploadedClip,
)

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
