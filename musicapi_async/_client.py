"""``MusicAPI``: the client's lifecycle and its one path to the network.

Every call goes through ``MusicAPI.call``: build (and validate) the request, send it
through the transport, parse the answer. A transport failure becomes ``NetworkError``
when the request provably never reached the server or is idempotent, and
``SubmissionOutcomeUnknown`` when a paid POST may have been received: it is never sent
again behind the caller's back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
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
from contextlib import AbstractAsyncContextManager, nullcontext
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, TypeAlias, TypeVar, Unpack, overload

import anyio
import attrs
from anyio.abc import TaskGroup

from ._batch_polling import BatchWatch
from ._bulk import ManyOptions, Outcome, as_completed, generate_many
from ._endpoints import (
    CREATE_ENDPOINTS,
    CREDITS,
    ENDPOINTS,
    TASK_ENDPOINTS,
    Answer,
    Endpoint,
    row_for,
)
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
from ._jobs import PAID_CALL_WATCH, Job, Orphan, Waiter

if TYPE_CHECKING:
    from ._coordination import Coordination, RateKind, RateStore
from ._http import HttpRequest, TransportFailure
from ._log import Secrets, logger
from ._models import (
    Clip,
    Credits,
    Family,
    LyricsRequest,
    MediaKind,
    NuroInstrumentalRequest,
    NuroVocalRequest,
    PersonaRequest,
    ProducerDownloadRequest,
    ProducerRequest,
    ProducerUploadRequest,
    RiffusionRequest,
    RiffusionUploadRequest,
    SonicRequest,
    StudioRequest,
    TaskAccepted,
    TaskSnapshot,
    UploadRequest,
)
from ._poller import Poller
from ._polling import PollPolicy
from ._protocol import SnapshotMemo, build_request, decode_json, parse_response
from ._resources import LyricsAPI, NuroAPI, SonicAPI, StudioAPI
from ._resources_fuzz import ProducerAPI, RiffusionAPI
from ._retry import RetryPolicy, retrying
from ._sonic_models import MashupRequest, StemsFullRequest, StemsRequest
from ._sonic_task_models import (
    CreateVoiceRequest,
    ReplaceSectionRequest,
    SampleRequest,
    UploadCoverRequest,
    UploadExtendRequest,
)
from ._transport import AiohttpTransport, Transport
from ._validation import check_callback_url, check_task_id
from ._webhook_server import make_webhook_handler
from ._webhooks import WebhookDeduplicator, WebhookEvent, verify_webhook
from ._windows import WindowKeeper, window_store

__all__ = [
    "DEFAULT_BASE_URL",
    "AnyRequest",
    "ClientStats",
    "GenerationRequest",
    "MusicAPI",
    "Orphan",
]

DEFAULT_BASE_URL: Final = "https://api.musicapi.ai"

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

# The emulator announces its speed (emulated seconds per wall second) on every answer;
# the real API never sends it, so there nothing changes.
SPEED_HEADER: Final = "x-emulator-speed"
_MAX_SPEED: Final = 1e6


def _task_row(request: GenerationRequest) -> Endpoint[GenerationRequest, TaskAccepted]:
    """The row ``request`` is sent to, when that row starts a task (else InvalidRequest)."""
    ep: Endpoint[Any, Any] | None
    try:
        ep = row_for(request)
    except KeyError:
        ep = None
    if ep is None or ep.answer is not Answer.TASK:
        names = ", ".join(
            sorted(
                t.__name__
                for r in CREATE_ENDPOINTS.values()
                for t in r.request_types
                if r.answer is Answer.TASK
            )
        )
        raise InvalidRequest(f"submit() takes one of {names}, not {type(request).__name__}.")
    return ep


def _turns(request: HttpRequest) -> int:
    """Creates a request counts as for the pace: one, or a sonic batch's items (``_batch``)."""
    items = getattr(request.model, "items", None) if request.endpoint.cost.per_item else None
    return len(items) if isinstance(items, tuple) and items else 1


def _may_have_billed(error: BaseException) -> bool:
    """Whether a paid try that ended in ``error`` may still have been billed."""
    if isinstance(error, SubmissionOutcomeUnknown):
        return True
    return isinstance(error, TransportFailure) and error.sent


_TASK_ENDPOINT_NAMES: Final = frozenset(ep.name for ep in TASK_ENDPOINTS.values())
# [redis hook] the names of the rows that start tasks, derived from the table.
_CREATE_ENDPOINTS: Final = frozenset(CREATE_ENDPOINTS)
Req = TypeVar("Req")
Res = TypeVar("Res")


@attrs.define
class ClientStats:
    """Counters a user can read (``api.stats``; the poller's are ``api.poller.stats``)."""

    requests: Counter[str] = attrs.field(factory=Counter)
    retries: int = 0
    throttled: int = 0


def _family(family: object) -> Family:
    try:
        return Family(str(family)) if not isinstance(family, Family) else family
    except ValueError:
        names = ", ".join(f.value for f in Family)
        raise InvalidRequest(f"Unknown family {family!r}: one of {names}.") from None


# The level of request and answer bodies in the log (``musicapi -vv``), below DEBUG.
BODIES: Final = 5
_SECRET_FIELDS: Final = ("secret", "key", "authorization", "token")


def _shown_body(body: bytes | None, limit: int = 2000) -> str:
    """A body for the log: JSON with secret-looking fields redacted, cut at ``limit``."""
    if not body:
        return "(empty)"
    try:
        data = decode_json(body)
    except ValueError:
        text = body.decode("utf-8", "replace")
    else:
        if isinstance(data, dict):
            data = {
                k: "[redacted]" if any(s in k.lower() for s in _SECRET_FIELDS) else v
                for k, v in data.items()
            }
        text = json.dumps(data, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def _outcome_unknown(
    ep: Endpoint[Any, Any], request: object, what: str, cause: MusicAPIError | None = None
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


def _check_key(key: object) -> None:
    """Refuse a key that cannot be sent in a header, without ever showing it."""
    if key is None or key == "":
        return
    if not isinstance(key, str):
        raise AuthenticationError(f"The API key should be a string, not {type(key).__name__}.")
    if key != key.strip() or any(not c.isprintable() or c.isspace() for c in key):
        raise AuthenticationError(
            "The API key contains spaces, a line break or control "
            "characters (read from a file with its newline?): strip "
            "it and try again."
        )
    if not key.isascii():
        raise AuthenticationError(
            "The API key contains non-ASCII characters: it cannot be "
            "sent in a header. Check that it was copied whole."
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
        governor: paces every request client-wide: creates one per 3 s by default (the
            documented limit), polls unlimited but backing off together when refused;
            ``Governor(create=Budget(rate=..., burst=...))`` changes the pace and
            ``Governor.unlimited()`` turns it off. On the emulator the pace follows the
            speed it announces (one create per 3 emulated seconds).
        max_concurrent_downloads: cap on media files downloading at once.
        on_orphan: called with each ``Orphan``: a paid call whose caller was cancelled
            after it was sent (its task id, or its unknown outcome, is in there).
        coordination: a store shared with other processes on the same key (e.g.
            ``RedisCoordination(url)``): their creates and polls share one budget, each
            task is polled by one process only and its snapshots reach all of them.
        clock: monotonic seconds for the poll schedule and jobs' timestamps; tests
            inject one instead of sleeping.

    Raises:
        AuthenticationError: no key was given and ``$MUSICAPI_API_KEY`` is unset, or the
            key holds whitespace, a line break or characters a header cannot carry.
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
        on_orphan: Callable[[Orphan], None] | None = None,
        coordination: Coordination | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("MUSICAPI_API_KEY")
        if not key and transport is None:
            raise AuthenticationError(
                "No API key: pass api_key=... or set the MUSICAPI_API_KEY environment variable."
            )
        _check_key(key)
        self.base_url = base_url or os.environ.get("MUSICAPI_BASE_URL") or DEFAULT_BASE_URL
        self.poll_policy = poll or PollPolicy()
        # The policy as given: an announced emulator speed scales it unless already scaled.
        self._poll_given = self.poll_policy
        self.retry_policy = retry or RetryPolicy()
        self.governor = governor or Governor()
        self._speed_seen: str | None = None  # the last X-Emulator-Speed header followed
        # Paid calls whose callers were cancelled after sending (see ``Orphan``).
        self.orphans: list[Orphan] = []
        self._on_orphan = on_orphan
        self.stats = ClientStats()
        self._downloads = anyio.CapacityLimiter(max_concurrent_downloads)
        self._secrets = Secrets(key, webhook_secret)
        self._transport: Transport = transport or AiohttpTransport(
            self.base_url, key or "", timeout=timeout
        )
        if webhook_url is not None and not webhook_secret:
            raise InvalidRequest(
                "webhook_url needs a webhook_secret to verify deliveries with",
                field="webhook_secret",
            )
        if webhook_url is not None:
            check_callback_url(webhook_url)  # said now, not at the first create
        self.webhook_url = webhook_url
        self._webhook_secret = webhook_secret
        self._dedupe = WebhookDeduplicator()
        # Identical answers of a task endpoint are parsed once, per client (per poller).
        self._snapshots = SnapshotMemo()
        self.poller = Poller(
            self._poll,
            self.poll_policy,
            max_concurrent_polls=max_concurrent_polls,
            push=webhook_url is not None,
            clock=clock,
        )
        self._clock = clock
        # [batch hook] tasks submitted together, polled together (``_batch_polling``).
        self._batch_watch = BatchWatch(self)
        self.coordination = coordination
        store = window_store(coordination)  # [redis hook] learned windows, fleet-wide
        self._windows = None if store is None else WindowKeeper(store, self.poller)
        self._group: TaskGroup | None = None
        # Waits in progress (``Job.updates``, ``as_completed``): woken when the client closes.
        self._waiters: set[Waiter] = set()
        # Paid requests running shielded from their callers (``_send_shielded``): the
        # client's exit waits for every one of them before it closes the transport.
        self._paid: set[asyncio.Task[None]] = set()
        self._closing = False
        self.sonic = SonicAPI(self)
        self.lyrics = LyricsAPI(self)
        self.nuro = NuroAPI(self)
        self.studio = StudioAPI(self)
        self.producer = ProducerAPI(self)
        self.riffusion = RiffusionAPI(self)

    def __repr__(self) -> str:
        return f"MusicAPI(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        if self._group is not None:
            raise RuntimeError("this MusicAPI client is already open")
        # The client owns a task group: the poller and bulk producers run in it, and
        # nothing it starts outlives the `async with` block.
        if self.coordination is not None:  # [redis hook] connect before anything is sent
            await self.coordination.open()
        if self._windows is not None:  # [redis hook] start from what the fleet learned
            await self._windows.load()
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        self._closing = False
        group.start_soon(self.poller.run)
        if self.coordination is not None:  # [redis hook] other processes' snapshots
            self.poller.on_close = self.coordination.release
            self.poller.on_watch = self.coordination.watch
            group.start_soon(self.coordination.run, self.poller.publish, self.poller.watching)
        if self._windows is not None:  # [redis hook]
            group.start_soon(self._windows.run)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        group = self._group
        self._closing = True
        try:
            # Waiters in tasks the client does not own would never hear from the poller
            # again: each one ends now with ClientClosed, naming its task.
            for waiter in list(self._waiters):
                waiter.client_closed()
            self._waiters.clear()
            if group is not None:
                group.cancel_scope.cancel()
                # The body's own exception is not handed to the group: it propagates
                # as it is instead of being wrapped in an ExceptionGroup.
                await group.__aexit__(None, None, None)
        finally:
            self._group = None
            if self._paid:  # a paid request is never cut off by the close: it finishes
                with anyio.CancelScope(shield=True):
                    # ``wait``, not ``gather``: a cancelled close must not cancel them.
                    await asyncio.wait(set(self._paid))
            if self._windows is not None:  # [redis hook] what this process learned
                with anyio.CancelScope(shield=True), anyio.move_on_after(2):
                    await self._windows.save()
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
        if self._group is None or self._closing:
            raise RuntimeError("open the client first: `async with MusicAPI(...) as api:`")

    # ---------------------------------------------------------------- the one call path

    @overload
    async def call(
        self, ep: Endpoint[Req, Res], model: Req, *, task_id: str | None = ..., retry: bool = ...
    ) -> Res: ...

    @overload
    async def call(
        self, ep: str, model: object = ..., *, task_id: str | None = ..., retry: bool = ...
    ) -> Any: ...  # by row name: the untyped form older callers use

    async def call(
        self,
        ep: Endpoint[Req, Res] | str,
        model: object = None,
        *,
        task_id: str | None = None,
        retry: bool = True,
    ) -> Res | Any:
        """Send one request to the row ``ep`` and parse the answer into its result type.

        ``model`` is the request (``None`` for a GET).

        Passing failures are retried under the client's ``RetryPolicy``, except that a
        paid call is sent again only when it provably never reached the server or was
        explicitly refused (429, QPS limit, queue full).

        Raises:
            InvalidRequest: the request breaks a documented rule; nothing was sent.
            NetworkError: nothing reached the server, or a free call lost its answer.
            SubmissionOutcomeUnknown: a paid call may have been received and billed.
            MusicAPIError: whatever the answer stands for.
        """
        if isinstance(ep, str):
            return await self.call(ENDPOINTS[ep], model, task_id=task_id, retry=retry)
        request = build_request(ep, model, task_id=task_id)
        try:
            if not retry:  # every poll: one try, no closures to build
                return await self._exchange(ep, request)

            async def once() -> Res:
                return await self._exchange(ep, request)

            def count_retry(attempt: int, error: Exception, wait: float) -> None:
                self.stats.retries += 1
                logger.info(
                    "%s: try %d failed (%s); retrying in %.2f s",
                    ep.name,
                    attempt,
                    type(error).__name__,
                    wait,
                )

            # Paced: a refused try waits in the governor, which honours Retry-After.
            return await retrying(
                self.retry_policy, ep.billable, once, on_retry=count_retry, paced=True
            )
        except TransportFailure as failure:
            if ep.billable and failure.sent:
                lost = f"it was sent but its answer was lost ({failure})"
                raise _outcome_unknown(ep, model, lost) from failure.cause
            raise NetworkError(f"{ep.name}: {failure}") from failure.cause

    async def _exchange(self, ep: Endpoint[Any, Res], request: HttpRequest) -> Res:
        """One try: the governor's lease around the transport and the parse.

        The parse is inside the lease so that a throttled request (``RateLimited``) slows
        the budget of the whole client. A paid call is shielded once its turn comes: a
        caller cancelled after that does not lose what the server billed (``Orphan``).
        """
        kind = None if self.coordination is None else self._shared_kind(ep)
        async with self._lease(ep, request):
            if kind is not None:  # [redis hook] the fleet's budget, after our own
                await self._shared_rates(kind).acquire(kind)
            self.stats.requests[ep.name] += 1
            if ep.billable and self._group is not None:
                return await self._send_shielded(ep, request)
            return await self._send(ep, request)

    async def _send_shielded(self, ep: Endpoint[Any, Res], request: HttpRequest) -> Res:
        """Send a paid request in a task of its own, shielded from the caller's cancellation.

        The caller waits for it; if the caller is cancelled (``wait_for``, a cancel scope,
        ``task.cancel()``), the cancellation goes on to the caller at once while the
        request finishes in the background, and its answer becomes an ``Orphan``, handed
        to the caller's ``ORPHAN_SINK`` when it set one (``generate_many`` journals it). The
        client's exit waits for it (at most the transport's timeout): no task outlives
        the client, no task id is dropped.
        """
        group = self._group
        assert group is not None  # checked by the caller
        watch = PAID_CALL_WATCH.get()  # the caller's, read in the caller's context
        loop = asyncio.get_running_loop()
        # Resolved when ``run`` ends. A bare future (cheaper than an ``anyio.Event``, once
        # per create): a caller cancelled while awaiting it cancels it, so whether ``run``
        # ended is read from ``outcome``, which it fills before resolving the future.
        done: asyncio.Future[None] = loop.create_future()
        outcome: list[tuple[bool, Res | Exception]] = []
        abandoned = False

        async def keep(ok: bool, value: Any) -> None:
            orphan = self._orphan(ep, request, ok, value)
            if watch is not None:
                with anyio.CancelScope(shield=True):
                    try:
                        await watch.settled(orphan)
                    except Exception:  # noqa: BLE001 - the orphan stays in MusicAPI.orphans
                        logger.exception("recording an orphan failed; it stays in MusicAPI.orphans")

        async def run() -> None:
            with anyio.CancelScope(shield=True):
                if abandoned:  # the caller left before this try started: send nothing
                    return
                try:
                    if watch is not None:
                        # In flight from here, before the journal's mark: a caller that is
                        # cancelled meanwhile must not count the request as never sent.
                        watch.in_flight = True
                        if watch.sending is not None:
                            await watch.sending()  # if this fails, nothing is sent
                    result: Res = await self._send(ep, request)
                    outcome.append((True, result))
                except Exception as exc:  # noqa: BLE001 - handed to the caller, or kept as an orphan
                    outcome.append((False, exc))
                    if watch is not None and not _may_have_billed(exc):
                        watch.in_flight = False
                if not done.done():  # cancelled by a caller who left
                    done.set_result(None)
                if abandoned:
                    await keep(*outcome[0])

        # A plain asyncio task the client's exit waits for (see ``__aexit__``), not a
        # task-group child: an anyio spawn costs several times more, once per create.
        task = loop.create_task(run())
        self._paid.add(task)
        task.add_done_callback(self._paid.discard)
        try:
            await done
        except BaseException:
            if outcome:  # ``run`` ended: the caller left with its answer unread
                group.start_soon(keep, *outcome[0])
            else:
                abandoned = True
            raise
        value = outcome[0][1]
        if isinstance(value, Exception):  # a result is never an exception: a table rule
            raise value
        return value

    def _orphan(
        self, ep: Endpoint[Any, Any], request: HttpRequest, ok: bool, value: Any
    ) -> Orphan | None:
        """Keep what a cancelled caller never received, if it may have cost credits."""
        if ok:
            orphan = Orphan(ep.name, request.model, result=value)
        elif not _may_have_billed(value):
            return None  # refused or invalid: nothing was billed
        elif isinstance(value, SubmissionOutcomeUnknown):
            orphan = Orphan(ep.name, request.model, error=value)
        else:
            lost = f"it was sent but its answer was lost ({value})"
            orphan = Orphan(ep.name, request.model, error=_outcome_unknown(ep, request.model, lost))
        self.orphans.append(orphan)
        logger.warning(
            "%s: the caller was cancelled after the request was sent; %s "
            "(kept in MusicAPI.orphans)",
            ep.name,
            f"the server accepted it as task {orphan.task_id}"
            if orphan.task_id
            else "it may have been billed",
        )
        if self._on_orphan is not None:
            try:
                self._on_orphan(orphan)
            except Exception:  # noqa: BLE001 - a callback bug must not kill the client
                logger.exception("on_orphan raised; the orphan stays in MusicAPI.orphans")
        return orphan

    def _follow_speed(self, headers: Mapping[str, str]) -> None:
        """Adopt the speed the emulator announces, for create pacing and the poll schedule."""
        raw = headers.get(SPEED_HEADER) or headers.get("X-Emulator-Speed")
        if raw is None or raw == self._speed_seen:
            return  # the same announcement as the last answer's: already followed
        self._speed_seen = raw
        try:
            speed = float(raw)
        except ValueError:
            return
        if not (math.isfinite(speed) and 0 < speed <= _MAX_SPEED):
            return  # a stopped emulator (0) or nonsense: keep real time
        if self.coordination is not None:  # [redis hook] the fleet's budget follows it too
            self.coordination.rates.set_time_scale(speed)
        if speed == self.governor.time_scale:
            return
        self.governor.set_time_scale(speed)
        if self._poll_given.time_scale == 1.0:  # a policy the caller scaled is theirs
            self.poll_policy = self._poll_given.scaled(speed)
            self.poller.set_policy(self.poll_policy)
        logger.info("the server runs at %gx speed: pacing and polls follow it", speed)

    async def _send(self, ep: Endpoint[Any, Res], request: HttpRequest) -> Res:
        """Send and parse; a paid call's 5xx or unreadable 2xx is an unknown outcome."""
        # The clock is read and the line formatted only when someone listens.
        started = time.monotonic() if logger.isEnabledFor(logging.DEBUG) else None
        response = await self._transport.send(request)
        if started is not None:
            logger.debug(
                "%s %s -> %d in %.0f ms",
                request.method,
                request.path,
                response.status,
                1000 * (time.monotonic() - started),
            )
        if logger.isEnabledFor(BODIES):
            logger.log(
                BODIES,
                "%s %s sent %s; answer %s",
                request.method,
                request.path,
                _shown_body(request.body),
                _shown_body(response.body),
            )
        self._follow_speed(response.headers)
        try:
            task_type = getattr(request.model, "task_type", None)
            return parse_response(
                ep,
                response,
                task_id=request.task_id,
                memo=self._snapshots,
                operation=None if task_type is None else str(task_type),
            )
        except RateLimited as exc:
            self.stats.throttled += 1
            kind = self._shared_kind(ep)
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
    def _shared_kind(self, ep: Endpoint[Any, Any]) -> RateKind | None:
        if self.coordination is None:
            return None
        if ep.name in CREATE_ENDPOINTS:
            return "create"
        return "poll" if ep.name in _TASK_ENDPOINT_NAMES else None

    def _shared_rates(self, kind: RateKind) -> RateStore:
        assert self.coordination is not None
        return self.coordination.rates

    # [redis hook] end

    def _lease(
        self, ep: Endpoint[Any, Any], request: HttpRequest
    ) -> AbstractAsyncContextManager[None]:
        # Creates share the governor's create budget; polls and every other call share
        # its poll budget: one mechanism paces and backs off for the whole client.
        if ep.name in CREATE_ENDPOINTS:
            if self.coordination is not None:  # [redis hook] the fleet's budget is the one
                return nullcontext()  # create pace: no second, local one
            return self.governor.create(_turns(request))
        return self.governor.poll()

    # --------------------------------------------------------------------- generation

    async def submit(self, request: GenerationRequest) -> Job:
        """Submit any generation request model and return its ``Job``.

        Raises:
            InvalidRequest: ``request`` is not a generation request model.
        """
        ep = _task_row(request)
        # Studio and riffusion document no webhooks; stems bodies carry only the clip id.
        no_hook = StudioRequest | RiffusionRequest | StemsRequest | StemsFullRequest
        if (
            self.webhook_url is not None
            and not isinstance(request, no_hook)
            and request.webhook_url is None
        ):
            request = attrs.evolve(
                request, webhook_url=self.webhook_url, webhook_secret=self._webhook_secret
            )
        accepted = await self.call(ep, request)
        family = ep.family
        return Job(self, accepted.task_id, family, request=request, submitted_at=self._clock())

    async def feed_webhook(
        self, body: bytes, headers: Mapping[str, str], *, legacy_signatures: bool = False
    ) -> WebhookEvent | None:
        """Verify a webhook delivery and resolve the matching job with it.

        Use it from any web framework; ``webhook_handler()`` wraps it for aiohttp. The
        job's ``updates()`` and ``wait()`` see the delivery exactly as if a poll had.

        Args:
            body: the raw request body.
            headers: the request headers.
            legacy_signatures: also accept the older, timestamp-less ``X-Signature``
                scheme, which a captured delivery can be replayed under forever (see
                ``verify_webhook``).

        Returns:
            The event, or ``None`` if it was a redelivery (or a replay) already handled.

        Raises:
            WebhookVerificationError: the delivery is not authentic or not a task update
                (answer its ``reply_status``, 401 or 400, and drop it).
        """
        event = verify_webhook(
            body, headers, self._webhook_secret or "", legacy_signatures=legacy_signatures
        )
        if self._dedupe.seen_event(event):
            return None
        self.poller.publish(event.task_id, event.snapshot)
        if self.coordination is not None:  # [redis hook] resolve it in every process
            try:
                await self.coordination.publish(event.snapshot)
            except MusicAPIError as exc:
                # Applied here; elsewhere the task's poller will see it on its own.
                logger.warning("webhook for %s not shared: %s", event.task_id, exc)
        return event

    def webhook_handler(
        self, *, legacy_signatures: bool = False
    ) -> Callable[[Any], Awaitable[Any]]:
        """An aiohttp.web handler for the webhook route: ``app.router.add_post(path, h)``.

        It answers 200 for a verified (or repeated) delivery, 401 for a bad signature and
        400 for a malformed delivery (never a 500). ``legacy_signatures`` as in
        ``feed_webhook``.
        """

        async def feed(body: bytes, headers: Mapping[str, str]) -> WebhookEvent | None:
            return await self.feed_webhook(body, headers, legacy_signatures=legacy_signatures)

        return make_webhook_handler(feed)

    def job(self, task_id: str, family: Family | str = Family.SONIC) -> Job:
        """A ``Job`` for a task submitted earlier (or elsewhere): resume waiting on it.

        Raises:
            InvalidRequest: ``task_id`` cannot name a task, or ``family`` is not one.
        """
        return Job(self, check_task_id(task_id), _family(family))

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
        self, requests: Iterable[AnyRequest], **options: Unpack[ManyOptions]
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
            timeout: seconds each task may take once submitted (30 minutes by default).
            journal: a ``Journal`` (e.g. ``SQLiteJournal("runs.sqlite3")``): each request
                is recorded before it is sent, then its task id and result, so that a
                run killed at any moment and started again resubmits nothing that was
                accepted: finished requests come back from the journal, accepted ones
                are waited on again, and ones whose fate is unknown are reported as
                ``SubmissionOutcomeUnknown`` instead of being sent twice.
            budget: credits this run may commit; a request whose documented cost would
                pass it is not sent (``BudgetExceeded``); later ones that still fit are.
                Once the server answers that the account cannot pay
                (``InsufficientCredits``), no further paid request is sent: each comes
                back as ``InsufficientCredits`` with no ``status`` (not sent).
            preflight: read ``get_credits()`` first and treat the balance as a budget.
            on_accepted: called as ``on_accepted(index, job, resumed)`` the moment a
                generation request has a task (submitted now, or resumed from the
                journal): a progress display can follow ``job.updates()`` from there.
            batch: send queued ``SonicRequest``s up to 10 per ``POST /sonic/batch``
                (``api.sonic.batch``) and poll them together; each keeps its own outcome,
                journal entry and cost. A batch holds at most ``concurrency`` items (they
                are in flight together): pass ``concurrency >= 10`` for full batches. Not
                with a journal shared by processes.
        """
        self._require_open()
        return generate_many(self, requests, **options)

    async def get_task(self, task_id: str, family: Family = Family.SONIC) -> TaskSnapshot:
        """Poll a task once (free) and return what the API said.

        Raises:
            InvalidRequest: ``task_id`` cannot name a task (nothing is sent).
        """
        return await self.call(
            TASK_ENDPOINTS[_family(family)], None, task_id=check_task_id(task_id)
        )

    async def _poll(self, task_id: str, family: Family) -> TaskSnapshot:
        if self.coordination is not None:  # [redis hook] one poller per task, fleet-wide
            return await self.coordination.poll(task_id, family, self._poll_once)
        return await self._poll_once(task_id, family)

    async def _poll_once(self, task_id: str, family: Family) -> TaskSnapshot:
        # The poller's own schedule is its retry: a failed poll is simply tried next tick.
        if family is Family.SONIC and self._batch_watch.covers(task_id):  # [batch hook]
            return await self._batch_watch.poll(task_id, lambda: self._poll_task(task_id, family))
        return await self._poll_task(task_id, family)

    async def _poll_task(self, task_id: str, family: Family) -> TaskSnapshot:
        # What ``call(..., retry=False)`` does, one frame shorter: every poll passes here.
        ep = TASK_ENDPOINTS[family]
        request = build_request(ep, None, task_id=task_id)
        try:
            return await self._exchange(ep, request)
        except TransportFailure as failure:  # a poll is free: never an unknown outcome
            raise NetworkError(f"{ep.name}: {failure}") from failure.cause

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
            return await download_clip(
                self._transport,
                clip,
                directory,
                kinds=kinds,
                max_bytes=max_bytes,
                overwrite=overwrite,
                retry=self.retry_policy,
            )

    async def get_credits(self) -> Credits:
        """The account's remaining credits (free)."""
        return await self.call(CREDITS, None)
