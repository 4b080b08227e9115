"""``RedisRateStore``: one create budget and one poll budget for every process on a key.

Each kind is a token bucket kept in Redis (as a reservation schedule, see ``_TAKE``) and
moved by one Lua script, using the server's clock (``TIME``), so processes with drifting
clocks still share one budget: at most ``burst`` grants at once, then ``rate`` per
second, whatever the number of processes. A second key per kind holds "paused until": a
throttle (429, QPS-403, ``Retry-After``) seen by any process stops every process's grants
until then.

Rates and pauses are in the server's seconds. A process that learns the server's speed
(the emulator's ``X-Emulator-Speed``) calls ``set_time_scale``: its grants and pauses
follow it, as the local governor's do. Slots are spaced ``1 + margin`` times the
nominal interval apart: a create that reaches the server a little late (a loaded
machine, a slow hop) then still finds the previous one far enough behind, so the fleet
is refused now and then rather than routinely.

How late a create arrives depends on the machines and their load, not on the rate, so no
fixed margin fits every fleet: the margin also adapts. Each create the server refuses
stretches the fleet's slots (``STRETCH_STEP`` of an interval more, up to ``STRETCH_MAX``
times), and the stretch decays back, halving every ``STRETCH_HALF_LIFE`` intervals. A
fleet whose creates keep their slots runs at ``rate / (1 + margin)``; a loaded one slows
down until refusals are rare, instead of being refused (and paused) again and again at
full speed. The stretch is one key in Redis: a refusal seen by one process slows all.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

import anyio

from .._coordination import RateKind
from ._store import guarded

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["RedisRateStore"]

# The slots' stretch now, in Lua, for a script with ``now`` (ms) set and the stretch key
# last in KEYS: "value since half-life" decays from ``value`` towards 1, halving every
# half-life (ms).
_STRETCH_NOW: Final = """
local stretch = 1
local kept = redis.call('GET', KEYS[#KEYS])
if kept then
  local value, since, half = string.match(kept, '^(%S+) (%S+) (%S+)$')
  if half then
    local age = math.max(0, now - tonumber(since))
    stretch = 1 + (tonumber(value) - 1) * math.pow(0.5, age / tonumber(half))
  end
end
"""

# Each refused create stretches the fleet's slots by this share of an interval...
STRETCH_STEP: Final = 0.5
# ...up to this many times the interval...
STRETCH_MAX: Final = 6.0
# ...and the stretch halves back towards none every this many intervals.
STRETCH_HALF_LIFE: Final = 100

# A reservation (GCRA, the "virtual scheduling" form of a token bucket): each call is
# given its own send time, ``interval`` after the previous one, at most ``burst - 1``
# intervals ahead of schedule. Callers sleep until their slot instead of all asking
# again when a token comes back: the fleet keeps the full rate, never more.
# KEYS: theoretical arrival time, paused-until, stretch. ARGV: rate per second (0: none),
# burst, slots wanted (n, one after the other, as n calls would take them). Returns
# {the interval used (µs), then for each slot the milliseconds to wait before sending}.
_TAKE: Final = (
    """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local start = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0'))
local rate = tonumber(ARGV[1])
local n = tonumber(ARGV[3] or '1')
local out = {0}
if rate <= 0 then
  for i = 1, n do out[i + 1] = math.ceil(start - now) end
  return out
end
"""
    + _STRETCH_NOW
    + """
local interval = 1000 / rate * stretch
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
for i = 1, n do
  out[i + 1] = math.ceil(math.max(start, tat - (tonumber(ARGV[2]) - 1) * interval) - now)
  tat = math.max(tat, start) + interval
end
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now) + 60000)
out[1] = math.floor(interval * 1000)
return out
"""
)

# Seconds before its slot that a caller wakes to check for a pause and run ``before``:
# their round trips to Redis then do not make the send late.
LEAD: Final = 0.02
# Slots a caller that keeps waking late may skip before it sends late anyway.
_LATE_RETRIES: Final = 3

# KEYS: paused-until. Returns the milliseconds left of a pause (0: none).
_PAUSED: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
return math.max(0, math.ceil(tonumber(redis.call('GET', KEYS[1]) or '0') - now))
"""

# KEYS: paused-until, stretch. ARGV: milliseconds, then for creates the stretch's step,
# most and half-life (ms). Only ever extends a pause; a refused create also stretches.
_PAUSE: Final = (
    """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if untl > paused then redis.call('SET', KEYS[1], tostring(untl), 'PX', ARGV[1]) end
if not ARGV[2] then return untl end
"""
    + _STRETCH_NOW
    + """
stretch = math.min(tonumber(ARGV[3]), stretch + tonumber(ARGV[2]))
local half = tonumber(ARGV[4])
redis.call('SET', KEYS[2], stretch .. ' ' .. now .. ' ' .. half, 'PX', math.ceil(20 * half))
return untl
"""
)


class _Coalesced:
    """One round trip for every caller that comes while another's is on its way.

    The first caller sends at once. Callers that come while it waits queue up; when its
    answer is in, the first of them sends for all of them (one script call, ``count``
    slots) and the rest wait for its answer. A lone caller waits for nobody; a burst of
    ``n`` callers costs two round trips instead of ``n``.
    """

    def __init__(self, send: Callable[[int], Awaitable[list[float]]]) -> None:
        self._send = send
        self._queue: list[asyncio.Future[object]] = []
        self._busy = False

    async def take(self) -> float:
        """One answer of ``send``, shared with the callers that came meanwhile."""
        while True:
            if self._busy:
                future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
                self._queue.append(future)
                try:
                    got = await future
                except BaseException:
                    # Cancelled, perhaps after being made the sender: pass that on.
                    if _is_lead(future):
                        self._hand_over()
                    raise
                if isinstance(got, float):
                    return got
                if got is not _LEAD:
                    continue  # the sender was cancelled: ask again
            return await self._lead()

    async def _lead(self) -> float:
        self._busy = True
        # Callers cancelled while in line take no slot.
        batch = [future for future in self._queue if not future.done()]
        self._queue = []
        try:
            answers = await self._send(len(batch) + 1)
        except Exception as exc:
            for future in batch:
                if not future.done():
                    future.set_exception(exc)
            raise
        except BaseException:
            for future in batch:
                if not future.done():
                    future.set_result(_AGAIN)
            raise
        finally:
            self._hand_over()
        for future, answer in zip(batch, answers[1:], strict=True):
            if not future.done():
                future.set_result(answer)
        return answers[0]

    def _hand_over(self) -> None:
        # The first caller still waiting sends next; with none, the next one to come does.
        while self._queue:
            future = self._queue.pop(0)
            if not future.done():
                future.set_result(_LEAD)
                return
        self._busy = False


def _is_lead(future: asyncio.Future[object]) -> bool:
    """Whether ``future`` made its caller the next sender."""
    if not future.done() or future.cancelled() or future.exception() is not None:
        return False
    return future.result() is _LEAD


_LEAD: Final = object()  # "send for the queue now"
_AGAIN: Final = object()  # "the sender was cancelled: ask again"


class RedisRateStore:
    """The ``RateStore`` of ``_coordination``, in Redis (see the module docstring).

    Args:
        redis: the connection.
        url: for messages (its password is never shown).
        namespace: the key prefix; every process on one API key must share it.
        create_rate: creates per second, all processes together; ``None``: no rate.
        create_burst: creates that may go at once after a quiet spell.
        poll_rate: task polls per second, all processes together; ``None``: no rate.
        poll_burst: polls that may go at once.
        max_pause: cap, in seconds, on one pause (a ``Retry-After`` of hours is ignored).
        margin: the share added to each interval between grants (``0.1``: 10 % slower
            than ``rate``), so that arrival jitter does not make the server refuse.
    """

    def __init__(
        self,
        redis: Redis,
        url: str,
        *,
        namespace: str,
        create_rate: float | None,
        create_burst: int = 1,
        poll_rate: float | None = None,
        poll_burst: int = 8,
        max_pause: float = 300.0,
        margin: float = 0.1,
    ) -> None:
        for name, rate in (("create_rate", create_rate), ("poll_rate", poll_rate)):
            if rate is not None and not (rate > 0 and math.isfinite(rate)):
                raise ValueError(f"{name} must be a positive number or None, not {rate!r}")
        if create_burst < 1 or poll_burst < 1:
            raise ValueError("bursts must be at least 1")
        if not 0 <= margin < 10:
            raise ValueError(f"margin must be in [0, 10), not {margin!r}")
        self._url = url
        self._prefix = f"{namespace}:rate"
        self._limits: dict[RateKind, tuple[float, int]] = {
            "create": (create_rate or 0.0, create_burst),
            "poll": (poll_rate or 0.0, poll_burst),
        }
        self._max_pause = max_pause
        self._margin = margin
        self._scale = 1.0
        self._take: AsyncScript = redis.register_script(_TAKE)
        self._paused: AsyncScript = redis.register_script(_PAUSED)
        self._pause: AsyncScript = redis.register_script(_PAUSE)
        self.grants: dict[RateKind, int] = {"create": 0, "poll": 0}
        self._reservations: dict[RateKind, _Coalesced] = {
            kind: _Coalesced(functools.partial(self._reserve_many, kind))
            for kind in ("create", "poll")
        }
        # The interval of the last slot taken, in wall seconds (stretched after refusals).
        self._interval: dict[RateKind, float] = {"create": 0.0, "poll": 0.0}

    @property
    def time_scale(self) -> float:
        """Server seconds per wall second (the emulator's announced speed; 1 on MusicAPI)."""
        return self._scale

    def set_time_scale(self, scale: float) -> None:
        """Grant and pause in the time of a server ``scale`` times faster than real time.

        Raises:
            ValueError: ``scale`` is not a positive finite number.
        """
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"time scale must be a positive number, not {scale!r}")
        self._scale = float(scale)

    def unpaced(self, kind: RateKind) -> bool:
        """Whether ``kind`` has no shared rate (its budget is only the fleet's pause)."""
        return not self._limits[kind][0]

    def paused_key(self, kind: RateKind) -> str:
        """The key holding when the fleet's ``kind`` pause ends (server ms)."""
        return f"{self._prefix}:{kind}:paused"

    def wall_rate(self, kind: RateKind) -> float:
        """The grants per wall second this process asks Redis for (0: no rate)."""
        rate, _ = self._limits[kind]
        return rate * self._scale / (1 + self._margin) if kind == "create" else rate * self._scale

    async def reserve(self, kind: RateKind) -> float:
        """Reserve the next ``kind`` slot of the shared schedule.

        Callers that ask while another's reservation is on its way go together in the
        next round trip (``_Coalesced``): a burst of creates costs a round trip or two,
        not one each (and not a connection each).

        Returns:
            The seconds to wait before sending (0: send now). The slot is taken: a
            caller that does not use it only slows the fleet down a little.

        Raises:
            CoordinationError: Redis cannot be reached: do not send.
        """
        slot = await self._reservations[kind].take()
        return max(0.0, slot - time.monotonic())

    async def _reserve_many(self, kind: RateKind, count: int) -> list[float]:
        """``count`` consecutive ``kind`` slots, as monotonic times, in one round trip."""
        _, burst = self._limits[kind]
        keys = [f"{self._prefix}:{kind}:{name}" for name in ("tat", "paused", "stretch")]
        rate = self.wall_rate(kind)
        with guarded(self._url, f"taking a {kind} token: nothing was sent"):
            answer = await self._take(keys=keys, args=[repr(rate), burst, count])
        now = time.monotonic()
        self._interval[kind] = int(answer[0]) / 1e6
        return [now + max(0, int(wait)) / 1000 for wait in answer[1:]]

    async def acquire(
        self, kind: RateKind, *, before: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Wait for a ``kind`` slot of the shared schedule.

        Args:
            kind: ``"create"`` or ``"poll"``.
            before: awaited shortly (``LEAD`` seconds at most) before the slot, once it
                is certain to be used; its own latency then does not delay the send.

        Raises:
            CoordinationError: Redis cannot be reached: do not send.
        """
        late = 0
        while True:
            wait = await self.reserve(kind)
            slot = time.monotonic() + wait
            if wait > 0:
                await anyio.sleep(max(0.0, wait - self._lead(kind)))
                # A throttle seen elsewhere while we slept outranks our slot.
                with guarded(self._url, f"taking a {kind} token: nothing was sent"):
                    paused = int(await self._paused(keys=[f"{self._prefix}:{kind}:paused"]))
                if paused:
                    await anyio.sleep(paused / 1000)
                    continue
            # Woken well after the slot (a busy machine): sent now, the create would
            # crowd the next slot's, which the server would refuse. Leave the slot empty
            # and take a new one (a few times at most: never starve). Decided before
            # ``before``: a claim marked as being sent is sent at once (were this process
            # to die or lose Redis while it waited for another slot, the claim would be
            # reported unknown instead of being taken over).
            if self._late(kind, slot) and late < _LATE_RETRIES:
                late += 1
                continue
            break
        if before is not None:
            await before()
        if (rest := slot - time.monotonic()) > 0:
            await anyio.sleep(rest)
        self.grants[kind] += 1

    def _late(self, kind: RateKind, slot: float) -> bool:
        return time.monotonic() - slot > self._slack(kind)

    def _lead(self, kind: RateKind) -> float:
        # Never woken more than half an interval early: ``before`` (marking a claim as
        # being sent) then covers this process's next slot only, not the fleet's next few.
        rate = self.wall_rate(kind)
        return min(LEAD, 0.5 / rate) if rate else LEAD

    def _slack(self, kind: RateKind) -> float:
        # How late a slot may be used: half of what spaces it from the next one beyond
        # the server's interval (margin and stretch), the next create may be late too.
        rate, _ = self._limits[kind]
        if kind != "create" or not rate:
            return math.inf
        return max(0.002, (self._interval[kind] - 1 / (rate * self._scale)) / 2)

    def stretch(self, kind: RateKind = "create") -> float:
        """The spacing of the last ``kind`` slot taken, as a multiple of the margined
        interval: 1 while the server refuses nothing, more for a while after it did."""
        rate = self.wall_rate(kind)
        return self._interval[kind] * rate if rate and self._interval[kind] else 1.0

    async def pause(self, kind: RateKind, seconds: float | None) -> None:
        """Pause every process's ``kind`` grants for ``seconds`` of server time (one gap
        when ``None``).

        Raises:
            CoordinationError: Redis cannot be reached.
        """
        rate, _ = self._limits[kind]
        if seconds is None:
            seconds = 1 / rate if rate else 1.0
        seconds = min(max(0.0, seconds), self._max_pause) / self._scale
        ms = max(1, math.ceil(seconds * 1000))
        args: list[int | float] = [ms]
        if kind == "create" and (wall := self.wall_rate(kind)):
            # A refused create: the fleet's slots were too close for how late creates
            # arrive. Stretch them (every process), for a few dozen intervals.
            half = STRETCH_HALF_LIFE / wall * 1000
            args += [STRETCH_STEP, STRETCH_MAX, round(half, 3)]
        keys = [f"{self._prefix}:{kind}:paused", f"{self._prefix}:{kind}:stretch"]
        with guarded(self._url, f"pausing {kind}s"):
            await self._pause(keys=keys, args=args)
