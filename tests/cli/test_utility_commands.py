"""The sonic utilities from the command line: wav, midi, bpm, vox, aligned-lyrics,
upsample-tags, ``download CLIP_ID --format`` and stems, against a served emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from musicapi_async import KIND_TYPES, MusicAPI, cost_of, endpoint_of, request_from_wire
from musicapi_async.emulator import Emulator

from .support import run, run_in_thread, write

pytestmark = pytest.mark.anyio

UNKNOWN_CLIP = "00000000-0000-0000-0000-000000000000"


async def _song(emu: Emulator) -> tuple[str, str]:
    """A finished song on ``emu``: its task id and its first clip's id."""
    async with MusicAPI(emu.api_key, base_url=emu.url) as api:
        job = await api.sonic.create(custom_mode=False, mv="sonic-v5",
                                     gpt_description_prompt="rain on a tin roof")  # fmt: skip
        clips = await job.wait(timeout=60)
    return job.task_id, clips[0].clip_id


def _wav(clip: str, doc: dict[str, Any]) -> None:
    assert doc["wav_url"].endswith(f"/{clip}.wav")


def _midi(clip: str, doc: dict[str, Any]) -> None:
    assert doc["midi_url"].endswith(f"/{clip}.mid")
    assert doc["instruments"][0]["notes"]


def _bpm(clip: str, doc: dict[str, Any]) -> None:
    assert doc["min_bpm"] <= doc["avg_bpm"] <= doc["max_bpm"]


def _vox(clip: str, doc: dict[str, Any]) -> None:
    assert (doc["source_clip_id"], doc["vocal_start_s"], doc["vocal_end_s"]) == (clip, 1, 11)


def _aligned(clip: str, doc: dict[str, Any]) -> None:
    assert [set(w) for w in doc["alignment"][:1]] == [
        {"word", "start_s", "end_s", "p_align", "success"}
    ]


CLIP_COMMANDS: list[tuple[list[str], str, Callable[[str, dict[str, Any]], None]]] = [
    (["wav"], "WAV of ", _wav),
    (["midi"], "Piano: 4 notes", _midi),
    (["bpm"], "BPM on average", _bpm),
    (["vox", "--vocal-start-s", "1", "--vocal-end-s", "11"], "from 1.00 s to 11.00 s", _vox),
    (["aligned-lyrics"], "8 words", _aligned),
]


@pytest.mark.parametrize(
    ("argv", "said", "check"), CLIP_COMMANDS, ids=[c[0][0] for c in CLIP_COMMANDS]
)
async def test_a_clip_command_prints_text_or_its_typed_result_as_json(
    capsys: pytest.CaptureFixture[str],
    emu: Emulator,
    target: list[str],
    argv: list[str],
    said: str,
    check: Callable[[str, dict[str, Any]], None],
) -> None:
    """Each clip utility prints a line of text, or with --json the result in wire names."""
    _, clip = await _song(emu)
    command, *options = argv
    code, out, err = await run_in_thread(capsys, command, clip, *options, *target)
    assert (code, err) == (0, "")
    assert said in out
    code, out, err = await run_in_thread(capsys, command, clip, *options, *target, "--json")
    assert (code, err) == (0, "")
    check(clip, json.loads(out))


def test_upsample_tags_runs_on_the_in_process_emulator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``upsample-tags`` needs no clip, so ``--emulator`` serves it with no key."""
    code, out, err = run(capsys, "upsample-tags", "lofi, piano", "--emulator")
    assert (code, err) == (0, "")
    assert out.startswith("lofi, piano, ")
    code, out, _ = run(capsys, "upsample-tags", "lofi, piano", "--emulator", "--json")
    assert json.loads(out)["upsampled_tags"].startswith("lofi, piano, ")


async def test_download_format_shows_the_prepared_files_and_saves_them_with_out(
    capsys: pytest.CaptureFixture[str], emu: Emulator, target: list[str], tmp_path: Path
) -> None:
    """``download CLIP_ID --format``: URLs only, or with --out files named by content type."""
    _, clip = await _song(emu)
    argv = ["download", clip, "--format", "mp3", "--format", "m4a", *target]
    code, out, err = await run_in_thread(capsys, *argv)
    assert (code, err) == (0, "")
    assert f"/{clip}.mp3" in out
    assert f"/{clip}.m4a" in out
    assert "Saved" not in out
    code, out, err = await run_in_thread(capsys, *argv, "--out", str(tmp_path), "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert (doc["clip_id"], set(doc["files"])) == (clip, {"mp3", "m4a"})
    saved = {fmt: Path(path) for fmt, path in doc["saved"].items()}
    assert {fmt: p.name for fmt, p in saved.items()} == {
        "mp3": f"clip - {clip[:8]}.mp3",
        "m4a": f"clip - {clip[:8]}.m4a",
    }
    assert saved["mp3"].read_bytes()[:2] == b"\xff\xf3"
    assert saved["m4a"].read_bytes()[4:8] == b"ftyp"
    assert emu.stats.billed["sonic.download"] == 1  # the same formats again: not billed


async def test_download_of_a_task_still_saves_into_the_current_folder(
    capsys: pytest.CaptureFixture[str],
    emu: Emulator,
    target: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without --format, ``download TASK_ID`` saves the task's files, into "." by default."""
    task, _ = await _song(emu)
    monkeypatch.chdir(tmp_path)
    code, _, err = await run_in_thread(capsys, "download", task, *target, "--kinds", "audio")
    assert (code, err) == (0, "")
    assert len(list(tmp_path.glob("*.wav"))) == 2


async def test_stems_waits_and_saves_a_file_named_after_each_stem(
    capsys: pytest.CaptureFixture[str], emu: Emulator, target: list[str], tmp_path: Path
) -> None:
    """``stems`` waits for the task, shows each stem, and saves it under the stem's name."""
    _, clip = await _song(emu)
    code, out, err = await run_in_thread(capsys, "stems", clip, "--out", str(tmp_path), *target)
    assert (code, err) == (0, "")
    assert "waiting…" in out
    assert "Vocals: ready" in out
    names = sorted(p.name.split(" - ")[0] for p in tmp_path.iterdir())
    assert names == ["Instrumental", "Vocals"]
    full = tmp_path / "full"
    code, out, err = await run_in_thread(capsys, "stems", clip, "--full", "--out", str(full),
                                         *target, "--json")  # fmt: skip
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert (doc["ok"], doc["source_clip_id"], len(doc["clips"])) == (True, clip, 12)
    for stem in doc["clips"]:
        [path] = stem["files"]
        assert Path(path).parent == full
        assert Path(path).name.startswith(f"{stem['stem_type']} - {stem['clip_id'][:8]}")
        assert Path(path).read_bytes()[:4] == b"RIFF"
    assert (emu.stats.billed["sonic.stems_basic"], emu.stats.billed["sonic.stems_full"]) == (1, 1)


async def test_an_unknown_clip_is_one_friendly_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], emu: Emulator, target: list[str]
) -> None:
    """The API's "clip not found." becomes one line saying what to check; nothing is billed."""
    code, out, err = await run_in_thread(capsys, "wav", UNKNOWN_CLIP, *target)
    assert (code, out) == (1, "")
    assert err.startswith(f"musicapi: error: InvalidRequest: no clip {UNKNOWN_CLIP} here")
    assert "--base-url" in err
    assert err.count("\n") == 1
    code, out, _ = await run_in_thread(capsys, "stems", UNKNOWN_CLIP, "--out", "x", *target,
                                       "--json")  # fmt: skip
    assert code == 1
    assert json.loads(out)["exit_code"] == 1
    assert sum(emu.stats.billed.values()) == 0


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["vox", "CLIP", "--vocal-start-s", "0", "--vocal-end-s", "31"], "at most 30"),
        (["download", "CLIP", "--format", "flac"], "formats"),
        (["download", "CLIP", "--format", "mp3", "--family", "sonic"], "--family"),
        (["wav", "CLIP", "--emulator"], "musicapi emulator"),
        (["stems", "CLIP"], "--out"),
        (["bpm"], "CLIP_ID"),
    ],
    ids=["vox-range", "format", "family", "emulator", "stems-out", "no-clip"],
)
async def test_usage_errors_exit_2_and_send_nothing(
    capsys: pytest.CaptureFixture[str],
    emu: Emulator,
    target: list[str],
    argv: list[str],
    said: str,
) -> None:
    """A bad range, format or flag, or a missing argument: exit 2, no request sent."""
    code, out, err = await run_in_thread(capsys, *argv, *target)
    assert (code, out) == (2, "")
    assert said in err
    assert sum(n for name, n in emu.stats.requests.items() if name.startswith("sonic.")) == 0


def test_bulk_dry_run_prices_every_utility_stems_and_mashup(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``bulk --dry-run`` shows each utility, stems and mashup line at its documented price."""
    clip = {"clip_id": "@s.clips[0]"}
    alone = ("wav", "midi", "bpm", "aligned_lyrics", "stems", "stems_full")
    lines: list[dict[str, Any]] = [
        {"id": "s", "gpt_description_prompt": "a song"},
        *({"kind": kind, **clip} for kind in alone),
        {"kind": "vox", **clip, "vocal_start_s": 0, "vocal_end_s": 10},
        {"kind": "upsample_tags", "tags": "lofi"},
        {"kind": "download", **clip, "formats": ["mp3", "wav"]},
        {
            "kind": "mashup",
            "mashup_clip_ids": ["@s.clips[0]", "@s.clips[1]"],
            "custom_mode": False,
            "mv": "sonic-v5",
            "gpt_description_prompt": "blend",
        },
    ]
    path = write(tmp_path / "all.jsonl", [json.dumps(line) for line in lines])
    code, out, err = run(capsys, "bulk", str(path), "--dry-run", "--json")
    assert (code, err) == (0, "")
    plan = json.loads(out)
    priced = {row["kind"]: row for wave in plan["waves"] for row in wave}
    assert set(priced) == {"sonic", *(line.get("kind") for line in lines[1:])}
    for kind, row in priced.items():
        request: object = request_from_wire(KIND_TYPES[kind], row["request"])
        assert row["credits"] == cost_of(endpoint_of(request), row["request"])[0] > 0, kind
    assert priced["stems_full"]["credits"] > priced["stems"]["credits"]
    assert plan["credits"] == sum(row["credits"] for row in priced.values())
