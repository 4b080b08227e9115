"""A fake transport that answers from a function: tests run without opening a socket."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from ._protocol import HttpRequest, HttpResponse

__all__ = ["MockTransport"]

Handler = Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]


class MockTransport:
    """A transport whose answers come from ``handler(request)``.

    The handler may be sync or async, may return an ``HttpResponse`` or raise (for
    instance ``TransportFailure``) to simulate the network. Every request is kept in
    ``requests`` so tests can assert on what was sent.

    Example::

        def handler(request):
            return HttpResponse(200, {}, b'{"credits": 5, "extra_credits": 0}')

        async with MusicAPI(api_key="k", transport=MockTransport(handler)) as api:
            assert (await api.get_credits()).credits == 5
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.requests: list[HttpRequest] = []
        self.closed = False

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Record ``request`` and answer it through the handler."""
        self.requests.append(request)
        result = self._handler(request)
        if inspect.isawaitable(result):
            return await result
        return result

    async def aclose(self) -> None:
        """Mark the transport closed."""
        self.closed = True
