"""The emulator's virtual clock: every state is computed from it, none is timed.

``now = (monotonic() - t0) * speed + offset``. ``speed`` is a time factor (60 means one
emulated minute per wall second; 0 stops time so only ``advance`` moves it) and
``advance`` adds to ``offset``, which lets tests jump through a task's life instantly.
"""

from __future__ import annotations

import math
import time
from typing import Final

__all__ = ["DEFAULT_CREATE_INTERVAL", "DEFAULT_SPEED", "VirtualClock"]

# One default speed for ``Emulator()``, the emulator server and the CLI's ``--emulator``
# (a 2-4 minute song in 4-8 s, the demo's two dozen songs in well under a minute).
DEFAULT_SPEED: Final = 30.0
# The documented "one create every three seconds" per key (MUSICAPI.md §14), in
# emulated seconds: enforced by default, so nothing runs in a kinder world than the API.
DEFAULT_CREATE_INTERVAL: Final = 3.0


class VirtualClock:
    """Emulated seconds since the emulator started."""

    __slots__ = ("_offset", "_t0", "speed")

    def __init__(self, speed: float) -> None:
        if not math.isfinite(speed) or speed < 0:
            raise ValueError("speed must be a finite number >= 0")
        self.speed = float(speed)
        self._t0 = time.monotonic()
        self._offset = 0.0

    def now(self) -> float:
        """The current emulated time, in seconds."""
        return (time.monotonic() - self._t0) * self.speed + self._offset

    def advance(self, seconds: float) -> float:
        """Jump ``seconds`` of emulated time ahead; returns the new time."""
        if not math.isfinite(seconds) or seconds < 0:  # NaN would poison every state
            raise ValueError("the clock only moves forward, by a finite amount")
        self._offset += seconds
        return self.now()

    def wall_delay(self, until: float) -> float | None:
        """Wall seconds until emulated time ``until``; ``None`` if time is stopped."""
        remaining = until - self.now()
        if remaining <= 0:
            return 0.0
        if self.speed == 0:
            return None
        return remaining / self.speed
