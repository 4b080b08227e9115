"""The demo ships inside the package: ``musicapi demo`` and the help text point at it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import musicapi_async
from musicapi_async.cli._main import DEMO_FILE

from .support import DEMO, run


def test_the_demo_file_is_package_data_and_matches_the_example() -> None:
    """The bundled demo lives inside the package and equals ``examples/demo.jsonl``."""
    package = Path(musicapi_async.__file__).parent
    assert DEMO_FILE.is_file()
    assert DEMO_FILE.is_relative_to(package)
    assert DEMO_FILE.read_bytes() == DEMO.read_bytes()


def test_help_suggests_a_command_that_works_when_installed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``musicapi --help`` suggests ``musicapi demo``, not a path only a checkout has."""
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "musicapi demo" in out
    assert "examples/" not in out


def test_demo_runs_the_bundled_file_and_takes_bulk_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``musicapi demo --dry-run --json`` plans the bundled file on the emulator."""
    code, out, err = run(capsys, "demo", "--dry-run", "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["input"] == str(DEMO_FILE)
    assert plan["requests"] == 28


def test_demo_makes_songs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``musicapi demo`` runs on the in-process emulator with no key and saves a manifest."""
    out_dir = tmp_path / "demo"
    code, _, err = run(capsys, "demo", "--speed", "600", "--out", str(out_dir), "--no-download")
    assert code == 0, err
    rows = (out_dir / "manifest.jsonl").read_text().splitlines()
    assert len(rows) == 28
    assert all(json.loads(row)["status"] == "done" for row in rows)
