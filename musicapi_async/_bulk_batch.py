"""``generate_many(batch=True)``: queued sonic creates go up to 10 per ``POST /sonic/batch``.

Each item keeps its own journal entry, so a run killed at any moment and started again
re-sends nothing that may have been billed:

1. before the POST each item is claimed (``begin``): an item journaled before is not
   sent again (an accepted one is waited on, as without batches);
2. right before the POST every claimed item is marked ``sending`` (the one POST may
   bill them all);
3. after it, the batch id and every accepted item's task id are recorded in one step
   (``BatchJournal.batch_submitted``); a refused item is forgotten (nothing was billed,
   a later run may send it); an item the answer leaves out, and every item of a batch
   whose answer was lost, is ``unknown``: reconcile it, it is never re-sent silently.

A resumed task that was accepted in a batch is polled with its batch again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, cast

import anyio

from ._batch import BatchRefusal
from ._batch_models import BatchAccepted, BatchItemAccepted, BatchItemRefused
from ._convert import to_wire
from ._endpoints import SONIC_CREATE
from ._errors import MusicAPIError, SubmissionOutcomeUnknown
from ._jobs import PAID_CALL_WATCH, Job, Orphan, PaidCallWatch
from ._journal import BatchJournal
from ._models import SonicRequest

if TYPE_CHECKING:
    from ._bulk import Outcome, _Batch

__all__ = ["run_batch"]

Queued = tuple[int, object, "str | None"]
_ENDPOINT = SONIC_CREATE.name


async def run_batch(
    runner: _Batch,
    queued: Sequence[Queued],
    hand_over: Callable[[Outcome | None], None],
    release: Callable[[], None],
) -> None:
    """Send ``queued`` (index, request, fingerprint) as one batch and hand over each end."""

    async def finish(index: int, request: object, fp: str | None, job: Job, resumed: bool) -> None:
        try:
            hand_over(await runner.finish(index, request, fp, job, resumed=resumed))
        finally:
            release()

    async def failed(index: int, request: object, fp: str | None, exc: MusicAPIError) -> None:
        try:
            hand_over(await runner._failed(index, request, _ENDPOINT, fp, None, exc))
        finally:
            release()

    async with anyio.create_task_group() as group:
        fresh = await _claim(runner, queued, group, finish, failed)
        if not fresh:
            return
        specs = [cast(SonicRequest, request) for _, request, _ in fresh]  # queued as such
        watch = _watch(runner, fresh)
        token = PAID_CALL_WATCH.set(watch)
        try:
            batch = await runner.client.sonic.batch(specs)
        except MusicAPIError as exc:  # the whole batch: refused, or its outcome unknown
            for index, request, fp in fresh:
                group.start_soon(failed, index, request, fp, exc)
            return
        except anyio.get_cancelled_exc_class():
            if not watch.in_flight:  # never sent, or refused: nothing billed
                with anyio.CancelScope(shield=True):
                    await _settle(runner, fresh, None)
            raise
        finally:
            PAID_CALL_WATCH.reset(token)
        with anyio.CancelScope(shield=True):
            await _record(runner, fresh, batch.batch_id, batch.items)
        for (index, request, fp), item in zip(fresh, batch.items, strict=True):
            if isinstance(item, BatchRefusal):
                group.start_soon(failed, index, request, fp, item.error)
            else:
                group.start_soon(finish, index, request, fp, item, False)


async def _claim(
    runner: _Batch,
    queued: Sequence[Queued],
    group: anyio.abc.TaskGroup,
    finish: Callable[[int, object, str | None, Job, bool], Coroutine[Any, Any, None]],
    failed: Callable[[int, object, str | None, MusicAPIError], Coroutine[Any, Any, None]],
) -> list[Queued]:
    """Journal each item before the POST; the ones to send (resumed ones are waited on)."""
    journal = runner.journal
    fresh: list[Queued] = []
    resumed: dict[str, list[str]] = {}
    for index, request, fp in queued:
        if journal is None or fp is None:
            fresh.append((index, request, fp))
            continue
        entry = await journal.get(fp)
        if entry is not None and entry.task_id is not None:
            job = runner.client.job(entry.task_id)
            if isinstance(journal, BatchJournal):
                found = await journal.batch_of(entry.task_id)
                if found is not None:
                    resumed[found[0]] = found[1]
            group.start_soon(finish, index, request, fp, job, True)
            continue
        if await journal.begin(fp, _ENDPOINT, to_wire(request)) is not None:
            lost = SubmissionOutcomeUnknown(
                "journal: this request was begun elsewhere meanwhile",
                endpoint=_ENDPOINT,
                request=request,
            )
            group.start_soon(failed, index, request, fp, lost)
            continue
        fresh.append((index, request, fp))
    for batch_id, task_ids in resumed.items():  # polled together again
        runner.client._watch_batches().register(batch_id, task_ids)
    return fresh


def _watch(runner: _Batch, fresh: Sequence[Queued]) -> PaidCallWatch:
    """The POST's watch: every item is marked sending before it leaves."""
    journal = runner.journal
    sending = None
    if journal is not None:

        async def mark_all() -> None:
            for _, _, fp in fresh:
                if fp is not None:
                    await journal.sending(fp)

        sending = mark_all
    return PaidCallWatch(functools.partial(_settle, runner, fresh), sending)


async def _record(
    runner: _Batch, fresh: Sequence[Queued], batch_id: str, items: Sequence[Job | BatchRefusal]
) -> None:
    """Journal the answer: the accepted items' task ids, with the batch id, in one step."""
    journal = runner.journal
    if journal is None:
        return
    accepted = {fp: item.task_id for (_, _, fp), item in zip(fresh, items, strict=True)
                if isinstance(item, Job) and fp is not None}  # fmt: skip
    if isinstance(journal, BatchJournal):
        await journal.batch_submitted(batch_id, accepted)
    else:
        for fp, task_id in accepted.items():
            await journal.submitted(fp, task_id)


async def _settle(runner: _Batch, fresh: Sequence[Queued], orphan: Orphan | None) -> None:
    """Journal how a batch whose caller left ended (``None``: it was not billed)."""
    journal = runner.journal
    if journal is None:
        return
    fps = [fp for _, _, fp in fresh if fp is not None]
    if orphan is None:
        for fp in fps:
            await journal.forget(fp)
        return
    answer = orphan.result
    if not isinstance(answer, BatchAccepted):
        error = orphan.error or "the batch's answer was lost"
        for fp in fps:
            await journal.unknown(fp, error)
        return
    by_index = {item.index: item for item in answer.items}
    accepted: dict[str, str] = {}
    for position, (_, _, maybe_fp) in enumerate(fresh):
        item = by_index.get(position)
        if maybe_fp is None:
            continue
        fp = maybe_fp
        if isinstance(item, BatchItemAccepted):
            accepted[fp] = item.task_id
        elif isinstance(item, BatchItemRefused):
            await journal.forget(fp)
        else:
            await journal.unknown(fp, "the batch's answer does not account for this item")
    if isinstance(journal, BatchJournal):
        await journal.batch_submitted(answer.batch_id, accepted)
    else:
        for fp, task_id in accepted.items():
            await journal.submitted(fp, task_id)
