"""``MusicAPI``: the client's lifecycle and its one path to the network.

Every call goes through ``MusicAPI.call``: build (and validate) the request, send it
through the transport, parse the answer. A transport failure becomes ``NetworkError``
when the request provably never reached the server or is idempotent, and
``SubmissionOutcomeUnknown`` when a paid POST may have been received: it is never sent
again behind the caller's back.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any, Final, Self

from ._endpoints import ENDPOINTS, TASK_ENDPOINTS
from ._errors import AuthenticationError, NetworkError, SubmissionOutcomeUnknown
from ._jobs import Job
from ._models import (
    Credits,
    Family,
    NuroInstrumentalRequest,
    NuroVocalRequest,
    SonicRequest,
    StudioRequest,
    TaskAccepted,
    TaskSnapshot,
)
from ._polling import PollPolicy
from ._protocol import build_request, parse_response
from ._resources import LyricsAPI, NuroAPI, SonicAPI, StudioAPI
from ._transport import AiohttpTransport, Transport, TransportFailure

__all__ = ["DEFAULT_BASE_URL", "GenerationRequest", "MusicAPI"]

DEFAULT_BASE_URL: Final = "https://api.musicapi.ai"

GenerationRequest = SonicRequest | NuroVocalRequest | NuroInstrumentalRequest | StudioRequest

_CREATE_ENDPOINT: Final = {
    Family.SONIC: "sonic.create",
    Family.NURO: "nuro.create",
    Family.STUDIO: "studio.create",
}


class MusicAPI:
    """An async client for MusicAPI; use it as ``async with MusicAPI(...) as api:``.

    Share one client across a whole application: it owns one connection pool.

    Args:
        api_key: the API key; defaults to ``$MUSICAPI_API_KEY``.
        base_url: defaults to ``$MUSICAPI_BASE_URL`` or ``https://api.musicapi.ai``.
        poll: the poll schedule for ``Job.wait``; defaults to ``PollPolicy()``.
        transport: a custom transport (``MockTransport`` in tests); by default an
            aiohttp one is created on entry.
        timeout: seconds for one HTTP exchange.

    Raises:
        AuthenticationError: no key was given and ``$MUSICAPI_API_KEY`` is unset.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        poll: PollPolicy | None = None,
        transport: Transport | None = None,
        timeout: float = 120.0,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("MUSICAPI_API_KEY")
        if not key and transport is None:
            raise AuthenticationError(
                "No API key: pass api_key=... or set the MUSICAPI_API_KEY environment variable."
            )
        self.base_url = base_url or os.environ.get("MUSICAPI_BASE_URL") or DEFAULT_BASE_URL
        self.poll_policy = poll or PollPolicy()
        self._transport: Transport = transport or AiohttpTransport(
            self.base_url, key or "", timeout=timeout
        )
        self.sonic = SonicAPI(self)
        self.lyrics = LyricsAPI(self)
        self.nuro = NuroAPI(self)
        self.studio = StudioAPI(self)

    def __repr__(self) -> str:
        return f"MusicAPI(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool. ``async with`` does this for you."""
        await self._transport.aclose()

    # ---------------------------------------------------------------- the one call path

    async def call(self, endpoint: str, model: object = None, *, task_id: str | None = None) -> Any:
        """Send one request to ``endpoint`` (an ``ENDPOINTS`` key) and parse the answer.

        Raises:
            InvalidRequest: the request breaks a documented rule; nothing was sent.
            NetworkError: nothing reached the server, or a free call lost its answer.
            SubmissionOutcomeUnknown: a paid call may have reached the server.
            MusicAPIError: whatever the answer stands for.
        """
        ep = ENDPOINTS[endpoint]
        request = build_request(ep, model, task_id=task_id)
        try:
            response = await self._transport.send(request)
        except TransportFailure as failure:
            if ep.billable and failure.sent:
                raise SubmissionOutcomeUnknown(
                    f"{ep.name}: the request was sent but its answer was lost ({failure}); "
                    "it may have been billed. Reconcile before sending it again.",
                    endpoint=ep.name,
                    request=model,
                ) from failure.cause
            raise NetworkError(f"{ep.name}: {failure}") from failure.cause
        return parse_response(ep, response, task_id=task_id)

    # --------------------------------------------------------------------- generation

    async def submit(self, request: GenerationRequest) -> Job:
        """Submit any generation request model and return its ``Job``."""
        family = request.family
        accepted: TaskAccepted = await self.call(_CREATE_ENDPOINT[family], request)
        return Job(self, accepted.task_id, family, request=request)

    def job(self, task_id: str, family: Family | str = Family.SONIC) -> Job:
        """A ``Job`` for a task submitted earlier (or elsewhere): resume waiting on it."""
        return Job(self, task_id, Family(family))

    async def get_task(self, task_id: str, family: Family = Family.SONIC) -> TaskSnapshot:
        """Poll a task once (free) and return what the API said."""
        snapshot: TaskSnapshot = await self.call(TASK_ENDPOINTS[family].name, task_id=task_id)
        return snapshot

    async def get_credits(self) -> Credits:
        """The account's remaining credits (free)."""
        credits: Credits = await self.call("credits")
        return credits
