"""The bottom layer: what crosses the I/O seam, with no networking library behind it.

``HttpRequest`` and ``HttpResponse`` are what the sans-I/O core builds and parses;
``TransportFailure`` is how any transport (aiohttp, the mock, a caller's own) says an
exchange failed and whether the request may have reached the server. Nothing here imports
aiohttp or any module above it, so the retry policy and the core can use these types
without pulling in a transport (httpx keeps its models below its transports the same way).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from ._errors import MusicAPIError

if TYPE_CHECKING:  # annotation only: the table sits above this module
    from ._endpoints import Endpoint

__all__ = ["HttpRequest", "HttpResponse", "OnHeaders", "TransportFailure", "WriteChunk"]

# A media download's two callbacks (``Transport.fetch``): the status and headers first,
# then the body's chunks, in order.
OnHeaders: TypeAlias = Callable[[int, Mapping[str, str]], Awaitable[None]]
WriteChunk: TypeAlias = Callable[[bytes], Awaitable[None]]


@attrs.frozen
class HttpRequest:
    """A request ready to send. Carries no credentials: the transport adds them."""

    endpoint: Endpoint[Any, Any]
    method: str
    path: str
    body: bytes | None = attrs.field(default=None, repr=False)
    model: object = None
    task_id: str | None = None


@attrs.frozen
class HttpResponse:
    """An answer as received: status, headers (lower-case names) and the raw body."""

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""


class TransportFailure(MusicAPIError):
    """The exchange failed before a complete answer arrived.

    A transport raises it; the client never lets it escape as such: it becomes a
    ``NetworkError`` (safe to send again) or a ``SubmissionOutcomeUnknown`` (a paid POST
    that may have been billed). It sits in the tree so a caller's own transport raising
    it is still a ``MusicAPIError``.

    Attributes:
        sent: ``False`` only when the request provably never reached the server (the
            connection could not be opened); ``True`` when it may have been received.
        cause: the underlying exception.
    """

    def __init__(self, description: str, *, sent: bool, cause: BaseException | None = None):
        super().__init__(description)
        self.sent = sent
        self.cause = cause
