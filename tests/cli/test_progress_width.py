"""The bulk display at any width (URLs never cut) and an ETA that does not jump about."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest
from rich.console import Console

from musicapi_async import Clip, ClipState
from musicapi_async.cli._input import load_plan
from musicapi_async.cli._progress import LiveDisplay, Phase, Tracker, print_summary

from .support import write

URL = "http://127.0.0.1:38123/media/stream/0d8f6d0a-3b7e-4f52-9c1e-2a7d5b9e4f11"


class Clock:
    """A hand-moved monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_tracker(tmp_path: Path, lines: int = 6, clock: Clock | None = None) -> Tracker:
    """A tracker of ``lines`` described songs."""
    path = write(tmp_path / "songs.jsonl", [
        f'{{"id": "song{n}", "gpt_description_prompt": "a sea shanty about tugboat {n}"}}'
        for n in range(lines)
    ])  # fmt: skip
    if clock is None:
        return Tracker(load_plan(str(path)), target=" · emulator at 30x speed · 5000 credits")
    return Tracker(load_plan(str(path)), target=" · emulator", clock=clock)


def song(n: int, seconds: float) -> Clip:
    """A finished clip."""
    return Clip(clip_id=f"clip-{n}", state=ClipState.SUCCEEDED, title=f"Rusty Tugboat {n}",
                duration=seconds)  # fmt: skip


def recorded(width: int) -> Console:
    """A recording terminal console of ``width`` columns."""
    return Console(file=io.StringIO(), force_terminal=True, width=width, height=40, record=True)


@pytest.mark.parametrize("width", [80, 120])
def test_live_frame_never_cuts_a_stream_url(tmp_path: Path, width: int) -> None:
    """Every stream URL appears whole on one line of the live frame, whatever the width."""
    t = make_tracker(tmp_path)
    console = recorded(width)
    for n in range(1, 4):
        t.submitted(n, f"task-{n}-0123456789")
        t.streaming(f"task-{n}-0123456789", URL.replace("0d8f", f"{n}d8f"), f"Tugboat {n}")
    console.print(LiveDisplay(t, console)._render())
    text = console.export_text()
    for n in range(1, 4):
        assert any(URL.replace("0d8f", f"{n}d8f") in line for line in text.splitlines()), text
    assert all(len(line) <= width for line in text.splitlines())


@pytest.mark.parametrize("width", [60, 80, 120])
def test_summary_never_clips_a_value(tmp_path: Path, width: int) -> None:
    """At any width the summary shows each length, task prefix and the totals whole."""
    t = make_tracker(tmp_path)
    for n in range(1, 7):
        t.submitted(n, f"task{n}abcdef")
        t.finish(n, Phase.DONE, clips=(song(n, 190.0), song(n, 178.0)), cost=15)
    t.end()
    console = recorded(width)
    print_summary(t, console, out=Path("out"), manifest=Path("out/manifest.jsonl"))
    text = console.export_text()
    assert text.count("3:10, 2:58") == 6, text
    assert "…" not in text, text
    assert "6 requests: 6 done, 0 failed" in " ".join(text.split())
    assert "90 credits" in " ".join(text.split())
    assert all(len(line) <= width for line in text.splitlines())


def test_eta_counts_down_between_finishes_and_does_not_jump(tmp_path: Path) -> None:
    """Between finishes the ETA counts down; a finish moves it only part of the way."""
    clock = Clock()
    t = make_tracker(tmp_path, lines=10, clock=clock)
    finishes = {8: 1, 9: 2, 14: 3, 15: 4, 22: 5, 23: 6, 30: 7}  # bursts, as waves finish
    shown: list[float] = []
    for second in range(0, 31):
        clock.now = 100.0 + second
        if second in finishes:
            n = finishes[second]
            t.submitted(n, f"t{n}")
            t.finish(n, Phase.DONE, clips=(), cost=0)
        eta = t.eta()
        if eta is not None:
            shown.append(eta)
    steps = [b - a for a, b in itertools.pairwise(shown)]
    assert all(step < 4 for step in steps), shown  # never leaps up
    assert sum(step > 0 for step in steps) <= 2, shown  # and rarely rises at all
    raw_now = t.elapsed / t.finished * (10 - t.finished)
    assert abs(shown[-1] - raw_now) < raw_now  # still tracks the real pace


@pytest.mark.parametrize(("streams", "height"), [(0, 40), (2, 40), (6, 30), (6, 24)])
def test_live_frame_fits_and_ends_on_a_short_line(
    tmp_path: Path, streams: int, height: int
) -> None:
    """The frame fits and ends on an empty line: a "^C" echo cannot scroll a second header."""
    t = make_tracker(tmp_path, lines=12)
    console = Console(file=io.StringIO(), force_terminal=True, width=80, height=height)
    for n in range(1, 13):
        t.submitted(n, f"task-{n}")
        if n <= streams:
            t.streaming(f"task-{n}", URL, "Tugboat")
    lines = console.render_lines(LiveDisplay(t, console)._render(), pad=False)
    assert len(lines) <= height
    assert sum(segment.cell_length for segment in lines[-1]) == 0
