"""``RedisWindowStore``: the poll schedule's learned completion windows, shared in Redis.

The ``WindowStore`` of ``_journal`` for a fleet: every process on one key starts from what
the fleet has learned so far (a new worker polls like a warm one from its first task) and
adds what it learned when it saves. One hash per namespace, one field per window name
(``done:sonic``…) holding its samples, oldest first, as a JSON list in server seconds.

Several processes save the same windows, each a list that starts with the samples it was
seeded with: a save must neither replace another process's samples (a plain ``HSET``
would) nor count the seeded ones twice (a plain append would). So a save merges as
multisets, in one Lua script: a stored sample matches at most one incoming equal sample,
and only the incoming samples left unmatched are appended; the newest ``MAX_SAMPLES``
are kept. Two processes that each observed the very same value (to the millisecond) keep
it once: a sample less, never a sample counted twice.

A running client trades incrementally instead (``exchange_windows``, one round trip per
sync): it gives only the samples it observed since its last trade and gets only those
the others added since it last read. Each window also has a count of the samples ever
added to it (field ``name#n``); the process keeps, per window, the count it has read up
to, and the newest ``count - cursor`` samples are the ones it has not seen.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Final

from .._poll_samples import MAX_SAMPLES
from .._polling import LearnedWindows
from ._store import guarded

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["RedisWindowStore"]

# Shared by both scripts: a window's stored samples (numbers only: the hash is anyone's to
# write), and the newest ``keep`` of a list.
_PRELUDE: Final = """
local function stored_samples(name)
  local stored = {}
  local raw = redis.call('HGET', KEYS[1], name)
  if raw then
    local ok, value = pcall(cjson.decode, raw)
    if ok and type(value) == 'table' then
      for _, x in ipairs(value) do
        if type(x) == 'number' then table.insert(stored, x) end
      end
    end
  end
  return stored
end
local function newest(list, keep)
  local kept = {}
  for j = math.max(1, #list - keep + 1), #list do table.insert(kept, list[j]) end
  return kept
end
"""

# KEYS: the windows hash. ARGV: most samples kept, then name, JSON samples pairs. Counts
# what it appends (``name#n``), as ``_EXCHANGE`` does.
_MERGE: Final = (
    _PRELUDE
    + """
local keep = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local stored = stored_samples(ARGV[i])
  local have = {}
  for _, x in ipairs(stored) do
    local k = tostring(x)
    have[k] = (have[k] or 0) + 1
  end
  local had, added = #stored, 0
  for _, x in ipairs(cjson.decode(ARGV[i + 1])) do
    local k = tostring(x)
    if (have[k] or 0) > 0 then
      have[k] = have[k] - 1
    else
      table.insert(stored, x)
      added = added + 1
    end
  end
  local kept = newest(stored, keep)
  if #kept > 0 then redis.call('HSET', KEYS[1], ARGV[i], cjson.encode(kept)) end
  if added > 0 then
    local count = tonumber(redis.call('HGET', KEYS[1], ARGV[i] .. '#n') or '') or had
    redis.call('HSET', KEYS[1], ARGV[i] .. '#n', count + added)
  end
end
return 1
"""
)

# KEYS: the windows hash. ARGV: most samples kept, JSON {name: count read up to}, JSON
# {name: [new samples]}. Appends each process's new samples (counting them), and returns
# JSON [{name: [samples added since the caller's count]}, {name: count now}], for every
# window: the caller's own new samples are not sent back. A caller whose count is unknown
# or out of range (the hash was cleared) is sent the whole window.
_EXCHANGE: Final = (
    _PRELUDE
    + """
local keep = tonumber(ARGV[1])
local cursors = cjson.decode(ARGV[2])
local incoming = cjson.decode(ARGV[3])
local names = {}
for name, _ in pairs(incoming) do names[name] = true end
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if not string.find(field, '#', 1, true) then names[field] = true end
end
local news, counts = {}, {}
for name, _ in pairs(names) do
  local stored = stored_samples(name)
  local count = tonumber(redis.call('HGET', KEYS[1], name .. '#n') or '') or #stored
  local cursor = tonumber(cursors[name])
  local first = 1
  if cursor and cursor <= count and count - cursor <= #stored then
    first = #stored - (count - cursor) + 1
  end
  local fresh = {}
  for j = first, #stored do table.insert(fresh, stored[j]) end
  if #fresh > 0 then news[name] = fresh end
  local mine = incoming[name]
  if type(mine) == 'table' and #mine > 0 then
    for _, x in ipairs(mine) do
      if type(x) == 'number' then
        table.insert(stored, x)
        count = count + 1
      end
    end
    redis.call('HSET', KEYS[1], name, cjson.encode(newest(stored, keep)), name .. '#n', count)
  end
  counts[name] = count
end
return cjson.encode({news, counts})
"""
)


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
        self._exchange: AsyncScript = redis.register_script(_EXCHANGE)
        # Per window, the count of samples ever added that this process has read up to.
        self._cursors: dict[str, int] = {}

    async def load_windows(self) -> LearnedWindows:
        """What the fleet has learned so far; empty if nothing.

        Raises:
            CoordinationError: Redis cannot be reached.
        """
        with guarded(self._url, "reading the learned poll windows"):
            stored = await self._redis.hgetall(self.key)
        windows: LearnedWindows = {}
        counts: dict[str, int] = {}
        for name, text in stored.items():
            key = name.decode() if isinstance(name, bytes) else str(name)
            try:
                value = json.loads(text)
            except ValueError:  # a damaged field is skipped, never fatal
                continue
            if key.endswith("#n") and isinstance(value, int):
                counts[key[:-2]] = value
            elif isinstance(value, list):
                windows[key] = _samples(value)
        # Read up to here: a later exchange sends only what is added after. Only for a
        # window not read yet: a load in the middle of a run (a user's look) must not
        # skip the samples the exchanges would have brought to the client's model.
        for name, samples in windows.items():
            self._cursors.setdefault(name, counts.get(name, len(samples)))
        return windows

    async def save_windows(self, windows: LearnedWindows) -> None:
        """Merge ``windows`` into the fleet's (see the module docstring): samples it was
        seeded with are not counted again, other processes' samples are kept.

        Raises:
            CoordinationError: Redis cannot be reached.
        """
        args: list[str | int] = [MAX_SAMPLES]
        for name, values in sorted(windows.items()):
            samples = _samples(values)
            if samples:
                args += [name, json.dumps(samples)]
        if len(args) == 1:
            return
        with guarded(self._url, "saving the learned poll windows"):
            await self._merge(keys=[self.key], args=args)

    async def exchange_windows(self, own: LearnedWindows) -> LearnedWindows:
        """Add ``own`` (samples this process observed since its last exchange) and return
        the samples the others added since this process last read the windows (all of
        them the first time), in one round trip.

        Raises:
            CoordinationError: Redis cannot be reached.
        """
        mine = {name: samples for name, values in own.items() if (samples := _samples(values))}
        args: list[str | int] = [MAX_SAMPLES, json.dumps(self._cursors), json.dumps(mine)]
        with guarded(self._url, "trading the learned poll windows"):
            answer = await self._exchange(keys=[self.key], args=args)
        news, counts = json.loads(answer)
        self._cursors = {str(k): int(v) for k, v in counts.items()}
        return {str(k): _samples(v) for k, v in news.items() if isinstance(v, list)}
