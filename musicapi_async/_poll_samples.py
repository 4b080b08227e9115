"""What a completion window is estimated from: a documented prior and observed samples.

Pure arithmetic for ``_polling.CompletionModel``.

* ``Prior``: the documented timings of a kind of task, read as completions spread evenly
  over (``low``, ``high``); a task that waits for ``clips`` clips finishing on their own
  is done with the latest of them (MUSICAPI.md §4.3: a sonic task of two 2-4 minute
  clips is 5 % done by 2 min 27 s, not by 2 min).
* ``Samples``: the observed completion offsets of one kind of task. Two corrections keep
  a young model from trusting what it has seen too early:

  - *survivorship*: the first tasks to finish are the fast ones, so the first samples
    of a new client say that tasks are faster than they are. A sample counts only once
    every task submitted with it would have finished by the prior's end (``ripen``);
    until then it waits in ``pending``.
  - *small numbers*: the 5th percentile of 16 samples is their minimum, so one fast
    task would move every first poll. Until there are ``PRIOR_WEIGHT`` samples, the
    prior stands in for the missing ones.

Both were measured on the benchmark's cold client: the edge fell from 147 s to 126 s at
the 16th sample (one task done at its first look) and took 400 tasks to come back.
"""

from __future__ import annotations

import bisect
import heapq
from collections import deque
from typing import Final

import attrs

__all__ = ["MAX_SAMPLES", "PRIOR_WEIGHT", "Prior", "Samples"]

MAX_SAMPLES: Final = 512
PRIOR_WEIGHT: Final = 32


@attrs.frozen
class Prior:
    """Completions spread evenly over (``low``, ``high``), the latest of ``clips``."""

    low: float
    high: float
    clips: int = 1

    def cdf(self, offset: float) -> float:
        """The share of tasks done by ``offset``."""
        if offset <= self.low:
            return 0.0
        if offset >= self.high:
            return 1.0
        return float(((offset - self.low) / (self.high - self.low)) ** self.clips)

    def quantile(self, share: float) -> float:
        """The offset by which ``share`` of the tasks are done."""
        return self.low + (self.high - self.low) * float(share ** (1 / self.clips))

    def scaled(self, factor: float) -> Prior:
        """The same prior, ``factor`` times faster."""
        return Prior(self.low / factor, self.high / factor, self.clips)


class Samples:
    """The newest ``MAX_SAMPLES`` ripe observations, kept in arrival order (to hand on)
    and sorted (a quantile is an index or a short bisection, not a sort per poll), and
    the unripe ones by when they ripen."""

    __slots__ = ("newest", "ordered", "pending")

    def __init__(self) -> None:
        self.newest: deque[float] = deque()
        self.ordered: list[float] = []
        self.pending: list[tuple[float, float]] = []  # heap of (ripe at, value)

    def add(self, value: float, ripe_at: float | None = None) -> None:
        """Record ``value``; it counts from ``ripe_at`` on (``None``: at once)."""
        if ripe_at is None:
            self._take(value)
        else:
            heapq.heappush(self.pending, (ripe_at, value))

    def ripen(self, now: float) -> bool:
        """Count the pending samples whose time has come; whether there were any."""
        pending = self.pending
        if not pending or pending[0][0] > now:
            return False
        while pending and pending[0][0] <= now:
            self._take(heapq.heappop(pending)[1])
        return True

    def _take(self, value: float) -> None:
        if len(self.newest) == MAX_SAMPLES:
            oldest = self.newest.popleft()
            del self.ordered[bisect.bisect_left(self.ordered, oldest)]
        self.newest.append(value)
        bisect.insort(self.ordered, value)

    def values(self) -> list[float]:
        """Every sample, ripe ones first (oldest first), to seed another model with."""
        return [*self.newest, *(value for _, value in sorted(self.pending))]

    def quantile(self, share: float, prior: Prior) -> float:
        """The offset by which ``share`` of the tasks are done: of the ripe samples, and
        of the prior standing in for the ``PRIOR_WEIGHT`` samples not yet seen."""
        ordered = self.ordered
        seen = len(ordered)
        stand_in = PRIOR_WEIGHT - seen
        if stand_in <= 0:
            return ordered[int((seen - 1) * share)]
        if not seen:
            return prior.quantile(share)
        # The mixture's share done by an offset rises with it: bisect for ``share``.
        low, high = min(prior.low, ordered[0]), max(prior.high, ordered[-1])
        wanted = share * PRIOR_WEIGHT
        for _ in range(40):
            middle = (low + high) / 2
            if stand_in * prior.cdf(middle) + bisect.bisect_right(ordered, middle) >= wanted:
                high = middle
            else:
                low = middle
        return high
