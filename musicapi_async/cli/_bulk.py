"""Running a bulk plan: dependency waves through ``generate_many``, tracking, downloads.

Each wave of ``Plan.waves`` goes through one ``generate_many`` call with the journal and
what is left of the budget; a wave starts when the one before it has finished, with its
``@`` references replaced by the ids the earlier lines produced. A line whose reference
failed is skipped (nothing is sent for it). Songs are downloaded as they finish, while
later ones still run, and every line ends up as one row of the JSONL manifest.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any, cast

import anyio
import attrs
from anyio.abc import TaskGroup

from musicapi_async import (
    AnyRequest,
    BudgetExceeded,
    ClipPlayable,
    ClipState,
    InsufficientCredits,
    Job,
    Journal,
    LyricsCandidate,
    MediaKind,
    MusicAPI,
    MusicAPIError,
    Outcome,
    Persona,
    TaskDone,
    UploadedClip,
    atomic_write_bytes,
    redact,
    to_wire,
)

from ._input import Line, Plan
from ._progress import Item, Phase, Tracker

__all__ = [
    "BulkOptions",
    "manifest_rows",
    "not_sent",
    "run_plan",
    "write_manifest",
]


@attrs.frozen(kw_only=True)
class BulkOptions:
    """How ``run_plan`` runs: see ``musicapi bulk --help``."""

    concurrency: int = 8
    timeout: float | None = None
    budget: int | None = None
    out: Path = Path("musicapi-output")
    download: bool = True
    kinds: Sequence[MediaKind] = ("audio", "image")


async def run_plan(
    api: MusicAPI, plan: Plan, tracker: Tracker, options: BulkOptions, journal: Journal | None
) -> None:
    """Run every wave of ``plan``, recording each line's outcome in ``tracker``."""
    async with anyio.create_task_group() as side:  # stream watchers and downloads
        run = _Run(api, tracker, options, journal, side)
        for number, wave in enumerate(plan.waves):
            tracker.start_wave(number)
            batch = run.batch(wave)
            if batch:
                await run.send(batch)
        for scope in run.watchers.values():
            scope.cancel()


class _Run:
    """One bulk run's state: the lines by id, the stream watchers, and a lack of credits."""

    def __init__(
        self,
        api: MusicAPI,
        tracker: Tracker,
        options: BulkOptions,
        journal: Journal | None,
        side: TaskGroup,
    ) -> None:
        self.api, self.tracker, self.options, self.journal = api, tracker, options, journal
        self.side = side
        self.items = {item.line.ident: item for item in tracker.items if item.line.ident}
        self.watchers: dict[str, anyio.CancelScope] = {}
        self.no_credits: str | None = None  # set when the account said it cannot pay

    async def watch(self, job: Job) -> None:
        """Show a task's stream URL as soon as one exists."""
        scope = self.watchers.setdefault(job.task_id, anyio.CancelScope())
        with scope:
            try:
                async with aclosing(job.updates(playable=True)) as events:
                    async for event in events:
                        if (
                            isinstance(event, ClipPlayable)
                            and event.clip.state is ClipState.STREAMING
                        ):
                            self.tracker.streaming(
                                job.task_id, event.clip.audio_url, event.clip.title
                            )
                            return  # stop the early polls; generate_many waits on
                        if isinstance(event, TaskDone):
                            return
            except MusicAPIError:
                return  # the outcome reports it

    def follow(self, job: Job) -> None:
        # A submission shielded from a Ctrl-C may be accepted after this group has
        # closed: its task id is recorded (and reported) all the same.
        with contextlib.suppress(RuntimeError):
            self.side.start_soon(self.watch, job)

    def batch(self, wave: Sequence[Line]) -> list[tuple[Line, object]]:
        """The requests of ``wave`` that can be sent; the others are recorded as skipped."""
        batch: list[tuple[Line, object]] = []
        for line in wave:
            reason = _blocked(line, self.items) or (
                f"not sent: the account ran out of credits ({self.no_credits})"
                if self.no_credits is not None and line.cost()
                else None
            )
            values: dict[tuple[str, ...], str] = {}
            if reason is None:
                try:
                    values = _resolve(line, self.items)
                except LookupError as exc:
                    reason = str(exc)
            if reason is not None:
                self.tracker.finish(line.number, Phase.SKIPPED, reason=reason)
                continue
            batch.append((line, line.request(values)))
        return batch

    async def send(self, batch: list[tuple[Line, object]]) -> None:
        """Send one wave's ``batch`` and record each outcome as it arrives."""
        options, tracker = self.options, self.tracker
        budget = None if options.budget is None else max(0, options.budget - tracker.spent)

        def accepted(index: int, job: Job, was_resumed: bool) -> None:
            if was_resumed:
                tracker.resumed(job.task_id)
            else:
                tracker.submitted(batch[index][0].number, job.task_id)
            self.follow(job)

        outcomes = self.api.generate_many(
            [cast(AnyRequest, r) for _, r in batch],
            concurrency=options.concurrency,
            timeout=options.timeout,
            journal=self.journal,
            budget=budget,
            on_accepted=accepted,
        )
        async with aclosing(outcomes):
            async for outcome in outcomes:
                line, request = batch[outcome.index]
                self.record(line, request, outcome)

    def record(self, line: Line, request: object, outcome: Outcome) -> None:
        item = _record(self.tracker, line, request, outcome)
        if isinstance(outcome.error, InsufficientCredits):
            self.no_credits = self.no_credits or (outcome.error.api_message or str(outcome.error))
        if item.task_id in self.watchers:
            self.watchers.pop(item.task_id).cancel()
        if self.options.download and item.clips and item.phase is Phase.DONE:
            self.side.start_soon(_download, self.api, self.tracker, item, self.options)


def _blocked(line: Line, items: Mapping[str, Item]) -> str | None:
    for ident in line.deps:
        item = items[ident]
        if item.phase is not Phase.DONE:
            return f"{item.line.name} {item.phase.value}"
    return None


def _resolve(line: Line, items: Mapping[str, Item]) -> dict[tuple[str, ...], str]:
    """The ids that replace ``line``'s references (``LookupError`` when one is missing)."""
    values: dict[tuple[str, ...], str] = {}
    for path, ref in line.refs.items():
        item = items[ref.target]
        result = item.result
        if path == ("persona_id",) and item.clips and item.clips[0].persona_id:
            values[path] = item.clips[0].persona_id  # a create_voice line's voice
        elif item.clips:
            index = ref.index or 0
            if index >= len(item.clips):
                raise LookupError(f"{item.line.name} made only {len(item.clips)} clip(s)")
            values[path] = item.clips[index].clip_id
        elif isinstance(result, Persona):
            values[path] = result.persona_id
        elif isinstance(result, UploadedClip):
            values[path] = result.clip_id
        else:
            raise LookupError(f"{item.line.name} has no id for {ref.text}")
    return values


def not_sent(error: BaseException | None) -> bool:
    """Whether ``error`` says a line was held back (budget, no credits left), not refused."""
    if isinstance(error, BudgetExceeded):
        return True
    return isinstance(error, InsufficientCredits) and error.status is None


def _record(tracker: Tracker, line: Line, request: object, outcome: Outcome) -> Item:
    item = tracker.by_number[line.number]
    if not_sent(outcome.error):
        return tracker.finish(
            line.number,
            Phase.SKIPPED,
            request=request,
            error=outcome.error,
            reason=str(outcome.error),
        )
    return tracker.finish(
        line.number,
        Phase.DONE if outcome.ok else Phase.FAILED,
        request=request,
        task_id=outcome.task_id or item.task_id,
        clips=outcome.clips,
        result=outcome.result,
        error=outcome.error,
        cost=outcome.cost,
        resumed=outcome.resumed,
    )


async def _download(api: MusicAPI, tracker: Tracker, item: Item, options: BulkOptions) -> None:
    tracker.downloads += 1
    try:
        for clip in item.clips:
            # Names carry the clip id, so a resumed run overwrites its own files only.
            item.files[clip.clip_id] = await api.download(
                clip, options.out, kinds=options.kinds, overwrite=True
            )
    except (MusicAPIError, OSError) as exc:
        item.download_error = f"{type(exc).__name__}: {exc}"
    finally:
        tracker.downloads -= 1
        tracker.downloaded(item)


# ----------------------------------------------------------------------------- manifest


def _status(item: Item, interrupted: bool) -> str:
    if item.phase.finished:
        return item.phase.value
    if item.task_id:
        return "in_flight" if interrupted else item.phase.value
    return "not_sent"


def _result(result: Any) -> Any:
    if isinstance(result, Persona):
        return {"persona_id": result.persona_id}
    if isinstance(result, UploadedClip):
        return {"clip_id": result.clip_id}
    if isinstance(result, list) and all(isinstance(c, LyricsCandidate) for c in result):
        return {"lyrics": [{"title": c.title, "lyrics": c.lyrics} for c in result]}
    return None


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


def manifest_rows(tracker: Tracker) -> list[dict[str, Any]]:
    """One JSON-ready row per input line, in file order, free of the open clients' keys
    (a server may echo one into an error or any other text)."""
    return [_scrubbed(row) for row in _rows(tracker)]


def _rows(tracker: Tracker) -> list[dict[str, Any]]:
    rows = []
    for item in tracker.items:
        line = item.line
        request = item.request if item.request is not None else line.request()
        wire = {k: v for k, v in to_wire(request).items() if k != "webhook_secret"}
        error = item.error
        rows.append(
            {
                "line": line.number,
                "id": line.ident,
                "kind": line.kind,
                "request": wire,
                "task_id": item.task_id,
                "status": _status(item, tracker.interrupted),
                "resumed": item.resumed,
                "clips": [
                    {
                        "clip_id": c.clip_id,
                        "title": c.title,
                        "duration": c.duration,
                        "state": c.state.value,
                        "audio_url": c.audio_url,
                        "image_url": c.image_url,
                        "files": [str(p) for p in item.files.get(c.clip_id, [])],
                    }
                    for c in item.clips
                ],
                "result": _result(item.result),
                "cost": item.cost,
                "error": None
                if error is None and item.reason is None
                else {
                    "type": type(error).__name__ if error is not None else "Skipped",
                    "message": str(error) if error is not None else item.reason,
                },
                "download_error": item.download_error,
            }
        )
    return rows


def write_manifest(rows: list[dict[str, Any]], path: Path) -> None:
    """Write ``rows`` as JSONL to ``path``, atomically (a reader never sees half a file)."""
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    atomic_write_bytes(path, text.encode("utf-8"))
