"""The shared poller: one coroutine per client that watches every outstanding task.

Waiters do not poll. They subscribe to a task; the poller keeps one *watch* per task id,
however many waiters share it, and polls it on the schedule of ``_polling``. Each answer
is turned into events (``_events.diff_events``) and delivered to every subscriber.

- One scheduler coroutine pops due watches off a heap and hands them to a fixed pool of
  worker coroutines (``max_concurrent_polls``): the number of polls in flight is capped
  and no task is created per poll.
- A passing failure (network, 5xx, gateway page, undecodable answer) reschedules the
  watch; a definite one (unknown task, bad key) ends it and is delivered as an error.
- Throttling (``RateLimited``) is the client's governor's business, not the poller's:
  every poll goes through the governor's poll budget, which pauses and slows *all*
  polls (capped at its ``max_pause``) and recovers as they succeed. Here a refused poll
  is simply tried again on its schedule. One mechanism, for creates and polls alike.
- A watch nobody subscribes to any more is dropped: its heap entry is skipped when it
  comes due (lazy deletion), and an answer in flight for it is ignored.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import anyio
import attrs
from anyio.abc import ObjectReceiveStream

from ._errors import MusicAPIError, RateLimited, ServiceError
from ._events import ClipPlayable, JobEvent, diff_events
from ._models import Family, TaskSnapshot
from ._polling import CompletionModel, PollPolicy

__all__ = ["Poller", "PollerStats", "Subscriber"]

Fetch = Callable[[str, Family], Awaitable[TaskSnapshot]]

_EARLY_LIMIT = 10_000


def _merge(known: TaskSnapshot | None, update: TaskSnapshot) -> TaskSnapshot:
    """``update`` with the clips it does not mention carried over from ``known``."""
    if known is None or not known.clips:
        return update
    mentioned = {c.clip_id: c for c in update.clips}
    clips = [mentioned.pop(c.clip_id, c) for c in known.clips]
    clips.extend(mentioned.values())
    return attrs.evolve(update, clips=tuple(clips), ready=True)


class Subscriber(Protocol):
    """Receives a task's events; called synchronously from the poller."""

    def deliver(self, events: Sequence[JobEvent]) -> None:
        """Take the events of one new snapshot, in order."""

    def fail(self, error: MusicAPIError) -> None:
        """The watch ended with a definite error; no more events will come."""


@attrs.define
class PollerStats:
    """Counters a user can read (``api.poller_stats``)."""

    polls: int = 0
    poll_errors: int = 0
    throttled: int = 0
    watched: int = 0
    finished: int = 0

    @property
    def polls_per_task(self) -> float:
        """Polls sent per task watched so far."""
        return self.polls / self.watched if self.watched else 0.0


@attrs.define(eq=False)
class _Watch:
    task_id: str
    family: Family
    submitted_at: float | None
    subscribers: list[Subscriber] = attrs.field(factory=list)
    wants_playable: int = 0
    snapshot: TaskSnapshot | None = None
    playable: bool = False
    gap: float | None = None
    generation: int = 0
    last_seen_at: float | None = None
    closed: bool = False


class Poller:
    """Polls every watched task on a shared schedule. Run ``run()`` in a task group."""

    def __init__(
        self,
        fetch: Fetch,
        policy: PollPolicy,
        *,
        max_concurrent_polls: int = 64,
        clock: Callable[[], float] = time.monotonic,
        push: bool = False,
    ) -> None:
        if max_concurrent_polls < 1:
            raise ValueError("max_concurrent_polls must be at least 1")
        self._fetch = fetch
        self._policy = policy
        self.model = CompletionModel(policy)
        self._clock = clock
        self._workers = max_concurrent_polls
        self._watches: dict[str, _Watch] = {}
        self._heap: list[tuple[float, int, int, _Watch]] = []
        self._seq = itertools.count()
        self._wakeup = anyio.Event()
        self._idle = 0
        self._started = 0
        # With webhooks, polls are only a safety net for deliveries that got lost.
        self.push = push
        # Snapshots pushed for tasks nobody watches yet (a webhook can beat the waiter).
        self._early: OrderedDict[str, TaskSnapshot] = OrderedDict()
        self.running = False
        self.stats = PollerStats()
        # [redis hook] told when nobody here waits on a task any more (lease release).
        self.on_close: Callable[[str], None] | None = None

    @property
    def policy(self) -> PollPolicy:
        """The poll schedule in use."""
        return self._policy

    def set_policy(self, policy: PollPolicy) -> None:
        """Poll on ``policy`` from now on (the client does it when the emulator announces
        its speed); what was learned carries over, converted to the new time scale."""
        learned = self.model.learned()
        self._policy = policy
        self.model = CompletionModel(policy)
        self.model.seed(learned)

    # ------------------------------------------------------------------ subscriptions

    def watch(
        self,
        task_id: str,
        family: Family,
        subscriber: Subscriber,
        *,
        submitted_at: float | None = None,
        playable: bool = False,
    ) -> None:
        """Subscribe to ``task_id``; what is already known is delivered at once."""
        playable = playable and not self.push
        watch = self._watches.get(task_id)
        if watch is None:
            watch = _Watch(task_id, family, submitted_at)
            self._watches[task_id] = watch
            self.stats.watched += 1
            now = self._clock()
            if self.push:
                start = now if submitted_at is None else submitted_at
                self._schedule(watch, start + self.model.safety_net_delay(family))
            elif submitted_at is None:
                self._schedule(watch, now)
            else:
                first = self.model.first_poll(family, playable=playable)
                self._schedule(watch, submitted_at + first)
            early = self._early.pop(task_id, None)
            if early is not None:
                watch.subscribers.append(subscriber)
                watch.wants_playable += playable
                self._accept(watch, early, now, polled=False)
                return
        elif playable and not watch.wants_playable and not watch.playable:
            # A new waiter wants the stream: poll on the stream's schedule from now on.
            self._schedule(watch, self._playable_due(watch))
        watch.subscribers.append(subscriber)
        watch.wants_playable += playable
        if watch.snapshot is not None:
            subscriber.deliver(diff_events(None, watch.snapshot))

    def watching(self, task_id: str) -> bool:
        """Whether ``task_id`` is on the schedule (someone still waits on it)."""
        watch = self._watches.get(task_id)
        return watch is not None and not watch.closed

    def unwatch(self, task_id: str, subscriber: Subscriber, *, playable: bool = False) -> None:
        """Remove ``subscriber``; the task stops being polled when nobody is left."""
        watch = self._watches.get(task_id)
        if watch is None:
            return
        try:
            watch.subscribers.remove(subscriber)
        except ValueError:
            return
        watch.wants_playable -= playable
        if not watch.subscribers:
            self._close(watch)

    def publish(self, task_id: str, snapshot: TaskSnapshot) -> None:
        """Feed a snapshot that arrived another way (a webhook, a manual refresh).

        Its clips are merged into what is known (a delivery may describe only the clips
        that changed); for a task nobody watches yet it is kept until someone does.
        """
        watch = self._watches.get(task_id)
        if watch is None:
            known = self._early.pop(task_id, None)
            self._early[task_id] = _merge(known, snapshot)
            if len(self._early) > _EARLY_LIMIT:
                self._early.popitem(last=False)
            return
        self._accept(watch, _merge(watch.snapshot, snapshot), self._clock(), polled=False)

    def polled_with(self, task_id: str, snapshot: TaskSnapshot) -> None:
        """Take ``snapshot`` as a poll of ``task_id`` made now by another task's request.

        [batch hook] One ``GET /sonic/batch`` answers for every task of its batch: each
        sibling is delivered and rescheduled from now, as if polled itself, so the
        batch's tasks stay on one schedule and the next tick needs one request again.
        """
        watch = self._watches.get(task_id)
        if watch is not None and not watch.closed:
            self._accept(watch, snapshot, self._clock(), polled=True)

    # ---------------------------------------------------------------------- schedule

    def _playable_due(self, watch: _Watch) -> float:
        if watch.submitted_at is None:
            return self._clock()
        return watch.submitted_at + self.model.first_poll(watch.family, playable=True)

    def _schedule(self, watch: _Watch, due: float) -> None:
        watch.generation += 1
        heapq.heappush(self._heap, (due, next(self._seq), watch.generation, watch))
        if self._heap[0][3] is watch:
            self._wakeup.set()

    def _reschedule(self, watch: _Watch, now: float) -> None:
        offset = math.inf if watch.submitted_at is None else now - watch.submitted_at
        wants = watch.wants_playable > 0 and not watch.playable
        if self.push:
            delay, watch.gap = self.model.safety_net_next(watch.gap)
        else:
            delay, watch.gap = self.model.next_poll(watch.family, offset, watch.gap, playable=wants)
        self._schedule(watch, now + delay)

    def _close(self, watch: _Watch) -> None:
        watch.closed = True
        watch.generation += 1
        if self._watches.get(watch.task_id) is watch:
            del self._watches[watch.task_id]
            if self.on_close is not None:  # [redis hook]
                self.on_close(watch.task_id)

    # ---------------------------------------------------------------------- results

    def _accept(self, watch: _Watch, snapshot: TaskSnapshot, now: float, *, polled: bool) -> None:
        # A snapshot pushed in (webhook, refresh) leaves the schedule alone: the watch's
        # heap entry still stands. A polled one was popped off the heap and needs a new one.
        if watch.closed:
            return
        # The same snapshot object again (an unchanged answer): nothing happened.
        events = [] if snapshot is watch.snapshot else diff_events(watch.snapshot, snapshot)
        if watch.submitted_at is not None:
            before = (watch.last_seen_at or watch.submitted_at) - watch.submitted_at
            after = now - watch.submitted_at
            if not watch.playable and any(isinstance(e, ClipPlayable) for e in events):
                self.model.observe_playable(watch.family, before, after)
            if snapshot.done and not (watch.snapshot and watch.snapshot.done):
                self.model.observe_done(watch.family, before, after)
        watch.playable = watch.playable or any(isinstance(e, ClipPlayable) for e in events)
        watch.snapshot = snapshot
        watch.last_seen_at = now
        if events:
            for subscriber in tuple(watch.subscribers):
                subscriber.deliver(events)
        if snapshot.done:
            self.stats.finished += 1
            self._close(watch)
        elif polled and not watch.closed:
            self._reschedule(watch, now)

    def _end(self, watch: _Watch, error: MusicAPIError) -> None:
        self._close(watch)
        for subscriber in tuple(watch.subscribers):
            subscriber.fail(error)

    async def _poll(self, watch: _Watch) -> None:
        if watch.closed:
            return
        self.stats.polls += 1
        try:
            snapshot = await self._fetch(watch.task_id, watch.family)
        except ServiceError as exc:
            # Passing (a refusal included: the governor already paused every poll).
            if isinstance(exc, RateLimited):
                self.stats.throttled += 1
            else:
                self.stats.poll_errors += 1
            if not watch.closed:
                self._reschedule(watch, self._clock())
            return
        except MusicAPIError as exc:
            self.stats.poll_errors += 1
            self._end(watch, exc)
            return
        except Exception as exc:  # noqa: BLE001 - one task's failure must not end the others
            # A bug or a hostile answer we failed to type must end this task's watch,
            # never the worker (and with it the client's task group and every waiter).
            self.stats.poll_errors += 1
            error = MusicAPIError(f"polling task {watch.task_id} failed: {type(exc).__name__}")
            error.__cause__ = exc
            self._end(watch, error)
            return
        self._accept(watch, snapshot, self._clock(), polled=True)

    # ------------------------------------------------------------------------- loops

    async def run(self) -> None:
        """Poll until cancelled (the client cancels it when it closes)."""
        send, receive = anyio.create_memory_object_stream[_Watch](0)
        self.running = True
        try:
            async with anyio.create_task_group() as group, send, receive:

                async def hand_over(watch: _Watch) -> None:
                    # Workers are started on demand, up to the cap: an idle client costs
                    # one coroutine, a busy one at most ``max_concurrent_polls``.
                    if not self._idle and self._started < self._workers:
                        self._started += 1
                        group.start_soon(self._worker, receive.clone())
                    await send.send(watch)

                await self._dispatch(hand_over)
        finally:
            self.running = False

    async def _worker(self, receive: ObjectReceiveStream[_Watch]) -> None:
        async with receive:
            while True:
                self._idle += 1
                try:
                    watch = await receive.receive()
                finally:
                    self._idle -= 1
                await self._poll(watch)

    async def _dispatch(self, hand_over: Callable[[_Watch], Awaitable[None]]) -> None:
        heap = self._heap
        while True:
            now = self._clock()
            while heap and heap[0][0] <= now:
                _, _, generation, watch = heapq.heappop(heap)
                if generation == watch.generation and not watch.closed:
                    await hand_over(watch)
            if self._wakeup.is_set():  # only a used event needs replacing
                self._wakeup = anyio.Event()
            if heap and heap[0][0] <= self._clock():
                continue
            delay = heap[0][0] - self._clock() if heap else math.inf
            with anyio.move_on_after(delay):
                await self._wakeup.wait()
