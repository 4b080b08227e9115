"""The chart of ``RESULTS.md``: the poll-policy trade-off, and memory at scale.

matplotlib comes with the optional ``bench`` extra (``make bench`` installs it). It is
imported by name at run time so that type-checking and ``--quick`` (CI) do not need it.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

Run = Mapping[str, Any]


def available() -> bool:
    """Whether matplotlib is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def _label_points(axes: Any, runs: Sequence[Run], labels: Sequence[str], color: str) -> None:
    for run, label in zip(runs, labels, strict=True):
        axes.annotate(label, (run["polls_per_job"], run["latency_p95_s"]), color=color,
                      textcoords="offset points", xytext=(5, 4), fontsize=8)  # fmt: skip


def draw(
    path: Path,
    *,
    fixed: Sequence[tuple[float, Run]],
    sdk: Sequence[tuple[float, Run]],
    cold: Run | None,
    push: Run | None,
    scale: Run | None,
    rss_target_mb: float,
) -> None:
    """Write the two-panel PNG to ``path``.

    Args:
        fixed: (interval s, run) of fixed-interval loops.
        sdk: (steady gap s, run) of the SDK's schedule with a warm client.
        cold: the SDK's default schedule with a cold client.
        push: the SDK with webhooks.
        scale: the 10,000-job run, whose timeline is drawn on the right.
        rss_target_mb: the memory target, drawn as a line.
    """
    matplotlib = importlib.import_module("matplotlib")
    matplotlib.use("Agg")
    plt = importlib.import_module("matplotlib.pyplot")
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2))

    for series, color, name in ((fixed, "tab:red", "fixed-interval loop"),
                                (sdk, "tab:blue", "SDK schedule, warm client")):  # fmt: skip
        runs = [run for _, run in sorted(series, key=lambda item: item[0])]
        labels = [f"{knob:g} s" for knob, _ in sorted(series, key=lambda item: item[0])]
        xs = [run["polls_per_job"] for run in runs]
        left.plot(xs, [run["latency_p95_s"] for run in runs], "o-", color=color,
                  label=f"{name}, p95")  # fmt: skip
        left.plot(xs, [run["latency_p50_s"] for run in runs], "o--", color=color, alpha=0.35,
                  label=f"{name}, p50")  # fmt: skip
        _label_points(left, runs, labels, color)
    for run, color, marker, name in ((cold, "tab:purple", "s", "SDK default, cold client"),
                                     (push, "tab:green", "D", "SDK with webhooks")):  # fmt: skip
        if run is not None:
            left.plot([run["polls_per_job"]], [run["latency_p95_s"]], marker, color=color,
                      markersize=8, label=f"{name}, p95")  # fmt: skip
    left.set_xlabel("polls per job")
    left.set_ylabel("delivery latency (emulated s, completion to caller)")
    left.set_title("Poll policy trade-off: fewer polls, same latency is better (down-left)")
    left.set_xlim(left=-0.3)
    left.set_ylim(bottom=0)
    left.grid(alpha=0.3)
    left.legend(fontsize=8)

    if scale is not None:
        timeline = scale["timeline"]
        seconds = [point[0] for point in timeline]
        right.plot(seconds, [point[1] for point in timeline], color="tab:blue",
                   label="client RSS (MB)")  # fmt: skip
        right.axhline(rss_target_mb, color="tab:red", linestyle=":",
                      label=f"target {rss_target_mb:g} MB")  # fmt: skip
        right.set_ylim(0, rss_target_mb * 1.15)
        right.set_xlabel("wall seconds since the first submission")
        right.set_ylabel("client RSS (MB)")
        right.set_title(f"{scale['jobs']:,} jobs at {scale['speed']:g}x: memory over time")
        in_flight = right.twinx()
        in_flight.plot(seconds, [point[2] for point in timeline], color="tab:gray", alpha=0.6,
                       label="jobs in flight")  # fmt: skip
        in_flight.set_ylabel("jobs in flight")
        in_flight.set_ylim(bottom=0)
        lines = right.get_legend_handles_labels()
        more = in_flight.get_legend_handles_labels()
        right.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="lower center")
        right.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
