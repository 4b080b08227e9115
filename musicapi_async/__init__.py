"""musicapi_async: the asyncio-first SDK for MusicAPI (musicapi.ai).

The front door: everything public is re-exported here; the modules behind it are private.

    from musicapi_async import MusicAPI

    async with MusicAPI(api_key="...") as api:
        job = await api.sonic.create(custom_mode=False, mv="sonic-v5",
                                     gpt_description_prompt="a calm piano piece")
        clips = await job.wait(timeout=600)
"""

from ._bulk import Outcome
from ._client import DEFAULT_BASE_URL, GenerationRequest, MusicAPI
from ._errors import (
    AuthenticationError,
    CallerError,
    ContentRejected,
    InsufficientCredits,
    InvalidRequest,
    MusicAPIError,
    NetworkError,
    RateLimited,
    ResponseDecodeError,
    ServerError,
    ServiceError,
    SubmissionOutcomeUnknown,
    TaskError,
    TaskFailed,
    TaskNotFound,
    TaskTimeout,
    WebhookVerificationError,
)
from ._events import (
    ClipFailed,
    ClipPlayable,
    ClipSucceeded,
    ClipUpdated,
    JobEvent,
    TaskDone,
    TaskPending,
)
from ._jobs import Job
from ._mock import MockTransport
from ._models import (
    Clip,
    ClipState,
    Credits,
    Family,
    LyricsCandidate,
    LyricsRequest,
    NuroInstrumentalRequest,
    NuroVocalRequest,
    Persona,
    PersonaRequest,
    SonicRequest,
    SonicTaskType,
    StudioConfig,
    StudioRequest,
    TaskAccepted,
    TaskSnapshot,
    UploadedClip,
    UploadRequest,
)
from ._poller import PollerStats
from ._polling import PollPolicy
from ._protocol import HttpRequest, HttpResponse
from ._resources import SonicOptions
from ._transport import Transport, TransportFailure
from ._version import __version__
from ._webhooks import WebhookDeduplicator, WebhookEvent, verify_webhook

__all__ = [
    "DEFAULT_BASE_URL",
    "AuthenticationError",
    "CallerError",
    "Clip",
    "ClipFailed",
    "ClipPlayable",
    "ClipState",
    "ClipSucceeded",
    "ClipUpdated",
    "ContentRejected",
    "Credits",
    "Family",
    "GenerationRequest",
    "HttpRequest",
    "HttpResponse",
    "InsufficientCredits",
    "InvalidRequest",
    "Job",
    "JobEvent",
    "LyricsCandidate",
    "LyricsRequest",
    "MockTransport",
    "MusicAPI",
    "MusicAPIError",
    "NetworkError",
    "NuroInstrumentalRequest",
    "NuroVocalRequest",
    "Outcome",
    "Persona",
    "PersonaRequest",
    "PollPolicy",
    "PollerStats",
    "RateLimited",
    "ResponseDecodeError",
    "ServerError",
    "ServiceError",
    "SonicOptions",
    "SonicRequest",
    "SonicTaskType",
    "StudioConfig",
    "StudioRequest",
    "SubmissionOutcomeUnknown",
    "TaskAccepted",
    "TaskDone",
    "TaskError",
    "TaskFailed",
    "TaskNotFound",
    "TaskPending",
    "TaskSnapshot",
    "TaskTimeout",
    "Transport",
    "TransportFailure",
    "UploadRequest",
    "UploadedClip",
    "WebhookDeduplicator",
    "WebhookEvent",
    "WebhookVerificationError",
    "__version__",
    "verify_webhook",
]
