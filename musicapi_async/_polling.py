"""When to poll: the poll schedule of a task, as a pure policy object.

MusicAPI asks for 15-25 s between polls of one task and polling is free, but a sonic task
takes 2-4 minutes, so most polls of a naive loop are wasted. The policy waits an initial
delay chosen per family, then backs off from ``min_interval`` to ``max_interval`` with
jitter so that many tasks submitted together do not poll in lock-step.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Final

import attrs

from ._models import Family

__all__ = ["PollPolicy"]

# First-poll delays per family, from the documented generation times: sonic streams after
# ~30 s and finishes in 2-4 min; nuro finishes a song in ~30 s; studio ~1 min.
_INITIAL_DELAY: Final[Mapping[Family, float]] = {
    Family.SONIC: 20.0,
    Family.NURO: 15.0,
    Family.STUDIO: 20.0,
}


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, not {value!r}")


@attrs.frozen(kw_only=True)
class PollPolicy:
    """How often to poll a task.

    Args:
        initial_delay: seconds from submission to the first poll; ``None`` picks the
            family's default (sonic 20 s, nuro 15 s, studio 20 s).
        min_interval: seconds between the first polls (the vendor asks for >= 15 s).
        max_interval: the longest gap between two polls.
        backoff: factor the gap grows by after each unfinished poll.
        jitter: the fraction by which each wait is randomly shortened or lengthened.
        time_scale: every duration above is divided by this (``scaled()`` sets it); the
            emulator runs faster than real time and its policy runs faster with it.
    """

    initial_delay: float | None = None
    min_interval: float = attrs.field(default=15.0, validator=_positive)
    max_interval: float = attrs.field(default=25.0, validator=_positive)
    backoff: float = attrs.field(default=1.25, validator=_positive)
    jitter: float = 0.1
    time_scale: float = attrs.field(default=1.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.max_interval < self.min_interval:
            raise ValueError("max_interval must be at least min_interval")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if self.initial_delay is not None and self.initial_delay < 0:
            raise ValueError("initial_delay must not be negative")
        if self.backoff < 1:
            raise ValueError("backoff must be at least 1")

    def first_delay(self, family: Family) -> float:
        """Seconds (wall clock) from submission to the first poll of a ``family`` task."""
        base = _INITIAL_DELAY[family] if self.initial_delay is None else self.initial_delay
        return self._jittered(base / self.time_scale)

    def next_interval(self, previous: float | None) -> float:
        """The un-jittered gap after ``previous`` (``None`` before the first), wall clock."""
        if previous is None:
            return self.min_interval / self.time_scale
        return min(self.max_interval / self.time_scale, previous * self.backoff)

    def jittered(self, interval: float) -> float:
        """``interval`` spread by ``jitter`` so that tasks submitted together drift apart."""
        return self._jittered(interval)

    def _jittered(self, value: float) -> float:
        if not self.jitter or not value:
            return value
        # Jitter spreads load; it is not security-sensitive.
        return value * random.uniform(1 - self.jitter, 1 + self.jitter)

    def scaled(self, factor: float) -> PollPolicy:
        """The same policy running ``factor`` times faster (for the emulator's speed)."""
        if factor <= 0:
            raise ValueError("factor must be positive")
        return attrs.evolve(self, time_scale=self.time_scale * factor)
