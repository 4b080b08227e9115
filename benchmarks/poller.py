"""Scenarios 1, 4, 5 and 6: N sonic jobs in flight, driven by the SDK.

Run one mode in this process (so CPU and memory are that mode's alone) against its own
emulator process, and print the numbers as JSON:

    python -m benchmarks.poller --mode sdk --jobs 2000 --speed 30 --warmup 200
    python -m benchmarks.poller --mode fixed --interval 20 --jobs 2000 --speed 30
    python -m benchmarks.poller --mode push --jobs 2000 --speed 30

``sdk`` waits with a ``PollPolicy`` (the default, or ``--min-interval``/``--max-interval``)
scaled to the emulator's speed, through ``as_completed``. ``fixed`` is what most
integrations write: one loop per task that sleeps ``--interval`` seconds (scaled) and
polls until every clip is done. ``push`` is ``sdk`` with webhooks: a receiver (an
``aiohttp.web`` app with ``api.webhook_handler()``) runs in this process, and polls are
only the safety net. All three submit the same requests through the same client, so only
the waiting differs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

import anyio
from aiohttp import web

from musicapi_async import (
    Family,
    Governor,
    Job,
    MusicAPI,
    PollPolicy,
    SonicRequest,
    SQLiteJournal,
)

from ._harness import (
    API_KEY,
    EmulatorProcess,
    Meter,
    control,
    emit,
    emulator_process,
    free_port,
    profiled,
    prompt,
)

WEBHOOK_SECRET = "bench-webhook-secret"
SUBMIT_CONCURRENCY = 64  # creates in flight at once (the floor uses the same)
MAX_CONCURRENT_POLLS = 128  # above the 100-connection pool, so the pool is the cap


def requests(count: int, start: int = 0) -> list[SonicRequest]:
    """The workload: description-mode songs, as a bulk user would send."""
    return [
        SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt=prompt(i))
        for i in range(start, start + count)
    ]


WaitOne = Callable[[Job], Coroutine[Any, Any, None]]


async def run_all(
    api: MusicAPI, batch: Sequence[SonicRequest], meter: Meter | None, wait_one: WaitOne
) -> list[Job]:
    """Submit ``batch`` from ``SUBMIT_CONCURRENCY`` coroutines, waiting for each job from
    the moment it is submitted (as the floor does): under the create pace, the first jobs
    finish long before the last are sent."""
    jobs: list[Job] = []
    pending = iter(batch)

    # An asyncio task group, as the floor's: the harness spawns its per-job coroutines
    # the same way on both sides, so the ratio prices the SDK, not the harness.
    async with asyncio.TaskGroup() as group:

        async def submitter() -> None:
            for request in pending:
                job = await api.submit(request)
                jobs.append(job)
                if meter is not None:
                    meter.submitted_at.append(time.monotonic())
                    meter.task_ids.add(job.task_id)
                    if len(jobs) == len(batch):
                        meter.rss.mark("submitted")
                group.create_task(wait_one(job))

        for _ in range(SUBMIT_CONCURRENCY):
            group.create_task(submitter())
    return jobs


async def submit_then_as_completed(
    api: MusicAPI, batch: Sequence[SonicRequest], meter: Meter
) -> list[Job]:
    """Submit ``batch`` from ``SUBMIT_CONCURRENCY`` coroutines, then wait for every job
    through one ``as_completed``, as a batch script does: no coroutine per job. Only
    for runs whose jobs are all submitted long before the first can finish (no pace)."""
    jobs: list[Job] = []
    pending = iter(batch)

    async def submitter() -> None:
        for request in pending:
            job = await api.submit(request)
            jobs.append(job)
            meter.submitted_at.append(time.monotonic())
            meter.task_ids.add(job.task_id)

    async with anyio.create_task_group() as group:
        for _ in range(SUBMIT_CONCURRENCY):
            group.start_soon(submitter)
    meter.rss.mark("submitted")
    async for job in api.as_completed(jobs, timeout=3600):
        meter.delivered[job.task_id] = time.monotonic()
    return jobs


def sdk_waiter(delivered: dict[str, float]) -> WaitOne:
    """Wait for one job through the shared poller (``Job.wait``)."""

    async def wait_one(job: Job) -> None:
        await job.wait(timeout=3600)
        delivered[job.task_id] = time.monotonic()

    return wait_one


def fixed_waiter(api: MusicAPI, delivered: dict[str, float], interval: float) -> WaitOne:
    """Wait for one job with its own fixed-interval loop."""

    async def wait_one(job: Job) -> None:
        while True:
            await anyio.sleep(interval)
            snapshot = await api.get_task(job.task_id)
            if snapshot.done:
                delivered[job.task_id] = time.monotonic()
                return

    return wait_one


@contextlib.asynccontextmanager
async def webhook_receiver(api: MusicAPI, port: int) -> AsyncIterator[None]:
    """Serve ``api.webhook_handler()`` at ``http://127.0.0.1:{port}/hook`` in this process."""
    app = web.Application()
    app.router.add_post("/hook", api.webhook_handler())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield
    finally:
        await runner.cleanup()


def policy_for(args: argparse.Namespace) -> PollPolicy:
    """The SDK's poll policy for this run, scaled to the emulator's speed."""
    policy = PollPolicy()
    if args.min_interval is not None or args.max_interval is not None:
        policy = PollPolicy(min_interval=args.min_interval or policy.min_interval,
                            max_interval=args.max_interval or policy.max_interval)  # fmt: skip
    return policy.scaled(args.speed)


async def measure(emulator: EmulatorProcess, args: argparse.Namespace) -> dict[str, Any]:
    """Run one mode against ``emulator``; returns the numbers."""
    mode, jobs = args.mode, args.jobs
    meter = Meter(emulator, label=args.label or mode, jobs=jobs)
    hook_port = free_port()
    hook = f"http://127.0.0.1:{hook_port}/hook" if mode == "push" else None
    async with (
        MusicAPI(API_KEY, base_url=emulator.url, poll=policy_for(args),
                 governor=Governor.unlimited() if args.no_create_limit else Governor(),
                 max_concurrent_polls=MAX_CONCURRENT_POLLS, webhook_url=hook,
                 webhook_secret=WEBHOOK_SECRET if hook else None) as api,
        webhook_receiver(api, hook_port) if hook else contextlib.nullcontext(),
    ):  # fmt: skip
        # The connection pool exists before the baseline is read (and the client has
        # seen the emulator's speed, so seeded windows land in its time scale).
        await api.get_credits()
        if args.windows:
            async with SQLiteJournal(args.windows) as journal:
                api.poller.model.seed(await journal.load_windows())
        if args.warmup:
            await run_all(api, requests(args.warmup, jobs), None, sdk_waiter({}))
        # Where the first poll of a sonic task lands (the learned window's low edge, in
        # the server's seconds) as the measured jobs start and end: a restarted client's
        # polls/job depends on the edge it was seeded with (see RESULTS.md, scenario 1).
        edge_start = api.poller.model.window(Family.SONIC)[0] * args.speed
        meter.start()
        if args.as_completed:
            await submit_then_as_completed(api, requests(jobs), meter)
        else:
            if mode == "fixed":
                waiter = fixed_waiter(api, meter.delivered, args.interval / args.speed)
            else:
                waiter = sdk_waiter(meter.delivered)
            await run_all(api, requests(jobs), meter, waiter)
        meter.stop()
        if args.windows:
            async with SQLiteJournal(args.windows) as journal:
                await journal.save_windows(api.poller.model.learned())
        edge_end = api.poller.model.window(Family.SONIC)[0] * args.speed
        meter.extra.update(
            mode=mode,
            warmup=args.warmup,
            poller=api.poller.stats.polls,
            first_poll_edge_s=[round(edge_start, 1), round(edge_end, 1)],
        )
    if hook:
        meter.extra["webhooks"] = control(emulator.url, "webhooks")["counts"]
    return meter.result()


def build_parser() -> argparse.ArgumentParser:
    """The command line of one SDK run."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.poller")
    parser.add_argument("--mode", choices=("sdk", "fixed", "push"), default="sdk")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--speed", type=float, default=30.0)
    parser.add_argument("--warmup", type=int, default=0, help="unmeasured jobs run first")
    parser.add_argument("--interval", type=float, default=20.0,
                        help="fixed mode: seconds between polls (the vendor's 20 s)")  # fmt: skip
    parser.add_argument("--min-interval", type=float, help="sdk mode: PollPolicy.min_interval")
    parser.add_argument("--max-interval", type=float, help="sdk mode: PollPolicy.max_interval")
    parser.add_argument("--label", help="the row's name in the report")
    parser.add_argument("--profile", metavar="PATH", help="write a CPU profile of the run")
    parser.add_argument("--windows", metavar="PATH",
                        help="a SQLiteJournal to start from the completion windows it holds "
                        "and to save the learned ones to at the end")  # fmt: skip
    parser.add_argument("--as-completed", action="store_true",
                        help="submit every job first, then wait for all of them through one "
                        "api.as_completed (the scale scenario: no coroutine per job)")  # fmt: skip
    parser.add_argument("--no-create-limit", action="store_true",
                        help="turn the documented create pace off in the emulator and the "
                        "client (only for what the pace makes impossible)")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Run one mode against a fresh emulator process and print its numbers as JSON."""
    args = build_parser().parse_args(argv)
    with emulator_process(args.speed, webhooks=args.mode == "push",
                          create_limit=not args.no_create_limit) as emulator:  # fmt: skip
        with profiled(args.profile):
            result = anyio.run(measure, emulator, args)
        emit(result)


if __name__ == "__main__":
    main()
