"""Benchmark plumbing: an emulator in its own process, and clocks to measure against it.

The emulator runs in a separate process so the client's CPU time and memory are the
client's alone. Times on the server are virtual (emulated seconds); ``ClockMap`` converts
the client's wall clock to the server's virtual clock so that delivery latency (from a
task's completion on the server to its delivery to the caller) is measured in emulated
seconds, comparable to what a user would see against the real API.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

API_KEY = "bench-key"


def free_port() -> int:
    """A free loopback port (tiny race, acceptable on a benchmark machine)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def emulator_process(speed: float, *, extra: Sequence[str] = ()) -> Iterator[str]:
    """Run ``python -m musicapi_async.emulator`` and yield its base URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "musicapi_async.emulator", "--port", str(port),
           "--api-key", API_KEY, "--speed", str(speed), "--credits", "100000000",
           *extra]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                control(url, "stats")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"the emulator did not start: {err}") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def control(url: str, path: str) -> Any:
    """GET ``/_emulator/{path}`` (blocking; call it outside the measured section)."""
    with urllib.request.urlopen(f"{url}/_emulator/{path}", timeout=30) as response:
        return json.load(response)


@attrs.frozen
class ClockMap:
    """Maps this process's monotonic clock onto the emulator's virtual clock."""

    wall0: float
    virtual0: float
    speed: float

    @classmethod
    def sample(cls, url: str, speed: float) -> ClockMap:
        """Read the emulator's clock once; the round trip's midpoint is the wall time."""
        before = time.monotonic()
        virtual = float(control(url, "stats")["virtual_time"])
        after = time.monotonic()
        return cls((before + after) / 2, virtual, speed)

    def virtual(self, wall: float) -> float:
        """The emulator's virtual time at this process's monotonic time ``wall``."""
        return self.virtual0 + (wall - self.wall0) * self.speed


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0-1) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Current resident memory of this process, in MB (Linux)."""
    with open(f"/proc/{os.getpid()}/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def task_ends(url: str) -> Mapping[str, float]:
    """Virtual completion time of every task the emulator knows."""
    tasks = control(url, "tasks")
    rows = tasks["tasks"] if isinstance(tasks, Mapping) else tasks
    return {t["task_id"]: float(t["ends_at"]) for t in rows}
