"""The client's one path to the network: ``call`` and the sending behind it.

``MusicAPI`` inherits it (``CallPath``); it lives apart so that ``_client.py`` stays the
lifecycle and the public methods. Every request passes here: it is built (and
validated), paced by the governor's lease, sent through the transport and parsed. A
transport failure becomes ``NetworkError`` when the request provably never reached the
server or is idempotent, and ``SubmissionOutcomeUnknown`` when a paid POST may have
been received: it is never sent again behind the caller's back. A paid request runs
shielded from its caller's cancellation, and what a cancelled caller never received is
kept as an ``Orphan``.

A mixin, not functions taking the client: ``_exchange`` is on the per-poll path and a
method found on a base class costs no more than one defined on ``MusicAPI``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Final, TypeVar, overload

import anyio
from anyio.abc import TaskGroup

from ._endpoints import CREATE_ENDPOINTS, ENDPOINTS, TASK_ENDPOINTS, Answer, Endpoint, row_for
from ._errors import (
    InvalidRequest,
    MusicAPIError,
    NetworkError,
    RateLimited,
    ResponseDecodeError,
    ServerError,
    SubmissionOutcomeUnknown,
)
from ._governor import Governor
from ._http import HttpRequest, TransportFailure
from ._jobs import PAID_CALL_WATCH, Orphan
from ._log import logger
from ._models import TaskAccepted
from ._poller import Poller
from ._polling import PollPolicy
from ._protocol import SnapshotMemo, build_request, decode_json, parse_response
from ._retry import RetryPolicy, retrying
from ._transport import Transport

if TYPE_CHECKING:
    from ._client import ClientStats
    from ._coordination import Coordination, RateKind, RateStore
    from ._requests import GenerationRequest

Req = TypeVar("Req")
Res = TypeVar("Res")

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
        # From the models' names: listing them imports no family's models.
        names = ", ".join(
            sorted(
                name.rpartition(".")[2]
                for r in CREATE_ENDPOINTS.values()
                for name in r.request_models
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


class CallPath:
    """``MusicAPI.call`` and the sending behind it (see the module docstring).

    The attributes it reads are ``MusicAPI``'s, set in its ``__init__``.
    """

    base_url: str
    coordination: Coordination | None
    governor: Governor
    orphans: list[Orphan]
    poll_policy: PollPolicy
    poller: Poller
    retry_policy: RetryPolicy
    stats: ClientStats
    _group: TaskGroup | None
    _on_orphan: Callable[[Orphan], None] | None
    _paid: set[asyncio.Task[None]]
    _poll_given: PollPolicy
    _snapshots: SnapshotMemo
    _speed_seen: str | None
    _transport: Transport

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
