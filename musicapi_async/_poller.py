"""The shared poller: one coroutine per client that watches every outstanding task.

Waiters do not poll. They subscribe to a task; the poller keeps one *watch* per task id,
however many waiters share it, and polls it on the schedule of ``_polling``. Each answer
is turned into events (``_events.diff_events``) and delivered to every subscriber.

- One event-loop timer watches the head of a heap of due times; due watches are handed
  to a pool of worker coroutines (``max_concurrent_polls``): the number of polls in
  flight is capped and no task is created per poll.
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

import asyncio
import heapq
import itertools
import math
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import anyio
import attrs
from anyio.abc import TaskGroup

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
    """Counters a user can read (``api.poller.stats``)."""

    polls: int = 0
    poll_errors: int = 0
    throttled: int = 0
    watched: int = 0
    finished: int = 0
    #: first polls put off because the window learned since they were placed starts later
    put_off: int = 0

    @property
    def polls_per_task(self) -> float:
        """Polls sent per task watched so far."""
        return self.polls / self.watched if self.watched else 0.0


@attrs.define(eq=False)
class _Watch:
    task_id: str
    family: Family
    submitted_at: float | None
    task: str | None = None  # the task type, whose window the schedule follows
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
        self.model = CompletionModel(policy, clock=clock)
        self._clock = clock
        self._workers = max_concurrent_polls
        self._watches: dict[str, _Watch] = {}
        self._heap: list[tuple[float, int, int, _Watch]] = []
        self._seq = itertools.count()
        # Due watches waiting for a worker, with the generation they were due under.
        self._ready: deque[tuple[int, _Watch]] = deque()
        # Parked workers' futures: resolving one wakes that worker.
        self._sleepers: list[asyncio.Future[None]] = []
        self._started = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._group: TaskGroup | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = math.inf
        # With webhooks, polls are only a safety net for deliveries that got lost.
        self.push = push
        # Snapshots pushed for tasks nobody watches yet (a webhook can beat the waiter).
        self._early: OrderedDict[str, TaskSnapshot] = OrderedDict()
        self.running = False
        self.stats = PollerStats()
        # [redis hook] told when nobody here waits on a task any more (lease release).
        self.on_close: Callable[[str], None] | None = None
        # [redis hook] told when someone here starts waiting on a task (joins its waiters).
        self.on_watch: Callable[[str], None] | None = None

    @property
    def policy(self) -> PollPolicy:
        """The poll schedule in use."""
        return self._policy

    def set_policy(self, policy: PollPolicy) -> None:
        """Poll on ``policy`` from now on (the client does it when the emulator announces
        its speed); what was learned carries over, converted to the new time scale."""
        learned = self.model.learned()
        self._policy = policy
        self.model = CompletionModel(policy, clock=self._clock)
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
        task: str | None = None,
    ) -> None:
        """Subscribe to ``task_id``; what is already known is delivered at once.

        ``task`` is its task type (or its endpoint's name when it has none): each type's
        schedule follows the completion times learned from its own kind.
        """
        playable = playable and not self.push
        watch = self._watches.get(task_id)
        if watch is None:
            watch = _Watch(task_id, family, submitted_at, task)
            self._watches[task_id] = watch
            self.stats.watched += 1
            if self.on_watch is not None:  # [redis hook]
                self.on_watch(task_id)
            now = self._clock()
            if self.push:
                start = now if submitted_at is None else submitted_at
                self._schedule(watch, start + self.model.safety_net_delay(family, task=task))
            elif submitted_at is None:
                self._schedule(watch, now)
            else:
                first = self.model.first_poll(family, playable=playable, task=task)
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
        return watch.submitted_at + self.model.first_poll(
            watch.family, playable=True, task=watch.task
        )

    def _schedule(self, watch: _Watch, due: float) -> None:
        watch.generation += 1
        heapq.heappush(self._heap, (due, next(self._seq), watch.generation, watch))
        if self._heap[0][3] is watch:
            self._arm()

    def _reschedule(self, watch: _Watch, now: float) -> None:
        offset = math.inf if watch.submitted_at is None else now - watch.submitted_at
        wants = watch.wants_playable > 0 and not watch.playable
        if self.push:
            delay, watch.gap = self.model.safety_net_next(watch.gap)
        else:
            delay, watch.gap = self.model.next_poll(
                watch.family, offset, watch.gap, playable=wants, task=watch.task
            )
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
        # Looked for once, and only until the first stream is seen.
        playable = not watch.playable and any(isinstance(e, ClipPlayable) for e in events)
        if watch.submitted_at is not None:
            after = now - watch.submitted_at
            # None: seen at the first look (the model knows how to take that).
            before = None if watch.last_seen_at is None else watch.last_seen_at - watch.submitted_at
            if playable:
                self.model.observe_playable(watch.family, before, after, task=watch.task)
            if snapshot.done and not (watch.snapshot and watch.snapshot.done):
                self.model.observe_done(watch.family, before, after, task=watch.task)
        watch.playable = watch.playable or playable
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
    #
    # The hot path costs a few dict and heap operations per poll: the heap's head is
    # watched by one event-loop timer (no coroutine wakes up to look), due watches go
    # into a queue, and a parked worker is woken by resolving its future. These are
    # asyncio's own primitives, not anyio's streams, events and cancel scopes, which
    # cost several times more per hand-over; the SDK runs on asyncio (aiohttp does).

    async def run(self) -> None:
        """Poll until cancelled (the client cancels it when it closes)."""
        self.running = True
        self._loop = asyncio.get_running_loop()
        try:
            async with anyio.create_task_group() as group:
                self._group = group
                self._arm()
                await anyio.sleep_forever()
        finally:
            self.running = False
            self._group = self._loop = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            # Watches handed over but not polled go back on the schedule, due at once,
            # so a client opened again polls them.
            now = self._clock()
            for generation, watch in self._ready:
                if generation == watch.generation and not watch.closed:
                    heapq.heappush(self._heap, (now, next(self._seq), generation, watch))
            self._ready.clear()
            self._sleepers.clear()
            self._started = 0

    def _arm(self) -> None:
        """Make sure the event loop calls ``_fire`` when the heap's head comes due."""
        loop, heap = self._loop, self._heap
        if loop is None or not heap:
            return  # not running (``run`` arms it), or nothing to wait for
        due = heap[0][0]
        if self._timer is not None:
            if self._timer_due <= due:
                return
            self._timer.cancel()
        self._timer_due = due
        self._timer = loop.call_later(max(0.0, due - self._clock()), self._fire)

    def _fire(self) -> None:
        """Hand every due watch to a worker, then wait for the next one."""
        self._timer = None
        heap, ready = self._heap, self._ready
        now = self._clock()
        while heap and heap[0][0] <= now:
            _, _, generation, watch = heapq.heappop(heap)
            if generation == watch.generation and not watch.closed:
                if watch.last_seen_at is None and self._put_off(watch, generation, now):
                    continue
                ready.append((generation, watch))
        waiting = len(ready)
        sleepers = self._sleepers
        while waiting and sleepers:
            waker = sleepers.pop()
            if not waker.done():  # a worker cancelled while parked leaves a done future
                waker.set_result(None)
                waiting -= 1
        # Workers are started on demand, up to the cap: an idle client costs no worker,
        # a busy one at most ``max_concurrent_polls``.
        group = self._group
        while waiting and group is not None and self._started < self._workers:
            self._started += 1
            group.start_soon(self._worker)
            waiting -= 1
        self._arm()

    def _put_off(self, watch: _Watch, generation: int, now: float) -> bool:
        """Whether a first poll coming due now waits for a window learned since it was
        placed (see ``CompletionModel.first_poll_due``); its heap entry is then moved."""
        if watch.submitted_at is None or self.push or watch.wants_playable:
            return False
        wait = self.model.first_poll_due(watch.family, now - watch.submitted_at, task=watch.task)
        if wait <= 0:
            return False
        heapq.heappush(self._heap, (now + wait, next(self._seq), generation, watch))
        self.stats.put_off += 1
        return True

    async def _worker(self) -> None:
        ready = self._ready
        loop = asyncio.get_running_loop()
        while True:
            while ready:
                generation, watch = ready.popleft()
                if generation == watch.generation:  # not rescheduled meanwhile
                    await self._poll(watch)
            waker = loop.create_future()
            self._sleepers.append(waker)
            await waker
