"""``musicapi`` end to end on the emulator: exit codes, output, manifest, files, commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from musicapi_async import MusicAPI, PollPolicy
from musicapi_async.emulator import Emulator

from .support import DEMO, SPEED, read_manifest, run, run_in_thread, write

FAST = ["--emulator", "--speed", str(SPEED)]


def test_no_key_is_a_one_line_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a key or --emulator: exit 2 and one line saying how to give one."""
    code, out, err = run(capsys, "credits")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "--api-key" in err
    assert "MUSICAPI_API_KEY" in err
    assert "--emulator" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown command or a missing argument is a usage error (exit 2)."""
    assert run(capsys, "bulk")[0] == 2
    assert run(capsys, "sing")[0] == 2
    assert run(capsys, "--version")[0] == 0


def test_credits_json_is_parseable(capsys: pytest.CaptureFixture[str]) -> None:
    """``--json`` prints one JSON document; global options may follow the command."""
    code, out, _ = run(capsys, "credits", *FAST, "--emulator-credits", "77", "--json")
    assert code == 0
    assert json.loads(out) == {"credits": 77, "extra_credits": 0, "total": 77}


def test_emulator_command_shares_the_emulator_options(capsys: pytest.CaptureFixture[str]) -> None:
    """``musicapi emulator`` takes the options of ``python -m musicapi_async.emulator``."""
    code, out, _ = run(capsys, "emulator", "--help")
    assert code == 0
    assert "--speed" in out
    assert "--failure-rate" in out


def test_bulk_demo_makes_every_kind_with_files_and_manifest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The demo file runs in full: references resolved, audio on disk, manifest complete."""
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "bulk", str(DEMO), *FAST, "--out", str(out_dir),
                         "--concurrency", "16")  # fmt: skip
    assert code == 0, err
    rows = read_manifest(out_dir / "manifest.jsonl")
    assert len(rows) == 28
    assert {r["status"] for r in rows} == {"done"}
    by_id = {r["id"]: r for r in rows if r["id"]}
    base, ext, full = by_id["base"], by_id["ext"], by_id["full"]
    assert ext["request"]["continue_clip_id"] == base["clips"][0]["clip_id"]
    assert full["request"]["continue_clip_id"] == ext["clips"][0]["clip_id"]
    assert len(full["clips"]) == 1
    persona_id = by_id["nova"]["result"]["persona_id"]
    with_persona = [r for r in rows if r["request"].get("task_type") == "persona_music"]
    assert [r["request"]["persona_id"] for r in with_persona] == [persona_id] * 3
    lyrics = next(r for r in rows if r["kind"] == "lyrics")
    assert len(lyrics["result"]["lyrics"]) == 2
    beat = by_id["beat"]  # a producer song: one clip, 10 credits
    assert (beat["kind"], len(beat["clips"]), beat["cost"]) == ("producer", 1, 10)
    assert sum(r["cost"] for r in rows) == 377
    for row in rows:
        for clip in row["clips"]:
            assert clip["title"] is None or clip["title"] in json.dumps(row)
            audio = [Path(f) for f in clip["files"] if f.endswith(".wav")]
            assert len(audio) == 1, clip
            assert audio[0].read_bytes()[:4] == b"RIFF"
    # Not a terminal: one plain line per event, then the summary table.
    assert "accepted as task" in out
    assert "streaming http://" in out
    assert "28 requests: 28 done, 0 failed · 377 credits" in out
    assert f"Manifest: {out_dir / 'manifest.jsonl'}" in out


def test_bulk_json_is_one_parseable_document(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``bulk --json`` prints nothing but the result document, rows included."""
    ideas = write(tmp_path / "ideas.txt", ["a waltz about clocks", "a polka about socks"])
    code, out, _ = run(capsys, "bulk", str(ideas), *FAST, "--json", "--no-download",
                       "--out", str(tmp_path))  # fmt: skip
    assert code == 0
    document = json.loads(out)
    assert document["ok"] is True
    assert document["counts"]["done"] == 2
    assert document["credits"] == 30
    assert [r["line"] for r in document["results"]] == [1, 2]
    assert all(r["clips"] and not r["clips"][0]["files"] for r in document["results"])


def test_dry_run_shows_the_plan_and_sends_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """``--dry-run`` needs no key: it checks the file and prints waves and cost."""
    code, out, _ = run(capsys, "bulk", str(DEMO), "--dry-run")
    assert code == 0
    assert "Wave 3: " in out
    assert "28 requests in 3 wave(s), 377 credits" in out


@pytest.mark.anyio
async def test_malformed_file_is_refused_whole_and_nothing_is_billed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, emu: Emulator, target: list[str]
) -> None:
    """One bad line stops the whole file: each is reported, exit 2, no request made."""
    path = write(tmp_path / "songs.jsonl", [
        '{"gpt_description_prompt": "fine"}',
        '{"gpt_description_prompt": "broken"',
        '{"gpt_description_prompt": "fine too"}',
        '{"custom_mode": true}',
    ])  # fmt: skip
    code, out, err = await run_in_thread(capsys, "bulk", str(path), *target,
                                         "--out", str(tmp_path))  # fmt: skip
    assert code == 2
    assert out == ""
    assert f"{path}:2: not valid JSON" in err
    assert f"{path}:4: The 'prompt' field is required when custom_mode = true." in err
    assert "2 bad line(s)" in err
    assert "nothing was sent" in err
    assert emu.stats.requests == {}
    assert not (tmp_path / "manifest.jsonl").exists()


@pytest.mark.anyio
async def test_a_failed_song_exits_1_and_skips_what_depends_on_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, emu: Emulator, target: list[str]
) -> None:
    """A failed task is a manifest row with its error; lines that need it are not sent."""
    path = write(tmp_path / "songs.jsonl", [
        '{"id": "base", "gpt_description_prompt": "doomed"}',
        '{"task_type": "cover_music", "continue_clip_id": "@base", "prompt": "la"}',
    ])  # fmt: skip
    emu.fail_next(1)
    code, out, _ = await run_in_thread(capsys, "bulk", str(path), *target,
                                       "--out", str(tmp_path))  # fmt: skip
    assert code == 1
    failed, skipped = read_manifest(tmp_path / "manifest.jsonl")
    assert failed["status"] == "failed"
    assert failed["error"]["type"] == "TaskFailed"
    assert failed["task_id"]
    assert skipped["status"] == "skipped"
    assert skipped["error"] == {"type": "Skipped", "message": "line 1 (base) failed"}
    assert skipped["task_id"] is None
    assert emu.stats.billed == {"sonic.create": 1}
    assert "1 done" not in out
    assert "2 requests: 0 done, 1 failed, 1 skipped (not sent)" in out


@pytest.mark.anyio
async def test_budget_stops_sending_past_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, emu: Emulator, target: list[str]
) -> None:
    """``--budget 20`` sends one 15-credit song and holds the rest back (skipped, exit 3)."""
    ideas = write(tmp_path / "ideas.txt", ["one", "two", "three"])
    code, out, err = await run_in_thread(capsys, "bulk", str(ideas), *target, "--budget", "20",
                                         "--concurrency", "1", "--no-download",
                                         "--out", str(tmp_path))  # fmt: skip
    assert code == 3
    rows = read_manifest(tmp_path / "manifest.jsonl")
    assert [r["status"] for r in rows] == ["done", "skipped", "skipped"]
    assert {r["error"]["type"] for r in rows[1:]} == {"BudgetExceeded"}
    assert emu.stats.billed == {"sonic.create": 1}
    assert "1 done, 0 failed, 2 skipped" in out
    assert "did not fit --budget 20" in err


def test_generate_prints_the_stream_first_then_downloads(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``generate`` shows a playable URL before the task finishes, then saves the files."""
    code, out, _ = run(capsys, "generate", *FAST, "--gpt-description-prompt", "a tea song",
                       "--out", str(tmp_path))  # fmt: skip
    assert code == 0
    assert out.index("Listen now: http") < out.index("finished:")
    wavs = sorted(tmp_path.glob("*.wav"))
    assert len(wavs) == 2
    assert f"Saved {wavs[0]}" in out


def test_generate_checks_flags_before_asking_for_a_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bad field is an input error (exit 2) even without a key: nothing could be sent."""
    code, _, err = run(capsys, "generate", "--prompt", "x" * 5001, "--title", "Long")
    assert code == 2
    assert "The prompt character length should be less than 5000." in err


@pytest.mark.anyio
async def test_status_wait_and_download_follow_a_task(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, emu: Emulator, target: list[str]
) -> None:
    """``status`` polls once, ``download`` refuses an unfinished task, ``wait`` waits."""
    async with MusicAPI(emu.api_key, base_url=emu.url) as api:
        job = await api.sonic.create(custom_mode=False, mv="sonic-v5",
                                     gpt_description_prompt="a sea shanty")  # fmt: skip
    task = job.task_id
    code, out, _ = await run_in_thread(capsys, "status", task, *target, "--json")
    assert code == 0
    assert json.loads(out)["task_id"] == task
    code, _, err = await run_in_thread(capsys, "download", task, *target, "--out", str(tmp_path))
    assert code == 1
    assert f"musicapi wait {task}" in err
    code, out, _ = await run_in_thread(capsys, "wait", task, *target)
    assert code == 0
    assert "Listen now: http" in out or "finished:" in out
    code, out, _ = await run_in_thread(capsys, "status", task, *target)
    assert code == 0
    assert f"Task {task} (sonic): done" in out
    code, out, _ = await run_in_thread(capsys, "download", task, *target, "--out", str(tmp_path),
                                       "--json")  # fmt: skip
    assert code == 0
    files = [f for clip in json.loads(out)["clips"] for f in clip["files"]]
    assert len(files) == 4
    assert all(Path(f).is_file() for f in files)


@pytest.mark.anyio
async def test_wait_on_an_unknown_task_exits_1(
    capsys: pytest.CaptureFixture[str], emu: Emulator, target: list[str]
) -> None:
    """A task id the API does not know is reported as an error, not a traceback."""
    code, _, err = await run_in_thread(capsys, "wait", "no-such-task", *target)
    assert code == 1
    assert err.startswith("musicapi: error: TaskNotFound")


@pytest.mark.anyio
async def test_lyrics_and_persona_commands(
    capsys: pytest.CaptureFixture[str], emu: Emulator, target: list[str]
) -> None:
    """``lyrics`` prints the candidates; ``persona`` makes one from a finished clip."""
    code, out, _ = await run_in_thread(capsys, "lyrics", "rain on a tin roof", *target, "--json")
    assert code == 0
    candidates = json.loads(out)
    assert len(candidates) == 2
    assert all(c["title"] and c["lyrics"] for c in candidates)
    async with MusicAPI(emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(SPEED)) as api:
        job = await api.sonic.create(custom_mode=False, mv="sonic-v5",
                                     gpt_description_prompt="a lullaby")  # fmt: skip
        clip = (await job.wait(timeout=10))[0]
    code, out, _ = await run_in_thread(capsys, "persona", "--name", "Nova", "--clip-id",
                                       clip.clip_id, *target)  # fmt: skip
    assert code == 0
    assert out.startswith("Persona ")
    assert "--persona-id" in out
    code, _, err = await run_in_thread(capsys, "persona", "--name", "Nova", "--clip-id",
                                       "no-such-clip", *target)  # fmt: skip
    assert code == 1
    assert "clip not found." in err
    assert emu.stats.billed == {"sonic.create": 1, "lyrics.create": 1, "sonic.persona": 1}


def test_importing_the_sdk_loads_neither_the_cli_nor_rich() -> None:
    """``import musicapi_async`` stays light: the CLI and rich load only when used."""
    code = (
        "import sys, musicapi_async; "
        "print(sorted(m for m in sys.modules if m == 'rich' or m.startswith('rich.') "
        "or m == 'musicapi_async.cli' or m.startswith('musicapi_async.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=30).stdout  # fmt: skip
    assert out.strip() == "[]"
    code = "import sys, musicapi_async.cli; print('rich' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=30).stdout  # fmt: skip
    assert out.strip() == "False"  # `musicapi credits` does not pay for the display


WITHOUT_RICH = (
    "import sys; sys.modules['rich'] = None  # as if the [cli] extra were not installed\n"
    "from musicapi_async.cli import main\n"
    "raise SystemExit(main(sys.argv[1:]))"
)


def test_without_rich_help_works_and_a_drawing_command_says_how_to_install_it(
    tmp_path: Path,
) -> None:
    """Without the [cli] extra, ``--help`` works and ``demo`` prints one line, no traceback."""

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", WITHOUT_RICH, *argv], capture_output=True,
                              text=True, timeout=60, cwd=tmp_path)  # fmt: skip

    shown = run("--help")
    assert shown.returncode == 0
    assert "musicapi demo" in shown.stdout
    refused = run("demo", "--out", str(tmp_path / "out"))
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "musicapi: error: this command draws with rich, which is not installed: "
        "pip install 'musicapi-async[cli]'"
    ]
    assert not (tmp_path / "out").exists()  # refused before anything ran
