"""The bulk display: counts by phase, the live frame, plain lines and the summary table."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from musicapi_async import Clip, ClipState, TaskFailed
from musicapi_async.cli._input import load_plan
from musicapi_async.cli._progress import LiveDisplay, Phase, PlainDisplay, Tracker, print_summary

from .support import write


def tracker(tmp_path: Path) -> Tracker:
    """A tracker of a four-line file: two songs, an extension of the first, lyrics."""
    path = write(tmp_path / "songs.jsonl", [
        '{"id": "a", "gpt_description_prompt": "first"}',
        '{"gpt_description_prompt": "second"}',
        '{"task_type": "extend_music", "continue_clip_id": "@a", "continue_at": 9, "prompt": "x"}',
        '{"kind": "lyrics", "description": "rain"}',
    ])  # fmt: skip
    return Tracker(load_plan(str(path)), target=" · test")


def clip(title: str) -> Clip:
    """A finished clip."""
    return Clip(clip_id=f"id-{title}", state=ClipState.SUCCEEDED, title=title, duration=125.0)


def test_counts_follow_each_line_through_its_phases(tmp_path: Path) -> None:
    """Lines move queued -> running -> streaming -> done/failed; resumed tasks count as running."""
    t = tracker(tmp_path)
    assert t.counts() == {"queued": 4, "running": 0, "streaming": 0, "done": 0, "failed": 0,
                          "skipped": 0}  # fmt: skip
    assert t.eta() is None
    t.submitted(1, "task-1")
    t.submitted(2, "task-2")
    t.streaming("task-1", "http://stream/1")
    t.resumed("task-old")
    assert t.counts() == {"queued": 1, "running": 2, "streaming": 1, "done": 0, "failed": 0,
                          "skipped": 0}  # fmt: skip
    t.finish(1, Phase.DONE, clips=(clip("A"), clip("A")), cost=15)
    t.finish(2, Phase.FAILED, error=TaskFailed("boom", task_id="task-2"), cost=15)
    t.finish(3, Phase.SKIPPED, reason="line 1 (a) failed")
    assert (t.counts()["failed"], t.counts()["skipped"]) == (1, 1)  # skipped counted apart
    assert t.spent == 30
    assert t.eta() is not None
    assert [task for _, task in t.in_flight()] == ["task-old"]


def test_live_frame_shows_the_bar_counts_and_tasks_in_flight(tmp_path: Path) -> None:
    """The live frame has the tally, credits, each running task and the stream URL."""
    t = tracker(tmp_path)
    console = Console(file=io.StringIO(), force_terminal=True, width=110, height=30)
    display = LiveDisplay(t, console)
    t.listen(display.event)
    t.submitted(1, "abcdef1234")
    t.streaming("abcdef1234", "http://emu/stream/1")
    t.submitted(2, "99999999zz")
    t.finish(4, Phase.DONE, result=[], cost=0)
    console.print(display._render())
    frame = console.file.getvalue()  # type: ignore[attr-defined]
    for text in ("musicapi bulk", "4 requests", "queued 1", "running 1", "streaming 1",
                 "done 1", "credits 0", "abcdef12", "http://emu/stream/1", "second"):  # fmt: skip
        assert text in frame, text


def test_plain_lines_and_summary(tmp_path: Path) -> None:
    """Not on a terminal: one line per event, then a table and the totals."""
    t = tracker(tmp_path)
    stream = io.StringIO()
    t.listen(PlainDisplay(t, stream).event)
    t.start_wave(0)
    t.submitted(1, "task-1")
    t.streaming("task-1", "http://stream/1")
    t.finish(1, Phase.DONE, clips=(clip("Alpha"), clip("Alpha")), cost=15)
    t.finish(3, Phase.SKIPPED, reason="line 1 (a) failed")
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("wave 1/2: 3 request(s)")
    assert lines[1].endswith("line 1 (a): song accepted as task task-1")
    assert lines[2].endswith("line 1 (a): streaming http://stream/1")
    assert lines[3].endswith('line 1 (a): done: "Alpha" (2 clips), 15 credits')
    assert lines[4].endswith("line 3: skipped: line 1 (a) failed")
    t.end()
    console = Console(file=io.StringIO(), width=120)
    print_summary(t, console, out=tmp_path, manifest=tmp_path / "manifest.jsonl")
    table = console.file.getvalue()  # type: ignore[attr-defined]
    assert "2:05, 2:05" in table
    assert (
        "4 requests: 1 done, 0 failed, 1 skipped (not sent), 2 not finished · 15 credits" in table
    )
