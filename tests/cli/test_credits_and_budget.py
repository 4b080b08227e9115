"""``musicapi bulk`` when credits run out or a budget is set: hold back, fill, explain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from musicapi_async.emulator import Emulator

from .support import SPEED, read_manifest, run, run_in_thread, write

SONGS = [f"song number {n}" for n in range(6)]


@pytest.mark.anyio
async def test_credits_running_out_stops_sending_and_says_how_to_resume(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """After a 403 'credits used up' nothing more is sent; the rest is skipped; resume told."""
    ideas = write(tmp_path / "ideas.txt", SONGS)
    journal = tmp_path / "j.sqlite3"
    async with Emulator(speed=SPEED, credits=40) as emu:
        # argparse's prefix form of --api-key: the printed command must hide it too.
        target = ["--base-url", emu.url, f"--api-k={emu.api_key}", "--speed", str(SPEED)]
        code, out, err = await run_in_thread(capsys, "bulk", str(ideas), *target,
                                             "--concurrency", "1", "--no-download",
                                             "--journal", str(journal),
                                             "--out", str(tmp_path))  # fmt: skip
        sent = emu.stats.requests["sonic.create"]
        billed = emu.stats.billed
    assert code == 1
    assert sent == 3  # two paid, one refused; the other three never sent
    assert billed == {"sonic.create": 2}
    rows = read_manifest(tmp_path / "manifest.jsonl")
    assert [r["status"] for r in rows] == ["done", "done", "failed"] + ["skipped"] * 3
    assert rows[2]["error"]["type"] == "InsufficientCredits"
    assert all("ran out of credits" in r["error"]["message"] for r in rows[3:])
    assert "2 done, 1 failed, 3 skipped" in out
    assert "Top up" in err
    assert f"--journal {journal}" in err
    assert "musicapi bulk" in err
    assert '--api-k="$MUSICAPI_API_KEY"' in err
    assert emu.api_key not in out + err


@pytest.mark.anyio
async def test_resume_after_topping_up_sends_only_what_was_not_paid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The printed command, run after a top-up, sends the refused and skipped lines once."""
    ideas = write(tmp_path / "ideas.txt", SONGS[:3])
    journal = tmp_path / "j.sqlite3"
    async with Emulator(speed=SPEED, credits=20) as emu:
        argv = ["bulk", str(ideas), "--base-url", emu.url, "--api-key", emu.api_key,
                "--speed", str(SPEED), "--concurrency", "1", "--no-download",
                "--journal", str(journal), "--out", str(tmp_path)]  # fmt: skip
        assert (await run_in_thread(capsys, *argv))[0] == 1
        emu.add_account(emu.api_key, credits=1000)
        code, _, _ = await run_in_thread(capsys, *argv)
        billed = emu.stats.billed
    assert code == 0
    assert billed == {"sonic.create": 3}
    assert [r["status"] for r in read_manifest(tmp_path / "manifest.jsonl")] == ["done"] * 3


@pytest.mark.anyio
async def test_budget_keeps_filling_with_lines_that_fit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, emu: Emulator, target: list[str]
) -> None:
    """A 15-credit line past the budget is skipped; a later 1-credit persona still goes."""
    lines = write(tmp_path / "songs.jsonl", [
        '{"id": "base", "gpt_description_prompt": "the base"}',
        '{"gpt_description_prompt": "too much"}',
        '{"kind": "persona", "name": "Nova", "continue_clip_id": "@base.clips[0]"}',
    ])  # fmt: skip
    code, out, _ = await run_in_thread(capsys, "bulk", str(lines), *target, "--budget", "20",
                                         "--concurrency", "1", "--no-download",
                                         "--out", str(tmp_path))  # fmt: skip
    rows = read_manifest(tmp_path / "manifest.jsonl")
    assert [r["status"] for r in rows] == ["done", "skipped", "done"]
    assert rows[1]["error"]["type"] == "BudgetExceeded"
    assert emu.stats.billed == {"sonic.create": 1, "sonic.persona": 1}
    assert code == 3  # nothing failed; one line held back by the budget
    assert "2 done, 0 failed, 1 skipped" in out


def test_dry_run_warns_when_the_plan_is_over_budget(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--dry-run --budget`` names the lines a real run would not send."""
    ideas = write(tmp_path / "ideas.txt", SONGS[:3])
    code, out, err = run(capsys, "bulk", str(ideas), "--dry-run", "--budget", "20")
    assert code == 0
    assert "warning: over budget" in err
    assert "line 2, line 3" in err
    code, out, _ = run(capsys, "bulk", str(ideas), "--dry-run", "--budget", "20", "--json")
    document = json.loads(out)
    assert document["not_sent"] == [2, 3]
    assert "over budget" in document["warning"]
    assert run(capsys, "bulk", str(ideas), "--dry-run", "--budget", "45")[2] == ""
