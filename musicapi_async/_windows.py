"""A coordinated client's learned completion windows, kept in its coordination.

A client whose ``coordination`` is also a ``WindowStore`` (``RedisCoordination`` is)
seeds its poll schedule from the fleet's windows when it opens, and then, every
``SYNC_EVERY`` seconds of the server's time (a minute) while it runs and once more when it closes,
merges what it learned into the fleet's and takes in what the others learned meanwhile:
each process of a fleet then schedules its polls from every process's observations, as
one client would. The store is a help, never a condition: a load or save that fails is
logged and the client polls on, from what it knows.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import TYPE_CHECKING, Final

import anyio

from ._errors import CoordinationError
from ._polling import LearnedWindows

if TYPE_CHECKING:
    from ._journal import WindowStore
    from ._poller import Poller
    from ._polling import CompletionModel

__all__ = ["SYNC_EVERY", "WindowKeeper", "window_store"]

logger = logging.getLogger("musicapi_async.redis")

# Server seconds between two syncs of a running client: a minute against MusicAPI (tasks
# take minutes; two small Redis commands), a second of wall time at an emulator's 60x.
SYNC_EVERY: Final = 60.0
# Wall seconds between two looks at the period (the speed may change meanwhile).
_STEP: Final = 5.0


def window_store(coordination: object) -> WindowStore | None:
    """``coordination`` if it keeps learned windows, else ``None``."""
    if coordination is None:
        return None
    from ._journal import WindowStore  # imported on use: ``import musicapi_async`` is lazy

    return coordination if isinstance(coordination, WindowStore) else None


def _missing(fleet: LearnedWindows, mine: LearnedWindows) -> LearnedWindows:
    """The fleet's samples this process does not have yet (multisets, to the ms)."""
    missing: LearnedWindows = {}
    for name, samples in fleet.items():
        have = Counter(round(v, 3) for v in mine.get(name, ()))
        extra = []
        for value in samples:
            key = round(value, 3)
            if have[key] > 0:
                have[key] -= 1
            else:
                extra.append(value)
        if extra:
            missing[name] = extra
    return missing


class WindowKeeper:
    """Loads, saves and syncs the learned windows of one client's ``poller`` (its model
    is read each time: the poller replaces it when the server's speed becomes known)."""

    def __init__(self, store: WindowStore, poller: Poller) -> None:
        self._store = store
        self._poller = poller
        self._saved: LearnedWindows = {}

    def _model(self) -> CompletionModel:
        return self._poller.model

    async def load(self) -> None:
        """Seed the model from the store (what the fleet learned so far)."""
        try:
            windows = await self._store.load_windows()
        except CoordinationError as exc:
            logger.warning("starting from the documented poll windows: %s", exc)
            return
        self._model().seed(windows)
        self._saved = self._model().learned()

    async def save(self) -> None:
        """Give the store what was learned, if anything changed since the last save."""
        learned = self._model().learned()
        if learned == self._saved:
            return
        try:
            await self._store.save_windows(learned)
        except CoordinationError as exc:
            logger.warning("could not save the learned poll windows: %s", exc)
            return
        self._saved = learned

    async def sync(self) -> None:
        """Save what was learned here, then take in what the others learned."""
        await self.save()
        try:
            fleet = await self._store.load_windows()
        except CoordinationError as exc:
            logger.warning("could not read the fleet's poll windows: %s", exc)
            return
        model = self._model()
        if model.seed(_missing(fleet, model.learned())):
            self._saved = model.learned()

    async def run(self) -> None:
        """Sync every ``SYNC_EVERY`` server seconds, until cancelled."""
        last = time.monotonic()
        while True:
            # The period is read again at each step, not once: the server's speed is only
            # known after the client opened (a first sleep of a real-time minute would
            # keep a fast emulator's fleet from sharing anything for that long).
            period = max(0.5, SYNC_EVERY / self._poller.policy.time_scale)
            await anyio.sleep(max(0.0, min(_STEP, period - (time.monotonic() - last))))
            if time.monotonic() - last >= period:
                last = time.monotonic()
                await self.sync()
