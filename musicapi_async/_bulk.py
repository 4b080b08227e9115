"""Many tasks at once: ``as_completed`` and ``generate_many``.

Both are async generators that never hold a cancel scope across a ``yield`` (which
structured concurrency forbids): the work runs in the client's own task group, inside a
cancel scope that the generator cancels when the caller stops iterating.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypedDict, TypeVar, cast

import anyio
import attrs

from ._batch_models import MAX_BATCH_ITEMS
from ._convert import result_from_json, result_to_json, to_wire
from ._endpoints import ENDPOINTS, ROWS, Answer, cost_of, row_for
from ._errors import (
    BudgetExceeded,
    ClientClosed,
    InsufficientCredits,
    InvalidRequest,
    MusicAPIError,
    SubmissionOutcomeUnknown,
    TaskError,
    TaskFailed,
    TaskTimeout,
)
from ._events import JobEvent, TaskDone
from ._jobs import (
    DEFAULT_WAIT_TIMEOUT,
    PAID_CALL_WATCH,
    Job,
    Orphan,
    PaidCallWatch,
    closed_error,
    window_task,
)
from ._log import logger
from ._models import (
    Clip,
    SonicRequest,
)
from ._validation import validate_body
from ._windows import window_store

if TYPE_CHECKING:
    from typing import Protocol, TypeGuard

    from anyio.streams.memory import MemoryObjectSendStream

    from ._client import MusicAPI
    from ._journal import Entry, Journal, WindowStore
    from ._requests import AnyRequest, GenerationRequest

    class _SharedJournal(Journal, Protocol):
        """[redis hook] A journal many processes share (``RedisJournal``)."""

        async def wait_task_id(self, fingerprint: str) -> str | None: ...


__all__ = ["Outcome", "as_completed", "generate_many"]

# Derived from the table: the rows that answer at once (no task to poll).
_T = TypeVar("_T")

_SYNCHRONOUS_ENDPOINTS: Final = frozenset(
    ep.name for ep in ROWS if ep.answer is Answer.VALUE and ep.request_models
)


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
        cost: credits this run committed for it (documented cost; 0 when resumed or
            refused before acceptance).
        resumed: its result (or task) came from the journal of an earlier run.
    """

    index: int
    request: object
    task_id: str | None = None
    clips: tuple[Clip, ...] = ()
    result: Any = None
    error: MusicAPIError | None = None
    cost: int = 0
    resumed: bool = False

    @property
    def ok(self) -> bool:
        """Whether the request succeeded."""
        return self.error is None


class _DoneSubscriber:
    """Sends its job to a shared stream when the job's task ends."""

    __slots__ = ("_send", "closed", "job")  # one per job of a bulk run

    def __init__(self, job: Job, send: MemoryObjectSendStream[Job]) -> None:
        self.job = job
        self._send = send
        self.closed: ClientClosed | None = None

    def deliver(self, events: Sequence[JobEvent]) -> None:
        for event in events:
            self.job.observe(event.snapshot)
            if isinstance(event, TaskDone):
                self._send.send_nowait(self.job)

    def fail(self, error: MusicAPIError) -> None:
        self.job.end_with(error)
        self._send.send_nowait(self.job)

    def client_closed(self) -> None:
        # Not the task's error (it goes on upstream): the generator raises it instead.
        self.closed = closed_error(self.job)
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
            client._waiters.add(subscriber)
            task = window_task(job.request)
            client.poller.watch(
                job.task_id, job.family, subscriber, submitted_at=job.submitted_at, task=task
            )
        for _ in range(len(pending)):
            try:
                if deadline == math.inf:  # no cancel scope per job when there is no deadline
                    job = await receive.receive()
                else:
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
            closed = next((s.closed for s in subscribers if s.closed is not None), None)
            if closed is not None:
                raise closed
            yield job
    finally:
        for subscriber in subscribers:
            client._waiters.discard(subscriber)
            client.poller.unwatch(subscriber.job.task_id, subscriber)
        send.close()
        receive.close()


class ManyOptions(TypedDict, total=False):
    """The options of ``generate_many`` (documented on ``MusicAPI.generate_many``)."""

    concurrency: int
    timeout: float | None
    journal: Journal | None
    budget: int | None
    preflight: bool
    on_accepted: Callable[[int, Job, bool], None] | None
    batch: bool


async def generate_many(
    client: MusicAPI,
    requests: Iterable[AnyRequest],
    *,
    concurrency: int = 8,
    timeout: float | None = None,
    journal: Journal | None = None,
    budget: int | None = None,
    preflight: bool = False,
    on_accepted: Callable[[int, Job, bool], None] | None = None,
    batch: bool = False,
) -> AsyncGenerator[Outcome, None]:
    """Submit ``requests`` and yield their outcomes (see ``MusicAPI.generate_many``)."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if budget is not None and budget < 0:
        raise ValueError("budget must not be negative")
    if batch and journal is not None and _is_shared(journal):
        # [redis hook] A shared journal claims each request for one process at a time;
        # a batch would claim ten at once across processes. Not supported (yet).
        raise InvalidRequest(
            "generate_many(batch=True) cannot use a journal shared by several processes "
            "(RedisJournal); use batch=False, or a SQLiteJournal per process.",
            field="batch",
        )
    send, receive = anyio.create_memory_object_stream[Outcome | None](math.inf)
    slots = anyio.Semaphore(concurrency)
    scope = anyio.CancelScope()
    runner = _Batch(client, journal, budget, timeout, on_accepted)

    def hand_over(outcome: Outcome | None) -> None:
        try:
            send.send_nowait(outcome)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            # The caller has left the loop: no one reads outcomes any more. A request
            # that was in flight is not lost: its task id is in the journal and the log.
            if outcome is not None:
                _report_abandoned(outcome, journaled=journal is not None)

    async def run_one(index: int, request: object, fingerprint: str | None) -> None:
        try:
            hand_over(await runner.run(index, request, fingerprint))
        finally:
            slots.release()

    async def run_queued(queued: list[tuple[int, object, str | None]]) -> None:
        from ._bulk_batch import run_batch  # only batch=True runs pay for its import

        await run_batch(runner, queued, hand_over, slots.release)

    async def produce() -> None:
        with scope:
            store = _window_store(journal)
            if window_store(client.coordination) is not None:
                store = None  # the client keeps its windows in its coordination already
            if store is not None:
                # Start from what earlier runs learned: a second run polls as a warm one.
                client.poller.model.seed(await store.load_windows())
            if preflight:
                # Never plan to spend more than the account holds.
                balance = (await client.get_credits()).total
                runner.budget = balance if budget is None else min(budget, balance)
            async with anyio.create_task_group() as group:
                # batch=True: sonic creates wait here to go up to 10 in one POST.
                queued: list[tuple[int, object, str | None]] = []

                def flush() -> None:
                    if queued:
                        group.start_soon(run_queued, list(queued))
                        queued.clear()

                for index, request in enumerate(requests):
                    if queued and slots.value == 0:
                        flush()  # no slot left for another to join: send what waits
                    await slots.acquire()
                    ready = await runner.prepare(index, request)
                    if isinstance(ready, Outcome):
                        slots.release()
                        hand_over(ready)
                    elif batch and isinstance(request, SonicRequest):
                        queued.append((index, request, ready))
                        if len(queued) == MAX_BATCH_ITEMS:
                            flush()
                    else:
                        group.start_soon(run_one, index, request, ready)
                flush()
            if store is not None:
                await store.save_windows(client.poller.model.learned())
            hand_over(None)

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


def _window_store(journal: Journal | None) -> WindowStore | None:
    """``journal`` if it keeps learned completion windows (``SQLiteJournal`` does)."""
    if journal is None:
        return None
    from ._journal import WindowStore

    return journal if isinstance(journal, WindowStore) else None


class _Batch:
    """The per-request rules of one ``generate_many`` run: journal, budget, submission."""

    def __init__(
        self,
        client: MusicAPI,
        journal: Journal | None,
        budget: int | None,
        timeout: float | None,
        on_accepted: Callable[[int, Job, bool], None] | None,
    ) -> None:
        self.client = client
        self.on_accepted = on_accepted
        self.journal = journal
        self.budget = budget
        self.timeout = timeout
        self.spent = 0
        self.exhausted = False  # some request did not fit the budget
        self.out_of_credits: str | None = None  # the server's words when it could not pay
        self._seen: dict[str, int] = {}

    async def prepare(self, index: int, request: object) -> Outcome | str | None:
        """An outcome when the request must not be sent (done before, invalid, over
        budget); otherwise its journal fingerprint (``None`` without a journal)."""
        endpoint = _endpoint_of(request)
        if endpoint is None:
            refused = InvalidRequest(f"generate_many cannot run a {type(request).__name__}")
            return Outcome(index, request, error=refused)
        wire = to_wire(request)
        try:
            validate_body(endpoint, wire)
        except InvalidRequest as exc:
            return Outcome(index, request, error=exc)
        fingerprint = None
        if self.journal is not None:
            from ._journal import JobState
            from ._journal import fingerprint as _fingerprint

            # Identical requests are told apart by their rank among their twins, so a
            # file that asks for the same song twice gets it twice, and a rerun of that
            # file matches each one to its own journal entry.
            plain = _fingerprint(endpoint, wire)
            rank = self._seen[plain] = self._seen.get(plain, 0) + 1
            fingerprint = _fingerprint(endpoint, wire, key=f"#{rank}")
            entry = await self.journal.get(fingerprint)
            if _shared_pending(self.journal, entry):  # [redis hook] another process sends it
                return fingerprint
            if (
                entry is not None
                and entry.state is JobState.PENDING
                and not entry.sending
                and entry.session != getattr(self.journal, "session", None)
            ):
                # Claimed by a run that died while the request waited for its turn: it
                # was provably never sent (journal rule 2), so it is sent now.
                await self.journal.forget(fingerprint)
                entry = None
            if entry is not None and entry.state is not JobState.SUBMITTED:
                return _from_journal(index, request, entry)
            if entry is not None:
                return fingerprint  # accepted before: resume waiting, spend nothing
        cost, pool = cost_of(endpoint, wire)
        if self.out_of_credits is not None and cost and pool == "credits":
            # The account said it cannot pay: every further paid request would be refused
            # too. Stop sending rather than collect one 403 per request.
            held = InsufficientCredits(
                f"not sent: the account ran out of credits earlier in this batch "
                f"({self.out_of_credits})",
                api_message=self.out_of_credits,
            )
            return Outcome(index, request, error=held)
        if self.budget is not None and pool == "credits":
            if self.spent + cost > self.budget:
                # Only this request is refused: a later, cheaper one that still fits the
                # budget is sent (the budget is filled, not abandoned at the first miss).
                self.exhausted = True
                error = BudgetExceeded(
                    f"not sent: {cost} credits would pass the budget of {self.budget} "
                    f"({self.spent} committed)",
                    cost=cost,
                    remaining=self.budget - self.spent,
                )
                return Outcome(index, request, error=error)
            self.spent += cost
        return fingerprint

    async def run(self, index: int, request: object, fingerprint: str | None) -> Outcome:
        """Send (or resume) one request and wait for its result."""
        endpoint = _endpoint_of(request)
        assert endpoint is not None  # prepare() refused the others
        journal = self.journal
        task_id: str | None = None
        try:
            if journal is not None and fingerprint is not None:
                entry = await journal.get(fingerprint)
                if entry is not None and entry.task_id is not None:
                    task_id = entry.task_id
                elif (
                    found := await journal.begin(fingerprint, endpoint, to_wire(request))
                ) is not None:
                    ours = False
                    if _is_shared(journal):  # [redis hook] another process got there first
                        from ._journal import JobState

                        if found.state in (JobState.DONE, JobState.FAILED):
                            return _from_journal(index, request, found)
                        if found.endpoint not in _SYNCHRONOUS_ENDPOINTS:
                            # None: its claimer died before sending; the claim is ours now.
                            task_id = found.task_id or await journal.wait_task_id(fingerprint)
                            ours = task_id is None
                    if task_id is None and not ours:
                        raise SubmissionOutcomeUnknown(
                            "journal: this request was begun elsewhere meanwhile",
                            endpoint=endpoint,
                            request=request,
                        )
            if endpoint in _SYNCHRONOUS_ENDPOINTS:
                result = await self._send_sync(endpoint, request, fingerprint)
                return Outcome(index, request, result=result, cost=self._cost(endpoint, request))
            resumed = task_id is not None
            if task_id is None:
                # A create still waiting for its turn is dropped when the run is left; one
                # already sent finishes behind the client's shield, and its answer comes
                # back here through the sink, so the journal keeps its task id either way.
                # The row answers with a task (not _SYNCHRONOUS): a generation request.
                generation = cast("GenerationRequest", request)
                job = await self._paid(fingerprint, lambda: self.client.submit(generation))
                task_id = job.task_id
                if journal is not None and fingerprint is not None:
                    with anyio.CancelScope(shield=True):
                        await journal.submitted(fingerprint, task_id)
            else:
                job = self.client.job(task_id, row_for(request).family)
        except MusicAPIError as exc:
            return await self._failed(index, request, endpoint, fingerprint, task_id, exc)
        return await self.finish(index, request, fingerprint, job, resumed=resumed)

    async def finish(
        self, index: int, request: object, fingerprint: str | None, job: Job, *, resumed: bool
    ) -> Outcome:
        """Wait for an accepted (or resumed) request's task and journal its end."""
        endpoint = _endpoint_of(request)
        assert endpoint is not None  # prepare() refused the others
        journal, task_id = self.journal, job.task_id
        try:
            if self.on_accepted is not None:
                self.on_accepted(index, job, resumed)
            try:
                timeout = DEFAULT_WAIT_TIMEOUT if self.timeout is None else self.timeout
                clips = tuple(await job.wait(timeout=timeout))
            except anyio.get_cancelled_exc_class():
                # Left early (or the client closed): the task runs on upstream, billed.
                _report_abandoned(
                    Outcome(index, request, task_id=task_id), journaled=journal is not None
                )
                raise
            if journal is not None and fingerprint is not None:
                await journal.finished(fingerprint, result_to_json(clips))
            cost = 0 if resumed else self._cost(endpoint, request)
            return Outcome(index, request, task_id=task_id, clips=clips, cost=cost, resumed=resumed)
        except MusicAPIError as exc:
            return await self._failed(index, request, endpoint, fingerprint, task_id, exc)

    async def _paid(self, fingerprint: str | None, send: Callable[[], Awaitable[_T]]) -> _T:
        """Run one paid call under its watch: cancelled before it was sent, it is forgotten."""
        watch = self._watch(fingerprint)
        token = PAID_CALL_WATCH.set(watch)
        try:
            return await send()
        except anyio.get_cancelled_exc_class():
            if not watch.in_flight:  # never sent, or refused: nothing billed
                with anyio.CancelScope(shield=True):
                    await self._settled(fingerprint, None)
            raise
        finally:
            PAID_CALL_WATCH.reset(token)

    def _watch(self, fingerprint: str | None) -> PaidCallWatch:
        """How the client reports back on one request's paid tries (see ``PaidCallWatch``)."""
        journal = self.journal
        sending = None
        if journal is not None and fingerprint is not None:
            sending = functools.partial(journal.sending, fingerprint)
        return PaidCallWatch(functools.partial(self._settled, fingerprint), sending)

    async def _settled(self, fingerprint: str | None, orphan: Orphan | None) -> None:
        """Journal how a create of a run that was left early ended (``None``: not billed)."""
        if self.journal is None or fingerprint is None:
            return
        if orphan is None:
            await self.journal.forget(fingerprint)  # a later run may send it
        elif orphan.task_id is not None:
            await self.journal.submitted(fingerprint, orphan.task_id)
        elif orphan.error is not None:
            await self.journal.unknown(fingerprint, orphan.error)
        else:  # a synchronous answer (a persona, lyrics): the request is done
            await self.journal.finished(fingerprint, result_to_json(orphan.result))

    async def _send_sync(self, endpoint: str, request: object, fingerprint: str | None) -> Any:
        row = ENDPOINTS[endpoint]
        result: Any = await self._paid(fingerprint, lambda: self.client.call(row, request))
        with anyio.CancelScope(shield=True):
            if self.journal is not None and fingerprint is not None:
                await self.journal.finished(fingerprint, result_to_json(result))
        return result

    def _cost(self, endpoint: str, request: object) -> int:
        cost, pool = cost_of(endpoint, to_wire(request))
        return cost if pool == "credits" else 0

    async def _failed(
        self,
        index: int,
        request: object,
        endpoint: str,
        fingerprint: str | None,
        task_id: str | None,
        exc: MusicAPIError,
    ) -> Outcome:
        journal = self.journal
        accepted = task_id is not None
        task_id = task_id or getattr(exc, "task_id", None)
        clips = _clips_of(exc) if isinstance(exc, TaskError) else ()
        if journal is not None and fingerprint is not None:
            if isinstance(exc, SubmissionOutcomeUnknown):
                await journal.unknown(fingerprint, exc)
            elif isinstance(exc, TaskTimeout | ClientClosed):
                pass  # still running upstream: the next run resumes waiting on it
            elif accepted:
                await journal.failed(fingerprint, exc)
            else:
                # Refused before anything was accepted (no credits, moderation, throttled
                # out): nothing was billed, so a later run may send it again.
                await journal.forget(fingerprint)
        if not accepted and not isinstance(exc, SubmissionOutcomeUnknown):
            self.spent -= self._cost(endpoint, request) if self.budget is not None else 0
            paid_from = cost_of(endpoint, to_wire(request))[1]
            if (
                isinstance(exc, InsufficientCredits)
                and exc.status is not None
                and paid_from == "credits"
            ):
                self.out_of_credits = exc.api_message or str(exc)
        cost = self._cost(endpoint, request) if accepted else 0
        return Outcome(index, request, task_id=task_id, clips=clips, error=exc, cost=cost)


def _report_abandoned(outcome: Outcome, *, journaled: bool) -> None:
    """Say what became of a request that finished after ``generate_many`` was left."""
    if outcome.task_id is None and not isinstance(outcome.error, SubmissionOutcomeUnknown):
        return  # never accepted (refused, or not sent): nothing to reconcile
    where = "the journal has it" if journaled else "keep this id to reconcile it"
    if outcome.task_id is not None:
        logger.warning(
            "generate_many was left while request #%d was in flight: it was "
            "accepted as task %s (%s)",
            outcome.index,
            outcome.task_id,
            where,
        )
    else:
        logger.warning(
            "generate_many was left while request #%d was in flight: its "
            "outcome is unknown, it may have been billed (%s)",
            outcome.index,
            outcome.error,
        )


def _is_shared(journal: Journal) -> TypeGuard[_SharedJournal]:
    # [redis hook] A journal shared by many processes (``RedisJournal``) can wait for the
    # task id of a request another live process is sending, instead of calling it unknown.
    return hasattr(journal, "wait_task_id")


def _shared_pending(journal: Journal, entry: Entry | None) -> bool:
    # [redis hook]
    from ._journal import JobState

    return (
        entry is not None
        and entry.state is JobState.PENDING
        and entry.endpoint not in _SYNCHRONOUS_ENDPOINTS
        and _is_shared(journal)
    )


def _endpoint_of(request: object) -> str | None:
    """The name of the row that takes ``request``, ``None`` if no row does."""
    try:
        return row_for(request).name
    except KeyError:
        return None


def _from_journal(index: int, request: object, entry: Entry) -> Outcome:
    """The outcome a previous run recorded, without sending anything."""
    from ._journal import JobState

    if entry.state is JobState.DONE and entry.result is not None:
        result = result_from_json(entry.endpoint, entry.result)
        if isinstance(result, tuple):
            return Outcome(index, request, task_id=entry.task_id, clips=result, resumed=True)
        return Outcome(index, request, result=result, resumed=True)
    if entry.state is JobState.FAILED:
        error: MusicAPIError = TaskFailed(
            f"a previous run recorded this task as failed: {entry.error}",
            task_id=entry.task_id or "",
        )
        return Outcome(index, request, task_id=entry.task_id, error=error, resumed=True)
    error = SubmissionOutcomeUnknown(
        "a previous run sent this request and its outcome is unknown "
        f"({entry.state.value}); reconcile it, then forget it in the journal to send again",
        endpoint=entry.endpoint,
        request=request,
    )
    return Outcome(index, request, task_id=entry.task_id, error=error, resumed=True)


def _clips_of(exc: TaskError) -> tuple[Clip, ...]:
    return exc.snapshot.clips if exc.snapshot is not None else ()
