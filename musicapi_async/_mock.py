"""A fake transport that answers from a function: tests run without opening a socket."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from ._http import HttpRequest, HttpResponse, OnHeaders, TransportFailure, WriteChunk

__all__ = ["MockTransport"]

Handler = Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]


class MockTransport:
    """A transport whose answers come from ``handler(request)``.

    The handler may be sync or async, may return an ``HttpResponse`` or raise (for
    instance ``TransportFailure``) to simulate the network. Every request is kept in
    ``requests`` so tests can assert on what was sent. Media downloads are answered by
    ``media(url)`` when given.

    Example::

        def handler(request):
            return HttpResponse(200, {}, b'{"credits": 5, "extra_credits": 0}')

        async with MusicAPI(api_key="k", transport=MockTransport(handler)) as api:
            assert (await api.get_credits()).credits == 5
    """

    def __init__(
        self, handler: Handler, *, media: Callable[[str], HttpResponse] | None = None
    ) -> None:
        self._handler = handler
        self._media = media
        self.requests: list[HttpRequest] = []
        self.fetched: list[str] = []
        self.closed = False

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Record ``request`` and answer it through the handler."""
        self.requests.append(request)
        result = self._handler(request)
        if inspect.isawaitable(result):
            return await result
        return result

    async def fetch(self, url: str, on_headers: OnHeaders, write: WriteChunk) -> None:
        """Answer a media download from ``media(url)``, in two chunks."""
        self.fetched.append(url)
        if self._media is None:
            raise TransportFailure(f"no media handler for {url}", sent=False)
        response = self._media(url)
        headers = dict(response.headers)
        if "content-length" not in headers and "transfer-encoding" not in headers:
            # A whole body from the handler: framed as any HTTP server would frame it.
            headers["content-length"] = str(len(response.body))
        await on_headers(response.status, headers)
        half = len(response.body) // 2
        for chunk in (response.body[:half], response.body[half:]):
            if chunk:
                await write(chunk)

    async def aclose(self) -> None:
        """Mark the transport closed."""
        self.closed = True
