"""``RedisWindowStore``: the poll schedule's learned completion windows, shared in Redis.

The ``WindowStore`` of ``_journal`` for a fleet: every process on one key starts from what
the fleet has learned so far (a new worker polls like a warm one from its first task) and
adds what it learned when it saves. One hash per namespace, one field per window name
(``done:sonic``…) holding its samples, oldest first, as a JSON list in server seconds.

Several processes save the same windows, each a list that starts with the samples it was
seeded with: a save must neither replace another process's samples (a plain ``HSET``
would) nor count the seeded ones twice (a plain append would). So a save merges as
multisets, in one Lua script: a stored sample matches at most one incoming equal sample,
and only the incoming samples left unmatched are appended; the newest ``_MAX_SAMPLES``
are kept. Two processes that each observed the very same value (to the millisecond) keep
it once: a sample less, never a sample counted twice.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Final

from .._polling import _MAX_SAMPLES, LearnedWindows
from ._store import guarded

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["RedisWindowStore"]

# KEYS: the windows hash. ARGV: most samples kept, then name, JSON samples pairs.
_MERGE: Final = """
local keep = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local stored = {}
  local raw = redis.call('HGET', KEYS[1], ARGV[i])
  if raw then
    local ok, value = pcall(cjson.decode, raw)
    if ok and type(value) == 'table' then
      for _, x in ipairs(value) do
        if type(x) == 'number' then table.insert(stored, x) end
      end
    end
  end
  local have = {}
  for _, x in ipairs(stored) do
    local k = tostring(x)
    have[k] = (have[k] or 0) + 1
  end
  for _, x in ipairs(cjson.decode(ARGV[i + 1])) do
    local k = tostring(x)
    if (have[k] or 0) > 0 then have[k] = have[k] - 1 else table.insert(stored, x) end
  end
  local first = math.max(1, #stored - keep + 1)
  local kept = {}
  for j = first, #stored do table.insert(kept, stored[j]) end
  if #kept > 0 then redis.call('HSET', KEYS[1], ARGV[i], cjson.encode(kept)) end
end
return 1
"""


def _samples(values: list[float]) -> list[float]:
    # Rounded to the millisecond, as the SQLite journal stores them: equal samples are
    # then equal as text too, which the merge compares.
    return [round(v, 3) for v in values if isinstance(v, int | float) and math.isfinite(v)]


class RedisWindowStore:
    """Learned completion windows shared by every process of a namespace.

    Usually reached through ``RedisCoordination``, which the client asks for them when
    it opens (``load_windows``) and gives what it learned as it runs and when it closes
    (``save_windows``).

    Args:
        redis: the connection.
        url: for messages (its password is never shown).
        namespace: the key prefix shared by the fleet.
    """

    def __init__(self, redis: Redis, url: str, *, namespace: str) -> None:
        self._redis = redis
        self._url = url
        self.key = f"{namespace}:windows"
        self._merge: AsyncScript = redis.register_script(_MERGE)

    async def load_windows(self) -> LearnedWindows:
        """What the fleet has learned so far; empty if nothing.

        Raises:
            CoordinationError: Redis cannot be reached.
        """
        with guarded(self._url, "reading the learned poll windows"):
            stored = await self._redis.hgetall(self.key)
        windows: LearnedWindows = {}
        for name, text in stored.items():
            try:
                samples = json.loads(text)
            except ValueError:  # a damaged field is skipped, never fatal
                continue
            if isinstance(samples, list):
                key = name.decode() if isinstance(name, bytes) else str(name)
                windows[key] = _samples(samples)
        return windows

    async def save_windows(self, windows: LearnedWindows) -> None:
        """Merge ``windows`` into the fleet's (see the module docstring): samples it was
        seeded with are not counted again, other processes' samples are kept.

        Raises:
            CoordinationError: Redis cannot be reached.
        """
        args: list[str | int] = [_MAX_SAMPLES]
        for name, values in sorted(windows.items()):
            samples = _samples(values)
            if samples:
                args += [name, json.dumps(samples)]
        if len(args) == 1:
            return
        with guarded(self._url, "saving the learned poll windows"):
            await self._merge(keys=[self.key], args=args)
