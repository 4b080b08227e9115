"""The one exception tree of musicapi_async, split by whose fault it is.

::

    MusicAPIError                   every error this package raises
    ├── CallerError                 yours: change the request (or the account) first
    │   ├── InvalidRequest          400, or rejected locally before any request was sent
    │   │   ├── TaskNotFound        "task not found." / nuro 404
    │   │   └── SourcePurged        404: the clip's source audio was purged (download)
    │   ├── AuthenticationError     401: missing, malformed, invalid or expired key
    │   ├── InsufficientCredits     403: credits used up / no active subscription
    │   ├── ContentRejected         403: moderation, copyright, lyrics format
    │   ├── BudgetExceeded          the next request would overspend the caller's budget
    │   ├── DownloadTooLarge        a download went past the caller's ``max_bytes``
    │   ├── EndpointGone            410: the endpoint or task type is retired (never retried,
    │   │                           never billed); the message says what replaces it
    │   └── JournalStateError       a journal change its table forbids (also a ValueError)
    ├── ServiceError                theirs: the service failed or refused for now
    │   ├── RateLimited             429, 403 "API QPS limit exceeded", "Queue is full"
    │   ├── ServerError             5xx and HTML gateway pages
    │   ├── ResponseDecodeError     the answer did not fit the documented shape
    │   ├── NetworkError            the request provably never reached the server, or an
    │   │   │                       idempotent call lost its answer (safe to send again)
    │   │   └── IncompleteDownload  a download could not be proven complete
    │   └── CoordinationError       the shared store (Redis) failed: nothing was sent, or
    │                               what was sent could not be recorded (``task_id``)
    ├── TaskError                   the generation task's own outcome
    │   ├── TaskFailed              a clip ended ``failed`` (credits are refunded upstream)
    │   ├── TaskTimeout             a wait hit its deadline (also a ``TimeoutError``)
    │   └── ClientClosed            the client was closed while the wait went on
    ├── TransportFailure            a transport's report (``sent``); the client turns it into
    │                               ``NetworkError`` or ``SubmissionOutcomeUnknown``
    ├── SubmissionOutcomeUnknown    a paid POST was sent but its answer was lost: it may have
    │                               been billed. Reconcile before sending it again.
    └── WebhookVerificationError    a webhook delivery was not authentic or not a task update

A test parses this drawing and compares it with the classes, so it cannot drift.

Every error carries what exists of: the HTTP ``status``, the API's ``api_message`` and the
``raw_body``. None ever carries the API key: messages are built from server text and
request fields, and ``Authorization`` is not one of them; and because a server may echo the
key back in its text, every error scrubs the keys of the open clients (``_log.redact``) out
of its message, ``api_message`` and ``raw_body`` when it is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._log import redact, redact_bytes

if TYPE_CHECKING:
    from ._models import Clip, TaskSnapshot

__all__ = [
    "AuthenticationError",
    "BudgetExceeded",
    "CallerError",
    "ClientClosed",
    "ContentRejected",
    "CoordinationError",
    "DownloadTooLarge",
    "EndpointGone",
    "IncompleteDownload",
    "InsufficientCredits",
    "InvalidRequest",
    "JournalStateError",
    "MusicAPIError",
    "NetworkError",
    "RateLimited",
    "ResponseDecodeError",
    "ServerError",
    "ServiceError",
    "SourcePurged",
    "SubmissionOutcomeUnknown",
    "TaskError",
    "TaskFailed",
    "TaskNotFound",
    "TaskTimeout",
    "WebhookVerificationError",
]

# Raw bodies are kept for debugging but never dumped whole into a message.
_BODY_PREVIEW = 200


class MusicAPIError(Exception):
    """Base class of every error raised by musicapi_async.

    Attributes:
        message: human-readable explanation.
        status: HTTP status of the answer, when there was one.
        api_message: the ``message`` (or ``error``/``detail``) the API sent, verbatim.
        raw_body: the undecoded body of the answer, when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        api_message: str | None = None,
        raw_body: bytes | None = None,
    ) -> None:
        # Scrubbed here, once, so that str, repr, tracebacks and every copy (a journal
        # row, a manifest, a CLI line) are free of a key the server echoed.
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.status = status
        self.api_message = None if api_message is None else redact(api_message)
        self.raw_body = None if raw_body is None else redact_bytes(raw_body)

    def __str__(self) -> str:
        return self.message if self.status is None else f"{self.message} (HTTP {self.status})"


class CallerError(MusicAPIError):
    """The request or the account must change before this can succeed."""


class InvalidRequest(CallerError):
    """The request is invalid: rejected by the API (400) or locally, before sending.

    Attributes:
        field: the wire field at fault, when known.
    """

    def __init__(self, message: str, *, field: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.field = field


class TaskNotFound(InvalidRequest):
    """The API does not know this task id."""

    def __init__(self, message: str, *, task_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.task_id = task_id


class SourcePurged(InvalidRequest):
    """The clip's source audio was purged upstream (404 from ``/sonic/download``)."""


class AuthenticationError(CallerError):
    """The API key is missing, malformed, invalid or expired (401)."""


class InsufficientCredits(CallerError):
    """The account lacks credits or an active subscription (403)."""


class ContentRejected(CallerError):
    """Moderation refused the lyrics or description (403); ``api_message`` says why."""


class BudgetExceeded(CallerError):
    """Sending the next request would spend more than the caller's credit budget.

    Attributes:
        cost: the documented cost of the request that was not sent.
        remaining: what was left of the budget.
    """

    def __init__(self, message: str, *, cost: int, remaining: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.cost = cost
        self.remaining = remaining


class DownloadTooLarge(CallerError):
    """A download went past the caller's ``max_bytes``; raise the limit to accept it.

    Attributes:
        limit: the ``max_bytes`` that was exceeded.
    """

    def __init__(self, message: str, *, limit: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit


class EndpointGone(CallerError):
    """The API answered 410 Gone: this endpoint (or this task type of it) is retired.

    Sending it again cannot help and nothing was billed. The message names the retired
    operation and, where the docs say it, what to use instead.

    Attributes:
        endpoint: the name of the endpoint that answered (``"nuro.create"``...).
        operation: the retired ``task_type``, when the request named one.
        instead: what the docs say to use instead, when they say it.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        operation: str | None = None,
        instead: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.endpoint = endpoint
        self.operation = operation
        self.instead = instead


class JournalStateError(CallerError, ValueError):
    """A journal state change its table forbids, or one for a fingerprint never begun."""


class ServiceError(MusicAPIError):
    """The service failed or refused for now; the same request may succeed later."""


class RateLimited(ServiceError):
    """The API is throttling this key (429, or 403 QPS-limit / queue-full / usage-limit).

    Attributes:
        retry_after: seconds the server asked to wait, when it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(ServiceError):
    """The server broke (5xx, or a gateway's HTML page)."""


class ResponseDecodeError(ServiceError):
    """The answer was not the JSON shape MusicAPI documents; ``raw_body`` holds it."""

    def __str__(self) -> str:
        preview = (self.raw_body or b"")[:_BODY_PREVIEW]
        return f"{super().__str__()}; body starts {preview!r}"


class NetworkError(ServiceError):
    """The connection failed in a way that is safe to retry.

    Raised for requests that provably never reached the server (the connection could not
    be opened) and for idempotent requests (GETs) whose answer was lost.
    """


class CoordinationError(ServiceError):
    """The store that coordinates many processes (Redis) could not be used.

    Fail closed: a claim, a rate token or a lease that cannot be recorded means nothing
    is sent. When a request was already accepted but its task id could not be recorded,
    ``task_id`` carries it, so nothing is lost.

    Attributes:
        task_id: the accepted task whose id could not be recorded, when there is one.
    """

    def __init__(self, message: str, *, task_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.task_id = task_id


class IncompleteDownload(NetworkError):
    """A download could not be proven complete; downloading again is safe.

    The body did not match its ``Content-Length``, a compressed stream stopped before
    its end, or nothing framed the body (so a cut could not be told from its end).

    Attributes:
        expected: the announced size in bytes, ``None`` when none was announced.
        received: the bytes that arrived (or were about to be written).
    """

    def __init__(self, message: str, *, expected: int | None, received: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.expected = expected
        self.received = received


class TaskError(MusicAPIError):
    """The outcome of a generation task, seen while waiting on it.

    Attributes:
        task_id: the task's id, always set: keep it to resume or reconcile.
        snapshot: the last state seen, when one was seen.
    """

    def __init__(
        self,
        message: str,
        *,
        task_id: str,
        snapshot: TaskSnapshot | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.task_id = task_id
        self.snapshot = snapshot


class TaskFailed(TaskError):
    """At least one clip of the task ended ``failed``.

    Attributes:
        clips: every clip of the task as last seen (failed and succeeded ones).
    """

    def __init__(
        self,
        message: str,
        *,
        task_id: str,
        clips: Sequence[Clip] = (),
        snapshot: TaskSnapshot | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, task_id=task_id, snapshot=snapshot, **kwargs)
        self.clips = tuple(clips)


class TaskTimeout(TaskError, TimeoutError):
    """A wait reached its deadline before every clip was terminal.

    The task itself goes on upstream; wait again with its ``task_id`` to resume.
    """


class ClientClosed(TaskError):
    """The client was closed (its ``async with`` block left) while this waited.

    The task itself goes on upstream; wait again with its ``task_id`` from an open client.
    """


class SubmissionOutcomeUnknown(MusicAPIError):
    """A paid request was sent but its answer was lost: it may or may not have been billed.

    It is never re-sent automatically. Reconcile (``get_credits()``, the task list in the
    dashboard, or a webhook) before sending ``request`` again.

    Attributes:
        endpoint: the name of the endpoint that was called.
        request: the request model that was sent.
    """

    def __init__(self, message: str, *, endpoint: str, request: object, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.endpoint = endpoint
        self.request = request


class WebhookVerificationError(MusicAPIError):
    """A webhook delivery was not proven to come from MusicAPI, or made no sense.

    Answer such a request with ``reply_status`` and drop it: 401 when it was not proven
    to come from MusicAPI (whoever sent it), 400 when it was malformed (bad headers, a body
    that is not a task update).

    Attributes:
        reply_status: the HTTP status to answer the delivery with (400 or 401).
    """

    def __init__(self, message: str, *, reply_status: int = 401, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reply_status = reply_status
