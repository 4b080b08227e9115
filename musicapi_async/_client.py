"""``MusicAPI``: the client's lifecycle and its one path to the network.

Every call goes through ``MusicAPI.call``: build (and validate) the request, send it
through the transport, parse the answer. A transport failure becomes ``NetworkError``
when the request provably never reached the server or is idempotent, and
``SubmissionOutcomeUnknown`` when a paid POST may have been received: it is never sent
again behind the caller's back.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

import anyio
import attrs
from anyio.abc import TaskGroup

from ._bulk import Outcome, as_completed, generate_many
from ._endpoints import ENDPOINTS, TASK_ENDPOINTS, Endpoint
from ._errors import (
    AuthenticationError,
    InvalidRequest,
    MusicAPIError,
    NetworkError,
    RateLimited,
    ResponseDecodeError,
    ServerError,
    SubmissionOutcomeUnknown,
)
from ._governor import Governor
from ._jobs import Job

if TYPE_CHECKING:
    from ._coordination import Coordination, RateKind, RateStore
    from ._journal import Journal
from ._log import Secrets, logger
from ._models import (
    Clip,
    Credits,
    Family,
    MediaKind,
    NuroInstrumentalRequest,
    NuroVocalRequest,
    SonicRequest,
    StudioRequest,
    TaskAccepted,
    TaskSnapshot,
)
from ._poller import Poller
from ._polling import PollPolicy
from ._protocol import HttpRequest, build_request, parse_response
from ._resources import LyricsAPI, NuroAPI, SonicAPI, StudioAPI
from ._retry import RetryPolicy, retrying
from ._transport import AiohttpTransport, Transport, TransportFailure, make_webhook_handler
from ._webhooks import WebhookDeduplicator, WebhookEvent, verify_webhook

__all__ = ["DEFAULT_BASE_URL", "ClientStats", "GenerationRequest", "MusicAPI"]

DEFAULT_BASE_URL: Final = "https://api.musicapi.ai"

GenerationRequest = SonicRequest | NuroVocalRequest | NuroInstrumentalRequest | StudioRequest

_CREATE_ENDPOINT: Final = {
    Family.SONIC: "sonic.create",
    Family.NURO: "nuro.create",
    Family.STUDIO: "studio.create",
}


_CREATE_ENDPOINTS: Final = frozenset(_CREATE_ENDPOINT.values())
_TASK_ENDPOINT_NAMES: Final = frozenset(ep.name for ep in TASK_ENDPOINTS.values())
# Hosts of the real API: there the governor paces creates as the docs ask (about one
# every 3 s); elsewhere (the emulator, a proxy) it is off unless the caller passes one.
_REAL_HOSTS: Final = ("api.musicapi.ai", "api.aimusicapi.ai", "api.sunoapi.com")


@attrs.define
class ClientStats:
    """Counters a user can read (``api.stats``; the poller's are ``api.poller.stats``)."""

    requests: Counter[str] = attrs.field(factory=Counter)
    retries: int = 0
    throttled: int = 0


def _outcome_unknown(
    ep: Endpoint, request: object, what: str, cause: MusicAPIError | None = None
) -> SubmissionOutcomeUnknown:
    """The error for a paid call that may or may not have been billed."""
    return SubmissionOutcomeUnknown(
        f"{ep.name}: {what}; it may have been billed. Reconcile before sending it again.",
        endpoint=ep.name,
        request=request,
        status=cause.status if cause is not None else None,
        api_message=cause.api_message if cause is not None else None,
        raw_body=cause.raw_body if cause is not None else None,
    )


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
        max_concurrent_polls: cap on task polls in flight at once, for all tasks.
        webhook_url: passed on every create that does not set its own; with it, the
            poller becomes a slow safety net and webhooks (``feed_webhook``) resolve jobs.
        webhook_secret: signs (and verifies) those webhooks; never shown in a repr.
        retry: the retry policy of every call; defaults to ``RetryPolicy()``.
        governor: paces creates client-wide; defaults to about one create per 3 s on the
            real API and to no limit elsewhere (``Governor.unlimited()``).
        max_concurrent_downloads: cap on media files downloading at once.
        coordination: a store shared with other processes on the same key (e.g.
            ``RedisCoordination(url)``): their creates and polls share one budget, each
            task is polled by one process only and its snapshots reach all of them.

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
        max_concurrent_polls: int = 64,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        retry: RetryPolicy | None = None,
        governor: Governor | None = None,
        max_concurrent_downloads: int = 4,
        coordination: Coordination | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("MUSICAPI_API_KEY")
        if not key and transport is None:
            raise AuthenticationError(
                "No API key: pass api_key=... or set the MUSICAPI_API_KEY environment variable."
            )
        self.base_url = base_url or os.environ.get("MUSICAPI_BASE_URL") or DEFAULT_BASE_URL
        self.poll_policy = poll or PollPolicy()
        self.retry_policy = retry or RetryPolicy()
        real = any(host in self.base_url for host in _REAL_HOSTS)
        self.governor = governor or (Governor() if real else Governor.unlimited())
        self.stats = ClientStats()
        self._downloads = anyio.CapacityLimiter(max_concurrent_downloads)
        self._secrets = Secrets(key, webhook_secret)
        self._transport: Transport = transport or AiohttpTransport(
            self.base_url, key or "", timeout=timeout
        )
        if webhook_url is not None and not webhook_secret:
            raise InvalidRequest("webhook_url needs a webhook_secret to verify deliveries with",
                                 field="webhook_secret")  # fmt: skip
        self.webhook_url = webhook_url
        self._webhook_secret = webhook_secret
        self._dedupe = WebhookDeduplicator()
        self.poller = Poller(self._poll, self.poll_policy,
                             max_concurrent_polls=max_concurrent_polls,
                             push=webhook_url is not None)  # fmt: skip
        self.coordination = coordination
        self._group: TaskGroup | None = None
        self.sonic = SonicAPI(self)
        self.lyrics = LyricsAPI(self)
        self.nuro = NuroAPI(self)
        self.studio = StudioAPI(self)

    def __repr__(self) -> str:
        return f"MusicAPI(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        if self._group is not None:
            raise RuntimeError("this MusicAPI client is already open")
        # The client owns a task group: the poller and bulk producers run in it, and
        # nothing it starts outlives the `async with` block.
        if self.coordination is not None:  # [redis hook] connect before anything is sent
            await self.coordination.open()
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        group.start_soon(self.poller.run)
        if self.coordination is not None:  # [redis hook] other processes' snapshots
            group.start_soon(self.coordination.run, self.poller.publish)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        group = self._group
        try:
            if group is not None:
                group.cancel_scope.cancel()
                # The body's own exception is not handed to the group: it propagates
                # as it is instead of being wrapped in an ExceptionGroup.
                await group.__aexit__(None, None, None)
        finally:
            self._group = None
            if self.coordination is not None:  # [redis hook]
                await self.coordination.aclose()
            await self._transport.aclose()
            self._secrets.release()

    def start_soon(self, func: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run ``func`` in the client's task group (it is cancelled when the client closes).

        Raises:
            RuntimeError: the client is not open (use ``async with MusicAPI(...)``).
        """
        if self._group is None:
            raise RuntimeError("open the client first: `async with MusicAPI(...) as api:`")
        self._group.start_soon(func)

    def _require_open(self) -> None:
        if self._group is None:
            raise RuntimeError("open the client first: `async with MusicAPI(...) as api:`")

    # ---------------------------------------------------------------- the one call path

    async def call(
        self, endpoint: str, model: object = None, *, task_id: str | None = None, retry: bool = True
    ) -> Any:
        """Send one request to ``endpoint`` (an ``ENDPOINTS`` key) and parse the answer.

        Passing failures are retried under the client's ``RetryPolicy``, except that a
        paid call is sent again only when it provably never reached the server or was
        explicitly refused (429, QPS limit, queue full).

        Raises:
            InvalidRequest: the request breaks a documented rule; nothing was sent.
            NetworkError: nothing reached the server, or a free call lost its answer.
            SubmissionOutcomeUnknown: a paid call may have been received and billed.
            MusicAPIError: whatever the answer stands for.
        """
        ep = ENDPOINTS[endpoint]
        request = build_request(ep, model, task_id=task_id)

        async def once() -> Any:
            return await self._exchange(ep, request)

        def count_retry(attempt: int, error: Exception, wait: float) -> None:
            self.stats.retries += 1
            logger.info("%s: try %d failed (%s); retrying in %.2f s", ep.name, attempt,
                        type(error).__name__, wait)  # fmt: skip

        try:
            if not retry:
                return await once()
            return await retrying(self.retry_policy, ep.billable, once, on_retry=count_retry)
        except TransportFailure as failure:
            if ep.billable and failure.sent:
                lost = f"it was sent but its answer was lost ({failure})"
                raise _outcome_unknown(ep, model, lost) from failure.cause
            raise NetworkError(f"{ep.name}: {failure}") from failure.cause

    async def _exchange(self, ep: Endpoint, request: HttpRequest) -> Any:
        """One try: the governor's lease around the transport and the parse.

        The parse is inside the lease so that a throttled create (``RateLimited``) slows
        the create budget of the whole client.
        """
        self.stats.requests[ep.name] += 1
        kind = self._shared_kind(ep)
        async with self._lease(ep):
            if kind is not None:  # [redis hook] the fleet's budget, after our own
                await self._shared_rates(kind).acquire(kind)
            response = await self._transport.send(request)
            logger.debug("%s %s -> %d", request.method, request.path, response.status)
            try:
                return parse_response(ep, response, task_id=request.task_id)
            except RateLimited as exc:
                self.stats.throttled += 1
                if kind is not None:  # [redis hook] one process throttled: all pause
                    await self._shared_rates(kind).pause(kind, exc.retry_after)
                raise
            except (ServerError, ResponseDecodeError) as exc:
                # A paid call whose answer is a 5xx (was the task created?) or an unreadable
                # 2xx (it was, but its id is lost) may have been billed: the caller must
                # reconcile; it is never sent again behind their back.
                readable_failure = isinstance(exc, ServerError)
                if not ep.billable or not (readable_failure or 200 <= response.status < 300):
                    raise
                raise _outcome_unknown(
                    ep,
                    request.model,
                    f"the server failed while handling it ({exc})"
                    if readable_failure
                    else "it was accepted but its answer could not be read",
                    exc,
                ) from exc

    # [redis hook] begin: the fleet-wide budgets of ``coordination`` (see _coordination).
    def _shared_kind(self, ep: Endpoint) -> RateKind | None:
        if self.coordination is None:
            return None
        if ep.name in _CREATE_ENDPOINTS:
            return "create"
        return "poll" if ep.name in _TASK_ENDPOINT_NAMES else None

    def _shared_rates(self, kind: RateKind) -> RateStore:
        assert self.coordination is not None
        return self.coordination.rates

    # [redis hook] end

    def _lease(self, ep: Endpoint) -> AbstractAsyncContextManager[None]:
        # Creates share the governor's create budget; polls are paced by the poller.
        if ep.name in _CREATE_ENDPOINTS:
            return self.governor.create()
        return contextlib.nullcontext()

    # --------------------------------------------------------------------- generation

    async def submit(self, request: GenerationRequest) -> Job:
        """Submit any generation request model and return its ``Job``."""
        family = request.family
        if (self.webhook_url is not None and not isinstance(request, StudioRequest)
                and request.webhook_url is None):  # fmt: skip
            request = attrs.evolve(request, webhook_url=self.webhook_url,
                                   webhook_secret=self._webhook_secret)  # fmt: skip
        accepted: TaskAccepted = await self.call(_CREATE_ENDPOINT[family], request)
        return Job(self, accepted.task_id, family, request=request, submitted_at=time.monotonic())

    async def feed_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent | None:
        """Verify a webhook delivery and resolve the matching job with it.

        Use it from any web framework; ``webhook_handler()`` wraps it for aiohttp. The
        job's ``updates()`` and ``wait()`` see the delivery exactly as if a poll had.

        Args:
            body: the raw request body.
            headers: the request headers.

        Returns:
            The event, or ``None`` if it was a redelivery already handled.

        Raises:
            WebhookVerificationError: the delivery is not authentic or not a task update
                (answer 401/400 and drop it).
        """
        event = verify_webhook(body, headers, self._webhook_secret or "")
        if self._dedupe.seen(event.event_id):
            return None
        self.poller.publish(event.task_id, event.snapshot)
        if self.coordination is not None:  # [redis hook] resolve it in every process
            try:
                await self.coordination.publish(event.snapshot)
            except MusicAPIError as exc:
                # Applied here; elsewhere the task's poller will see it on its own.
                logger.warning("webhook for %s not shared: %s", event.task_id, exc)
        return event

    def webhook_handler(self) -> Callable[[Any], Awaitable[Any]]:
        """An aiohttp.web handler for the webhook route: ``app.router.add_post(path, h)``.

        It answers 200 for a verified (or repeated) delivery, 401 for a bad signature.
        """
        return make_webhook_handler(self.feed_webhook)

    def job(self, task_id: str, family: Family | str = Family.SONIC) -> Job:
        """A ``Job`` for a task submitted earlier (or elsewhere): resume waiting on it."""
        return Job(self, task_id, Family(family))

    def as_completed(
        self, jobs: Iterable[Job], *, timeout: float | None = None
    ) -> AsyncGenerator[Job, None]:
        """Yield ``jobs`` in the order their tasks end (succeeded, failed or errored).

        A yielded job is finished: ``job.result()`` returns its clips or raises its error.
        Polls are shared with every other waiter through the client's poller.

        Args:
            jobs: the jobs to watch.
            timeout: seconds for the whole batch; ``TaskTimeout`` names a late task.
        """
        self._require_open()
        return as_completed(self, jobs, timeout=timeout)

    def generate_many(
        self,
        requests: Iterable[object],
        *,
        concurrency: int = 8,
        timeout: float | None = None,
        journal: Journal | None = None,
        budget: int | None = None,
        preflight: bool = False,
        on_accepted: Callable[[int, Job, bool], None] | None = None,
    ) -> AsyncGenerator[Outcome, None]:
        """Run many requests and yield each ``Outcome`` as it finishes.

        At most ``concurrency`` requests are in flight (submitted and not yet finished)
        at once. A failure is an ``Outcome`` with ``error`` set, carrying the request and
        the task id when one exists; it never stops the batch. Leaving the loop early (or
        cancelling it) stops submitting and stops waiting; a submission already sent is
        allowed to finish so that its task id is not lost.

        Args:
            requests: generation requests (``SonicRequest``, ``NuroVocalRequest``, ...)
                and synchronous ones (``PersonaRequest``, ``UploadRequest``,
                ``LyricsRequest``), in any mix; read lazily.
            concurrency: requests in flight at once.
            timeout: seconds each task may take once submitted.
            journal: a ``Journal`` (e.g. ``SQLiteJournal("runs.sqlite3")``): each request
                is recorded before it is sent, then its task id and result, so that a
                run killed at any moment and started again resubmits nothing that was
                accepted: finished requests come back from the journal, accepted ones
                are waited on again, and ones whose fate is unknown are reported as
                ``SubmissionOutcomeUnknown`` instead of being sent twice.
            budget: credits this run may commit; a request whose documented cost would
                pass it is not sent (``BudgetExceeded``), nor is any after it.
            preflight: read ``get_credits()`` first and treat the balance as a budget.
            on_accepted: called as ``on_accepted(index, job, resumed)`` the moment a
                generation request has a task (submitted now, or resumed from the
                journal): a progress display can follow ``job.updates()`` from there.
        """
        self._require_open()
        return generate_many(self, requests, concurrency=concurrency, timeout=timeout,
                             journal=journal, budget=budget, preflight=preflight,
                             on_accepted=on_accepted)  # fmt: skip

    async def get_task(self, task_id: str, family: Family = Family.SONIC) -> TaskSnapshot:
        """Poll a task once (free) and return what the API said."""
        snapshot: TaskSnapshot = await self.call(TASK_ENDPOINTS[family].name, task_id=task_id)
        return snapshot

    async def _poll(self, task_id: str, family: Family) -> TaskSnapshot:
        if self.coordination is not None:  # [redis hook] one poller per task, fleet-wide
            return await self.coordination.poll(task_id, family, self._poll_once)
        return await self._poll_once(task_id, family)

    async def _poll_once(self, task_id: str, family: Family) -> TaskSnapshot:
        # The poller's own schedule is its retry: a failed poll is simply tried next tick.
        snapshot: TaskSnapshot = await self.call(TASK_ENDPOINTS[family].name, task_id=task_id,
                                                 retry=False)  # fmt: skip
        return snapshot

    async def download(
        self,
        clip: Clip,
        directory: str | os.PathLike[str],
        *,
        kinds: Sequence[MediaKind] = ("audio", "image"),
        max_bytes: int | None = None,
        overwrite: bool = False,
    ) -> list[Path]:
        """Download a clip's files (audio, cover image, video) into ``directory``.

        Each file streams to a temporary file and is renamed into place only when
        complete and of the announced ``Content-Length``; names come from the title and
        clip id, made safe (no path traversal, no control characters, no reserved
        names) and never overwrite another file unless ``overwrite``. At most
        ``max_concurrent_downloads`` files download at once, client-wide. No credentials
        are sent to media hosts.

        Returns:
            The paths written, in the order of ``kinds`` (missing URLs are skipped).

        Raises:
            DownloadTooLarge: a file is larger than ``max_bytes``.
            IncompleteDownload: a file stayed shorter than its ``Content-Length``.
            NetworkError, ServerError: the media host failed after the retries.
        """
        from ._download import DEFAULT_MAX_BYTES, download_clip  # lazy: a cheap import

        if max_bytes is None:
            max_bytes = DEFAULT_MAX_BYTES
        async with self._downloads:
            return await download_clip(self._transport, clip, directory, kinds=kinds,
                                       max_bytes=max_bytes, overwrite=overwrite,
                                       retry=self.retry_policy)  # fmt: skip

    async def get_credits(self) -> Credits:
        """The account's remaining credits (free)."""
        credits: Credits = await self.call("credits")
        return credits
