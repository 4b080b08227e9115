"""``RedisCoordination``: many processes on one API key, as if they were one client.

- **Journal** (``.journal``): a ``RedisJournal``: one claim per request fleet-wide.
- **Rates** (``.rates``): a ``RedisRateStore``: one create and one poll budget
  fleet-wide; a throttle seen by one process pauses all.
- **One poller per task**: every process that waits on a task keeps its own poll
  schedule, but each tick first asks Redis for the task's *lease* (``SET NX PX``). Only
  its holder sends the poll; it renews the lease in the background while it keeps
  polling, so a holder that dies (even SIGKILL) loses it after ``lease_ttl`` and the
  next process to tick takes over. The others answer their tick with the last snapshot
  the holder stored, and meanwhile get every snapshot as it is published (pub/sub), so
  ``wait()``, ``updates()`` and SSE streams fire in every process at the same moment.
- **Snapshots go to their waiters only**: a process that starts waiting on a task adds
  its session to the task's waiters in Redis (``watch``; every tick adds it again), and
  a changed snapshot is published on the channel of each waiting session but the
  sender's. A process of a fleet then reads the snapshots of its own tasks only, not
  every process's (with one channel for all, a fleet of N read N times what it used).
  A finished snapshot is kept (``snapshot_ttl``): a late waiter anywhere needs no poll.
- **Webhooks**: a verified delivery fed to any process is published like a poll.
- **Learned windows** (``.windows``, a ``RedisWindowStore``): the client seeds its poll
  schedule from the fleet's when it opens and, while it runs and when it closes, trades
  what it learned for what the others learned (new samples only, one round trip), so a
  new process polls like a warm one from its first task.
- **Per-process costs kept small**: each of N processes pays its own connections and
  background loops, so they are few: creates asked for at once reserve their slots in
  one round trip, keep-alive is one round trip every ``lease_ttl / 3``, the listener
  pings its connection only when it has been quiet for 10 s.

A process's session is marked alive in Redis while its client is open, so a request
another process claimed (``pending``) can be told apart from one whose sender died.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import anyio
import attrs

from .._coordination import Fetch, Publish, RateKind
from .._errors import CoordinationError
from .._models import Family, TaskSnapshot
from .._polling import LearnedWindows
from ._journal import RedisJournal, current_claim
from ._rates import RedisRateStore
from ._store import connect, describe_url, guarded, snapshot_from_json, snapshot_to_json
from ._windows import RedisWindowStore

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["CoordinationStats", "RedisCoordination"]

logger = logging.getLogger("musicapi_async.redis")

# KEYS: snapshot, lease, waiters, polls' paused-until. ARGV: session, lease ttl (ms),
# waiters' ttl (s). Returns {held (1/0), stored snapshot or nil, ms of poll pause left}.
# A finished task is never polled again. The session is (again) one of the waiters: one
# whose ``watch`` was lost (Redis was down) is pushed the snapshots from its first tick.
# The pause is the one the shared poll budget would check: a holder without a poll rate
# need not ask for it again before it sends.
_TICK: Final = """
local snap = redis.call('GET', KEYS[1])
if snap and string.sub(snap, 1, 1) == 'D' then return {0, snap, 0} end
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('EXPIRE', KEYS[3], ARGV[3])
local holder = redis.call('GET', KEYS[2])
local held = 0
if not holder then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  held = 1
elseif holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  held = 1
end
local paused = 0
if held == 1 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
  paused = math.max(0, math.ceil(tonumber(redis.call('GET', KEYS[4]) or '0') - now))
end
return {held, snap, paused}
"""

# KEYS: each task's waiters then its snapshot, in pairs. ARGV: session, waiters' ttl (s).
# Adds the session to the waiters of each task not finished yet; returns the indexes of
# the finished ones with their snapshot (a finish published before the session was
# added reached it no other way before its first tick).
_WATCH: Final = """
local done = {}
for i = 1, #KEYS, 2 do
  local snap = redis.call('GET', KEYS[i + 1])
  if snap and string.sub(snap, 1, 1) == 'D' then
    table.insert(done, (i + 1) / 2)
    table.insert(done, snap)
  else
    redis.call('SADD', KEYS[i], ARGV[1])
    redis.call('EXPIRE', KEYS[i], ARGV[2])
  end
end
return done
"""

# KEYS: snapshot, lease, waiters. ARGV: 'D' or 'R' + snapshot JSON, ttl (s), session,
# task id, prefix of the sessions' channels. A finished snapshot is never replaced by an
# older, unfinished one. The message, "session D|R task_id JSON", goes to each waiting
# session but the sender. A snapshot equal to the stored one (most polls: "not yet") is
# not sent again: the others' pollers would find nothing new in it. Once finished, the
# task needs no waiters: every one of them was just sent the end, and a later one reads
# the stored snapshot.
_PUBLISH: Final = """
local old = redis.call('GET', KEYS[1])
local done = string.sub(ARGV[1], 1, 1) == 'D'
if old and string.sub(old, 1, 1) == 'D' and not done then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
local changed = old ~= ARGV[1]
if changed then
  local message = ARGV[3] .. ' ' .. string.sub(ARGV[1], 1, 1) .. ' ' .. ARGV[4] .. ' ' ..
                  string.sub(ARGV[1], 2)
  for _, session in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    if session ~= ARGV[3] then redis.call('PUBLISH', ARGV[5] .. session, message) end
  end
end
if done then
  if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
  redis.call('DEL', KEYS[3])
end
if changed then return 1 end
return 0
"""

# KEYS: leases. ARGV: session, ttl (ms), 'renew' or 'release'. Returns the kept ones.
_LEASES: Final = """
local kept = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    if ARGV[3] == 'renew' then
      redis.call('PEXPIRE', key, ARGV[2])
      table.insert(kept, i)
    else
      redis.call('DEL', key)
    end
  end
end
return kept
"""

# KEYS: this session's "alive" marker, then leases. ARGV: session, lease ttl (ms), marker
# ttl (ms). Marks the session alive and renews the leases it still holds, in one round
# trip. Returns the indexes (among the leases) of the kept ones.
_KEEP: Final = """
redis.call('SET', KEYS[1], '1', 'PX', ARGV[3])
local kept = {}
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
    table.insert(kept, i - 1)
  end
end
return kept
"""

# KEYS: leases, then waiters. ARGV: session, how many leases. Lets go of the leases this
# session holds and takes it off the waiters.
_FORGET: Final = """
local leases = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  if i <= leases then
    if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
  else
    redis.call('SREM', key, ARGV[1])
  end
end
return 1
"""

# Seconds the snapshot channel may stay quiet before a ping checks its connection.
_LISTEN_QUIET: Final = 10.0
# How long the poll pause a tick read stays good for the send that follows it.
_PAUSE_CHECK_FRESH: Final = 0.05
# Finished tasks remembered, so that a watch closed by its end needs no unregistering.
_FINISHED_KEPT: Final = 10_000
# Set while a tick's poll is sent: when the tick found no poll pause (its monotonic time).
_PAUSE_CHECKED: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "musicapi_redis_pause_checked", default=None
)


class _ClaimingRates:
    """The shared budgets, plus one duty: right before a create is sent (its token in
    hand), mark the journal claim it sends as "being sent". A claim whose process died
    before that mark was provably never sent, so another process may take it over."""

    def __init__(self, store: RedisRateStore) -> None:
        self.store = store

    async def acquire(self, kind: RateKind) -> None:
        if kind == "poll" and self.store.unpaced(kind):
            # Without a poll rate the budget only checks the fleet's pause, and the tick
            # that let this poll go checked it a moment ago: no second round trip.
            checked = _PAUSE_CHECKED.get()
            if checked is not None and time.monotonic() - checked < _PAUSE_CHECK_FRESH:
                self.store.grants[kind] += 1
                return
        claim = current_claim() if kind == "create" else None
        if claim is None:
            await self.store.acquire(kind)
            return
        journal, fingerprint = claim

        async def mark() -> None:
            await journal.sending(fingerprint)

        # Marked a moment before the slot, not after it: the mark's round trip would
        # otherwise make the create late by a varying amount and crowd the next one.
        await self.store.acquire(kind, before=mark)

    async def pause(self, kind: RateKind, seconds: float | None) -> None:
        await self.store.pause(kind, seconds)

    def set_time_scale(self, scale: float) -> None:
        self.store.set_time_scale(scale)


@attrs.define
class CoordinationStats:
    """What this process did for the fleet (``coordination.stats``).

    Attributes:
        polls: task polls this process sent as the lease holder.
        relayed: ticks answered from another process's snapshot (no request sent).
        received: snapshots received from other processes.
        skipped: snapshots of tasks nobody here waits on, left unread (a waiter that
            comes later reads the stored one at its first tick).
        takeovers: leases taken on tasks this process had not held before.
    """

    polls: int = 0
    relayed: int = 0
    received: int = 0
    skipped: int = 0
    takeovers: int = 0


class RedisCoordination:
    """Share one API key's journal, budgets and polls across processes, through Redis.

    Pass it to the client: ``MusicAPI(..., coordination=RedisCoordination(url))``; give
    every process on one key the same ``url`` and ``namespace``. Needs the ``redis``
    extra (``pip install 'musicapi-async[redis]'``).

    Args:
        url: ``redis://[:password@]host:port/db`` (the password is never shown).
        namespace: the prefix of every key; one per API key (or per run).
        create_rate: creates per second for the whole fleet, in the server's time; the
            docs ask about one every 3 s per key (``1/3``, the default). It is the
            client's one create pace (its own governor paces no creates), so ``None``
            paces none at all: for tests against a server without a create limit.
        create_burst: creates that may go at once after a quiet spell.
        create_margin: the share added to each interval between the fleet's creates, so
            that a create arriving a little late is not refused (``0.1``: 10 % slower).
        speed: the server's speed if known in advance (an emulator started at ``speed``);
            the speed a server announces overrides it. Rates and pauses are in the
            server's seconds.
        poll_rate: task polls per second for the whole fleet; ``None``: no shared rate.
        poll_burst: polls that may go at once.
        lease_ttl: seconds a task's poll lease lasts unless its holder renews it: how
            long a dead holder's tasks wait before another process takes over.
        snapshot_ttl: seconds the last snapshot of a task is kept for late waiters.
        timeout: seconds one Redis command may take before failing closed.

    Attributes:
        session: this process's random id in the fleet.
        journal: the shared ``RedisJournal`` (pass it to ``generate_many``).
        windows: the shared ``RedisWindowStore`` of learned completion windows.
        stats: ``CoordinationStats``.
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "musicapi",
        create_rate: float | None = 1 / 3,
        create_burst: int = 1,
        create_margin: float = 0.1,
        speed: float = 1.0,
        poll_rate: float | None = None,
        poll_burst: int = 8,
        lease_ttl: float = 15.0,
        snapshot_ttl: float = 86_400.0,
        timeout: float = 2.0,
    ) -> None:
        if not lease_ttl > 0:
            raise ValueError(f"lease_ttl must be positive, not {lease_ttl!r}")
        self._url = url
        self._namespace = namespace
        self._redis: Redis = connect(url, timeout=timeout)
        self.session = uuid.uuid4().hex
        self._lease_ms = max(1, int(lease_ttl * 1000))
        self._snapshot_ttl = max(1, int(snapshot_ttl))
        # Each session's own channel: it receives the snapshots of tasks it waits on.
        self._channels = f"{namespace}:snapshots:"
        self._channel = self._channels + self.session
        self.journal = RedisJournal(
            url,
            namespace=namespace,
            session=self.session,
            session_ttl=max(3 * lease_ttl, 1.0),
            redis=self._redis,
        )
        self._rates = RedisRateStore(
            self._redis,
            url,
            namespace=namespace,
            create_rate=create_rate,
            create_burst=create_burst,
            poll_rate=poll_rate,
            poll_burst=poll_burst,
            margin=create_margin,
        )
        self._rates.set_time_scale(speed)
        self.windows = RedisWindowStore(self._redis, url, namespace=namespace)
        self._claiming = _ClaimingRates(self._rates)
        self._tick: AsyncScript = self._redis.register_script(_TICK)
        self._publish: AsyncScript = self._redis.register_script(_PUBLISH)
        self._leases: AsyncScript = self._redis.register_script(_LEASES)
        self._watch: AsyncScript = self._redis.register_script(_WATCH)
        self._forget: AsyncScript = self._redis.register_script(_FORGET)
        self._keep: AsyncScript = self._redis.register_script(_KEEP)
        self._waiters_ttl = self._snapshot_ttl
        self._poll_paused = self._rates.paused_key("poll")
        # Leases this process holds, with when it last polled under each: a lease whose
        # task this process stopped polling is let go instead of being renewed forever.
        self._held: dict[str, float] = {}
        self._ever_held: set[str] = set()
        # Tasks nobody in this process waits on any more: their leases go back at once,
        # and this session leaves their waiters (unless they finished: see _PUBLISH).
        self._releasing: set[str] = set()
        self._release_wakeup = anyio.Event()
        # Tasks someone here started waiting on: this session joins their waiters.
        self._watching: set[str] = set()
        self._watch_wakeup = anyio.Event()
        self._finished: dict[str, None] = {}
        self.stats = CoordinationStats()

    def __repr__(self) -> str:
        return f"RedisCoordination({describe_url(self._url)!r}, namespace={self._namespace!r})"

    @property
    def rates(self) -> _ClaimingRates:
        """The shared create and poll budgets."""
        return self._claiming

    async def load_windows(self) -> LearnedWindows:
        """The fleet's learned completion windows (the client seeds its schedule)."""
        return await self.windows.load_windows()

    async def save_windows(self, windows: LearnedWindows) -> None:
        """Merge this process's learned windows into the fleet's."""
        await self.windows.save_windows(windows)

    async def exchange_windows(self, own: LearnedWindows) -> LearnedWindows:
        """Give the fleet the samples learned here since the last exchange; returns the
        ones the others added meanwhile (one round trip: a running client's sync)."""
        return await self.windows.exchange_windows(own)

    def _key(self, kind: str, task_id: str) -> str:
        return f"{self._namespace}:{kind}:{task_id}"

    # ------------------------------------------------------------------- lifecycle

    async def open(self) -> None:
        """Check that Redis answers and mark this session alive.

        Raises:
            CoordinationError: Redis cannot be reached.
        """
        await self._heartbeat()

    async def _heartbeat(self) -> None:
        key = self.journal.session_key(self.session)
        with guarded(self._url, "marking this process alive"):
            await self._redis.set(key, "1", px=self._lease_ms * 3)

    async def aclose(self) -> None:
        """Let go of every lease (others take over at once) and disconnect."""
        held, self._held = list(self._held), {}
        try:
            with anyio.CancelScope(shield=True), anyio.move_on_after(2):
                if held:
                    await self._leases(
                        keys=[self._key("lease", t) for t in held],
                        args=[self.session, self._lease_ms, "release"],
                    )
                await self._redis.delete(self.journal.session_key(self.session))
        except Exception as exc:  # noqa: BLE001 - closing: the leases expire on their own
            logger.warning("could not release leases on close: %s", exc)
        finally:
            await self._redis.aclose()

    async def run(self, deliver: Publish, watching: Callable[[str], bool] | None = None) -> None:
        """Relay other processes' snapshots to ``deliver`` and keep leases, until cancelled.

        With ``watching``, a snapshot of a task it says nobody here waits on is not even
        parsed: in a fleet each process receives every process's snapshots, and most are
        for others' tasks. A waiter that comes later loses nothing: its first tick reads
        the stored snapshot (at once for a task submitted elsewhere, ``api.job(id)``).
        """
        async with anyio.create_task_group() as group:
            group.start_soon(self._keep_alive)
            group.start_soon(self._release_loop)
            group.start_soon(self._watch_loop, deliver)
            await self._listen(deliver, watching)

    def watch(self, task_id: str) -> None:
        """Someone here started waiting on ``task_id``: join its waiters soon, so that
        the snapshots another process publishes reach this one as they come."""
        # Back before its release went out: keep the lease and the place among waiters.
        self._releasing.discard(task_id)
        self._watching.add(task_id)
        self._watch_wakeup.set()

    async def _watch_loop(self, deliver: Publish) -> None:
        # One round trip for every watch started since the last one.
        while True:
            await self._watch_wakeup.wait()
            self._watch_wakeup = anyio.Event()
            tasks, self._watching = list(self._watching), set()
            keys = [k for t in tasks for k in (self._key("waiters", t), self._key("snap", t))]
            try:
                with guarded(self._url, "joining the waiters of tasks"):
                    done = await self._watch(keys=keys, args=[self.session, self._waiters_ttl])
            except CoordinationError as exc:
                # Not lost: each tick joins again, and reads the stored snapshot meanwhile.
                logger.warning("%s (the ticks join instead)", exc)
                continue
            for index, stored in zip(done[::2], done[1::2], strict=True):
                self._deliver_stored(tasks[int(index) - 1], stored, deliver)

    def _deliver_stored(self, task_id: str, stored: bytes, deliver: Publish) -> None:
        try:
            snapshot = snapshot_from_json(bytes(stored)[1:])
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("dropped an unreadable snapshot of task %s from Redis: %s", task_id, exc)
            return
        self._finish(task_id)
        deliver(task_id, snapshot)

    def _finish(self, task_id: str) -> None:
        # Remembered so that its watch, closed by the end, needs no unregistering.
        self._finished[task_id] = None
        if len(self._finished) > _FINISHED_KEPT:
            del self._finished[next(iter(self._finished))]

    def release(self, task_id: str) -> None:
        """Nobody here waits on ``task_id`` any more: let go of its lease (if held) soon,
        so that a process still waiting on it takes over at its next tick, and leave its
        waiters (a finished task has none left)."""
        held = self._held.pop(task_id, None) is not None
        self._watching.discard(task_id)
        if task_id in self._finished:
            del self._finished[task_id]
            if not held:
                return
        self._releasing.add(task_id)
        self._release_wakeup.set()

    async def _release_loop(self) -> None:
        while True:
            await self._release_wakeup.wait()
            self._release_wakeup = anyio.Event()
            tasks, self._releasing = list(self._releasing), set()
            keys = [self._key("lease", t) for t in tasks]
            keys += [self._key("waiters", t) for t in tasks]
            try:
                with guarded(self._url, "releasing poll leases"):
                    await self._forget(keys=keys, args=[self.session, len(tasks)])
            except CoordinationError as exc:
                logger.warning("%s (the leases lapse on their own)", exc)

    async def _keep_alive(self) -> None:
        period = self._lease_ms / 3000
        while True:
            await anyio.sleep(period)
            try:
                await self._renew(time.monotonic())
            except CoordinationError as exc:
                # Leases lapse and others take over; this process's ticks fail closed.
                logger.warning("%s", exc)

    async def _renew(self, now: float) -> None:
        """Mark this session alive and renew the leases it holds: one round trip."""
        # A holder that has not polled a task for a few lease periods no longer waits on
        # it: let the lease lapse so that a process still waiting takes it over.
        stale = 4 * self._lease_ms / 1000
        for task_id in [t for t, last in self._held.items() if now - last > stale]:
            del self._held[task_id]
        tasks = list(self._held)
        keys = [self.journal.session_key(self.session), *(self._key("lease", t) for t in tasks)]
        with guarded(self._url, "renewing poll leases"):
            kept = await self._keep(keys=keys, args=[self.session, self._lease_ms,
                                                     self._lease_ms * 3])  # fmt: skip
        keep = {tasks[int(i) - 1] for i in kept}
        for task_id in tasks:
            if task_id not in keep:
                self._held.pop(task_id, None)

    async def _listen(self, deliver: Publish, watching: Callable[[str], bool] | None) -> None:
        delay = 0.05
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel, self.journal.channel)
                self.journal.listening = True
                delay = 0.05
                while True:
                    message = await pubsub.get_message(timeout=_LISTEN_QUIET)
                    if message is None:
                        # Quiet for a while: a ping proves the connection still works (a
                        # dead one raises, and is replaced), without waking every second.
                        await pubsub.ping()
                        continue
                    if message.get("type") != "message":
                        continue  # the ping's answer
                    channel = message.get("channel")
                    if channel in (self._channel, self._channel.encode()):
                        self._receive(message.get("data"), deliver, watching)
                    else:
                        self._moved(message.get("data"))
            except Exception as exc:  # noqa: BLE001 - any Redis failure: reconnect, keep going
                # Snapshots missed meanwhile are not lost: each tick reads the stored one;
                # waiters on the journal fall back to reading it.
                self.journal.listening = False
                logger.warning("Redis snapshot channel lost (%s); reconnecting", exc)
            finally:
                # The connection may already be gone: closing it is best effort.
                shield = anyio.CancelScope(shield=True)
                with shield, anyio.move_on_after(1), contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await anyio.sleep(delay)
            delay = min(2.0, delay * 2)

    def _moved(self, data: object) -> None:
        if isinstance(data, bytes | str):
            self.journal.notify(data.decode() if isinstance(data, bytes) else data)

    def _receive(
        self, data: object, deliver: Publish, watching: Callable[[str], bool] | None
    ) -> None:
        if not isinstance(data, bytes | str):
            return
        text = data.decode() if isinstance(data, bytes) else data
        sender, kind, task_id, payload = [*text.split(" ", 3), "", "", ""][:4]
        if sender == self.session:
            return  # our own (never sent back to us now): the local poller has it
        if kind == "D":
            self._finish(task_id)
        if watching is not None and not watching(task_id):
            self.stats.skipped += 1
            return
        try:
            snapshot = snapshot_from_json(payload)
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("dropped an unreadable snapshot from Redis: %s", exc)
            return
        self.stats.received += 1
        deliver(snapshot.task_id, snapshot)

    # ----------------------------------------------------------------------- polls

    async def poll(self, task_id: str, family: Family, fetch: Fetch) -> TaskSnapshot:
        """One tick for ``task_id``: poll it if this process holds (or takes) its lease.

        Raises:
            CoordinationError: Redis cannot be reached (the poller tries again later).
        """
        keys = [self._key("snap", task_id), self._key("lease", task_id),
                self._key("waiters", task_id), self._poll_paused]  # fmt: skip
        with guarded(self._url, f"taking the poll lease of task {task_id}"):
            held, stored, paused = await self._tick(
                keys=keys, args=[self.session, self._lease_ms, self._waiters_ttl]
            )
        if not int(held):
            self._held.pop(task_id, None)
            self.stats.relayed += 1
            if stored is None:
                # Nobody has seen it yet: as the API itself answers a young task.
                return TaskSnapshot(task_id=task_id, family=family, ready=False)
            snapshot = snapshot_from_json(bytes(stored)[1:])
            if snapshot.done:
                self._finish(task_id)
            return snapshot
        if task_id not in self._ever_held:
            self._ever_held.add(task_id)
            self.stats.takeovers += 1
        self._held[task_id] = time.monotonic()
        self.stats.polls += 1
        token = _PAUSE_CHECKED.set(None if int(paused) else time.monotonic())
        try:
            snapshot = await fetch(task_id, family)
        finally:
            _PAUSE_CHECKED.reset(token)
        payload = ("D" if snapshot.done else "R") + snapshot_to_json(snapshot)
        if stored is not None and bytes(stored) == payload.encode():
            # Unchanged since it was stored (most polls: "not yet"): nothing to store or
            # send, and no round trip.
            return snapshot
        await self._store(snapshot, payload)
        return snapshot

    async def publish(self, snapshot: TaskSnapshot) -> None:
        """Store ``snapshot`` for late waiters and send it to every process.

        Raises:
            CoordinationError: Redis cannot be reached.
        """
        await self._store(snapshot, ("D" if snapshot.done else "R") + snapshot_to_json(snapshot))

    async def _store(self, snapshot: TaskSnapshot, payload: str) -> None:
        task_id = snapshot.task_id
        if snapshot.done:
            self._held.pop(task_id, None)
            self._finish(task_id)
        keys = [self._key("snap", task_id), self._key("lease", task_id),
                self._key("waiters", task_id)]  # fmt: skip
        with guarded(self._url, f"publishing task {task_id}"):
            await self._publish(
                keys=keys,
                args=[payload, self._snapshot_ttl, self.session, task_id, self._channels],
            )

    async def clear(self) -> None:
        """Delete every key of this namespace (tests, a finished run)."""
        with guarded(self._url, "clearing the namespace"):
            async for key in self._redis.scan_iter(match=f"{self._namespace}:*", count=500):
                await self._redis.delete(key)
