"""``musicapi bulk`` with the sonic task kinds that take audio (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .support import SPEED, read_manifest, run

FAST = ["--emulator", "--speed", str(SPEED)]
URL = "https://example.com/audio/garage-demo.mp3"
LINES = [
    {"id": "song", "gpt_description_prompt": "a sea shanty about rust"},
    {"kind": "upload_extend", "url": URL, "continue_at": 1, "auto_concat": True,
     "prompt": "[Verse] more rust"},
    {"kind": "upload_cover", "url": URL, "gpt_description_prompt": "as a waltz"},
    {"kind": "sample", "sample_clip_id": "@song.clips[1]", "chop_sample_start_s": 0,
     "chop_sample_end_s": 5, "make_instrumental": True, "gpt_description_prompt": "drums"},
    {"kind": "replace_section", "clip_id": "@song", "infill_start_s": 5, "infill_end_s": 10,
     "infill_lyrics": "[Bridge] la"},
    {"id": "voice", "kind": "create_voice", "audio_url": "https://example.com/voice/me.wav"},
    {"task_type": "persona_music", "persona_id": "@voice", "prompt": "[Verse] in my voice"},
]  # fmt: skip
# song 15, upload_extend 19, upload_cover 17, sample 16, replace_section 15,
# create_voice 4, persona song 15.
COSTS = [15, 19, 17, 16, 15, 4, 15]


def _write(tmp_path: Path) -> Path:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in LINES))
    return source


def test_dry_run_prices_the_new_kinds(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``--dry-run`` reads each new kind, resolves its @references and prices it."""
    code, out, err = run(capsys, "bulk", str(_write(tmp_path)), "--dry-run", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["credits"] == sum(COSTS)


def test_bulk_runs_the_new_kinds_with_references(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Every new kind ends done; a persona_id of @voice is the voice's persona."""
    out_dir = tmp_path / "out"
    code, _, err = run(capsys, "bulk", str(_write(tmp_path)), *FAST, "--out", str(out_dir),
                       "--no-download")  # fmt: skip
    assert code == 0, err
    rows = read_manifest(out_dir / "manifest.jsonl")
    assert [r["status"] for r in rows] == ["done"] * len(LINES)
    assert [len(r["clips"]) for r in rows] == [2, 4, 2, 2, 2, 1, 2]
    assert [r["cost"] for r in rows] == COSTS
    song, voice = rows[0]["clips"], rows[5]["clips"]
    assert rows[3]["request"]["sample_clip_id"] == song[1]["clip_id"]
    assert rows[4]["request"]["clip_id"] == song[0]["clip_id"]
    # The voice's persona, not its clip: the emulator refuses an unknown persona.
    assert rows[6]["request"]["persona_id"] not in (None, voice[0]["clip_id"])
