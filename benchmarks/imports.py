"""Scenario 4b: what ``import musicapi_async`` adds to importing its dependencies.

    python -m benchmarks.imports --runs 20

Each run is a fresh interpreter that imports aiohttp, attrs, cattrs and anyio, then
``musicapi_async``, timing both with ``time.perf_counter``; the best of ``--runs`` is
reported (the least disturbed run), with the median beside it. One unmeasured run comes
first so that every module is byte-compiled, as it is after ``pip install``.

``python -X importtime`` then says which modules the added time goes to.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from ._harness import emit

DEPENDENCIES = ("aiohttp", "attrs", "cattrs", "anyio")
_SNIPPET = (
    "import time; t0 = time.perf_counter(); import {deps}; t1 = time.perf_counter(); "
    "import musicapi_async; t2 = time.perf_counter(); print(t1 - t0, t2 - t1)"
).format(deps=", ".join(DEPENDENCIES))


def _environment() -> Mapping[str, str]:
    # Byte-compiled modules are what users import; an environment that forbids writing
    # them (PYTHONDONTWRITEBYTECODE) would time the compiler instead.
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _once(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *flags, "-c", code], check=True, capture_output=True,
                          text=True, env=_environment())  # fmt: skip


def import_costs(lines: str, top: int = 6) -> dict[str, list[tuple[str, float]]]:
    """Where the time of importing ``musicapi_async`` goes, from ``python -X importtime``.

    Args:
        lines: its stderr, for a run that imported the dependencies first.
        top: how many modules to keep in each list.

    Returns:
        ``own``: musicapi_async's modules by their own time (ms); ``pulled``: the other
        modules they import directly (that the dependencies had not), by cumulative time.
    """
    rows = [line.split("|") for line in lines.splitlines() if line.startswith("import time:")]
    names = [row[2].rstrip() for row in rows]
    # Modules are listed as they finish; everything after the last dependency's own line
    # was imported by musicapi_async.
    start = max(names.index(f" {dep}") for dep in DEPENDENCIES) + 1
    own: list[tuple[str, float]] = []
    pulled: list[tuple[str, float]] = []
    for i in range(start, len(rows)):
        name, depth = names[i].strip(), len(names[i]) - len(names[i].lstrip())
        self_ms, cumulative_ms = int(rows[i][0].split(":")[1]) / 1000, int(rows[i][1]) / 1000
        if name.startswith("musicapi_async"):
            own.append((name, self_ms))
            continue
        # Its importer is the next module listed at a shallower depth.
        parent = next((names[j].strip() for j in range(i + 1, len(rows))
                       if len(names[j]) - len(names[j].lstrip()) < depth), "")  # fmt: skip
        if parent.startswith("musicapi_async"):
            pulled.append((f"{name} (by {parent})", cumulative_ms))
    return {"own": sorted(own, key=lambda r: -r[1])[:top],
            "pulled": sorted(pulled, key=lambda r: -r[1])[:top]}  # fmt: skip


def measure(runs: int) -> dict[str, Any]:
    """Time ``runs`` fresh imports; returns best and median, and the costliest modules."""
    _once(_SNIPPET)
    deps, added = [], []
    for _ in range(runs):
        first, second = _once(_SNIPPET).stdout.split()
        deps.append(float(first) * 1000)
        added.append(float(second) * 1000)
    profile = _once(f"import {', '.join(DEPENDENCIES)}; import musicapi_async", "-X", "importtime")
    return {
        "runs": runs,
        "dependencies_best_ms": min(deps),
        "dependencies_median_ms": statistics.median(deps),
        "added_best_ms": min(added),
        "added_median_ms": statistics.median(added),
        "costliest": import_costs(profile.stderr),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Measure the import cost and print it as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.imports")
    parser.add_argument("--runs", type=int, default=20)
    emit(measure(parser.parse_args(argv).runs))


if __name__ == "__main__":
    main()
