"""Ctrl-C and resume, with real signals: the CLI and the emulator as separate processes.

An in-process emulator would die with the CLI, so the emulator runs on its own here (as
in production, where MusicAPI outlives the command) and the CLI reaches it by URL.

The first run must still have tasks in flight when SIGINT lands, however loaded the
machine: a ``slow`` fault holds every poll answer far longer than the test takes, so no
task can be seen to finish before the signal, and the fault is removed before the rerun.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .support import read_manifest, write

SPEED = "300"  # a song takes 0.4-0.8 s once polls are answered: the rerun stays quick
HOLD = "60"  # wall seconds a held poll waits: far longer than it takes to send SIGINT
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "MUSICAPI_API_KEY": ""}
# ``python -m musicapi_async`` as a terminal's foreground job runs it: with SIGINT at its
# default. A test run started in the background (``pytest ... &`` in a script) ignores
# SIGINT and its children inherit that, so Python never turns the signal into
# KeyboardInterrupt and the CLI, rightly, carries on until the test gives up.
MUSICAPI = [sys.executable, "-c", "import runpy, signal; "
            "signal.signal(signal.SIGINT, signal.default_int_handler); "
            "runpy.run_module('musicapi_async', run_name='__main__')"]  # fmt: skip


@pytest.fixture
def server() -> Iterator[str]:
    """``python -m musicapi_async.emulator`` on a free port; yields its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "musicapi_async.emulator", "--port", "0", "--api-key", "k",
         "--speed", SPEED, "--credits", "100000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().rsplit(" ", 1)[-1].strip()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # a held poll can keep the server's shutdown waiting
            proc.kill()
            proc.communicate()


def control(url: str, method: str = "GET", body: Any = None) -> Any:
    """Call the emulator's control surface ``url`` and return its JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.load(answer)


def billed(url: str) -> Any:
    """What the emulator has billed, per endpoint."""
    return control(f"{url}/_emulator/stats")["billed"]


def hold_polls(url: str) -> Callable[[], None]:
    """Hold every poll answer ``HOLD`` seconds; returns the function that lets them go."""
    control(
        f"{url}/_emulator/faults",
        "POST",
        {"kind": "slow", "endpoint": "sonic.task", "delay": float(HOLD), "count": None},
    )
    return lambda: control(f"{url}/_emulator/faults", "DELETE")


def test_ctrl_c_says_what_is_in_flight_and_a_rerun_bills_nothing_twice(
    server: str, tmp_path: Path
) -> None:
    """SIGINT exits 130 with in-flight tasks and the resume command; a rerun bills nothing twice."""
    songs = write(tmp_path / "songs.jsonl", [
        *(f'{{"gpt_description_prompt": "song number {n}"}}' for n in range(6)),
        '{"id": "base", "gpt_description_prompt": "the base"}',
        '{"task_type": "extend_music", "continue_clip_id": "@base", "continue_at": 30, '
        '"prompt": "[Bridge] more"}',
    ])  # fmt: skip
    out = tmp_path / "out"
    journal = tmp_path / "journal.sqlite3"
    command = [*MUSICAPI, "bulk", str(songs), "--base-url", server,
               "--api-key", "k", "--speed", SPEED, "--journal", str(journal), "--out", str(out),
               "--concurrency", "4"]  # fmt: skip
    release = hold_polls(server)
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=ENV)  # fmt: skip
    try:
        assert first.stdout is not None
        for line in first.stdout:
            if "accepted as task" in line:
                break
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=20)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, err
    assert "Traceback" not in err, err[-4000:]
    assert "Interrupted: nothing more is being sent." in err
    assert "task(s) were in flight" in err
    assert "Resume with the same command" in err
    assert f"--journal {journal}" in err
    assert '--api-key "$MUSICAPI_API_KEY"' in err  # the key itself is never printed
    rows = read_manifest(out / "manifest.jsonl")
    in_flight = [r for r in rows if r["status"] == "in_flight"]
    assert in_flight
    assert all(r["task_id"] in err for r in in_flight)
    assert rows[-1]["status"] == "not_sent"  # the extension waits for its base
    sent_before = sum(billed(server).values())
    release()

    second = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=30)
    assert second.returncode == 0, second.stderr
    rows = read_manifest(out / "manifest.jsonl")
    assert [r["status"] for r in rows] == ["done"] * 8
    assert any(r["resumed"] for r in rows)
    assert billed(server) == {"sonic.create": 8}  # one per line, across both runs
    assert sent_before < 8
    assert "8 requests: 8 done, 0 failed" in second.stdout
