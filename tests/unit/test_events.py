"""The job events read off successive snapshots (``diff_events``)."""

from __future__ import annotations

from collections.abc import Sequence

from musicapi_async import (
    Clip,
    ClipFailed,
    ClipPlayable,
    ClipState,
    ClipSucceeded,
    ClipUpdated,
    Family,
    TaskDone,
    TaskPending,
    TaskSnapshot,
)
from musicapi_async._events import diff_events


def snap(*clips: tuple[str, str, str | None], ready: bool = True) -> TaskSnapshot:
    return TaskSnapshot(
        task_id="t",
        family=Family.SONIC,
        ready=ready,
        clips=tuple(Clip(clip_id=c, state=ClipState(s), audio_url=u) for c, s, u in clips),
    )


def kinds(events: Sequence[object]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_not_ready_is_reported_once() -> None:
    """A task with no clips yet yields one TaskPending, not one per poll."""
    first = diff_events(None, snap(ready=False))
    again = diff_events(snap(ready=False), snap(ready=False))
    assert kinds(first) == ["TaskPending"]
    assert again == []


def test_streaming_clip_is_playable_before_it_succeeds() -> None:
    """A clip that streams yields ClipPlayable, and later ClipSucceeded without a second one."""
    running = snap(("a", "running", None), ("b", "running", None))
    streaming = snap(("a", "streaming", "http://s/a"), ("b", "running", None))
    done = snap(("a", "succeeded", "http://f/a"), ("b", "succeeded", "http://f/b"))
    step1 = diff_events(running, streaming)
    step2 = diff_events(streaming, done)
    assert kinds(step1) == ["ClipUpdated", "ClipPlayable"]
    assert isinstance(step1[1], ClipPlayable)
    assert step1[1].clip.clip_id == "a"
    assert kinds(step2) == ["ClipSucceeded", "ClipPlayable", "ClipSucceeded", "TaskDone"]
    assert [e.clip.clip_id for e in step2 if isinstance(e, ClipPlayable)] == ["b"]


def test_task_done_only_when_every_clip_is_terminal() -> None:
    """One clip finished and one running is not done; TaskDone comes with the last one."""
    half = snap(("a", "succeeded", "u"), ("b", "running", None))
    events = diff_events(None, half)
    assert not any(isinstance(e, TaskDone) for e in events)
    final = diff_events(half, snap(("a", "succeeded", "u"), ("b", "failed", None)))
    assert kinds(final) == ["ClipFailed", "TaskDone"]
    assert isinstance(final[0], ClipFailed)


def test_late_subscriber_gets_the_story_so_far() -> None:
    """diff_events(None, done) condenses the whole history into the same event kinds."""
    events = diff_events(None, snap(("a", "succeeded", "u"), ("b", "succeeded", "v")))
    assert kinds(events) == [
        "ClipPlayable",
        "ClipSucceeded",
        "ClipPlayable",
        "ClipSucceeded",
        "TaskDone",
    ]
    assert isinstance(events[-1], TaskDone)
    assert not any(isinstance(e, TaskPending | ClipUpdated) for e in events)


def test_unknown_state_is_an_update_not_an_end() -> None:
    """A state the SDK does not know is reported as ClipUpdated and keeps the task open."""
    events = diff_events(None, snap(("a", "mixing", None)))
    assert kinds(events) == ["ClipUpdated"]
    assert isinstance(events[0], ClipUpdated)
    assert events[0].clip.state == "mixing"
    assert not any(isinstance(e, ClipSucceeded) for e in events)
