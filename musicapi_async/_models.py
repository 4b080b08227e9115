"""Frozen attrs models for MusicAPI requests and results. No I/O and no JSON here.

Request models use MusicAPI's own wire field names, so the vendor's documentation maps
one to one; ``None`` means "not sent". How models become JSON (and back) is owned by
the converter in ``_convert``.

This module is the one import path for the models every client needs: the shared
vocabulary lives in ``_model_base``, the requests in ``_request_models`` and the results
in ``_result_models`` (split so each stays readable). The models of the other families
and endpoints are imported from their own modules (``_nuro_models``, ``_studio_models``,
``_fuzz_models``, ``_sonic_models``, ``_sonic_task_models``, ``_batch_models``), which
load when first used: creating attrs classes is most of what importing a model costs.
"""

from __future__ import annotations

from ._model_base import ClipState, Family, MediaKind
from ._request_models import (
    BpmRequest,
    LyricsRequest,
    PersonaRequest,
    SonicRequest,
    SonicTaskType,
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
    "Persona",
    "PersonaRequest",
    "SonicRequest",
    "SonicTaskType",
    "TaskAccepted",
    "TaskSnapshot",
    "UploadRequest",
    "UploadedClip",
]
