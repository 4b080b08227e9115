"""Job events, and the pure function that reads them off two successive snapshots.

Rules (``diff_events(previous, current)``), in the order events are emitted:

====================  =====================================================================
event                 emitted when
====================  =====================================================================
``TaskPending``       the task has no clips yet (``not_ready``), the first time that is seen
``ClipUpdated``       a clip appears or changes to a non-terminal state
``ClipPlayable``      a clip first has an ``audio_url`` while ``streaming`` or ``succeeded``
                      (at most once per clip: bots post this URL at once)
``ClipSucceeded``     a clip becomes ``succeeded``
``ClipFailed``        a clip becomes ``failed``
``TaskDone``          every clip is terminal (once; always the last event of a task)
====================  =====================================================================

A subscriber that arrives late gets ``diff_events(None, current)``: the whole story so far
condensed into the same events, so it misses nothing that still matters.
"""

from __future__ import annotations

import attrs

from ._models import Clip, ClipState, TaskSnapshot

__all__ = [
    "ClipFailed",
    "ClipPlayable",
    "ClipSucceeded",
    "ClipUpdated",
    "JobEvent",
    "TaskDone",
    "TaskPending",
    "diff_events",
]


@attrs.frozen
class JobEvent:
    """Something happened to a task; ``snapshot`` is the state it was seen in."""

    task_id: str
    snapshot: TaskSnapshot = attrs.field(repr=False)


@attrs.frozen
class TaskPending(JobEvent):
    """The task is accepted but has no clips yet (the API answered ``not_ready``)."""


@attrs.frozen
class _ClipEvent(JobEvent):
    clip: Clip


@attrs.frozen
class ClipUpdated(_ClipEvent):
    """A clip appeared or moved to a non-terminal state; ``previous`` is its old state."""

    previous: ClipState | None = None


@attrs.frozen
class ClipPlayable(_ClipEvent):
    """A clip can be played: ``clip.audio_url`` streams (or is the final file)."""


@attrs.frozen
class ClipSucceeded(_ClipEvent):
    """A clip finished; its final ``audio_url`` and ``duration`` are set."""


@attrs.frozen
class ClipFailed(_ClipEvent):
    """A clip ended ``failed`` (MusicAPI refunds the credits)."""


@attrs.frozen
class TaskDone(JobEvent):
    """Every clip is terminal; ``snapshot.failed_clips`` says whether any failed."""


def _playable(clip: Clip) -> bool:
    return bool(clip.audio_url) and clip.state in (ClipState.STREAMING, ClipState.SUCCEEDED)


def diff_events(previous: TaskSnapshot | None, current: TaskSnapshot) -> list[JobEvent]:
    """The events that lead from ``previous`` (``None``: nothing seen) to ``current``."""
    task_id = current.task_id
    events: list[JobEvent] = []
    if not current.clips:
        if previous is None or previous.clips:
            events.append(TaskPending(task_id, current))
        return events
    before = {c.clip_id: c for c in previous.clips} if previous is not None else {}
    for clip in current.clips:
        old = before.get(clip.clip_id)
        old_state = old.state if old is not None else None
        if old_state != clip.state and not clip.is_terminal:
            events.append(ClipUpdated(task_id, current, clip, old_state))
        if _playable(clip) and (old is None or not _playable(old)):
            events.append(ClipPlayable(task_id, current, clip))
        if old_state != clip.state and clip.state is ClipState.SUCCEEDED:
            events.append(ClipSucceeded(task_id, current, clip))
        elif old_state != clip.state and clip.state is ClipState.FAILED:
            events.append(ClipFailed(task_id, current, clip))
    if current.done and (previous is None or not previous.done):
        events.append(TaskDone(task_id, current))
    return events
