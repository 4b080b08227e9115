"""The unions of request models: ``GenerationRequest`` (what ``MusicAPI.submit`` takes)
and ``AnyRequest`` (what ``generate_many`` takes).

Imported on first use (``musicapi_async.GenerationRequest``): a union at run time needs
the class of every family's request model, which importing the SDK does not create (see
``_endpoints``). Annotations name them without importing this module.
"""

from __future__ import annotations

from typing import TypeAlias

from ._fuzz_models import (
    ProducerDownloadRequest,
    ProducerRequest,
    ProducerUploadRequest,
    RiffusionRequest,
    RiffusionUploadRequest,
)
from ._models import LyricsRequest, PersonaRequest, SonicRequest, UploadRequest
from ._nuro_models import NuroInstrumentalRequest, NuroVocalRequest
from ._sonic_models import MashupRequest, StemsFullRequest, StemsRequest
from ._sonic_task_models import (
    CreateVoiceRequest,
    ReplaceSectionRequest,
    SampleRequest,
    UploadCoverRequest,
    UploadExtendRequest,
)
from ._studio_models import StudioRequest

__all__ = ["AnyRequest", "GenerationRequest", "WebhookRequest"]

GenerationRequest = (
    SonicRequest
    | NuroVocalRequest
    | NuroInstrumentalRequest
    | StudioRequest
    # producer and riffusion
    | ProducerRequest
    | ProducerUploadRequest
    | ProducerDownloadRequest
    | RiffusionRequest
    # sonic tasks beyond create
    | StemsRequest
    | StemsFullRequest
    | MashupRequest
    # sonic tasks from audio (issue 13)
    | UploadExtendRequest
    | UploadCoverRequest
    | SampleRequest
    | ReplaceSectionRequest
    | CreateVoiceRequest
)
# Every request model generate_many takes: a type checker catches anything else.
AnyRequest: TypeAlias = (
    GenerationRequest | PersonaRequest | UploadRequest | LyricsRequest | RiffusionUploadRequest
)
# The generation requests that carry ``webhook_url`` and ``webhook_secret`` (a client's
# webhook is set on them): all but studio's, riffusion's and the stems'.
WebhookRequest: TypeAlias = (
    SonicRequest
    | NuroVocalRequest
    | NuroInstrumentalRequest
    | ProducerRequest
    | ProducerUploadRequest
    | ProducerDownloadRequest
    | MashupRequest
    | UploadExtendRequest
    | UploadCoverRequest
    | SampleRequest
    | ReplaceSectionRequest
    | CreateVoiceRequest
)
