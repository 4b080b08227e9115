"""Running worker processes (``tests.redis.worker``) and reading what they report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Final

import aiohttp
import anyio
from anyio.abc import Process

ROOT: Final = Path(__file__).resolve().parents[2]


async def spawn(cfg: dict[str, Any]) -> Process:
    """Start one worker process with ``cfg``; its stdout is a pipe of JSON lines."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return await anyio.open_process([sys.executable, "-m", "tests.redis.worker",
                                     json.dumps(cfg)], cwd=ROOT, env=env,
                                    stderr=subprocess.PIPE)  # fmt: skip


async def lines(process: Process) -> list[dict[str, Any]]:
    """Every JSON line the worker printed, until it exits."""
    assert process.stdout is not None
    buffer = b""
    async for chunk in process.stdout:
        buffer += chunk
    await process.wait()
    return [json.loads(line) for line in buffer.decode().splitlines() if line.strip()]


async def run_all(configs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Run the workers at once and return each one's lines."""
    results: list[list[dict[str, Any]]] = [[] for _ in configs]
    processes = [await spawn(cfg) for cfg in configs]

    async def collect(index: int) -> None:
        results[index] = await lines(processes[index])

    async with anyio.create_task_group() as group:
        for index in range(len(configs)):
            group.start_soon(collect, index)
    for process in processes:
        if process.returncode not in (0, 3):
            assert process.stderr is not None
            raise AssertionError((await process.stderr.receive()).decode(errors="replace"))
    return results


async def errors(process: Process) -> str:
    """What the worker wrote to stderr (for a failed assertion's message)."""
    assert process.stderr is not None
    data = b""
    async for chunk in process.stderr:
        data += chunk
    return data.decode(errors="replace")


async def billed_tasks(url: str) -> list[dict[str, Any]]:
    """Every task the emulator created (billed), from its control surface."""
    async with aiohttp.ClientSession() as session, session.get(f"{url}/_emulator/tasks") as r:
        data: dict[str, Any] = await r.json()
    tasks: list[dict[str, Any]] = data["tasks"]
    return tasks


def interleaved(reports: list[dict[str, Any]]) -> list[str]:
    """Tasks whose polls by two processes interleave (A, B, A): two pollers at once."""
    polls: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for worker, report in enumerate(reports):
        for task_id, at in report["polls"]:
            polls[task_id].append((at, worker))
    bad = []
    for task_id, seen in polls.items():
        order = [worker for _, worker in sorted(seen)]
        runs = [w for i, w in enumerate(order) if i == 0 or order[i - 1] != w]
        if len(runs) != len(set(runs)):
            bad.append(task_id)
    return bad


async def read_until(process: Process, seen: list[dict[str, Any]], accepted: int) -> None:
    """Read the worker's lines into ``seen`` until it has accepted ``accepted`` songs."""
    assert process.stdout is not None
    buffer = b""
    async for chunk in process.stdout:
        buffer += chunk
        *done, buffer = buffer.split(b"\n")
        seen.extend(json.loads(line) for line in done if line.strip())
        if sum("accepted" in line for line in seen) >= accepted:
            return
    raise AssertionError(f"the worker ended first: {seen}")


def reconcile(reports: list[dict[str, Any]], tasks: list[dict[str, Any]],
              titles: list[str]) -> dict[str, int]:  # fmt: skip
    """Check that nothing was lost or paid twice; returns tasks billed per title.

    Every song is delivered to every report, or reported unknown by all of them (its
    sender died between sending and recording): those are reconciled against what the
    emulator billed, as a user would against the dashboard: at most once each.
    """
    billed: dict[str, int] = defaultdict(int)
    for task in tasks:
        billed[task["title"]] += 1
    assert all(count == 1 for count in billed.values()), billed  # nothing paid twice
    for title in titles:
        delivered = [title in report["delivered"] for report in reports]
        unknown = [title in report["unknown"] for report in reports]
        assert all(delivered) or all(unknown), (title, delivered, unknown)
    return billed
