"""The displays that show a bulk run while it goes: live (rich), plain lines, quiet.

Separate from the ``Tracker`` they read (``_tracker``) and from the final table
(``_summary``): this is the part that redraws a terminal many times a second, and the
only one with a live layout to keep within the width.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Protocol, TextIO

from musicapi_async import Clip

from ._tracker import _STYLE, Item, Phase, Tracker

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table
    from rich.text import Text

__all__ = ["Display", "LiveDisplay", "PlainDisplay", "QuietDisplay", "make_console"]


# Below this many columns the displays drop their least useful columns.
_WIDE: Final = 100


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
