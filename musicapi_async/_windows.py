"""A coordinated client's learned completion windows, kept in its coordination.

A client whose ``coordination`` is also a ``WindowStore`` (``RedisCoordination`` is)
seeds its poll schedule from the fleet's windows when it opens, merges what it learned
back every ``SAVE_EVERY`` seconds while it runs (a backend worker may live for days) and
once more when it closes. The store is a help, never a condition: a load or save that
fails is logged and the client polls on, from the documented windows if need be.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

import anyio

from ._errors import CoordinationError
from ._journal import WindowStore
from ._polling import CompletionModel, LearnedWindows

__all__ = ["SAVE_EVERY", "WindowKeeper", "window_store"]

logger = logging.getLogger("musicapi_async.redis")

# Wall seconds between saves of a long-running client.
SAVE_EVERY: Final = 60.0


def window_store(coordination: object) -> WindowStore | None:
    """``coordination`` if it keeps learned windows, else ``None``."""
    return coordination if isinstance(coordination, WindowStore) else None


class WindowKeeper:
    """Loads and saves one client's learned windows (``model`` reads its current model:
    the poller replaces it when the server's speed becomes known)."""

    def __init__(self, store: WindowStore, model: Callable[[], CompletionModel]) -> None:
        self._store = store
        self._model = model
        self._saved: LearnedWindows = {}

    async def load(self) -> None:
        """Seed the model from the store."""
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

    async def run(self, every: float = SAVE_EVERY) -> None:
        """Save every ``every`` seconds, until cancelled."""
        while True:
            await anyio.sleep(every)
            await self.save()
