"""The table printed when a bulk run ends: one row per line, then the totals.

Separate from the live displays (``_display``) because it is drawn once, for the record,
and has its own rules for a narrow terminal (which columns wrap, which are dropped first).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ._display import _clock, _duration, _outcome_text
from ._tracker import _STYLE, Item, Phase, Tracker

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

__all__ = ["print_summary"]


_SUMMARY: Final = ("line", "id", "request", "status", "task", "result", "length", "files",
                   "credits")  # fmt: skip
_RIGHT: Final = frozenset({"line", "length", "files", "credits"})
# Columns that wrap (never cut), with the width below which they would wrap too much.
_WRAPPING: Final = {"request": 12, "result": 24}
_DROP_ORDER: Final = ("id", "files", "task", "request", "credits")  # least useful first


def _need(rows: list[dict[str, Any]], name: str) -> int:
    """The width a column needs: its widest cell, or less if it may wrap."""
    from rich.cells import cell_len

    widest = max(cell_len(cell) for cell in [name, *(str(row[name]) for row in rows)])
    return min(widest, _WRAPPING.get(name, widest))


def _summary_columns(rows: list[dict[str, Any]], width: int) -> list[str]:
    """The summary's columns that fit ``width``: values are never cut, so columns go."""

    def need(name: str) -> int:
        return _need(rows, name)

    # Empty columns go first (a run without ids has no use for an id column).
    names = [
        n for n in _SUMMARY if n in ("line", "status", "result") or any(str(row[n]) for row in rows)
    ]
    for drop in _DROP_ORDER:
        if sum(map(need, names)) + 2 * (len(names) - 1) <= width:
            break
        if drop in names:
            names.remove(drop)
    return names


def print_summary(
    tracker: Tracker, console: Console, *, out: Path | None, manifest: Path | None
) -> None:
    """The table of every line's outcome, then one line of totals."""
    from rich.text import Text

    items = tracker.items
    shown = items
    if len(items) > 60:  # a huge run: failures first, then a sample; the manifest has all
        bad = [i for i in items if i.phase is not Phase.DONE]
        shown = (bad + [i for i in items if i.phase is Phase.DONE])[:40]
    table = _summary_table([_summary_row(item) for item in shown], console.width)
    console.print(Text(f"musicapi bulk · {tracker.plan.path}", style="bold", overflow="fold"))
    if len(shown) < len(items):
        table.caption = f"{len(items) - len(shown)} more lines in the manifest"
    console.print(table)
    console.print(_totals(tracker, out))
    if manifest is not None:
        console.print(Text.assemble("Manifest: ", (str(manifest), "cyan")))


def _summary_row(item: Item) -> dict[str, Any]:
    from rich.text import Text

    files = sum(len(paths) for paths in item.files.values())
    status = item.phase.value + (" ↻" if item.resumed else "")
    if item.phase is Phase.DONE and item.download_error:
        status = "done, no files"
    return {
        "line": str(item.line.number),
        "id": item.line.ident or "",
        "request": item.line.label,
        "status": Text(status, style=_STYLE[item.phase.value]),
        "task": (item.task_id or "")[:8],
        "result": _outcome_text(item),
        "length": _duration(item.clips),
        "files": str(files) if files else "",
        "credits": str(item.cost) if item.cost else "",
    }


def _summary_table(rows: list[dict[str, Any]], width: int) -> Table:
    """The rows as a table of the columns that fit ``width``."""
    from rich import box
    from rich.table import Table

    names = _summary_columns(rows, width)
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, show_edge=False,
                  collapse_padding=True, pad_edge=False)  # fmt: skip
    for name in names:
        wraps = name in _WRAPPING
        table.add_column(
            name,
            justify="right" if name in _RIGHT else "left",
            no_wrap=not wraps,
            overflow="fold",
            min_width=_need(rows, name) if wraps else None,
            max_width=60 if name == "result" else None,
        )
    for row in rows:
        table.add_row(*(row[name] for name in names))
    return table


def _totals(tracker: Tracker, out: Path | None) -> Text:
    """One line: the counts, credits, time and where the files went."""
    from rich.text import Text

    counts = tracker.counts()
    files = sum(len(p) for item in tracker.items for p in item.files.values())
    totals = Text(f"{len(tracker.items)} requests: ", style="bold")
    totals.append(f"{counts['done']} done", style="green")
    totals.append(", ")
    totals.append(f"{counts['failed']} failed", style="red" if counts["failed"] else "")
    if counts["skipped"]:
        totals.append(f", {counts['skipped']} skipped (not sent)", style="yellow")
    unfinished = counts["queued"] + counts["running"] + counts["streaming"]
    if unfinished:
        totals.append(f", {unfinished} not finished", style="yellow")
    totals.append(f" · {tracker.spent} credits · {_clock(tracker.elapsed)}")
    if out is not None and files:
        totals.append(f" · {files} files in {out}")
    return totals
