"""``musicapi bulk FILE --redis URL`` on several processes: one run, one manifest."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import Process

from musicapi_async.emulator import Emulator

from .fleet import ROOT, billed_tasks
from .support import delete_namespace

pytestmark = pytest.mark.anyio

SPEED = 300.0


async def start(emu: Emulator, redis_url: str, run: str, songs: Path, manifest: Path) -> Process:
    """One ``musicapi bulk --redis`` process of the fleet."""
    args = [sys.executable, "-m", "musicapi_async", "bulk", str(songs), "--redis", redis_url,
            "--run", run, "--base-url", emu.url, "--api-key", emu.api_key, "--speed",
            str(SPEED), "--no-download", "--manifest", str(manifest), "--json",
            "--reclaim-after", "1", "--concurrency", "4"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return await anyio.open_process(args, cwd=ROOT, env=env)


async def finish(process: Process) -> dict[str, Any]:
    """The JSON summary the process printed."""
    assert process.stdout is not None
    out = b""
    async for chunk in process.stdout:
        out += chunk
    await process.wait()
    summary: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return summary


async def test_three_machines_share_one_run_and_survive_a_kill(
    redis_url: str, namespace: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Three processes run one 30-line file; one is SIGKILLed mid-run, its lines are
    reclaimed: every line ends in the one manifest, and nothing is billed twice."""
    request.addfinalizer(lambda: delete_namespace(redis_url, f"musicapi-bulk:{namespace}"))
    songs = tmp_path / "songs.txt"
    songs.write_text("".join(f"a song about the number {i}\n" for i in range(30)))
    manifests = [tmp_path / f"manifest-{i}.jsonl" for i in range(3)]
    async with Emulator(speed=SPEED, credits=10**6) as emu:
        workers = [await start(emu, redis_url, namespace, songs, m) for m in manifests]
        with anyio.fail_after(30):
            # Mid-run: some songs accepted, most not (the emulator offers no event for it).
            while len(emu.task_ids()) < 6:  # noqa: ASYNC110
                await anyio.sleep(0.05)
        os.kill(workers[0].pid, signal.SIGKILL)
        await workers[0].wait()
        with anyio.fail_after(60):
            summaries = [await finish(w) for w in workers[1:]]
        billed = emu.task_ids()

    written = [m for m in manifests if m.exists()]
    assert len(written) == 1  # one manifest for the whole fleet
    rows = [json.loads(line) for line in written[0].read_text().splitlines()]
    assert [row["line"] for row in rows] == list(range(1, 31))
    done = [row for row in rows if row["status"] == "done"]
    unknown = [row for row in rows if row["status"] == "unknown"]
    assert len(done) + len(unknown) == 30
    assert len(unknown) <= 4  # at most the lines the killed worker was sending
    assert len({row["task_id"] for row in done}) == len(done)
    assert {row["task_id"] for row in done} <= set(billed)
    assert len(billed) <= len(done) + len(unknown)  # nothing billed twice
    assert sum(s["mine"] for s in summaries) >= len(done) - 4
    assert all(s["run"] == namespace for s in summaries)


def references_file(path: Path, bases: int) -> Path:
    """``bases`` songs, an extension of each song's second clip, and a persona made from
    the first song sung in a new song: three waves of ``@`` references."""
    lines = [json.dumps({"id": f"b{i}", "gpt_description_prompt": f"song {i}"})
             for i in range(bases)]  # fmt: skip
    lines += [json.dumps({"id": f"e{i}", "task_type": "extend_music", "continue_at": 30,
                          "continue_clip_id": f"@b{i}.clips[1]", "prompt": f"more {i}"})
              for i in range(bases)]  # fmt: skip
    lines.append(json.dumps({"id": "singer", "kind": "persona", "name": "Nova",
                             "continue_clip_id": "@e0", "description": "warm alto"}))  # fmt: skip
    lines.append(json.dumps({"task_type": "persona_music", "persona_id": "@singer",
                             "prompt": "[Verse] la", "tags": "pop", "title": "t"}))  # fmt: skip
    path.write_text("".join(line + "\n" for line in lines))
    return path


async def test_references_wait_for_the_lines_they_need_in_any_process(
    redis_url: str, namespace: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Three processes share a file with @ references, one is SIGKILLed mid-run: a line is
    sent only after the lines it refers to ended, with their ids filled in, whichever
    process ran them; nothing is sent twice and every line ends in the one manifest."""
    request.addfinalizer(lambda: delete_namespace(redis_url, f"musicapi-bulk:{namespace}"))
    songs = references_file(tmp_path / "songs.jsonl", 12)
    manifests = [tmp_path / f"manifest-{i}.jsonl" for i in range(3)]
    async with Emulator(speed=SPEED, credits=10**6) as emu:
        workers = [await start(emu, redis_url, namespace, songs, m) for m in manifests]
        with anyio.fail_after(30):
            while len(emu.task_ids()) < 4:  # noqa: ASYNC110
                await anyio.sleep(0.05)
        os.kill(workers[0].pid, signal.SIGKILL)
        await workers[0].wait()
        with anyio.fail_after(60):
            summaries = [await finish(w) for w in workers[1:]]
        tasks = {t["task_id"]: t for t in await billed_tasks(emu.url)}

    written = [m for m in manifests if m.exists()]
    assert len(written) == 1
    rows = {row["id"]: row for row in map(json.loads, written[0].read_text().splitlines())}
    assert len(rows) == 26
    unknown = [name for name, row in rows.items() if row["status"] == "unknown"]
    assert len(unknown) <= 4  # at most the lines the killed worker was sending
    # Every task billed once, for one line: nothing sent twice.
    task_ids = [row["task_id"] for row in rows.values() if row["task_id"]]
    assert len(task_ids) == len(set(task_ids))
    assert len(tasks) <= len(task_ids) + len(unknown)
    needs = {f"e{i}": f"b{i}" for i in range(12)} | {"singer": "e0", None: "singer"}
    for name, need in needs.items():
        row, needed = rows[name], rows[need]
        if needed["status"] != "done":
            assert (row["status"], row["task_id"]) == ("skipped", None), row
            continue
        assert row["status"] in ("done", "unknown"), row
        clips = needed["result"].get("clips")
        if name and name.startswith("e"):
            assert row["request"]["continue_clip_id"] == clips[1]["clip_id"]
        if row["task_id"] is not None and needed["task_id"] is not None:
            # Created (emulated clock) no earlier than the task it needs had ended.
            assert tasks[row["task_id"]]["created_at"] >= tasks[needed["task_id"]]["ends_at"]
        if name is None:
            assert row["request"]["persona_id"] == needed["result"]["persona_id"]
    # Nothing else went wrong: a line that is not done was being sent by the killed
    # worker (unknown), or needs such a line (skipped, checked above).
    assert {row["status"] for row in rows.values()} <= {"done", "unknown", "skipped"}
    assert all(s["run"] == namespace for s in summaries)
