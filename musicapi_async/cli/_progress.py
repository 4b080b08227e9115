"""What ``musicapi bulk`` shows while it runs: a live display, plain lines, a summary.

``Tracker`` holds the state of every input line and knows nothing about terminals. Three
displays read it: ``LiveDisplay`` (rich, on a terminal: a bar with counts, elapsed time,
ETA and credits, and a table of the tasks in flight), ``PlainDisplay`` (one line per event,
for logs and pipes) and ``QuietDisplay`` (``--json``). ``print_summary`` draws the final
table. rich is imported inside the functions that draw, so ``import musicapi_async`` (and
the other commands) never load it.

This module is the one door to them: the state lives in ``_tracker``, the live and plain
displays in ``_display``, the final table in ``_summary`` (split to keep each readable).

Phases of a line: ``queued`` (not sent yet, or waiting for the lines it refers to) ->
``running`` (accepted: a task id exists) -> ``streaming`` (a clip can be played) ->
``done`` | ``failed`` | ``skipped`` (a line it refers to failed, or the budget ran out).
"""

from __future__ import annotations

from ._display import Display, LiveDisplay, PlainDisplay, QuietDisplay, make_console
from ._summary import print_summary
from ._tracker import Item, Phase, Tracker

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
