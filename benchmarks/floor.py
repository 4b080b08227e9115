"""Scenario 2: the floor, a minimal hand-written aiohttp client doing the identical protocol.

    python -m benchmarks.floor --jobs 2000 --speed 30 --warmup 200

What "identical" means here:

- the same submissions: the same JSON bytes (checked against the SDK's own encoder before
  the run), the same headers, ``SUBMIT_CONCURRENCY`` creates at a time, one
  100-connection pool, at the documented pace the emulator enforces, through the SDK's
  own pacing policy (``Governor()``: one create per 3 emulated seconds, a 429 waits its
  ``Retry-After``), so both send creates on one schedule;
- the same poll schedule: the floor asks ``musicapi_async._polling.CompletionModel`` (the
  SDK's pure scheduling policy, no I/O) when to poll, and feeds it the same observations
  the SDK's poller does, so a warm floor learns the same windows as a warm SDK;
- and nothing else: one coroutine per job that submits, sleeps, GETs and checks with
  ``json.loads`` whether every clip is terminal. No models, validation, converter, shared
  poller, events, error mapping or retries.

So the difference between the SDK and the floor is the price of the SDK's features.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from musicapi_async import Family, Governor, PollPolicy, RateLimited, __version__
from musicapi_async._polling import CompletionModel
from musicapi_async._protocol import build_request

from ._harness import (
    API_KEY,
    EmulatorProcess,
    Meter,
    emit,
    emulator_process,
    profiled,
    sonic_body,
)
from .poller import SUBMIT_CONCURRENCY, requests

_TERMINAL = frozenset({"succeeded", "failed"})


def encode(index: int) -> bytes:
    """The create body of request ``index``, encoded the way the SDK encodes it."""
    return json.dumps(sonic_body(index), separators=(",", ":"), ensure_ascii=False).encode()


def finished(body: bytes) -> bool:
    """Whether a task answer shows every clip terminal (a 202 not_ready never does)."""
    clips = json.loads(body).get("data")
    return bool(clips) and all(clip.get("state") in _TERMINAL for clip in clips)


def _refuse_if_throttled(status: int, retry_after: str | None) -> None:
    """A 429 raised inside the governor's lease, so the lease records the throttle."""
    if status == 429:
        raise RateLimited("429", retry_after=float(retry_after or 1))


class Floor:
    """The whole client: a session, a schedule, and one coroutine per job."""

    def __init__(self, session: aiohttp.ClientSession, url: str, speed: float) -> None:
        self.session = session
        self.create_url = f"{url}/api/v1/sonic/create"
        self.task_url = f"{url}/api/v1/sonic/task/"
        self.model = CompletionModel(PollPolicy().scaled(speed))
        self.headers = {
            "Authorization": f"Bearer {API_KEY}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"musicapi-async/{__version__}",
        }
        self.slots = asyncio.Semaphore(SUBMIT_CONCURRENCY)
        # The create schedule is the SDK's own pacing policy, as the poll schedule is the
        # SDK's CompletionModel: one create per 3 emulated seconds, a 429 pauses for its
        # Retry-After and lowers the rate as it does for the SDK. A hand-rolled pacer
        # would send on another schedule (more 429s, more bytes), not the same one.
        self.governor = Governor()
        self.governor.set_time_scale(speed)

    async def create(self, index: int) -> str:
        """Send create ``index`` at its turn (again after a 429); returns the task id."""
        body = encode(index)
        while True:
            try:
                async with self.governor.create():
                    async with self.session.post(
                        self.create_url, data=body, headers=self.headers
                    ) as r:
                        status, answer = r.status, await r.read()
                        retry_after = r.headers.get("Retry-After")
                    _refuse_if_throttled(status, retry_after)
            except RateLimited:
                continue
            return str(json.loads(answer)["task_id"])

    async def job(self, index: int, meter: Meter | None, all_submitted: asyncio.Event) -> None:
        """Submit request ``index`` and poll its task until every clip is terminal."""
        async with self.slots:
            task_id = await self.create(index)
        submitted = time.monotonic()
        if meter is not None:
            meter.submitted_at.append(submitted)
            meter.task_ids.add(task_id)
            if len(meter.submitted_at) == meter.jobs:
                all_submitted.set()
        model, url = self.model, self.task_url + task_id
        await asyncio.sleep(model.first_poll(Family.SONIC, playable=False))
        # As the SDK's poller does: a first poll placed before the model had learned
        # waits for the window learned since.
        wait = model.first_poll_due(Family.SONIC, time.monotonic() - submitted)
        if wait > 0:
            await asyncio.sleep(wait)
        seen: float | None = None
        gap: float | None = None
        while True:
            async with self.session.get(url, headers=self.headers) as r:
                status, body = r.status, await r.read()
            now = time.monotonic()
            if status == 200 and finished(body):
                before = None if seen is None else seen - submitted  # None: first look
                model.observe_done(Family.SONIC, before, now - submitted)
                if meter is not None:
                    meter.delivered[task_id] = now
                return
            seen = now
            delay, gap = model.next_poll(Family.SONIC, now - submitted, gap, playable=False)
            await asyncio.sleep(delay)

    async def run(self, indices: range, meter: Meter | None) -> None:
        """Run the jobs of ``indices`` to the end; marks the RSS once all are submitted."""
        all_submitted = asyncio.Event()
        async with asyncio.TaskGroup() as group:
            for index in indices:
                group.create_task(self.job(index, meter, all_submitted))
            if meter is not None:
                await all_submitted.wait()
                meter.rss.mark("submitted")


async def measure(emulator: EmulatorProcess, jobs: int, warmup: int) -> dict[str, Any]:
    """Run the floor against ``emulator`` (after ``warmup`` unmeasured jobs)."""
    sdk_body = build_request("sonic.create", requests(1)[0]).body
    if encode(0) != sdk_body:
        raise RuntimeError(f"the floor would not send what the SDK sends: {sdk_body!r}")
    meter = Meter(emulator, label="floor", jobs=jobs)
    timeout = aiohttp.ClientTimeout(total=120.0, connect=10.0)
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        floor = Floor(session, emulator.url, emulator.speed)
        async with session.get(f"{emulator.url}/api/v1/get-credits", headers=floor.headers) as r:
            await r.read()  # the connection pool exists before the baseline is read
        if warmup:
            await floor.run(range(jobs, jobs + warmup), None)
        meter.start()
        await floor.run(range(jobs), meter)
        meter.stop()
    meter.extra.update(mode="floor", warmup=warmup)
    return meter.result()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the floor against a fresh emulator process and print its numbers as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--speed", type=float, default=30.0)
    parser.add_argument("--warmup", type=int, default=0, help="unmeasured jobs run first")
    parser.add_argument("--profile", metavar="PATH", help="write a CPU profile of the run")
    args = parser.parse_args(argv)
    with emulator_process(args.speed) as emulator:
        with profiled(args.profile):
            result = asyncio.run(measure(emulator, args.jobs, args.warmup))
        emit(result)


if __name__ == "__main__":
    main()
