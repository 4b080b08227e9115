"""Scenario: N sonic jobs in flight, the SDK's shared poller against a fixed-interval loop.

Run one mode in this process (so CPU and memory are that mode's alone) and print JSON:

    python -m benchmarks.poller --mode sdk --jobs 2000 --speed 30
    python -m benchmarks.poller --mode fixed --jobs 2000 --speed 30

``sdk`` waits with the default ``PollPolicy`` (scaled to the emulator's speed) through
``as_completed``. ``fixed`` is what most integrations write: one loop per task that
sleeps the vendor's 20 s (scaled) and polls until every clip is done. Both submit the
same requests through the same client, so only the waiting differs.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from typing import Any

import anyio

from musicapi_async import Job, MusicAPI, PollPolicy, SonicRequest

from ._harness import (
    API_KEY,
    ClockMap,
    control,
    current_rss_mb,
    emulator_process,
    peak_rss_mb,
    percentile,
    task_ends,
)

FIXED_INTERVAL = 20.0  # seconds: the middle of the vendor's 15-25 s guidance


def requests(count: int) -> list[SonicRequest]:
    """The workload: description-mode songs, as a bulk user would send."""
    return [SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt=f"song {i}")
            for i in range(count)]  # fmt: skip


async def _submit_all(api: MusicAPI, count: int) -> list[Job]:
    jobs: list[Job] = []

    async def submit(request: SonicRequest) -> None:
        jobs.append(await api.submit(request))

    limiter = anyio.CapacityLimiter(64)

    async def bounded(request: SonicRequest) -> None:
        async with limiter:
            await submit(request)

    async with anyio.create_task_group() as group:
        for request in requests(count):
            group.start_soon(bounded, request)
    return jobs


async def _wait_sdk(api: MusicAPI, jobs: Sequence[Job], delivered: dict[str, float]) -> None:
    async for job in api.as_completed(jobs, timeout=3600):
        delivered[job.task_id] = time.monotonic()


async def _wait_fixed(
    api: MusicAPI, jobs: Sequence[Job], delivered: dict[str, float], interval: float
) -> None:
    async def loop(job: Job) -> None:
        while True:
            await anyio.sleep(interval)
            snapshot = await api.get_task(job.task_id)
            if snapshot.done:
                delivered[job.task_id] = time.monotonic()
                return

    async with anyio.create_task_group() as group:
        for job in jobs:
            group.start_soon(loop, job)


async def _sample_memory(samples: list[float], stop: anyio.Event) -> None:
    while not stop.is_set():
        samples.append(current_rss_mb())
        with anyio.move_on_after(0.25):
            await stop.wait()


async def measure(url: str, mode: str, jobs: int, speed: float, warmup: int = 0) -> dict[str, Any]:
    """Run one mode against the emulator at ``url``; returns the numbers.

    ``warmup`` jobs run first on the same client and are not measured: a long-lived
    client (a web backend) has seen tasks finish before, and the SDK learns from them.
    """
    policy = PollPolicy().scaled(speed)
    delivered: dict[str, float] = {}
    memory: list[float] = []
    stop = anyio.Event()
    async with MusicAPI(API_KEY, base_url=url, poll=policy, max_concurrent_polls=128) as api:
        if warmup and mode == "sdk":
            await _wait_sdk(api, await _submit_all(api, warmup), {})
        clock = ClockMap.sample(url, speed)
        polls_before = control(url, "stats")["requests"].get("sonic.task", 0)
        cpu0, wall0 = time.process_time(), time.monotonic()
        async with anyio.create_task_group() as group:
            group.start_soon(_sample_memory, memory, stop)
            submitted = await _submit_all(api, jobs)
            if mode == "sdk":
                await _wait_sdk(api, submitted, delivered)
            else:
                await _wait_fixed(api, submitted, delivered, FIXED_INTERVAL / speed)
            stop.set()
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    stats = control(url, "stats")
    ends = task_ends(url)
    latencies = [clock.virtual(t) - ends[task_id] for task_id, t in delivered.items()]
    last_end = max(ends[j.task_id] for j in submitted)
    ideal_wall = (last_end - clock.virtual(wall0)) / speed
    half = len(memory) // 2
    return {
        "mode": mode,
        "jobs": jobs,
        "warmup": warmup if mode == "sdk" else 0,
        "speed": speed,
        "delivered": len(delivered),
        "polls_per_job": (stats["requests"].get("sonic.task", 0) - polls_before) / jobs,
        "latency_p50_s": percentile(latencies, 0.5),
        "latency_p95_s": percentile(latencies, 0.95),
        "wall_s": wall,
        "ideal_wall_s": ideal_wall,
        "cpu_ms_per_job": cpu / jobs * 1000,
        "peak_rss_mb": peak_rss_mb(),
        "rss_first_half_mb": max(memory[:half], default=math.nan),
        "rss_second_half_mb": max(memory[half:], default=math.nan),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Run one mode against a fresh emulator process and print its numbers as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.poller")
    parser.add_argument("--mode", choices=("sdk", "fixed"), default="sdk")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--speed", type=float, default=30.0)
    parser.add_argument("--warmup", type=int, default=0, help="unmeasured jobs run first")
    parser.add_argument("--url", help="an emulator already running (default: start one)")
    args = parser.parse_args(argv)
    run = (args.mode, args.jobs, args.speed, args.warmup)
    if args.url:
        result = anyio.run(measure, args.url, *run)
    else:
        with emulator_process(args.speed) as url:
            result = anyio.run(measure, url, *run)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
