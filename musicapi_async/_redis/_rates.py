"""``RedisRateStore``: one create budget and one poll budget for every process on a key.

Each kind is a token bucket kept in Redis (as a reservation schedule, see ``_TAKE``) and
moved by one Lua script, using the server's clock (``TIME``), so processes with drifting
clocks still share one budget: at most ``burst`` grants at once, then ``rate`` per
second, whatever the number of processes. A second key per kind holds "paused until": a
throttle (429, QPS-403, ``Retry-After``) seen by any process stops every process's grants
until then.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

import anyio

from .._coordination import RateKind
from ._store import guarded

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["RedisRateStore"]

# A reservation (GCRA, the "virtual scheduling" form of a token bucket): each call is
# given its own send time, ``interval`` after the previous one, at most ``burst - 1``
# intervals ahead of schedule. Callers sleep until their slot instead of all asking
# again when a token comes back: the fleet keeps the full rate, never more.
# KEYS: theoretical arrival time, paused-until. ARGV: rate per second (0: none), burst.
# Returns the milliseconds to wait before sending (0: now).
_TAKE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local start = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0'))
local rate = tonumber(ARGV[1])
if rate <= 0 then return math.ceil(start - now) end
local interval = 1000 / rate
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local grant = math.max(start, tat - (tonumber(ARGV[2]) - 1) * interval)
local next_tat = math.max(tat, start) + interval
redis.call('SET', KEYS[1], tostring(next_tat), 'PX', math.ceil(next_tat - now) + 60000)
return math.ceil(grant - now)
"""

# KEYS: paused-until. Returns the milliseconds left of a pause (0: none).
_PAUSED: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
return math.max(0, math.ceil(tonumber(redis.call('GET', KEYS[1]) or '0') - now))
"""

# KEYS: paused-until. ARGV: milliseconds. Only ever extends a pause.
_PAUSE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if untl > paused then redis.call('SET', KEYS[1], tostring(untl), 'PX', ARGV[1]) end
return untl
"""


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
    ) -> None:
        for name, rate in (("create_rate", create_rate), ("poll_rate", poll_rate)):
            if rate is not None and not (rate > 0 and math.isfinite(rate)):
                raise ValueError(f"{name} must be a positive number or None, not {rate!r}")
        if create_burst < 1 or poll_burst < 1:
            raise ValueError("bursts must be at least 1")
        self._url = url
        self._prefix = f"{namespace}:rate"
        self._limits: dict[RateKind, tuple[float, int]] = {
            "create": (create_rate or 0.0, create_burst),
            "poll": (poll_rate or 0.0, poll_burst),
        }
        self._max_pause = max_pause
        self._take: AsyncScript = redis.register_script(_TAKE)
        self._paused: AsyncScript = redis.register_script(_PAUSED)
        self._pause: AsyncScript = redis.register_script(_PAUSE)
        self.grants: dict[RateKind, int] = {"create": 0, "poll": 0}

    async def reserve(self, kind: RateKind) -> float:
        """Reserve the next ``kind`` slot of the shared schedule.

        Returns:
            The seconds to wait before sending (0: send now). The slot is taken: a
            caller that does not use it only slows the fleet down a little.

        Raises:
            CoordinationError: Redis cannot be reached: do not send.
        """
        rate, burst = self._limits[kind]
        keys = [f"{self._prefix}:{kind}:tat", f"{self._prefix}:{kind}:paused"]
        with guarded(self._url, f"taking a {kind} token: nothing was sent"):
            wait = int(await self._take(keys=keys, args=[repr(rate), burst]))
        return max(0, wait) / 1000

    async def acquire(self, kind: RateKind) -> None:
        """Wait for a ``kind`` slot of the shared schedule.

        Raises:
            CoordinationError: Redis cannot be reached: do not send.
        """
        while True:
            wait = await self.reserve(kind)
            if wait <= 0:
                break
            await anyio.sleep(wait)
            # A throttle seen elsewhere while we slept outranks our slot.
            with guarded(self._url, f"taking a {kind} token: nothing was sent"):
                paused = int(await self._paused(keys=[f"{self._prefix}:{kind}:paused"]))
            if not paused:
                break
            await anyio.sleep(paused / 1000)
        self.grants[kind] += 1

    async def pause(self, kind: RateKind, seconds: float | None) -> None:
        """Pause every process's ``kind`` grants for ``seconds`` (one gap when ``None``).

        Raises:
            CoordinationError: Redis cannot be reached.
        """
        rate, _ = self._limits[kind]
        if seconds is None:
            seconds = 1 / rate if rate else 1.0
        ms = max(1, math.ceil(min(max(0.0, seconds), self._max_pause) * 1000))
        with guarded(self._url, f"pausing {kind}s"):
            await self._pause(keys=[f"{self._prefix}:{kind}:paused"], args=[ms])
