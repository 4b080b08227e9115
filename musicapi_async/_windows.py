"""A coordinated client's learned completion windows, kept in its coordination.

A client whose ``coordination`` is also a ``WindowStore`` (``RedisCoordination`` is)
seeds its poll schedule from the fleet's windows when it opens, and then, every
``SYNC_EVERY`` seconds of the server's time (a minute) while it runs and once more when it
closes, gives the fleet what it learned and takes in what the others learned meanwhile:
each process of a fleet then schedules its polls from every process's observations, as
one client would. The store is a help, never a condition: a load or save that fails is
logged and the client polls on, from what it knows.

A store that also trades samples incrementally (``WindowExchange``: Redis does) is given
only the samples observed here since the last sync and answers with only the samples the
others added since: one round trip per sync, whose cost follows what was learned
meanwhile, not the size of the windows (up to 512 samples each, every server minute, in
every process of the fleet). A sample is given once, even if the round trip fails (it is
then lost: a sample less, never one counted twice).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

import anyio

from ._errors import CoordinationError
from ._polling import LearnedWindows

if TYPE_CHECKING:
    from ._journal import WindowStore
    from ._poller import Poller
    from ._polling import CompletionModel

__all__ = ["SYNC_EVERY", "WindowExchange", "WindowKeeper", "window_store"]

logger = logging.getLogger("musicapi_async.redis")

# Server seconds between two syncs of a running client: a minute against MusicAPI (tasks
# take minutes; one small Redis command), a second of wall time at an emulator's 60x.
SYNC_EVERY: Final = 60.0
# Wall seconds between two looks at the period (the speed may change meanwhile).
_STEP: Final = 5.0


@runtime_checkable
class WindowExchange(Protocol):
    """A window store that trades new samples only (``RedisCoordination``)."""

    async def exchange_windows(self, own: LearnedWindows) -> LearnedWindows:
        """Add ``own`` (samples observed here since the last exchange) to the fleet's and
        return the samples the other processes added since this one last read them.

        Raises:
            CoordinationError: the store cannot be reached.
        """
        ...


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
        extra = _unmatched(samples, mine.get(name, ()))
        if extra:
            missing[name] = extra
    return missing


def _unmatched(samples: list[float], known: object) -> list[float]:
    """The ``samples`` that ``known`` has no equal (to the ms) left for (multisets)."""
    have = Counter(round(v, 3) for v in known) if isinstance(known, list | tuple) else Counter()
    extra = []
    for value in samples:
        key = round(value, 3)
        if have[key] > 0:
            have[key] -= 1
        else:
            extra.append(value)
    return extra


def _added(now: list[float], before: list[float]) -> list[float]:
    """The samples of ``now`` that ``before`` did not have.

    Samples are only ever appended, so ``before`` is usually a prefix of ``now`` and the
    answer its tail (one list comparison). When the oldest samples were dropped (a full
    window) or the model was rebuilt for a new speed, they are matched to the ms instead.
    """
    if len(now) >= len(before) and now[: len(before)] == before:
        return now[len(before) :]
    return _unmatched(now, before)


class WindowKeeper:
    """Loads, saves and syncs the learned windows of one client's ``poller`` (its model
    is read each time: the poller replaces it when the server's speed becomes known)."""

    def __init__(self, store: WindowStore, poller: Poller) -> None:
        self._store = store
        self._poller = poller
        self._exchange = store if isinstance(store, WindowExchange) else None
        # What the model had when the store last got (or gave) samples.
        self._saved: LearnedWindows = {}
        # Samples the others gave since then, seeded here: not this process's to give.
        self._seeded: dict[str, Counter[float]] = {}

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
        self._seeded = {}

    async def save(self) -> None:
        """Give the store what was learned, if anything changed since the last save."""
        learned = self._model().learned()
        if learned == self._saved:
            return
        if self._exchange is not None:
            await self._trade(learned, take=False)
            return
        try:
            await self._store.save_windows(learned)
        except CoordinationError as exc:
            logger.warning("could not save the learned poll windows: %s", exc)
            return
        self._saved = learned

    async def sync(self) -> None:
        """Give the store what was learned here, then take in what the others learned."""
        if self._exchange is not None:
            await self._trade(self._model().learned(), take=True)
            return
        await self.save()
        try:
            fleet = await self._store.load_windows()
        except CoordinationError as exc:
            logger.warning("could not read the fleet's poll windows: %s", exc)
            return
        model = self._model()
        # The others' new samples wait for their cohort, as this process's own do.
        if model.seed(_missing(fleet, model.learned()), fresh=True):
            self._saved = model.learned()

    def _own(self, learned: LearnedWindows) -> LearnedWindows:
        """The samples this process observed since the last trade (the others' left out)."""
        own: LearnedWindows = {}
        for name, samples in learned.items():
            added = _added(samples, self._saved.get(name, []))
            seeded = self._seeded.get(name)
            if seeded:
                added = [v for v in added if not _consume(seeded, round(v, 3))]
            if added:
                own[name] = added
        return own

    async def _trade(self, learned: LearnedWindows, *, take: bool) -> None:
        assert self._exchange is not None
        own = self._own(learned)
        if not own and not take:
            self._saved, self._seeded = learned, {}
            return
        try:
            others = await self._exchange.exchange_windows(own)
        except CoordinationError as exc:
            logger.warning("could not trade the learned poll windows: %s", exc)
            others = {}
        # Given once, whatever came of it: a sample is never counted twice.
        self._saved, self._seeded = learned, {}
        if take and others and self._model().seed(others, fresh=True):
            self._seeded = {name: Counter(round(v, 3) for v in vs) for name, vs in others.items()}

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


def _consume(counts: Counter[float], key: float) -> bool:
    """Take one ``key`` from ``counts`` if it has one."""
    if counts[key] > 0:
        counts[key] -= 1
        return True
    return False
