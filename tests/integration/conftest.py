"""Fixtures of the end-to-end tests: a fast emulator, an open SDK client on it, raw HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from musicapi_async import MusicAPI
from musicapi_async.emulator import Emulator

from .support import FAST_POLL, SPEED


@pytest.fixture
async def emu(request: pytest.FixtureRequest) -> AsyncIterator[Emulator]:
    """A running emulator at ``SPEED``; ``@pytest.mark.musicapi_emulator(...)`` overrides.

    The marker is the one the ``musicapi_emulator`` plugin fixture reads; its keyword
    arguments go to ``Emulator(...)`` on top of the fast default speed.
    """
    marker = request.node.get_closest_marker("musicapi_emulator")
    kwargs: dict[str, Any] = {"speed": SPEED, **(marker.kwargs if marker else {})}
    async with Emulator(**kwargs) as emulator:
        yield emulator


@pytest.fixture
async def api(emu: Emulator) -> AsyncIterator[MusicAPI]:
    """An open SDK client of ``emu`` whose poll schedule runs as fast as its clock."""
    async with MusicAPI(emu.api_key, base_url=emu.url, poll=FAST_POLL) as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP session, for media downloads and the ``/_emulator`` control surface."""
    async with aiohttp.ClientSession() as session:
        yield session
