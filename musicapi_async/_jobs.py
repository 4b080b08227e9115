"""``Job``: a handle on one generation task, fed by the client's shared poller.

A task is done only when every one of its clips is terminal (``succeeded`` or
``failed``); its first polls may answer ``not_ready``. Jobs never poll on their own:
``updates()`` and ``wait()`` subscribe to the client's poller, so any number of waiters on
one task share its polls, and a task nobody waits for any more is not polled at all.

Every wait ends: ``wait()`` has a deadline by default (``DEFAULT_WAIT_TIMEOUT``, 30
minutes, far past any documented generation time), and closing the client ends every
wait still in progress with ``ClientClosed``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Final, Protocol

import anyio
import attrs

from ._endpoints import row_for
from ._errors import ClientClosed, MusicAPIError, TaskFailed, TaskTimeout
from ._events import JobEvent, TaskDone, diff_events
from ._log import logger
from ._models import Clip, Family, TaskSnapshot

if TYPE_CHECKING:
    from anyio.streams.memory import MemoryObjectSendStream

    from ._client import MusicAPI

__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "PAID_CALL_WATCH",
    "Job",
    "Orphan",
    "PaidCallWatch",
    "Waiter",
    "closed_error",
    "window_task",
]

# Seconds ``Job.wait`` waits by default: songs take 1-4 minutes, the slowest documented
# tasks well under 10; a task not done after 30 is stuck, and its waiter should hear so.
DEFAULT_WAIT_TIMEOUT: Final = 1800.0


@attrs.frozen
class Orphan:
    """A paid call whose caller was cancelled after the request had been sent.

    The request was shielded and allowed to finish, so what the server said is not lost:
    ``result`` is its answer (a ``TaskAccepted`` for a create: ``result.task_id``), or
    ``error`` the ``SubmissionOutcomeUnknown`` that says it may have been billed.
    Read them from ``MusicAPI.orphans`` or receive them with ``on_orphan``.
    """

    endpoint: str
    request: object = attrs.field(repr=False)
    result: object = None
    error: MusicAPIError | None = None

    @property
    def task_id(self) -> str | None:
        """The task the server created, when the answer says."""
        task_id = getattr(self.result, "task_id", None)
        return task_id if isinstance(task_id, str) else None


@attrs.define(eq=False)
class PaidCallWatch:
    """A caller's view of its own paid calls, set in ``PAID_CALL_WATCH`` around them.

    The client reads it in the caller's context when a paid try is sent, so a caller that
    is cancelled (``generate_many`` left early) can still keep its books: ``in_flight``
    says whether a try that may bill was sent (false again after an explicit refusal), and
    ``settled`` later receives what the cancelled caller never got: the ``Orphan``, or
    ``None`` when the try turned out refused and nothing was billed. ``sending`` is
    awaited right before each try goes out (a journal marks the request "maybe sent"); if
    it raises, nothing is sent.
    """

    settled: Callable[[Orphan | None], Awaitable[None]]
    sending: Callable[[], Awaitable[None]] | None = None
    in_flight: bool = False


PAID_CALL_WATCH: ContextVar[PaidCallWatch | None] = ContextVar(
    "musicapi_paid_call_watch", default=None
)


class Waiter(Protocol):
    """Something waiting on a task that the client must wake when it closes."""

    def client_closed(self) -> None:
        """The client is closing: end the wait with ``ClientClosed``."""


def closed_error(job: Job) -> ClientClosed:
    """The error that ends a wait on ``job`` when its client closes."""
    return ClientClosed(
        f"task {job.task_id}: the client was closed while waiting on it; "
        "the task goes on upstream, wait again from an open client",
        task_id=job.task_id,
        snapshot=job.snapshot,
    )


def window_task(request: object) -> str | None:
    """The task type whose completion times a job's poll schedule learns from: the
    request's ``task_type``, else its endpoint's name (``stems_basic``); ``None`` for a
    family's plain create or a job resumed by id (its request is not known)."""
    task_type = getattr(request, "task_type", None)
    if task_type is not None:
        return str(getattr(task_type, "value", task_type))
    if request is None:
        return None
    try:
        name = row_for(request).name
    except KeyError:  # not a request of the table (a user's own object): the family's
        return None
    task = name.partition(".")[2]
    return None if task == "create" else task


def _unknown_states(snapshot: TaskSnapshot | None) -> list[str]:
    if snapshot is None:
        return []
    return sorted({str(c.state) for c in snapshot.clips if not c.state.is_known})


class _StreamSubscriber:
    """Forwards a task's events (or its final error) into a memory stream."""

    __slots__ = ("_job", "_send")

    def __init__(self, job: Job, send: MemoryObjectSendStream[JobEvent | MusicAPIError]) -> None:
        self._job = job
        self._send = send

    def deliver(self, events: Sequence[JobEvent]) -> None:
        for event in events:
            self._send.send_nowait(event)

    def fail(self, error: MusicAPIError) -> None:
        self._send.send_nowait(error)

    def client_closed(self) -> None:
        self.fail(closed_error(self._job))


class _DoneSubscriber:
    """Wakes ``Job.wait`` when the task ends: no stream, no generator, one wake-up.

    ``wait`` needs only the last snapshot, so the events of a poll are folded into it
    here, synchronously, instead of being queued and handed over one by one.
    """

    __slots__ = ("_job", "ended", "error", "expired")

    def __init__(self, job: Job) -> None:
        self._job = job
        # A bare future, not an ``anyio.Event``: one per waiting job, set once, awaited
        # once (a waiter cancelled meanwhile cancels it, which also counts as done).
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.error: MusicAPIError | None = None
        self.expired = False

    def expire(self) -> None:
        """The waiter's deadline passed (an event-loop timer calls it)."""
        if not self.ended.done():
            self.expired = True
            self.ended.set_result(None)

    def deliver(self, events: Sequence[JobEvent]) -> None:
        if not events or self.ended.done():
            return
        job = self._job
        job.snapshot = events[-1].snapshot
        job._report_unknown()
        if isinstance(events[-1], TaskDone):
            self.ended.set_result(None)

    def fail(self, error: MusicAPIError) -> None:
        if not self.ended.done():
            self.error = error
            self.ended.set_result(None)

    def client_closed(self) -> None:
        self.fail(closed_error(self._job))


class Job:
    """A submitted generation task.

    Keep ``task_id``: with it, ``api.job(task_id)`` resumes waiting from any process.

    Attributes:
        task_id: the API's id of the task.
        family: the product family (sonic, nuro, studio), which decides where to poll.
        request: the request model that created the task, when known.
        snapshot: the last state seen, or ``None`` before the first poll.
        error: the definite error that ended the task's watch (unknown task, bad key).
    """

    # Slots: a bulk run holds one Job per task (10,000 in flight), so every byte counts.
    __slots__ = ("_client", "_reported", "error", "family", "request", "snapshot",
                 "submitted_at", "task_id")  # fmt: skip

    def __init__(
        self,
        client: MusicAPI,
        task_id: str,
        family: Family = Family.SONIC,
        *,
        request: object = None,
        submitted_at: float | None = None,
    ) -> None:
        self._client = client
        self.task_id = task_id
        self.family = family
        self.request = request
        self.submitted_at = submitted_at
        self.snapshot: TaskSnapshot | None = None
        self.error: MusicAPIError | None = None
        self._reported: set[str] | None = None  # unknown states said once (rarely any)

    def __repr__(self) -> str:
        state = "unseen" if self.snapshot is None else ("done" if self.done else "running")
        return f"<Job {self.family.value} {self.task_id} {state}>"

    def observe(self, snapshot: TaskSnapshot) -> None:
        """Record what a watcher saw of the task (the narrow way in for ``as_completed``)."""
        self.snapshot = snapshot

    def end_with(self, error: MusicAPIError) -> None:
        """Record the definite error that ended the task's watch."""
        self.error = error

    @property
    def done(self) -> bool:
        """Whether the task is over: every clip terminal, or a definite error."""
        return self.error is not None or (self.snapshot is not None and self.snapshot.done)

    async def refresh(self) -> TaskSnapshot:
        """Poll the task once now, outside the schedule, and share the answer."""
        snapshot = await self._client.get_task(self.task_id, self.family)
        self.snapshot = snapshot
        self._client.poller.publish(self.task_id, snapshot)
        coordination = self._client.coordination
        if coordination is not None:  # [redis hook] every process of the fleet sees it
            try:
                await coordination.publish(snapshot)
            except MusicAPIError as exc:
                # Applied here; elsewhere the task's poller will see it on its own.
                logger.warning("refresh of %s not shared: %s", self.task_id, exc)
        return snapshot

    async def updates(self, *, playable: bool = True) -> AsyncGenerator[JobEvent, None]:
        """The task's events as they happen, ending with ``TaskDone``.

        Args:
            playable: poll early enough to report the first playable stream
                (``ClipPlayable``) within seconds; ``False`` polls near completion only.

        Raises:
            MusicAPIError: a definite error ended the task (unknown task, bad key).
        """
        if self.error is not None:
            raise self.error
        if self.snapshot is not None and self.snapshot.done:
            for event in diff_events(None, self.snapshot):
                yield event
            return
        client = self._client
        poller = client.poller
        if client._closing:  # e.g. a create finished (shielded) while the client closed
            raise closed_error(self)
        client._require_open()
        send, receive = anyio.create_memory_object_stream[JobEvent | MusicAPIError](math.inf)
        subscriber = _StreamSubscriber(self, send)
        client._waiters.add(subscriber)
        poller.watch(self.task_id, self.family, subscriber, submitted_at=self.submitted_at,
                     playable=playable, task=window_task(self.request))  # fmt: skip
        try:
            async for item in receive:
                if isinstance(item, ClientClosed):
                    raise item  # the task is not over: the job may be waited on again
                if isinstance(item, MusicAPIError):
                    self.error = item
                    raise item
                self.snapshot = item.snapshot
                self._report_unknown()
                yield item
                if isinstance(item, TaskDone):
                    return
        finally:
            client._waiters.discard(subscriber)
            poller.unwatch(self.task_id, subscriber, playable=playable)
            send.close()
            receive.close()

    async def _until_done(self, timeout: float | None = None) -> None:
        """What ``updates(playable=False)`` does for a waiter that wants only the end.

        Raises:
            TimeoutError: ``timeout`` seconds passed first.
        """
        if self.error is not None:
            raise self.error
        if self.snapshot is not None and self.snapshot.done:
            return
        client = self._client
        poller = client.poller
        if client._closing:  # e.g. a create finished (shielded) while the client closed
            raise closed_error(self)
        client._require_open()
        subscriber = _DoneSubscriber(self)
        client._waiters.add(subscriber)
        poller.watch(self.task_id, self.family, subscriber, submitted_at=self.submitted_at,
                     playable=False, task=window_task(self.request))  # fmt: skip
        # The deadline is one event-loop timer that ends the wait, not a cancel scope:
        # nothing but this one wait runs under it, and a bulk run has thousands of them.
        timer = None
        if timeout is not None and not subscriber.ended.done():
            timer = asyncio.get_running_loop().call_later(max(0.0, timeout), subscriber.expire)
        try:
            await subscriber.ended
        finally:
            if timer is not None:
                timer.cancel()
            client._waiters.discard(subscriber)
            poller.unwatch(self.task_id, subscriber, playable=False)
        if subscriber.expired:
            raise TimeoutError
        error = subscriber.error
        if error is not None:
            if not isinstance(error, ClientClosed):  # the task is not over after a close
                self.error = error
            raise error

    def _report_unknown(self) -> None:
        # A state the SDK does not know is kept (the clip is simply not terminal) and said
        # once, so that a task that never ends for that reason is not a mystery.
        for state in _unknown_states(self.snapshot):
            if self._reported is None:
                self._reported = set()
            if state not in self._reported:
                self._reported.add(state)
                logger.warning(
                    "task %s: a clip is in the state %r, which this SDK does "
                    "not know; it is not treated as finished",
                    self.task_id,
                    state,
                )

    async def wait(self, timeout: float | None = DEFAULT_WAIT_TIMEOUT) -> list[Clip]:
        """Wait until every clip is terminal and return the clips.

        Args:
            timeout: seconds to wait at most, 30 minutes by default
                (``DEFAULT_WAIT_TIMEOUT``); ``None`` waits as long as it takes.

        Returns:
            Every clip of the task, all ``succeeded``.

        Raises:
            TaskFailed: a clip ended ``failed`` (``.clips`` holds all of them).
            TaskTimeout: the deadline passed first; ``.task_id`` resumes the wait. Clips
                stuck in states the SDK does not know are named in the message.
            ClientClosed: the client was closed meanwhile; ``.task_id`` resumes the wait.
            MusicAPIError: a definite error from the API (unknown task, bad key).
        """
        try:
            await self._until_done(timeout)
        except TimeoutError as exc:
            if isinstance(exc, MusicAPIError):
                raise
            unknown = _unknown_states(self.snapshot)
            why = f"; clips in states this SDK does not know: {', '.join(map(repr, unknown))}"
            raise TaskTimeout(
                f"task {self.task_id} was not finished after {timeout} s{why if unknown else ''}",
                task_id=self.task_id,
                snapshot=self.snapshot,
            ) from None
        assert self.snapshot is not None  # updates() ends only with TaskDone
        return self.result()

    def result(self) -> list[Clip]:
        """The clips of a finished task.

        Raises:
            TaskFailed: a clip ended ``failed``.
            MusicAPIError: the error that ended the task.
            RuntimeError: the task is not finished yet.
        """
        if self.error is not None:
            raise self.error
        snapshot = self.snapshot
        if snapshot is None or not snapshot.done:
            raise RuntimeError(f"task {self.task_id} is not finished")
        failed = snapshot.failed_clips
        if failed:
            reason = failed[0].extra.get("message") or failed[0].extra.get("error")
            detail = f": {reason}" if reason else ""
            raise TaskFailed(
                f"task {self.task_id}: {len(failed)} of {len(snapshot.clips)} clips failed{detail}",
                task_id=self.task_id,
                clips=snapshot.clips,
                snapshot=snapshot,
                api_message=reason if isinstance(reason, str) else None,
            )
        return list(snapshot.clips)
