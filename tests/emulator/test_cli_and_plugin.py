"""The command line, the pytest fixture and the package's front door."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

import musicapi_async.emulator as emulator_package
from musicapi_async.emulator import Emulator

pytestmark = pytest.mark.anyio


def test_cli_prints_url_and_key_and_stops_on_ctrl_c() -> None:
    """``python -m musicapi_async.emulator`` serves, prints URL and key, and exits 0 on SIGINT."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "musicapi_async.emulator",
            "--port",
            "0",
            "--api-key",
            "cli-key",
            "--speed",
            "120",
            "--credits",
            "70",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("MusicAPI emulator listening on http://127.0.0.1:")
        url = first.rsplit(" ", 1)[-1].strip()
        assert proc.stdout.readline().strip() == "API key: cli-key"
        request = urllib.request.Request(
            url + "/api/v1/get-credits", headers={"Authorization": "Bearer cli-key"}
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert json.load(answer) == {"credits": 70, "extra_credits": 0}
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "Emulator stopped." in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_help_is_cheap() -> None:
    """``--help`` answers without starting anything."""
    out = subprocess.run(
        [sys.executable, "-m", "musicapi_async.emulator", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert "--speed" in out
    assert "--api-key" in out


def test_plugin_import_is_cheap() -> None:
    """Importing the pytest plugin (done by every pytest run) does not load the server."""
    code = (
        "import sys, musicapi_async.emulator.pytest_plugin; "
        "print(any(m.startswith('musicapi_async.emulator._') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert out.strip() == "False"


async def test_fixture_yields_a_running_emulator(musicapi_emulator: Emulator) -> None:
    """The ``musicapi_emulator`` fixture yields a started emulator with defaults."""
    assert musicapi_emulator.url.startswith("http://127.0.0.1:")
    assert musicapi_emulator.balance().credits == 1000


@pytest.mark.musicapi_emulator(api_key="marked", credits=5, speed=0)
async def test_fixture_takes_marker_arguments(musicapi_emulator: Emulator) -> None:
    """``@pytest.mark.musicapi_emulator(...)`` passes its arguments to ``Emulator``."""
    assert musicapi_emulator.api_key == "marked"
    assert musicapi_emulator.balance("marked").credits == 5


def test_all_is_sorted_and_complete() -> None:
    """``__all__`` is sorted and every name in it resolves."""
    names = emulator_package.__all__
    assert list(names) == sorted(names)
    for name in names:
        assert getattr(emulator_package, name) is not None
    with pytest.raises(AttributeError):
        emulator_package.NotAThing  # noqa: B018


async def test_url_needs_a_running_emulator() -> None:
    """``url`` before start is an error that says how to start it."""
    emulator = Emulator()
    with pytest.raises(RuntimeError, match="async with"):
        emulator.url  # noqa: B018
    async with emulator:
        assert emulator.url
    with pytest.raises(RuntimeError, match="already running"):
        async with emulator, emulator:
            pass
