"""Helpers of the command-line tests: run ``musicapi`` in-process, read its manifest."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import anyio.to_thread
import pytest

from musicapi_async.cli._main import main

# The emulator's clock (and the CLI's poll schedule) at this many times real speed: a
# sonic song takes at most 0.4 s.
SPEED: Final = 600.0
DEMO: Final = Path(__file__).resolve().parents[2] / "examples" / "demo.jsonl"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``musicapi ARGV`` in this process: exit status, stdout, stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def run_in_thread(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``run`` in a worker thread, so an emulator can keep serving on this test's loop."""
    code = await anyio.to_thread.run_sync(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def read_manifest(path: Path) -> list[dict[str, Any]]:
    """The manifest's rows."""
    return [json.loads(line) for line in path.read_text().splitlines()]


def write(path: Path, lines: Sequence[str]) -> Path:
    """Write ``lines`` to ``path`` and return it."""
    path.write_text("\n".join(lines) + "\n")
    return path
