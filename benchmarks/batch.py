"""Scenario 7 (issue 17): polls per job with batch polling against per-task polling.

The same workload twice, each on a fresh emulator, through the SDK's default client
(default poll schedule, the documented create pace): ``--jobs`` description-mode songs

- submitted as sonic batches of 10 (``api.sonic.batch``) and waited on together: their
  tasks are watched with one ``GET /sonic/batch?batch_id=`` per tick per batch;
- submitted one by one (``api.submit``) and waited on together: one
  ``GET /sonic/task/{id}`` per task per tick.

The emulator counts the requests, so the numbers are what the server saw. Prints one
JSON line (read by ``python -m benchmarks``):

    python -m benchmarks.batch --jobs 200 --speed 600
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

import anyio

from musicapi_async import Job, MusicAPI, SonicRequest
from musicapi_async.emulator import Emulator

from ._harness import emit, prompt

BATCH = 10
TARGET = 3.0  # issue 17: at least 3x fewer polls per job


def _requests(jobs: int) -> list[SonicRequest]:
    return [SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt=prompt(i))
            for i in range(jobs)]  # fmt: skip


async def _run(jobs: int, speed: float, *, batched: bool) -> dict[str, Any]:
    """One mode on a fresh emulator: requests the emulator saw, per job."""
    wanted = _requests(jobs)
    async with Emulator(speed=speed, credits=15 * jobs) as emu:
        async with MusicAPI(emu.api_key, base_url=emu.url) as api:
            await api.get_credits()  # learn the speed: pace and schedule run on its clock
            started = time.monotonic()
            submitted: list[Job] = []
            if batched:
                for start in range(0, jobs, BATCH):
                    batch = await api.sonic.batch(wanted[start : start + BATCH])
                    submitted.extend(batch.jobs)
            else:
                submitted = [await api.submit(request) for request in wanted]
            done = [job async for job in api.as_completed(submitted)]
            wall = time.monotonic() - started
        stats = emu.stats
    assert len(done) == jobs, "every job ends"
    polls = stats.requests.get("sonic.task", 0) + stats.requests.get("sonic.batch_status", 0)
    creates = stats.requests.get("sonic.create", 0) + stats.requests.get("sonic.batch", 0)
    return {"polls_per_job": polls / jobs, "creates_per_job": creates / jobs,
            "wall_s": wall, "polls": polls}  # fmt: skip


async def _main(jobs: int, speed: float) -> dict[str, Any]:
    batched = await _run(jobs, speed, batched=True)
    per_task = await _run(jobs, speed, batched=False)
    ratio = per_task["polls_per_job"] / batched["polls_per_job"]
    return {"jobs": jobs, "speed": speed, "batch": batched, "per_task": per_task,
            "ratio": ratio, "target": TARGET}  # fmt: skip


def row(result: dict[str, Any]) -> list[str]:
    """The targets-table row of ``python -m benchmarks`` for this scenario's result."""
    ratio, batch, single = result["ratio"], result["batch"], result["per_task"]
    measured = (f"{ratio:.1f}x fewer ({batch['polls_per_job']:.2f} vs "
                f"{single['polls_per_job']:.2f} polls/job, {result['jobs']} jobs; creates/job "
                f"{batch['creates_per_job']:.2f} vs {single['creates_per_job']:.2f})")  # fmt: skip
    verdict = "met" if ratio >= TARGET else f"**missed** (by {TARGET - ratio:.1f}x)"
    return [f"batch polling: polls/job >= {TARGET:g}x fewer than per-task polling", measured,
            verdict]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run both modes and print the JSON result."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch")
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--speed", type=float, default=600.0)
    args = parser.parse_args(argv)
    emit(anyio.run(_main, args.jobs, args.speed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
