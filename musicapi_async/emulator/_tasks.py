"""Tasks and clips: the lifecycle table, and answers computed lazily from the clock.

Lifecycle of one clip (every timeline is checked against ``TRANSITIONS`` when made)::

    state       may become                    sonic            nuro        studio
    (not_ready) -                             first 5-15 s     -           -
    pending     running | failed              3-10 s           2-5 s       SUBMITTED
    running     streaming | succeeded | failed 30-60 s         to the end  IN_PROGRESS
    streaming   succeeded | failed            to the end       -           -
    succeeded   (terminal)                    120-240 s in     25-35 s in  60-120 s in
    failed      (terminal)                    20-100 s into running

Rules:

* Timelines are drawn from a seeded RNG when the task is created; nothing runs on a
  timer. A poll bisects each clip's timeline at the virtual clock's ``now``.
* ``not_ready`` is a task-level phase of sonic tasks only: until ``ready_at`` the poll
  answers ``{"type": "not_ready"}``, with HTTP 202 by default: the body was seen live
  (§4.3) and the vendor's own Python SDK (musicapi-sdk 0.1.0) polls for "202 +
  not_ready"; ``not_ready_status=200`` serves it as a plain 200 instead.
* A failing task fails all its clips (or only its last, for a partial failure); its
  cost is refunded once, when its first clip fails (``TaskStore.settle``).
* Each answer is encoded once per combination of clip states (and progress) and cached,
  so thousands of polls a second cost a bisect and a dictionary lookup each.
"""

from __future__ import annotations

import bisect
import enum
import heapq
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

import attrs

from .._models import ClipState, Family
from ._ledger import Charge, Ledger

__all__ = [
    "FAILED_MESSAGE",
    "RENDERERS",
    "SONIC_DATA",
    "TRANSITIONS",
    "ClipKind",
    "ClipRecord",
    "Task",
    "TaskStore",
    "Timeline",
    "WebhookTarget",
]

P, R, S, OK, F = (
    ClipState.PENDING,
    ClipState.RUNNING,
    ClipState.STREAMING,
    ClipState.SUCCEEDED,
    ClipState.FAILED,
)
TRANSITIONS: Final[Mapping[ClipState, frozenset[ClipState]]] = {
    P: frozenset({R, F}),
    R: frozenset({S, OK, F}),
    S: frozenset({OK, F}),
    OK: frozenset(),
    F: frozenset(),
}
FAILED_MESSAGE: Final = "Task failed due to timeout. Credits were previously refunded."
_NOT_READY: Final = json.dumps({"type": "not_ready"}).encode()
_STUDIO_STATUS: Final = {P: "SUBMITTED", R: "IN_PROGRESS", OK: "SUCCESS", F: "FAILURE"}
_ORDER: Final = {P: 0, R: 1, S: 2}


class ClipKind(enum.StrEnum):
    """Where a clip came from; decides which task types may reference it."""

    SONG = "song"
    EXTENSION = "extension"
    UPLOAD = "upload"
    NURO = "nuro"
    STUDIO = "studio"


@attrs.frozen
class ClipRecord:
    """A clip the emulator knows, for references (extend, cover, concat, persona, media).

    Attributes:
        succeeded_at: virtual time it becomes usable; ``inf`` for a clip that fails.
        continue_at: where an extension starts in its source (extensions only).
    """

    clip_id: str
    key: str
    kind: ClipKind
    duration: float
    succeeded_at: float
    task_id: str | None = None
    continue_at: float | None = None
    title: str = ""
    mv: str | None = None


@attrs.frozen
class Timeline:
    """One clip's life: the state entered at each time, and its wire form in each."""

    clip_id: str
    times: tuple[float, ...]
    states: tuple[ClipState, ...]
    views: tuple[Mapping[str, Any], ...] = attrs.field(repr=False)

    def __attrs_post_init__(self) -> None:
        pairs = zip(self.states, self.states[1:], strict=False)
        if any(b not in TRANSITIONS[a] for a, b in pairs) or list(self.times) != sorted(self.times):
            raise ValueError(f"timeline breaks the lifecycle table: {self.states}")

    def index(self, now: float) -> int:
        """The index of the state at ``now`` (the first state before it starts)."""
        return max(0, bisect.bisect_right(self.times, now) - 1)

    def state(self, now: float) -> ClipState:
        """The clip's state at ``now``."""
        return self.states[self.index(now)]

    def time_of(self, state: ClipState) -> float | None:
        """When the clip enters ``state``, if it ever does."""
        return self.times[self.states.index(state)] if state in self.states else None

    @property
    def end(self) -> float:
        """When the clip reaches its terminal state."""
        return self.times[-1]


@attrs.frozen
class WebhookTarget:
    """Where and how a task's webhooks go."""

    url: str
    secret: str | None = attrs.field(repr=False)


@attrs.frozen
class Task:
    """One generation task, fixed at creation; its state is a function of time."""

    task_id: str
    family: Family
    key: str
    task_type: str
    created_at: float
    ready_at: float
    created_wall: float
    timelines: tuple[Timeline, ...]
    charge: Charge
    webhook: WebhookTarget | None = None
    # Family-level fields of the answer (nuro's flat object, studio's task object).
    fields: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    def indices(self, now: float) -> tuple[int, ...]:
        """Each clip's state index at ``now``."""
        return tuple(t.index(now) for t in self.timelines)

    def status(self, now: float) -> str:
        """``not_ready``, the least advanced clip state, or ``succeeded``/``failed``."""
        if now < self.ready_at:
            return "not_ready"
        states = [t.state(now) for t in self.timelines]
        live = [s for s in states if not s.is_terminal]
        if live:
            return min(live, key=_ORDER.__getitem__).value
        return F.value if F in states else OK.value

    @property
    def fails_at(self) -> float | None:
        """When the first clip fails, for failing tasks."""
        times = [t.end for t in self.timelines if t.states[-1] is F]
        return min(times) if times else None

    @property
    def end(self) -> float:
        """When every clip is terminal."""
        return max(t.end for t in self.timelines)

    def progress(self, now: float) -> int:
        """Percent done of the first clip, as nuro and studio report it."""
        timeline = self.timelines[0]
        state = timeline.state(now)
        if state is OK:
            return 100
        start = timeline.time_of(R)
        if start is None or now < start:
            return 0
        end = min(now, timeline.end)
        return max(1, min(99, int(100 * (end - start) / max(timeline.end - start, 1e-9))))


def _dump(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


# The task answers of families whose module keeps its own (producer, riffusion:
# ``_producer``): ``(task, clip state indices) -> body``, always HTTP 200.
RENDERERS: dict[Family, Callable[[Task, tuple[int, ...]], bytes]] = {}
# The ``data`` list of sonic task types whose answer is not one view per clip (upload-
# extend's ``{extended, full}`` pairs, ``_sonic_tasks``): ``(task, indices) -> data``.
SONIC_DATA: dict[str, Callable[[Task, tuple[int, ...]], list[Any]]] = {}


class TaskStore:
    """Every task, clip and persona of one emulator run.

    Args:
        failure_style: ``"clips"`` answers failed tasks with ``state: failed`` clips;
            ``"http_504"`` answers a sonic task whose clips all failed with the
            documented 504 instead.
        not_ready_status: the HTTP status of ``{"type": "not_ready"}`` answers.
    """

    def __init__(self, *, failure_style: str = "clips", not_ready_status: int = 202) -> None:
        if failure_style not in ("clips", "http_504"):
            raise ValueError("failure_style is 'clips' or 'http_504'")
        if not_ready_status not in (200, 202):
            raise ValueError("not_ready_status is 200 or 202")
        self.failure_style = failure_style
        self.not_ready_status = not_ready_status
        self.tasks: dict[str, Task] = {}
        self.clips: dict[str, ClipRecord] = {}
        self.personas: dict[str, tuple[str, str]] = {}  # id -> (key, clip id)
        self._refunds: list[tuple[float, int, str]] = []
        self._refunded: set[str] = set()
        self._cache: dict[str, tuple[tuple[int, ...], int, bytes]] = {}

    def add(self, task: Task, records: list[ClipRecord]) -> None:
        """Store a new task and its clips; schedule its refund if it fails."""
        self.tasks[task.task_id] = task
        for record in records:
            self.clips[record.clip_id] = record
        fails_at = task.fails_at
        if fails_at is not None and task.charge.total:
            heapq.heappush(self._refunds, (fails_at, len(self.tasks), task.task_id))

    def settle(self, now: float, ledger: Ledger) -> None:
        """Refund every task whose first clip has failed by ``now`` (once each)."""
        refunds = self._refunds
        while refunds and refunds[0][0] <= now:
            task_id = heapq.heappop(refunds)[2]
            if task_id not in self._refunded:
                self._refunded.add(task_id)
                ledger.refund(self.tasks[task_id].charge)

    def refunded(self, task_id: str) -> bool:
        """Whether the task's cost has been given back."""
        return task_id in self._refunded

    def lookup(self, task_id: str, key: str, family: Family) -> Task | None:
        """The task, if it exists, belongs to ``key`` and is of ``family``."""
        task = self.tasks.get(task_id)
        if task is None or task.key != key or task.family is not family:
            return None
        return task

    def render(self, task: Task, now: float) -> tuple[int, bytes]:
        """The task endpoint's answer for ``task`` at ``now``: ``(status, body)``."""
        if now < task.ready_at:
            return self.not_ready_status, _NOT_READY
        indices = task.indices(now)
        progress = task.progress(now) if task.family is not Family.SONIC else 0
        cached = self._cache.get(task.task_id)
        if cached is None or cached[0] != indices or cached[1] != progress:
            if task.family is Family.NURO:
                body = _dump(self._nuro_dict(task, indices[0], progress))
            elif task.family is Family.STUDIO:
                body = self._studio(task, indices, progress)
            elif task.family in RENDERERS:
                body = RENDERERS[task.family](task, indices)
            else:
                body = self._sonic(task, indices)
            cached = (indices, progress, body)
            self._cache[task.task_id] = cached
        status = self._sonic_status(task, indices) if task.family is Family.SONIC else 200
        return status, cached[2]

    def _sonic_status(self, task: Task, indices: tuple[int, ...]) -> int:
        if self.failure_style == "http_504" and all(
            t.states[i] is F for t, i in zip(task.timelines, indices, strict=True)
        ):
            return 504
        return 200

    def _sonic(self, task: Task, indices: tuple[int, ...]) -> bytes:
        if self._sonic_status(task, indices) == 504:
            return _dump({"code": 504, "message": FAILED_MESSAGE})
        return _dump({"code": 200, "data": self.sonic_data(task, indices), "message": "success"})

    def sonic_data(self, task: Task, indices: tuple[int, ...]) -> list[Any]:
        """The ``data`` list of a sonic task's answer (and webhook) at clip ``indices``."""
        render = SONIC_DATA.get(task.task_type)
        if render is not None:
            return render(task, indices)
        return [t.views[i] for t, i in zip(task.timelines, indices, strict=True)]

    def nuro_object(self, task: Task, now: float) -> dict[str, Any]:
        """Nuro's flat task object at ``now`` (also the body of its webhooks)."""
        timeline = task.timelines[0]
        index = timeline.index(now)
        return self._nuro_dict(task, index, task.progress(now))

    def _nuro_dict(self, task: Task, index: int, progress: int) -> dict[str, Any]:
        timeline = task.timelines[0]
        return {
            "task_id": task.task_id,
            "status": timeline.states[index].value,
            "progress": progress,
            **timeline.views[index],
            **task.fields,
        }

    def _studio(self, task: Task, indices: tuple[int, ...], progress: int) -> bytes:
        state = task.timelines[0].states[indices[0]]
        songs = [
            t.views[i] for t, i in zip(task.timelines, indices, strict=True) if t.states[i] is OK
        ]
        running_at = task.timelines[0].time_of(R)
        inner = {
            "task_id": task.task_id,
            "notify_hook": "",
            "action": "studio-generate",
            "status": _STUDIO_STATUS[state],
            "fail_reason": FAILED_MESSAGE if state is F else "",
            "submit_time": int(task.created_wall),
            "start_time": _wall(task, running_at) if state is not P else None,
            "finish_time": _wall(task, task.end) if state.is_terminal else None,
            "progress": f"{progress}%",
            "data": {"songs": songs},
            **task.fields,
        }
        return _dump({"code": "success", "message": "", "data": inner})

    def iter_tasks(self) -> Iterator[Task]:
        """Every task, oldest first."""
        return iter(self.tasks.values())


def _wall(task: Task, at: float | None) -> int | None:
    # Studio reports unix seconds; emulated offsets are added to the creation wall time.
    return None if at is None else int(task.created_wall + (at - task.created_at))
