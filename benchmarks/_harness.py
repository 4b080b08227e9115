"""Benchmark plumbing: an emulator in its own process, and the meter every client runs under.

The emulator runs in a separate process so the client's CPU time and memory are the
client's alone. Times on the server are virtual (emulated seconds); ``ClockMap`` converts
the client's wall clock to the server's virtual clock so that delivery latency (from a
task's completion on the server to its delivery to the caller) is measured in emulated
seconds, comparable to what a user would see against the real API.

Every client (the SDK, the fixed loop, the raw-aiohttp floor, the vendor's client) is
measured by the same ``Meter``: it reads the emulator's counters before and after, the
client's CPU and wall time around the measured section, RSS from a sampling thread, the
emulator process's own CPU time (to show it was not the bottleneck) and the rest of the
machine's (to show what else the run shared two cores with). Each scenario prints one
JSON object (``Meter.result``) as its last line of output.
"""

from __future__ import annotations

import bisect
import contextlib
import cProfile
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

import attrs

API_KEY: Final = "bench-key"
SONIC_TASK: Final = "sonic.task"
_TICKS: Final = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A free loopback port (tiny race, acceptable on a benchmark machine)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name (field 2) may hold spaces; the fields after ")" are fixed.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def machine_cpu_seconds() -> float:
    """CPU seconds every process on this machine has used since boot (``/proc/stat``)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait.
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICKS


@attrs.frozen
class EmulatorProcess:
    """A running ``python -m musicapi_async.emulator``: where it listens, and its pid."""

    url: str
    speed: float
    pid: int | None = None

    def cpu_seconds(self) -> float:
        """CPU seconds the emulator has used; NaN when it is not our child."""
        return float("nan") if self.pid is None else process_cpu_seconds(self.pid)


@contextlib.contextmanager
def emulator_process(
    speed: float, *, webhooks: bool = False, create_limit: bool = True
) -> Iterator[EmulatorProcess]:
    """Run the emulator CLI at ``speed`` in its own process until the block ends.

    The emulator enforces the documented pace (one create per 3 emulated seconds per key)
    as it does by default: the runs stay short because the emulator runs fast, not because
    the pace is off. ``create_limit=False`` is only for the two scenarios the pace makes
    impossible (10,000 jobs in flight at once on one key, and the vendor's client, which
    does not pace its creates); their sections say so.
    """
    port = free_port()
    cmd = [sys.executable, "-m", "musicapi_async.emulator", "--port", str(port),
           "--api-key", API_KEY, "--speed", str(speed), "--credits", "100000000"]  # fmt: skip
    if not create_limit:
        cmd.append("--no-create-limit")
    if not webhooks:
        cmd.append("--no-webhooks")
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
        yield EmulatorProcess(url, speed, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def control(url: str, path: str) -> Any:
    """GET ``/_emulator/{path}`` (blocking; call it outside the measured section)."""
    with urllib.request.urlopen(f"{url}/_emulator/{path}", timeout=60) as response:
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


def tasks(url: str) -> list[Mapping[str, Any]]:
    """Every task the emulator knows, as its control surface shows them."""
    listed = control(url, "tasks")
    rows: list[Mapping[str, Any]] = listed["tasks"] if isinstance(listed, Mapping) else listed
    return rows


def prompt(index: int) -> str:
    """The description of song ``index`` of the workload."""
    return f"song {index}"


def sonic_body(index: int) -> dict[str, Any]:
    """Request ``index`` of the workload as wire JSON: a description-mode song."""
    return {"task_type": "create_music", "custom_mode": False, "mv": "sonic-v5",
            "gpt_description_prompt": prompt(index)}  # fmt: skip


class RssSampler:
    """Samples this process's RSS every ``interval`` seconds on a daemon thread.

    A thread (not a coroutine) so that asyncio, anyio and threaded clients are sampled
    the same way; four reads of ``/proc`` a second cost nothing measurable.
    """

    def __init__(self, interval: float = 0.25) -> None:
        self.samples: list[tuple[float, float]] = []
        self.marks: dict[str, float] = {}
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), current_rss_mb()))
            self._stop.wait(self._interval)

    def start(self) -> None:
        """Start sampling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling and take one last sample."""
        self._stop.set()
        self._thread.join()
        self.samples.append((time.monotonic(), current_rss_mb()))

    def mark(self, name: str) -> None:
        """Record the RSS right now under ``name`` (e.g. ``"submitted"``)."""
        self.marks[name] = current_rss_mb()


class Meter:
    """Measures one client run against one emulator process.

    Use ``start()`` just before the first submission and ``stop()`` just after the last
    delivery; record each delivery in ``delivered`` (task id -> ``time.monotonic()``).
    ``result()`` then reads the emulator (blocking) and returns the numbers.
    """

    def __init__(self, emulator: EmulatorProcess, *, label: str, jobs: int) -> None:
        self.emulator = emulator
        self.label = label
        self.jobs = jobs
        self.delivered: dict[str, float] = {}
        self.submitted_at: list[float] = []
        self.task_ids: set[str] = set()
        self.extra: dict[str, Any] = {}
        self.rss = RssSampler()
        self._clock: ClockMap | None = None
        self._requests0: Mapping[str, int] = {}
        # (wall, client CPU, emulator CPU, machine CPU) at start() and at stop().
        self._start = self._stop = (0.0, 0.0, 0.0, 0.0)
        self._peak_rss = float("nan")

    def start(self) -> None:
        """Sample the clocks and counters (blocking: call it before the client runs)."""
        self.rss.mark("base")
        self._clock = ClockMap.sample(self.emulator.url, self.emulator.speed)
        self._requests0 = dict(control(self.emulator.url, "stats")["requests"])
        self.rss.start()
        self._start = self._now()

    def stop(self) -> None:
        """End the measured section."""
        self._stop = self._now()
        self.rss.stop()
        self._peak_rss = peak_rss_mb()  # before result() loads the emulator's task list

    def _now(self) -> tuple[float, float, float, float]:
        return (time.monotonic(), time.process_time(), self.emulator.cpu_seconds(),
                machine_cpu_seconds())  # fmt: skip

    def result(self) -> dict[str, Any]:
        """The numbers of this run (reads the emulator's counters and task list)."""
        assert self._clock is not None, "start() was not called"
        clock, url, jobs = self._clock, self.emulator.url, self.jobs
        requests = control(url, "stats")["requests"]
        ends = {t["task_id"]: float(t["ends_at"]) for t in tasks(url)}
        mine = self.task_ids or set(self.delivered)
        latencies = [clock.virtual(at) - ends[task_id] for task_id, at in self.delivered.items()]
        wall, cpu, emulator_cpu, machine_cpu = (
            b - a for a, b in zip(self._start, self._stop, strict=True)
        )
        last_end = max((ends[t] for t in mine if t in ends), default=float("nan"))
        samples = [rss for at, rss in self.rss.samples]
        half = len(samples) // 2

        def delta(endpoint: str) -> int:
            return int(requests.get(endpoint, 0)) - int(self._requests0.get(endpoint, 0))

        return {
            "label": self.label,
            "jobs": jobs,
            "speed": self.emulator.speed,
            "delivered": len(self.delivered),
            "submitted": delta("sonic.create"),
            "polls_per_job": delta(SONIC_TASK) / jobs,
            "latency_p50_s": percentile(latencies, 0.5),
            "latency_p95_s": percentile(latencies, 0.95),
            "latency_max_s": max(latencies, default=float("nan")),
            "wall_s": wall,
            "ideal_wall_s": (last_end - clock.virtual(self._start[0])) / clock.speed,
            "cpu_s": cpu,
            "cpu_ms_per_job": cpu / jobs * 1000,
            "client_busy": cpu / wall,
            "emulator_busy": emulator_cpu / wall,
            # Everything else on the machine: other people's processes disturb a run.
            "others_busy": max(0.0, machine_cpu - cpu - emulator_cpu) / wall,
            "peak_rss_mb": self._peak_rss,
            "rss_marks_mb": dict(self.rss.marks),
            "rss_first_half_mb": max(samples[:half], default=float("nan")),
            "rss_second_half_mb": max(samples[half:], default=float("nan")),
            "rss_half_delivered_mb": self._rss_at_delivered(0.5),
            "rss_end_mb": samples[-1] if samples else float("nan"),
            "timeline": self._timeline(),
            **self.extra,
        }

    def _rss_at_delivered(self, fraction: float) -> float:
        """RSS at the first sample taken once ``fraction`` of the jobs were delivered."""
        times = sorted(self.delivered.values())
        if not times:
            return float("nan")
        when = times[min(len(times) - 1, int(fraction * self.jobs))]
        return next((rss for at, rss in self.rss.samples if at >= when), self.rss.samples[-1][1])

    def _timeline(self, points: int = 80) -> list[tuple[float, float, int]]:
        """(seconds since start, RSS MB, jobs in flight), at most ``points`` of them."""
        submitted, delivered = sorted(self.submitted_at), sorted(self.delivered.values())
        samples = self.rss.samples[:: max(1, len(self.rss.samples) // points)]
        return [(round(at - self._start[0], 2), round(rss, 1),
                 bisect.bisect_right(submitted, at) - bisect.bisect_right(delivered, at))
                for at, rss in samples]  # fmt: skip


@contextlib.contextmanager
def profiled(path: str | None) -> Iterator[None]:
    """Profile the block's CPU time (not wall time) into ``path``; no-op for ``None``.

    Read it with ``python -m pstats PATH`` (``sort tottime``, ``stats 30``). The numbers
    a profiled run prints are inflated by the profiler: use them for attribution only.
    """
    if path is None:
        yield
        return
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(path)


def emit(result: Mapping[str, Any]) -> None:
    """Print a scenario's result as the last line of its output (read by ``__main__``)."""
    print(json.dumps(result), flush=True)
