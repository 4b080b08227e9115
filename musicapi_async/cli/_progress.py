"""What ``musicapi bulk`` shows while it runs: a live display, plain lines, a summary.

``Tracker`` holds the state of every input line and knows nothing about terminals. Three
displays read it: ``LiveDisplay`` (rich, on a terminal: a bar with counts, elapsed time,
ETA and credits, and a table of the tasks in flight), ``PlainDisplay`` (one line per event,
for logs and pipes) and ``QuietDisplay`` (``--json``). ``print_summary`` draws the final
table. rich is imported inside the functions that draw, so ``import musicapi_async`` (and
the other commands) never load it.

Phases of a line: ``queued`` (not sent yet, or waiting for the lines it refers to) ->
``running`` (accepted: a task id exists) -> ``streaming`` (a clip can be played) ->
``done`` | ``failed`` | ``skipped`` (a line it refers to failed, or the budget ran out).
"""

from __future__ import annotations

import enum
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, TextIO

import attrs

from musicapi_async import Clip

from ._input import Line, Plan

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table
    from rich.text import Text

__all__ = [
    "Display",
    "Item",
    "LiveDisplay",
    "Phase",
    "PlainDisplay",
    "QuietDisplay",
    "Tracker",
    "make_console",
    "print_summary",
]


class Phase(enum.StrEnum):
    """Where one input line stands."""

    QUEUED = "queued"
    RUNNING = "running"
    STREAMING = "streaming"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def finished(self) -> bool:
        """Whether the line will not change any more."""
        return self in (Phase.DONE, Phase.FAILED, Phase.SKIPPED)


# How far one finish moves the ETA towards the plain estimate (an exponential smoothing).
_ETA_WEIGHT: Final = 0.3
# Below this many columns the displays drop their least useful columns.
_WIDE: Final = 100
_STYLE: Final = {"queued": "grey50", "running": "yellow", "streaming": "cyan",
                 "done": "green", "failed": "red", "skipped": "red"}  # fmt: skip


@attrs.define
class Item:
    """The run's record of one input line (the manifest row is made from it)."""

    line: Line
    phase: Phase = Phase.QUEUED
    request: object = None
    task_id: str | None = None
    stream_url: str | None = None
    stream_title: str | None = None
    clips: tuple[Clip, ...] = ()
    result: Any = None
    error: BaseException | None = None
    reason: str | None = None
    cost: int = 0
    resumed: bool = False
    files: dict[str, list[Path]] = attrs.field(factory=dict)
    download_error: str | None = None
    started: float | None = None
    finished_at: float | None = None

    @property
    def summary(self) -> str:
        """A few words about the request: its title, name or the start of its prompt."""
        fields = self.line.fields
        for key in (
            "title",
            "name",
            "gpt_description_prompt",
            "description",
            "prompt",
            "lyrics",
            "url",
        ):
            value = fields.get(key)
            if isinstance(value, str) and value.strip():
                text = " ".join(value.split())
                return text if len(text) <= 48 else text[:47] + "…"
        return " ".join(f"from {ref.text}" for ref in self.line.refs.values())


Listener = Callable[[str, "Item | None"], None]


class Tracker:
    """The state of every line of one bulk run; displays read it, the runner writes it."""

    def __init__(
        self, plan: Plan, *, target: str = "", clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.plan = plan
        self.clock = clock
        self.target = target
        self.items = [Item(line) for line in plan.lines]
        self.by_number = {item.line.number: item for item in self.items}
        self.started = clock()
        # The ETA: a countdown from the estimate made at the last finish (see ``eta``).
        self._eta: tuple[float, float] | None = None  # (seconds left, when said)
        self.ended: float | None = None
        self.wave = 0
        self.downloads = 0
        self.interrupted = False
        self._by_task: dict[str, Item] = {}
        self.resuming: set[str] = set()  # task ids of an earlier run, line not known yet
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        """Call ``listener(event, item)`` on every change."""
        self._listeners.append(listener)

    def _emit(self, event: str, item: Item | None) -> None:
        for listener in self._listeners:
            listener(event, item)

    # ---------------------------------------------------------------------- reads

    @property
    def elapsed(self) -> float:
        """Seconds since the run started (frozen once it ended)."""
        return (self.ended or self.clock()) - self.started

    def counts(self) -> Counter[str]:
        """Lines per phase (``skipped``: never sent, apart from ``failed``); resumed tasks
        count as running."""
        counts = Counter({p.value: 0 for p in Phase})
        for item in self.items:
            counts[item.phase.value] += 1
        moved = min(len(self.resuming), counts["queued"])
        counts["queued"] -= moved
        counts["running"] += moved
        return counts

    @property
    def finished(self) -> int:
        """Lines that will not change any more."""
        return sum(item.phase.finished for item in self.items)

    @property
    def spent(self) -> int:
        """Credits committed by this run (documented costs of what was accepted)."""
        return sum(item.cost for item in self.items)

    def eta(self) -> float | None:
        """Seconds left, or ``None`` before anything finished (or once everything has).

        Songs finish in bursts, so the plain "elapsed / done * left" rises while nothing
        finishes and drops at each burst. Instead the estimate made at the last finish
        counts down, and each finish moves it only part of the way to the new plain one.
        """
        done = self.finished
        if not done or done == len(self.items) or self._eta is None:
            return None
        left, said = self._eta
        remaining = left - (self.clock() - said)
        # Overdue (slower than thought): show the plain estimate rather than a stuck 0:00.
        return remaining if remaining > 0 else self._plain_eta()

    def _plain_eta(self) -> float:
        done = self.finished
        return self.elapsed / done * (len(self.items) - done)

    def _update_eta(self) -> None:
        if not self.finished:
            return
        plain, now = self._plain_eta(), self.clock()
        if self._eta is None:
            self._eta = (plain, now)
            return
        shown = self.eta()
        current = plain if shown is None else shown
        self._eta = (current + _ETA_WEIGHT * (plain - current), now)

    def in_flight(self) -> list[tuple[Item | None, str]]:
        """``(item, task id)`` of every task accepted and not finished."""
        flying: list[tuple[Item | None, str]] = [
            (item, item.task_id) for item in self.items if item.task_id and not item.phase.finished
        ]
        flying.extend((None, task_id) for task_id in sorted(self.resuming))
        return flying

    # --------------------------------------------------------------------- writes

    def start_wave(self, number: int) -> None:
        """Wave ``number`` (0-based) of ``plan.waves`` is about to be sent."""
        self.wave = number
        self._emit("wave", None)

    def submitted(self, number: int, task_id: str) -> None:
        """Line ``number`` was accepted as task ``task_id``."""
        item = self.by_number[number]
        item.task_id, item.phase, item.started = task_id, Phase.RUNNING, self.clock()
        self._by_task[task_id] = item
        self._emit("submitted", item)

    def resumed(self, task_id: str) -> None:
        """A task accepted by an earlier run is being waited on again."""
        if task_id not in self._by_task:
            self.resuming.add(task_id)

    def streaming(self, task_id: str, url: str | None, title: str | None = None) -> None:
        """Task ``task_id`` has a playable clip at ``url`` (titled ``title``)."""
        item = self._by_task.get(task_id)
        if item is not None and item.phase is Phase.RUNNING:
            item.phase, item.stream_url, item.stream_title = Phase.STREAMING, url, title
            self._emit("streaming", item)

    def finish(self, number: int, phase: Phase, **values: Any) -> Item:
        """Line ``number`` ended in ``phase``; ``values`` set the item's other fields."""
        item = self.by_number[number]
        for name, value in values.items():
            setattr(item, name, value)
        item.phase, item.finished_at = phase, self.clock()
        self._update_eta()
        if item.task_id:
            self.resuming.discard(item.task_id)
            self._by_task[item.task_id] = item
        self._emit(phase.value, item)
        return item

    def downloaded(self, item: Item) -> None:
        """``item``'s files are on disk (or ``download_error`` says why not)."""
        self._emit("files" if item.download_error is None else "download_failed", item)

    def end(self) -> None:
        """The run is over: freeze the clock."""
        self.ended = self.clock()


# ----------------------------------------------------------------------------- displays


class Display(Protocol):
    """Something that shows a run: started and stopped around it, fed every event."""

    def start(self) -> None:
        """Begin showing."""

    def stop(self) -> None:
        """Stop showing (restore the terminal)."""

    def event(self, event: str, item: Item | None) -> None:
        """One change of ``item`` (``None`` for a new wave)."""


def make_console(file: TextIO | None = None) -> Console:
    """A rich console on ``file`` (stdout); 120 columns wide when it is not a terminal."""
    from rich.console import Console

    stream = file or sys.stdout
    terminal = stream.isatty()
    return Console(file=stream, width=None if terminal else 120, highlight=False, soft_wrap=False)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _duration(clips: tuple[Clip, ...]) -> str:
    return ", ".join(_clock(c.duration) for c in clips if c.duration is not None)


def _outcome_text(item: Item) -> str:
    if item.phase is Phase.SKIPPED:
        return f"skipped: {item.reason}"
    if item.error is not None:
        return f"{type(item.error).__name__}: {item.error}"
    if item.clips:
        count = f"{len(item.clips)} clip{'s' if len(item.clips) != 1 else ''}"
        titles = list(dict.fromkeys(c.title for c in item.clips if c.title))
        return ", ".join(f'"{t}"' for t in titles) + f" ({count})" if titles else count
    result = item.result
    if result is not None and hasattr(result, "persona_id"):
        return f"persona {result.persona_id}"
    if result is not None and hasattr(result, "clip_id"):
        return f"uploaded clip {result.clip_id}"
    if isinstance(result, list):
        return f"{len(result)} lyrics: " + ", ".join(f'"{c.title}"' for c in result)
    return ""


class QuietDisplay:
    """Shows nothing (``--json``: the result is one JSON document at the end)."""

    def start(self) -> None:
        """Nothing to start."""

    def stop(self) -> None:
        """Nothing to stop."""

    def event(self, event: str, item: Item | None) -> None:
        """Ignored."""


class PlainDisplay:
    """One line per event, for logs and pipes: ``[0:12] line 4 (base): done ...``."""

    def __init__(self, tracker: Tracker, stream: TextIO | None = None) -> None:
        self.tracker = tracker
        self.stream = stream or sys.stdout

    def _print(self, text: str) -> None:
        print(f"[{_clock(self.tracker.elapsed)}] {text}", file=self.stream, flush=True)

    def start(self) -> None:
        """Say what is about to run."""
        plan = self.tracker.plan
        waves = len(plan.waves)
        self._print(
            f"{len(plan.lines)} requests from {plan.path} in {waves} "
            f"wave{'s' if waves != 1 else ''}{self.tracker.target}"
        )

    def stop(self) -> None:
        """Nothing to restore."""

    def event(self, event: str, item: Item | None) -> None:
        """Print one line for ``event``."""
        if item is None:
            wave, waves = self.tracker.wave, self.tracker.plan.waves
            if len(waves) > 1:
                self._print(f"wave {wave + 1}/{len(waves)}: {len(waves[wave])} request(s)")
            return
        name = item.line.name
        if event == "submitted":
            text = f"{name}: {item.line.label} accepted as task {item.task_id}"
        elif event == "streaming":
            text = f"{name}: streaming {item.stream_url}"
        elif event == "done":
            resumed = " (from the journal)" if item.resumed else ""
            text = f"{name}: done{resumed}: {_outcome_text(item)}, {item.cost} credits"
        elif event in ("failed", "skipped"):
            text = f"{name}: {'failed: ' if event == 'failed' else ''}{_outcome_text(item)}"
        elif event == "files":
            count = sum(len(paths) for paths in item.files.values())
            if not count:
                return
            text = f"{name}: {count} file(s) saved"
        elif event == "download_failed":
            text = f"{name}: download failed: {item.download_error}"
        else:
            return
        self._print(text)


class LiveDisplay:
    """A live view for a terminal: progress bar, counts, credits, tasks in flight."""

    def __init__(self, tracker: Tracker, console: Console) -> None:
        from rich.live import Live

        self.tracker = tracker
        self.console = console
        self.recent: deque[Item] = deque(maxlen=4)
        self._live = Live(
            get_renderable=self._render, console=console, refresh_per_second=8, transient=False
        )

    def start(self) -> None:
        """Take over the bottom of the terminal."""
        self._live.start()

    def stop(self) -> None:
        """Draw the last frame and give the terminal back."""
        self._live.refresh()
        self._live.stop()

    def event(self, event: str, item: Item | None) -> None:
        """Remember finished lines for the "recent" rows; the frame redraws itself."""
        if item is not None and event in ("done", "failed", "skipped"):
            self.recent.appendleft(item)

    def _render(self) -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        head, bar, tally = _header(self.tracker)
        if self.tracker.ended is not None:  # the last frame stays on screen: keep it short
            return Group(head, bar, tally)
        rows, links = self._rows()
        # The frame ends on an empty line: after a full-width last line the cursor sits past
        # the edge, the terminal's "^C" echo wraps and scrolls, the redraw starts one line
        # short, and the header is left on screen twice.
        listen = [Text("Listen now:", style="bold"), *links] if links else []
        return Group(head, bar, tally, Text(""), rows, *listen, Text(""))

    def _rows(self) -> tuple[Table, list[Text]]:
        """The table of lines in flight and just finished, and the stream URLs to show."""
        from rich.spinner import Spinner
        from rich.text import Text

        tracker = self.tracker
        # Narrow terminals lose the id and task columns; stream URLs get lines of their own
        # below the table, so no column width ever cuts one.
        rows, row = _flight_table(wide=self.console.width >= _WIDE)
        flying = [i for i in tracker.items if i.phase in (Phase.RUNNING, Phase.STREAMING)]
        # Up to 16 lines of head, tally, table furniture and recent rows; two per stream URL.
        height = self.console.height
        streams = min(sum(i.phase is Phase.STREAMING for i in flying), 8, (height - 22) // 2)
        room = max(3, height - 16 - (2 * streams + 1 if streams > 0 else 0))
        now = tracker.clock()
        links: list[Text] = []
        for item in flying[:room]:
            detail, link = _flight_detail(item)
            if link is not None and len(links) < streams:
                links.append(link)
            row(
                Spinner("dots", style=_STYLE[item.phase]),
                item,
                (item.task_id or "")[:8],
                _clock(now - (item.started or now)),
                detail,
            )
        if len(flying) > room:
            rows.add_row("", "", Text(f"… {len(flying) - room} more", style="grey50"))
        if tracker.resuming:
            rows.add_row(
                "↻", "", Text(f"{len(tracker.resuming)} task(s) of an earlier run", style="grey50")
            )
        for item in self.recent:
            ok = item.phase is Phase.DONE
            row(
                Text("✓" if ok else "✗", style=_STYLE[item.phase]),
                item,
                (item.task_id or "")[:8],
                "",
                Text(_outcome_text(item), style="grey50" if ok else "red"),
            )
        return rows, links


def _header(tracker: Tracker) -> tuple[Text, Table, Text]:
    """The live display's title, progress bar and tally of phases."""
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    plan = tracker.plan
    total, finished, waves = len(plan.lines), tracker.finished, len(plan.waves)
    head = Text.assemble(
        ("musicapi bulk ", "bold"),
        (plan.path, "bold cyan"),
        f"  {total} requests · wave {min(tracker.wave + 1, waves)}/{waves}",
        (tracker.target, "grey50"),
    )
    eta = tracker.eta()
    bar = Table.grid(expand=True, padding=(0, 1))
    bar.add_column(ratio=1)
    bar.add_column(justify="right", no_wrap=True)
    bar.add_row(
        ProgressBar(total=total, completed=finished),
        Text.assemble(
            (f"{finished}/{total}", "bold"),
            f" {100 * finished // max(total, 1):3d}%  ",
            f"{_clock(tracker.elapsed)} elapsed",
            f" · ETA {_clock(eta)}" if eta is not None else "",
        ),
    )
    counts = tracker.counts()
    tally = Text()
    for phase in ("queued", "running", "streaming", "done", "failed"):
        tally.append("● ", style=_STYLE[phase])
        tally.append(f"{phase} {counts[phase]}   ")
    tally.append(f"credits {tracker.spent}", style="bold")
    if tracker.downloads:
        tally.append(f"   ↓ {tracker.downloads} downloading", style="grey50")
    return head, bar, tally


def _flight_table(*, wide: bool) -> tuple[Table, Callable[..., None]]:
    """An empty table of lines in flight, and the function that adds one row to it."""
    from rich.table import Table

    rows = Table(box=None, padding=(0, 1), show_header=True, header_style="grey50",
                 expand=True)  # fmt: skip
    rows.add_column("", width=1, no_wrap=True)
    rows.add_column("line", justify="right", no_wrap=True)
    if wide:
        rows.add_column("id", no_wrap=True, max_width=12)
    rows.add_column("request", no_wrap=True)
    if wide:
        rows.add_column("task", no_wrap=True)
    rows.add_column("time", justify="right", no_wrap=True)
    rows.add_column("", no_wrap=True, overflow="ellipsis", ratio=1)

    def row(mark: Any, item: Item, task: str, took: str, detail: Any) -> None:
        cells = [
            mark,
            str(item.line.number),
            item.line.ident or "",
            item.line.label,
            task,
            took,
            detail,
        ]
        rows.add_row(*(cells if wide else [*cells[:2], cells[3], *cells[5:]]))

    return rows, row


def _flight_detail(item: Item) -> tuple[Text, Text | None]:
    """What a line in flight shows, and its stream URL's own line when it streams."""
    from rich.text import Text

    if item.phase is not Phase.STREAMING:
        return Text(item.summary, style="grey70"), None
    url = item.stream_url or ""
    # A terminal hyperlink: the title opens the stream where that is supported.
    title = item.stream_title or item.summary
    detail = Text.assemble(("▶ ", "cyan"), (title, f"bold link {url}"))
    if not url:
        return detail, None
    # The URL alone on its line: copyable whole.
    return detail, Text.assemble(
        ("▶ ", "cyan"), f"{item.line.name}, {title}\n  ", (url, "cyan"), overflow="fold"
    )


# ------------------------------------------------------------------------------ summary


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
