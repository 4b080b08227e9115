"""``python -m benchmarks``: run the scenarios and write ``benchmarks/RESULTS.md``.

Each scenario runs in its own process against its own emulator process, so the CPU time
and memory reported are the client's alone. Targets are reported as ratios measured in
the same run; nothing is asserted about speed, and nothing is tuned by hand.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("RESULTS.md")


def _run(module: str, *args: str) -> dict[str, Any]:
    cmd = [sys.executable, "-m", f"benchmarks.{module}", *args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=1800)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def poller_section(jobs: int, speed: float, warmup: int) -> list[str]:
    """Scenario: jobs in flight, default policy (warm and cold) against a fixed loop."""
    common = ["--jobs", str(jobs), "--speed", str(speed)]
    warm = _run("poller", "--mode", "sdk", "--warmup", str(warmup), *common)
    cold = _run("poller", "--mode", "sdk", *common)
    fixed = _run("poller", "--mode", "fixed", *common)
    rows = [("SDK, default policy, warm client", warm),
            ("SDK, default policy, cold client", cold),
            ("fixed 20 s loop per task", fixed)]  # fmt: skip
    lines = [
        f"## Shared poller: {jobs} sonic jobs in flight (emulator at {speed:g}x)",
        "",
        "Latency is from a task's completion on the server to its delivery to the caller,",
        "in emulated seconds. A warm client has seen "
        f"{warmup} tasks finish first (a long-lived backend); a cold one has seen none.",
        "",
        "| client | delivered | polls/job | latency p50 | latency p95 | CPU ms/job "
        "| peak RSS MB | RSS 1st/2nd half MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['delivered']}/{r['jobs']} | {r['polls_per_job']:.2f} "
            f"| {r['latency_p50_s']:.1f} s | {r['latency_p95_s']:.1f} s "
            f"| {r['cpu_ms_per_job']:.2f} | {r['peak_rss_mb']:.0f} "
            f"| {r['rss_first_half_mb']:.0f} / {r['rss_second_half_mb']:.0f} |"
        )
    ratio = warm["polls_per_job"] / fixed["polls_per_job"]
    cold_ratio = cold["polls_per_job"] / fixed["polls_per_job"]
    latency_ok = warm["latency_p95_s"] <= fixed["latency_p95_s"]
    lines += [
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        f"| every job delivered | {warm['delivered']}/{jobs} "
        f"| {_verdict(warm['delivered'] == jobs)} |",
        f"| polls/job <= 0.5 x the fixed loop (warm) | {ratio:.2f} x | {_verdict(ratio <= 0.5)} |",
        f"| p95 latency <= the fixed loop's (warm) | {warm['latency_p95_s']:.1f} s vs "
        f"{fixed['latency_p95_s']:.1f} s | {_verdict(latency_ok)} |",
        f"| polls/job, cold client (for reference) | {cold_ratio:.2f} x | - |",
        "",
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run every scenario (``--quick``: a smoke run in under a minute) and write RESULTS.md."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="small smoke run; no RESULTS.md")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--speed", type=float, default=30.0)
    args = parser.parse_args(argv)
    jobs, warmup = (100, 20) if args.quick else (args.jobs, 200)
    started = time.monotonic()
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python -m benchmarks` on {time.strftime('%Y-%m-%d')}, "
        f"Python {platform.python_version()}, {platform.machine()}.",
        "",
        *poller_section(jobs, args.speed, warmup),
    ]
    lines.append(f"Total benchmark time: {time.monotonic() - started:.0f} s.")
    text = "\n".join(lines) + "\n"
    if args.quick:
        print(text)
    else:
        RESULTS.write_text(text)
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
