"""musicapi_async: the asyncio-first SDK for MusicAPI (musicapi.ai).

The front door: everything public is re-exported here; the modules behind it are private.

    from musicapi_async import MusicAPI

    async with MusicAPI(api_key="...") as api:
        job = await api.sonic.create(custom_mode=False, mv="sonic-v5",
                                     gpt_description_prompt="a calm piano piece")
        clips = await job.wait(timeout=600)
"""

import typing as _typing

from ._client import BODIES, DEFAULT_BASE_URL, ClientStats, MusicAPI, Orphan
from ._convert import clip_to_wire, request_from_wire, result_to_json, to_wire
from ._endpoints import KIND_TYPES, cost_of
from ._errors import (
    AuthenticationError,
    BudgetExceeded,
    CallerError,
    ClientClosed,
    ContentRejected,
    CoordinationError,
    DownloadTooLarge,
    EndpointGone,
    IncompleteDownload,
    InsufficientCredits,
    InvalidRequest,
    MusicAPIError,
    NetworkError,
    RateLimited,
    ResponseDecodeError,
    ServerError,
    ServiceError,
    SourcePurged,
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
from ._governor import Budget, Governor
from ._http import HttpRequest, HttpResponse, TransportFailure
from ._jobs import Job
from ._log import redact
from ._mock import MockTransport
from ._models import (
    Clip,
    ClipPair,
    ClipState,
    Credits,
    Family,
    LyricsCandidate,
    LyricsRequest,
    MediaKind,
    Persona,
    PersonaRequest,
    SonicRequest,
    SonicTaskType,
    TaskAccepted,
    TaskSnapshot,
    UploadedClip,
    UploadRequest,
)
from ._poller import PollerStats
from ._polling import PollPolicy
from ._resources import SonicOptions
from ._retry import RetryPolicy, set_testing
from ._routing import endpoint_of, returns_task, task_family
from ._transport import Transport
from ._validation import validate_body
from ._version import __version__

if _typing.TYPE_CHECKING:
    from ._batch import BatchRefusal, SonicBatch
    from ._batch_models import SonicBatchRequest
    from ._bulk import Outcome
    from ._files import atomic_write_bytes
    from ._fuzz_models import (
        ProducerDownloadRequest,
        ProducerRequest,
        ProducerTaskType,
        ProducerUploadRequest,
        RiffusionRequest,
        RiffusionTaskType,
        RiffusionUploadRequest,
    )
    from ._journal import (
        BatchJournal,
        Entry,
        JobState,
        Journal,
        SQLiteJournal,
        fingerprint,
        match_unresolved,
        settle,
    )
    from ._nuro_models import NuroInstrumentalRequest, NuroVocalRequest
    from ._redis import RedisCoordination, RedisJournal
    from ._requests import AnyRequest, GenerationRequest
    from ._sonic_task_models import (
        CreateVoiceRequest,
        ReplaceSectionRequest,
        SampleRequest,
        UploadCoverRequest,
        UploadExtendRequest,
    )
    from ._studio_models import StudioConfig, StudioRequest
    from ._webhooks import WebhookDeduplicator, WebhookEvent, verify_webhook

# The journal pulls in sqlite3, Redis coordination redis-py: each is imported when first
# asked for, so that importing the SDK stays cheap (and works without the redis extra).
# Batches, ``generate_many``'s outcomes and file writing are rarely needed: the same.
# So are the models of the rarely used endpoints (creating attrs classes is most of what
# a model module costs; ``_endpoints`` names them), the unions of every request model
# (which need them all) and webhook verification.
_LAZY_FROM = {
    "BatchRefusal": "_batch",
    "SonicBatch": "_batch",
    "SonicBatchRequest": "_batch_models",
    "AnyRequest": "_requests",
    "GenerationRequest": "_requests",
    "NuroInstrumentalRequest": "_nuro_models",
    "NuroVocalRequest": "_nuro_models",
    "StudioConfig": "_studio_models",
    "StudioRequest": "_studio_models",
    "ProducerDownloadRequest": "_fuzz_models",
    "ProducerRequest": "_fuzz_models",
    "ProducerTaskType": "_fuzz_models",
    "ProducerUploadRequest": "_fuzz_models",
    "RiffusionRequest": "_fuzz_models",
    "RiffusionTaskType": "_fuzz_models",
    "RiffusionUploadRequest": "_fuzz_models",
    "CreateVoiceRequest": "_sonic_task_models",
    "ReplaceSectionRequest": "_sonic_task_models",
    "SampleRequest": "_sonic_task_models",
    "UploadCoverRequest": "_sonic_task_models",
    "UploadExtendRequest": "_sonic_task_models",
    "WebhookDeduplicator": "_webhooks",
    "WebhookEvent": "_webhooks",
    "verify_webhook": "_webhooks",
    "Outcome": "_bulk",
    "atomic_write_bytes": "_files",
    "BatchJournal": "_journal",
    "Entry": "_journal",
    "JobState": "_journal",
    "Journal": "_journal",
    "SQLiteJournal": "_journal",
    "fingerprint": "_journal",
    "match_unresolved": "_journal",
    "settle": "_journal",
    "RedisCoordination": "_redis",
    "RedisJournal": "_redis",
}
_LAZY = set(_LAZY_FROM)


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY_FROM[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BODIES",
    "DEFAULT_BASE_URL",
    "KIND_TYPES",
    "AnyRequest",
    "AuthenticationError",
    "BatchJournal",
    "BatchRefusal",
    "Budget",
    "BudgetExceeded",
    "CallerError",
    "ClientClosed",
    "ClientStats",
    "Clip",
    "ClipFailed",
    "ClipPair",
    "ClipPlayable",
    "ClipState",
    "ClipSucceeded",
    "ClipUpdated",
    "ContentRejected",
    "CoordinationError",
    "CreateVoiceRequest",
    "Credits",
    "DownloadTooLarge",
    "EndpointGone",
    "Entry",
    "Family",
    "GenerationRequest",
    "Governor",
    "HttpRequest",
    "HttpResponse",
    "IncompleteDownload",
    "InsufficientCredits",
    "InvalidRequest",
    "Job",
    "JobEvent",
    "JobState",
    "Journal",
    "LyricsCandidate",
    "LyricsRequest",
    "MediaKind",
    "MockTransport",
    "MusicAPI",
    "MusicAPIError",
    "NetworkError",
    "NuroInstrumentalRequest",
    "NuroVocalRequest",
    "Orphan",
    "Outcome",
    "Persona",
    "PersonaRequest",
    "PollPolicy",
    "PollerStats",
    "ProducerDownloadRequest",
    "ProducerRequest",
    "ProducerTaskType",
    "ProducerUploadRequest",
    "RateLimited",
    "RedisCoordination",
    "RedisJournal",
    "ReplaceSectionRequest",
    "ResponseDecodeError",
    "RetryPolicy",
    "RiffusionRequest",
    "RiffusionTaskType",
    "RiffusionUploadRequest",
    "SQLiteJournal",
    "SampleRequest",
    "ServerError",
    "ServiceError",
    "SonicBatch",
    "SonicBatchRequest",
    "SonicOptions",
    "SonicRequest",
    "SonicTaskType",
    "SourcePurged",
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
    "UploadCoverRequest",
    "UploadExtendRequest",
    "UploadRequest",
    "UploadedClip",
    "WebhookDeduplicator",
    "WebhookEvent",
    "WebhookVerificationError",
    "__version__",
    "atomic_write_bytes",
    "clip_to_wire",
    "cost_of",
    "endpoint_of",
    "fingerprint",
    "match_unresolved",
    "redact",
    "request_from_wire",
    "result_to_json",
    "returns_task",
    "set_testing",
    "settle",
    "task_family",
    "to_wire",
    "validate_body",
    "verify_webhook",
]
