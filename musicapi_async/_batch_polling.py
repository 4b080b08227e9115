"""Watching a sonic batch's tasks with one ``GET /sonic/batch?batch_id=`` per tick.

The poller keeps one watch per task and knows nothing of batches. The client's fetch
asks here first (``MusicAPI._poll_once``, a one-line hook): for a task of a known batch
of which at least one other task is still watched, one batch GET answers for all of them.
The asked task's snapshot is returned; every sibling's goes to ``Poller.polled_with``,
which delivers it and reschedules the sibling from now, so the batch's tasks stay on one
schedule and the next tick again costs one request instead of one per task.

- Concurrent asks for one batch share the request in flight, and an answer younger than
  half the shortest poll gap is reused: tasks popped together cost one request.
- A task the answer does not cover (an error entry, an unreadable one, a missing one),
  and the last watched task of a batch, are polled on their own, so their errors are
  typed exactly as before and a lone task costs no more than it did.
- A passing failure of the batch GET (5xx, throttle, network) is the asked task's
  failed poll: the poller reschedules it. A definite one (the batch is unknown) drops
  the batch: its tasks are polled one by one from then on.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Final

import anyio
import attrs

from ._batch_models import BatchStatus
from ._endpoints import SONIC_BATCH_STATUS
from ._errors import MusicAPIError, ServiceError
from ._models import TaskSnapshot

if TYPE_CHECKING:
    from ._client import MusicAPI

__all__ = ["BatchWatch"]

# Batches remembered at most; the oldest are forgotten first (their tasks are then
# polled one by one, which is only slower).
_LIMIT: Final = 10_000

Single = Callable[[], Awaitable[TaskSnapshot]]


@attrs.define(eq=False)
class _Batch:
    batch_id: str
    task_ids: frozenset[str]
    in_flight: anyio.Event | None = None
    last: BatchStatus | None = None
    last_at: float = -math.inf
    error: BaseException | None = None


class BatchWatch:
    """The batches a client submitted, and their shared polls."""

    def __init__(self, client: MusicAPI) -> None:
        self._client = client
        self._of: dict[str, _Batch] = {}
        self._batches: dict[str, _Batch] = {}
        self.requests = 0  # batch GETs sent

    def register(self, batch_id: str, task_ids: Sequence[str]) -> None:
        """Remember that ``task_ids`` were submitted together as ``batch_id``."""
        if len(task_ids) < 2:
            return  # one task: its own poll is as cheap
        batch = _Batch(batch_id, frozenset(task_ids))
        self._batches[batch_id] = batch
        for task_id in task_ids:
            self._of[task_id] = batch
        while len(self._batches) > _LIMIT:
            self._forget(next(iter(self._batches.values())))

    def covers(self, task_id: str) -> bool:
        """Whether ``task_id`` belongs to a batch this client watches together."""
        return task_id in self._of

    def _forget(self, batch: _Batch) -> None:
        self._batches.pop(batch.batch_id, None)
        for task_id in batch.task_ids:
            if self._of.get(task_id) is batch:
                del self._of[task_id]

    async def poll(self, task_id: str, single: Single) -> TaskSnapshot:
        """``task_id``'s snapshot, from its batch's GET when that saves requests."""
        batch = self._of.get(task_id)
        poller = self._client.poller
        if batch is None:
            return await single()
        watched = [t for t in batch.task_ids if t != task_id and poller.watching(t)]
        if not watched:
            self._forget(batch)  # the last one left: its own poll costs the same
            return await single()
        try:
            status = await self._status(batch)
        except ServiceError:
            raise  # passing: this task's poll failed, the poller tries it again
        except MusicAPIError:
            self._forget(batch)  # the batch cannot be read: poll its tasks one by one
            return await single()
        if len(status.snapshots) == len(batch.task_ids) and all(s.done for s in status.snapshots):
            self._forget(batch)  # all over: nothing of it will be polled again
        mine: TaskSnapshot | None = None
        for snapshot in status.snapshots:
            if snapshot.task_id == task_id:
                mine = snapshot
            elif snapshot.task_id in batch.task_ids:  # never a task of another batch
                poller.polled_with(snapshot.task_id, snapshot)
        return mine if mine is not None else await single()

    async def _status(self, batch: _Batch) -> BatchStatus:
        """The batch's status: the request in flight, a fresh answer, or a new request."""
        clock = self._client._clock
        policy = self._client.poll_policy
        fresh = policy.min_interval / policy.time_scale / 2
        flight = batch.in_flight
        if flight is not None:  # asked together: share the answer, or the failure
            await flight.wait()
            if batch.error is not None:
                raise batch.error
            if batch.last is not None:
                return batch.last
        if batch.last is not None and clock() - batch.last_at < fresh:
            return batch.last
        batch.in_flight = done = anyio.Event()
        try:
            self.requests += 1
            status = await self._client.call(
                SONIC_BATCH_STATUS, None, task_id=batch.batch_id, retry=False
            )
        except MusicAPIError as exc:
            batch.error = exc
            raise
        else:
            batch.last, batch.last_at, batch.error = status, clock(), None
            return status
        finally:
            batch.in_flight = None
            done.set()
