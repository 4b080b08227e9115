"""``musicapi reconcile``: a way out for requests sent with no answer (maybe billed)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from musicapi_async import SQLiteJournal
from musicapi_async.emulator import Emulator, Fault, FaultKind

from .support import read_manifest, run, run_in_thread, write


def refs(text: str) -> list[str]:
    """The 12-character refs a reconcile listing shows, in order."""
    return re.findall(r"^  ([0-9a-f]{12})  ", text, flags=re.MULTILINE)


@pytest.mark.anyio
async def test_unknown_outcomes_are_settled_by_resolve_and_forget_then_rerun_completes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, emu: Emulator, target: list[str]
) -> None:
    """A billed-but-lost line resolved to its task and a refused one forgotten: rerun exits 0."""
    songs = write(tmp_path / "songs.txt", ["billed but the answer was lost", "a 500, unbilled"])
    journal = str(tmp_path / "j.sqlite3")
    emu.faults.add(Fault(FaultKind.ACCEPT_THEN_DROP, endpoint="sonic.create", count=1),
                   Fault(FaultKind.SERVER_500, endpoint="sonic.create", count=1))  # fmt: skip
    bulk = ["bulk", str(songs), *target, "--journal", journal, "--concurrency", "1",
            "--no-download", "--out", str(tmp_path)]  # fmt: skip
    code, _, err = await run_in_thread(capsys, *bulk)
    assert code == 1
    assert f"musicapi reconcile --journal {journal}" in err
    code, _, err = await run_in_thread(capsys, *bulk)  # a rerun alone settles nothing
    assert code == 1
    assert emu.stats.billed == {"sonic.create": 1}

    code, out, _ = await run_in_thread(capsys, "reconcile", "--journal", journal, *target)
    assert code == 1
    lost, refused = refs(out)
    assert "billed but the answer" in out
    assert "--resolve" in out
    assert "--forget" in out
    (task_id,) = emu.task_ids()  # what the dashboard shows

    code, out, err = await run_in_thread(capsys, "reconcile", "--journal", journal, *target,
                                         "--resolve", f"{lost}=not-a-task")  # fmt: skip
    assert code == 2
    assert "no task" in err
    code, out, _ = await run_in_thread(capsys, "reconcile", "--journal", journal, *target,
                                       "--resolve", f"{lost}={task_id}",
                                       "--forget", refused)  # fmt: skip
    assert code == 0, out
    assert "Nothing left to settle" in out

    code, _, err = await run_in_thread(capsys, *bulk)
    assert code == 0, err
    rows = read_manifest(tmp_path / "manifest.jsonl")
    assert [r["status"] for r in rows] == ["done", "done"]
    assert rows[0]["task_id"] == task_id
    assert emu.stats.billed == {"sonic.create": 2}  # the lost one was not sent twice


@pytest.mark.anyio
async def test_abandon_keeps_a_line_from_ever_being_sent_again(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, emu: Emulator, target: list[str]
) -> None:
    """``--abandon REF`` records the line as failed; later runs report it and send nothing."""
    songs = write(tmp_path / "songs.txt", ["lost"])
    journal = str(tmp_path / "j.sqlite3")
    emu.faults.add(Fault(FaultKind.ACCEPT_THEN_DROP, endpoint="sonic.create", count=1))
    bulk = ["bulk", str(songs), *target, "--journal", journal, "--no-download",
            "--out", str(tmp_path)]  # fmt: skip
    assert (await run_in_thread(capsys, *bulk))[0] == 1
    code, out, _ = await run_in_thread(capsys, "reconcile", "--journal", journal, "--json")
    document = json.loads(out)
    assert code == 1
    (entry,) = document["unsettled"]
    code, _, _ = await run_in_thread(capsys, "reconcile", "--journal", journal,
                                     "--abandon", entry["ref"])  # fmt: skip
    assert code == 0
    assert (await run_in_thread(capsys, *bulk))[0] == 1
    assert read_manifest(tmp_path / "manifest.jsonl")[0]["error"]["type"] == "TaskFailed"
    assert emu.stats.billed == {"sonic.create": 1}
    assert emu.stats.requests["sonic.create"] == 1


def test_bad_refs_are_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A missing journal or a ref that names nothing: exit 2, nothing changed."""
    assert run(capsys, "reconcile", "--journal", str(tmp_path / "none.sqlite3"))[0] == 2
    assert not (tmp_path / "none.sqlite3").exists()
    journal = tmp_path / "j.sqlite3"

    async def create() -> None:
        async with SQLiteJournal(journal) as opened:
            await opened.begin("ab" * 32, "sonic.create", {"prompt": "x"})

    asyncio.run(create())
    code, _, err = run(capsys, "reconcile", "--journal", str(journal), "--forget", "cdcdcd")
    assert code == 2
    assert "no unsettled request" in err
    assert run(capsys, "reconcile", "--journal", str(journal), "--forget", "abab")[0] == 2
    code, out, _ = run(capsys, "reconcile", "--journal", str(journal))
    assert code == 1
    assert refs(out) == ["ab" * 6]  # a request begun by a process that died: unsettled
