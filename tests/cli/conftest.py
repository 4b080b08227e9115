"""Fixtures of the command-line tests: a fast emulator the CLI reaches over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from musicapi_async.emulator import Emulator

from .support import SPEED


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own key or base URL never leaks into a test run."""
    monkeypatch.delenv("MUSICAPI_API_KEY", raising=False)
    monkeypatch.delenv("MUSICAPI_BASE_URL", raising=False)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """A fast emulator on this test's loop (the CLI runs in a worker thread)."""
    async with Emulator(speed=SPEED, credits=100_000) as emulator:
        yield emulator


@pytest.fixture
def target(emu: Emulator) -> list[str]:
    """The global options that point the CLI at ``emu``."""
    return ["--base-url", emu.url, "--api-key", emu.api_key, "--speed", str(SPEED)]
