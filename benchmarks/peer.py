"""Scenario 3: the peer, the vendor-branded ``musicapi-sdk`` (import name ``musicapi``).

    python -m benchmarks.peer --mode helper --jobs 2000 --speed 30
    python -m benchmarks.peer --mode loop --jobs 2000 --speed 30

The vendor's client is synchronous (httpx), so N jobs in flight means N threads, all
sharing one client as its docs suggest. Its only setting changed is ``base_url``.

``helper`` is the vendor's own one-call path, ``sonic.generate_and_wait`` with its default
``PollOptions`` (a poll every 5 s, a 5-minute budget) scaled to the emulator's speed. It
stops at the first answer whose ``code`` is 200, which MusicAPI sends as soon as the
clips exist, long before they finish: the report says how many of the clips it returned
were actually finished. ``loop`` is what a user must write instead to get finished clips
from it: ``create``, then ``get_task`` every 20 s (scaled) until every clip is terminal.
"""

from __future__ import annotations

import argparse
import importlib.util
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ._harness import API_KEY, EmulatorProcess, Meter, emit, emulator_process, prompt, tasks

_TERMINAL = frozenset({"succeeded", "failed"})


def _params(index: int) -> Any:
    import musicapi

    return musicapi.SonicCreateParams(custom_mode=False, mv="sonic-v5",
                                      gpt_description_prompt=prompt(index))  # fmt: skip


def measure(emulator: EmulatorProcess, mode: str, jobs: int) -> dict[str, Any]:
    """Run ``jobs`` vendor-client jobs on as many threads; returns the numbers."""
    import musicapi

    speed = emulator.speed
    meter = Meter(emulator, label=f"vendor {mode}", jobs=jobs)
    # (monotonic time of return, clip ids and states it returned), one per job.
    returned: list[tuple[float, list[str], list[str]]] = []
    lock = threading.Lock()
    options = musicapi.PollOptions(poll_interval_ms=max(1, round(5_000 / speed)),
                                   timeout_ms=round(300_000 / speed))  # fmt: skip
    interval = 20.0 / speed

    def helper(client: Any, index: int) -> Any:
        return client.sonic.generate_and_wait(_params(index), options)

    def loop(client: Any, index: int) -> Any:
        task_id = client.sonic.create(_params(index)).task_id
        while True:
            time.sleep(interval)
            result = client.sonic.get_task(task_id)
            if result.data and all(song.state in _TERMINAL for song in result.data):
                return result

    run: Callable[[Any, int], Any] = helper if mode == "helper" else loop

    def one(client: Any, index: int) -> None:
        result = run(client, index)
        at = time.monotonic()
        with lock:
            returned.append((at, [s.clip_id for s in result.data], [s.state for s in result.data]))

    with musicapi.MusicAPI(api_key=API_KEY, base_url=f"{emulator.url}/api/v1") as client:
        client.credits.get()  # the connection pool exists before the baseline is read
        meter.start()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(one, client, index) for index in range(jobs)]
        meter.stop()
    errors = [repr(f.exception()) for f in futures if f.exception() is not None]
    owner = {clip["clip_id"]: t["task_id"] for t in tasks(emulator.url) for clip in t["clips"]}
    for at, clip_ids, _ in returned:
        meter.delivered[owner[clip_ids[0]]] = at
    states = [state for _, _, returned_states in returned for state in returned_states]
    meter.extra.update(
        mode=mode,
        threads=jobs,
        errors=len(errors),
        first_error=errors[0] if errors else None,
        clips_returned=len(states),
        clips_finished=sum(state == "succeeded" for state in states),
    )
    return meter.result()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the vendor client against a fresh emulator process and print JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer")
    parser.add_argument("--mode", choices=("helper", "loop"), default="helper")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--speed", type=float, default=30.0)
    args = parser.parse_args(argv)
    if importlib.util.find_spec("musicapi") is None:
        emit({"skipped": "musicapi-sdk is not installed (pip install -e '.[bench]')"})
        return
    # The vendor's client does not pace its creates: under the pace it would measure
    # its 429s, not its cost.
    with emulator_process(args.speed, create_limit=False) as emulator:
        emit(measure(emulator, args.mode, args.jobs))


if __name__ == "__main__":
    main()
