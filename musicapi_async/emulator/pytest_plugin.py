"""A pytest plugin that serves a fresh MusicAPI emulator to each test that asks.

Registered as a ``pytest11`` entry point, so it is imported by every pytest run where
musicapi_async is installed: it imports nothing heavy at module level. Use it from an
anyio-marked test::

    @pytest.mark.anyio
    @pytest.mark.musicapi_emulator(speed=600, credits=50)
    async def test_generation(musicapi_emulator):
        async with MusicAPI(api_key=musicapi_emulator.api_key,
                            base_url=musicapi_emulator.url) as api:
            ...

The marker's keyword arguments go to ``Emulator(...)`` unchanged. Like the real API, the
emulator takes one create per 3 (emulated) seconds per key; a client follows its speed, so
at ``speed=600`` that is 200 creates a second. ``create_interval=None`` turns it off for a
test that sends raw creates back to back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from musicapi_async.emulator import Emulator

__all__ = ["musicapi_emulator"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so ``--strict-markers`` runs accept it."""
    config.addinivalue_line(
        "markers",
        "musicapi_emulator(**kwargs): keyword arguments for the musicapi_emulator fixture's "
        "Emulator(...)",
    )


@pytest.fixture
async def musicapi_emulator(
    request: pytest.FixtureRequest, anyio_backend: str
) -> AsyncIterator[Emulator]:
    """A running ``Emulator`` on a free loopback port, in the test's event loop.

    ``anyio_backend`` is requested so anyio's plugin drives this async fixture.
    """
    from musicapi_async.emulator import Emulator  # lazy: keep the plugin cheap to load

    marker = request.node.get_closest_marker("musicapi_emulator")
    kwargs = dict(marker.kwargs) if marker is not None else {}
    async with Emulator(**kwargs) as emulator:
        yield emulator
