"""``musicapi bulk`` with the producer and riffusion kinds, and a 410 as a clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .support import SPEED, read_manifest, run

FAST = ["--emulator", "--speed", str(SPEED)]
RETIRED = "00000000-0000-4000-8000-000000000000"


def test_bulk_runs_producer_and_riffusion_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Producer (with an @reference in clip_id) and riffusion lines end done, 1 and 2 clips."""
    source = tmp_path / "in.jsonl"
    lines = [
        {"id": "beat", "kind": "producer", "sound": "lo-fi piano", "title": "Rain"},
        {"kind": "producer", "task_type": "extend_music", "clip_id": "@beat", "length": 30},
        {"kind": "riffusion", "prompt": "a happy song"},
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    code, _, err = run(
        capsys, "bulk", str(source), *FAST, "--out", str(tmp_path / "out"), "--no-download"
    )
    assert code == 0, err
    rows = read_manifest(tmp_path / "out" / "manifest.jsonl")
    assert [r["status"] for r in rows] == ["done"] * 3
    assert [len(r["clips"]) for r in rows] == [1, 1, 2]
    assert rows[1]["request"]["clip_id"] == rows[0]["clips"][0]["clip_id"]
    assert [r["cost"] for r in rows] == [10, 12, 12]


def test_a_retired_task_type_is_a_clear_failed_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A retired producer task type fails its line naming EndpointGone and the operation."""
    source = tmp_path / "in.jsonl"
    line = {"kind": "producer", "task_type": "swap_music_sound", "clip_id": RETIRED}
    source.write_text(json.dumps(line) + "\n")
    code, out, err = run(
        capsys, "bulk", str(source), *FAST, "--out", str(tmp_path / "out"), "--no-download"
    )
    assert code != 0
    (row,) = read_manifest(tmp_path / "out" / "manifest.jsonl")
    assert row["status"] == "failed"
    assert row["cost"] == 0
    shown = " ".join((out + err).split())
    assert "EndpointGone" in shown
    assert "swap_music_sound" in shown
