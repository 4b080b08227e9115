"""The benchmark suite runs end to end (``--quick``); nothing is asserted about speed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEADINGS = (
    "## Targets",
    "## 1. Bulk",
    "## 2. Floor",
    "## 3. Peer",
    "## 4. Scale",
    "## 5. Push vs poll",
    "## 6. Poll policy trade-off",
    "## 8. Fleet",
    "## Where the client's CPU time goes",
)


@pytest.mark.slow
def test_quick_benchmark_runs_every_scenario() -> None:
    """``python -m benchmarks --quick`` exits 0 and prints every section of the report."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    missing = [h for h in HEADINGS if not any(line.startswith(h) for line in lines)]
    assert not missing, done.stdout
