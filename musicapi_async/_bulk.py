"""Many tasks at once: ``as_completed`` and ``generate_many``.

Both are async generators that never hold a cancel scope across a ``yield`` (which
structured concurrency forbids): the work runs in the client's own task group, inside a
cancel scope that the generator cancels when the caller stops iterating.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncGenerator, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from ._errors import InvalidRequest, MusicAPIError, TaskError, TaskTimeout
from ._events import JobEvent, TaskDone
from ._jobs import Job
from ._models import (
    Clip,
    LyricsRequest,
    NuroInstrumentalRequest,
    NuroVocalRequest,
    PersonaRequest,
    SonicRequest,
    StudioRequest,
    UploadRequest,
)

if TYPE_CHECKING:
    from anyio.streams.memory import MemoryObjectSendStream

    from ._client import MusicAPI

__all__ = ["Outcome", "as_completed", "generate_many"]

_GENERATION = (SonicRequest, NuroVocalRequest, NuroInstrumentalRequest, StudioRequest)
_SYNCHRONOUS = {PersonaRequest: "sonic.persona", UploadRequest: "sonic.upload",
                LyricsRequest: "lyrics.create"}  # fmt: skip


@attrs.frozen
class Outcome:
    """How one request of ``generate_many`` ended. Failures are values, not exceptions.

    Attributes:
        index: the request's position in the input.
        request: the request model.
        task_id: the task's id, whenever one was assigned (also on most failures).
        clips: the finished clips (generation requests that succeeded).
        result: the answer of a synchronous request (``Persona``, ``UploadedClip``,
            ``list[LyricsCandidate]``).
        error: what went wrong, or ``None``.
    """

    index: int
    request: object
    task_id: str | None = None
    clips: tuple[Clip, ...] = ()
    result: Any = None
    error: MusicAPIError | None = None

    @property
    def ok(self) -> bool:
        """Whether the request succeeded."""
        return self.error is None


class _DoneSubscriber:
    """Sends its job to a shared stream when the job's task ends."""

    def __init__(self, job: Job, send: MemoryObjectSendStream[Job]) -> None:
        self.job = job
        self._send = send

    def deliver(self, events: Sequence[JobEvent]) -> None:
        for event in events:
            self.job.snapshot = event.snapshot
            if isinstance(event, TaskDone):
                self._send.send_nowait(self.job)

    def fail(self, error: MusicAPIError) -> None:
        self.job.error = error
        self._send.send_nowait(self.job)


async def as_completed(
    client: MusicAPI, jobs: Iterable[Job], *, timeout: float | None = None
) -> AsyncGenerator[Job, None]:
    """Yield ``jobs`` as their tasks end (see ``MusicAPI.as_completed``)."""
    pending = list(jobs)
    send, receive = anyio.create_memory_object_stream[Job](math.inf)
    subscribers: list[_DoneSubscriber] = []
    deadline = math.inf if timeout is None else time.monotonic() + timeout
    try:
        for job in pending:
            if job.done:
                send.send_nowait(job)
                continue
            subscriber = _DoneSubscriber(job, send)
            subscribers.append(subscriber)
            client.poller.watch(job.task_id, job.family, subscriber,
                                submitted_at=job.submitted_at)  # fmt: skip
        for _ in range(len(pending)):
            try:
                with anyio.fail_after(deadline - time.monotonic()):
                    job = await receive.receive()
            except TimeoutError:
                late = next(j for j in pending if not j.done)
                raise TaskTimeout(
                    f"as_completed: {sum(not j.done for j in pending)} tasks were not "
                    f"finished after {timeout} s",
                    task_id=late.task_id,
                    snapshot=late.snapshot,
                ) from None
            yield job
    finally:
        for subscriber in subscribers:
            client.poller.unwatch(subscriber.job.task_id, subscriber)
        send.close()
        receive.close()


async def generate_many(
    client: MusicAPI,
    requests: Iterable[object],
    *,
    concurrency: int = 8,
    timeout: float | None = None,
) -> AsyncGenerator[Outcome, None]:
    """Submit ``requests`` and yield their outcomes (see ``MusicAPI.generate_many``)."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    send, receive = anyio.create_memory_object_stream[Outcome | None](math.inf)
    slots = anyio.Semaphore(concurrency)
    scope = anyio.CancelScope()

    async def run_one(index: int, request: object) -> None:
        try:
            send.send_nowait(await _outcome(client, index, request, timeout))
        finally:
            slots.release()

    async def produce() -> None:
        with scope:
            async with anyio.create_task_group() as group:
                for index, request in enumerate(requests):
                    await slots.acquire()
                    group.start_soon(run_one, index, request)
            send.send_nowait(None)

    client.start_soon(produce)
    try:
        async for outcome in receive:
            if outcome is None:
                return
            yield outcome
    finally:
        scope.cancel()
        send.close()
        receive.close()


async def _outcome(client: MusicAPI, index: int, request: object, timeout: float | None) -> Outcome:
    endpoint = _SYNCHRONOUS.get(type(request))
    try:
        if endpoint is not None:
            return Outcome(index, request, result=await client.call(endpoint, request))
        if not isinstance(request, _GENERATION):
            raise InvalidRequest(f"generate_many cannot run a {type(request).__name__}")
        # A submission that was sent must not be abandoned half-way: its answer carries
        # the task id the caller needs to reconcile, even if the batch is being cancelled.
        with anyio.CancelScope(shield=True):
            job = await client.submit(request)
        clips = await job.wait(timeout=timeout)
        return Outcome(index, request, task_id=job.task_id, clips=tuple(clips))
    except TaskError as exc:
        return Outcome(index, request, task_id=exc.task_id, clips=_clips_of(exc), error=exc)
    except MusicAPIError as exc:
        return Outcome(index, request, task_id=getattr(exc, "task_id", None), error=exc)


def _clips_of(exc: TaskError) -> tuple[Clip, ...]:
    return exc.snapshot.clips if exc.snapshot is not None else ()
