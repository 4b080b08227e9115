"""The state of a bulk run: one ``Item`` per input line, its ``Phase``, and the ``Tracker``.

Knows nothing about terminals (see ``_progress``): the displays and the summary read it,
the run and the fleet write it. A module of its own so that state can be read and tested
without rich or any drawing code.
"""

from __future__ import annotations

import enum
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import attrs

from musicapi_async import Clip

from ._input import Line, Plan

__all__ = ["Item", "Listener", "Phase", "Tracker"]


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
