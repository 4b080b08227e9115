"""The one client-side module that imports aiohttp: it moves bytes and nothing else.

A transport takes an ``HttpRequest`` (which carries no credentials), adds the base URL
and the ``Authorization`` header, and returns an ``HttpResponse``. Failures come out as
``TransportFailure`` with ``sent`` telling whether the request may have reached the
server — the fact that decides if a paid POST can ever be sent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Protocol, runtime_checkable

import aiohttp

from ._http import HttpRequest, HttpResponse, OnHeaders, TransportFailure, WriteChunk
from ._version import __version__

__all__ = [
    "AiohttpTransport",
    "ConnectionProblem",
    "Transport",
    "TransportFailure",
]


_CHUNK = 64 * 1024


class _CallerFailed(Exception):
    """Marks an error raised by a caller's callback inside ``fetch``."""


@runtime_checkable
class Transport(Protocol):
    """What ``MusicAPI`` needs from a transport."""

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` and return the complete answer, or raise ``TransportFailure``."""
        ...

    async def fetch(self, url: str, on_headers: OnHeaders, write: WriteChunk) -> None:
        """GET an absolute media URL, without credentials, streaming the body to ``write``.

        The body is passed on as it was sent, still in its ``Content-Encoding`` (the
        caller decodes it and checks it is complete); a body whose framing (length or
        chunks) was cut raises ``TransportFailure``. ``on_headers(status, headers)``
        runs before the body, with lower-case header names; errors raised by either
        callback propagate unchanged.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class ConnectionProblem(Exception):
    """What aiohttp reported, as text: the cause a ``TransportFailure`` carries.

    aiohttp's exceptions hold the request (``request_info``, ``history``), whose headers
    include ``Authorization``: their repr would show the API key (``TooManyRedirects``
    does). Only the type's name and the message are kept, scrubbed of the key.

    Attributes:
        kind: the name of aiohttp's (or the OS's) exception type.
        errno: the OS error number, when there was one.
    """

    def __init__(self, kind: str, text: str, *, errno: int | None = None) -> None:
        super().__init__(f"{kind}: {text}" if text else kind)
        self.kind = kind
        self.errno = errno


def _plain(exc: BaseException) -> ConnectionProblem:
    from ._log import redact

    if isinstance(exc, aiohttp.ClientResponseError):
        # Its str holds the URL and the reason only; never its request headers.
        text = f"{exc.status}, message={exc.message!r}, url={str(exc.request_info.real_url)!r}"
    else:
        text = str(exc)
    errno = exc.errno if isinstance(exc, OSError) else None
    return ConnectionProblem(type(exc).__name__, redact(text), errno=errno)


def _classify(exc: BaseException) -> TransportFailure:
    failure = _classify_raw(exc)
    failure.cause = _plain(exc)
    return failure


def _classify_raw(exc: BaseException) -> TransportFailure:
    # Only a failure to open the connection proves the server never saw the request.
    # Everything after that (a reset, a read timeout, a half-read body) may follow a
    # request the server received and billed.
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return TransportFailure(f"could not connect: {type(exc).__name__}", sent=False, cause=exc)
    if isinstance(exc, aiohttp.InvalidURL):
        return TransportFailure("invalid URL", sent=False, cause=exc)
    if isinstance(exc, asyncio.TimeoutError):
        return TransportFailure("timed out waiting for the answer", sent=True, cause=exc)
    return TransportFailure(f"connection failed: {type(exc).__name__}", sent=True, cause=exc)


class AiohttpTransport:
    """A transport over one ``aiohttp.ClientSession``.

    Args:
        base_url: scheme and host of the API, e.g. ``https://api.musicapi.ai``.
        api_key: the bearer token; kept private, never shown in a repr.
        timeout: seconds for one whole exchange (MusicAPI's upload takes ~20 s).
        connect_timeout: seconds to open a connection.
        max_connections: connection pool size.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_connections: int = 100,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"musicapi-async/{__version__}",
        }
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=connect_timeout)
        self._limit = max_connections
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"AiohttpTransport(base_url={self._base_url!r})"

    def _get_session(self) -> aiohttp.ClientSession:
        # Created lazily, inside the running loop, as aiohttp requires.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, raise_for_status=False
            )
        return self._session

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request``; see ``Transport.send``."""
        session = self._get_session()
        try:
            async with session.request(
                request.method,
                self._base_url + request.path,
                data=request.body,
                headers=self._headers,
            ) as response:
                body = await response.read()
                raw = response.headers
                # Lower-case names (the last of a repeated header wins). A comprehension
                # over ``items()`` costs two thirds of ``dict(zip(map(...)))`` here.
                headers = {name.lower(): value for name, value in raw.items()}
                return HttpResponse(response.status, headers, body)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            failure = _classify(exc)
        # Raised outside the except block: aiohttp's exception must not ride along as the
        # implicit __context__ (its repr holds the Authorization header).
        raise failure

    async def fetch(self, url: str, on_headers: OnHeaders, write: WriteChunk) -> None:
        """Stream a media file; see ``Transport.fetch``.

        No ``Authorization`` header is sent: media live on CDNs, and the API key must
        never travel to a host other than the API's.
        """
        session = self._get_session()
        failure: list[BaseException] = []
        lost: TransportFailure | None = None

        async def guarded(call: Awaitable[None]) -> None:
            # The caller's own errors (a full disk, a size cap) are not network errors:
            # carry them past the classification below untouched.
            try:
                await call
            except BaseException as exc:
                failure.append(exc)
                raise _CallerFailed from exc

        try:
            # The body is handed over as sent (not decompressed): only the caller can
            # then prove a gzip stream complete, which aiohttp's decoder does not check.
            async with session.get(
                url,
                headers={
                    "User-Agent": self._headers["User-Agent"],
                    "Accept-Encoding": "gzip, deflate",
                },
                allow_redirects=True,
                auto_decompress=False,
            ) as response:
                headers = {k.lower(): v for k, v in response.headers.items()}
                await guarded(on_headers(response.status, headers))
                async for chunk in response.content.iter_chunked(_CHUNK):
                    await guarded(write(chunk))
        except _CallerFailed:
            raise failure[0] from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            lost = _classify(exc)
        if lost is not None:
            raise lost  # outside the except block: no aiohttp exception as __context__

    async def aclose(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None
