"""Fixtures of the emulator tests: a raw HTTP client of a stopped-clock emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .support import Client, serve


@pytest.fixture
async def api() -> AsyncIterator[Client]:
    """A raw client of a fresh emulator whose clock moves only with ``advance``."""
    async with serve() as client:
        yield client
