"""``RedisRateStore``: one create budget and one poll budget for every process on a key.

Each kind is a token bucket kept in a Redis hash and moved by one Lua script, using the
server's clock (``TIME``), so processes with drifting clocks still share one budget: at
most ``burst`` grants at once, then ``rate`` per second, whatever the number of
processes. A second key per kind holds "paused until": a throttle (429, QPS-403,
``Retry-After``) seen by any process stops every process's grants until then.
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

# KEYS: bucket, paused-until. ARGV: rate per second (0: no rate), burst.
# Returns 0 for a grant, else the milliseconds to wait before asking again.
_TAKE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return paused - now end
local rate = tonumber(ARGV[1])
if rate <= 0 then return 0 end
local burst = tonumber(ARGV[2])
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or ARGV[2])
local stamp = tonumber(redis.call('HGET', KEYS[1], 'stamp') or tostring(now))
if now > stamp then
  tokens = math.min(burst, tokens + (now - stamp) * rate / 1000)
  stamp = now
end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(stamp))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 60000)
return wait
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
        self._pause: AsyncScript = redis.register_script(_PAUSE)
        self.grants: dict[RateKind, int] = {"create": 0, "poll": 0}

    async def try_acquire(self, kind: RateKind) -> float:
        """Take a ``kind`` grant if one is free now.

        Returns:
            0 when granted, else the seconds to wait before asking again.

        Raises:
            CoordinationError: Redis cannot be reached: do not send.
        """
        rate, burst = self._limits[kind]
        keys = [f"{self._prefix}:{kind}:bucket", f"{self._prefix}:{kind}:paused"]
        with guarded(self._url, f"taking a {kind} token: nothing was sent"):
            wait = int(await self._take(keys=keys, args=[repr(rate), burst]))
        if wait <= 0:
            self.grants[kind] += 1
            return 0.0
        return wait / 1000

    async def acquire(self, kind: RateKind) -> None:
        """Wait for a grant of ``kind`` from the shared bucket.

        Raises:
            CoordinationError: Redis cannot be reached: do not send.
        """
        while wait := await self.try_acquire(kind):
            await anyio.sleep(wait)

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
