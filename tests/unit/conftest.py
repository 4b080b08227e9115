"""Fixtures of the unit tests: an open client wired to a fake server, no sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .support import FakeServer


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    """A fake MusicAPI and an open client (``server.api``) that talks only to it."""
    fake = FakeServer()
    async with fake.api:
        yield fake
    assert fake.transport.closed
