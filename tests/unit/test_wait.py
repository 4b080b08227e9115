"""``Job.wait``: done only when every clip is terminal; passing errors ridden out;
definite answers and deadlines end it with errors that keep the task id.

The fake server plays the lifecycle of MUSICAPI.md §4.3 from golden bodies; the client's
poll policy is ``FAST_POLL`` so a wait takes milliseconds.
"""

from __future__ import annotations

import json
import time

import pytest

from musicapi_async import (
    AuthenticationError,
    ClipState,
    Family,
    TaskFailed,
    TaskNotFound,
    TaskTimeout,
    TransportFailure,
)

from .support import FakeServer, golden, raises, reply

TASK = "468d0e42-f7a6-40ce-9a4c-37db56b13b99"
SONIC_TASK = f"/api/v1/sonic/task/{TASK}"

RUNNING = reply("sonic_task_live_v55_running.json")
PARTIAL = reply("sonic_task_live_v55_partial.json")
SUCCEEDED = reply("sonic_task_live_v55.json")
NOT_READY = reply("sonic_task_not_ready.json")


def polls(server: FakeServer) -> int:
    """How many times the task was polled."""
    return sum(1 for r in server.requests if (r.method, r.path) == ("GET", SONIC_TASK))


@pytest.mark.anyio
async def test_waits_until_every_clip_is_terminal(server: FakeServer) -> None:
    """One clip succeeded and one still running keeps polling until both are terminal."""
    server.on("GET", SONIC_TASK, RUNNING, PARTIAL, PARTIAL, SUCCEEDED)
    job = server.api.job(TASK)

    clips = await job.wait(timeout=5)

    assert polls(server) == 4
    wire = golden("sonic_task_live_v55.json")["data"]
    assert [c.clip_id for c in clips] == [c["clip_id"] for c in wire]
    assert all(c.state is ClipState.SUCCEEDED for c in clips)
    assert job.done
    assert job.snapshot is not None
    assert job.snapshot.done


@pytest.mark.anyio
async def test_not_ready_first(server: FakeServer) -> None:
    """``not_ready`` answers before the clips exist do not end the wait."""
    server.on("GET", SONIC_TASK, NOT_READY, NOT_READY, RUNNING, SUCCEEDED)

    clips = await server.api.job(TASK).wait(timeout=5)

    assert polls(server) == 4
    assert len(clips) == 2


@pytest.mark.anyio
async def test_passing_errors_are_ridden_out(server: FakeServer) -> None:
    """Gateway pages, 5xx, lost answers and undecodable bodies are polled through."""
    server.on(
        "GET",
        SONIC_TASK,
        reply("error_502_gateway.html", 502),
        RUNNING,
        TransportFailure("connection reset", sent=True),
        reply({"code": 500, "message": "Internal Server Error."}, 500),
        TransportFailure("could not connect", sent=False),
        reply(b'{"code": 200, "data": [{"clip_'),
        PARTIAL,
        SUCCEEDED,
    )

    clips = await server.api.job(TASK).wait(timeout=5)

    assert polls(server) == 8
    assert [c.state for c in clips] == [ClipState.SUCCEEDED, ClipState.SUCCEEDED]


@pytest.mark.anyio
async def test_rate_limited_poll_waits_retry_after(server: FakeServer) -> None:
    """A 429 with ``Retry-After: 1`` is ridden out, and no poll comes before 1 s."""
    throttled = reply("error_429_rate_limited.json", 429, {"retry-after": "1"})
    server.on("GET", SONIC_TASK, RUNNING, throttled, SUCCEEDED)

    started = time.monotonic()
    clips = await server.api.job(TASK).wait(timeout=10)
    elapsed = time.monotonic() - started

    assert polls(server) == 3
    assert len(clips) == 2
    assert elapsed >= 0.95


@pytest.mark.anyio
async def test_failed_clip_raises_task_failed(server: FakeServer) -> None:
    """A failed clip ends the wait with TaskFailed holding every clip and the task id."""
    server.on("GET", SONIC_TASK, RUNNING, reply("sonic_task_failed_clip.json"))
    job = server.api.job(TASK)

    with raises(TaskFailed) as info:
        await job.wait(timeout=5)

    error = info.value
    assert error.task_id == TASK
    assert [c.state for c in error.clips] == [ClipState.SUCCEEDED, ClipState.FAILED]
    wire = golden("sonic_task_failed_clip.json")["data"]
    assert [c.clip_id for c in error.clips] == [c["clip_id"] for c in wire]
    assert error.api_message == wire[1]["message"]
    assert error.snapshot is not None
    assert error.snapshot.failed_clips == (error.clips[1],)


@pytest.mark.anyio
async def test_task_failed_answer_on_poll(server: FakeServer) -> None:
    """The 504 "Task failed due to timeout" on a poll ends the wait with TaskFailed."""
    server.on("GET", SONIC_TASK, RUNNING, reply("error_504_task_timeout.json", 504))

    with raises(TaskFailed) as info:
        await server.api.job(TASK).wait(timeout=5)

    assert info.value.task_id == TASK
    assert info.value.status == 504


@pytest.mark.anyio
async def test_deadline_raises_task_timeout(server: FakeServer) -> None:
    """A task still running at the deadline raises TaskTimeout with its id and last state."""
    server.on("GET", SONIC_TASK, NOT_READY, RUNNING)
    job = server.api.job(TASK)

    with raises(TaskTimeout) as info:
        await job.wait(timeout=0.2)

    error = info.value
    assert isinstance(error, TimeoutError)
    assert error.task_id == TASK
    assert polls(server) >= 2
    assert error.snapshot is not None
    assert error.snapshot is job.snapshot
    assert error.snapshot.ready
    assert [c.state for c in error.snapshot.clips] == [ClipState.RUNNING, ClipState.RUNNING]


@pytest.mark.anyio
async def test_deadline_before_any_clip(server: FakeServer) -> None:
    """A task that never left ``not_ready`` times out with a not-ready snapshot (or none)."""
    server.on("GET", SONIC_TASK, NOT_READY)

    with raises(TaskTimeout) as info:
        await server.api.job(TASK).wait(timeout=0.1)

    snapshot = info.value.snapshot
    assert snapshot is None or not snapshot.ready


@pytest.mark.anyio
async def test_wait_resumes_after_timeout(server: FakeServer) -> None:
    """After a TaskTimeout, waiting again on ``api.job(task_id)`` picks the task up."""
    server.on("GET", SONIC_TASK, RUNNING)
    with raises(TaskTimeout) as info:
        await server.api.job(TASK).wait(timeout=0.05)

    server.on("GET", SONIC_TASK, PARTIAL, SUCCEEDED)
    clips = await server.api.job(info.value.task_id).wait(timeout=5)

    assert len(clips) == 2


@pytest.mark.anyio
async def test_task_not_found_ends_the_wait(server: FakeServer) -> None:
    """``task not found.`` ends the wait with TaskNotFound, and polling stops."""
    server.on("GET", SONIC_TASK, RUNNING, reply("error_400_task_not_found.json", 400))
    job = server.api.job(TASK)

    with raises(TaskNotFound) as info:
        await job.wait(timeout=5)

    assert info.value.task_id == TASK
    assert job.done
    assert not server.api.poller.watching(TASK)  # off the schedule: never polled again


@pytest.mark.anyio
async def test_rejected_key_ends_the_wait(server: FakeServer) -> None:
    """A 401 on a poll is definite: the wait ends with AuthenticationError."""
    body = json.dumps({"code": 401, "message": "Invalid authorization format."}).encode()
    server.on("GET", SONIC_TASK, reply(body, 401))

    with raises(AuthenticationError):
        await server.api.job(TASK).wait(timeout=5)

    assert polls(server) == 1


@pytest.mark.anyio
async def test_finished_job_does_not_poll_again(server: FakeServer) -> None:
    """Waiting again on a finished Job returns its clips without another poll."""
    server.on("GET", SONIC_TASK, SUCCEEDED)
    job = server.api.job(TASK)
    first = await job.wait(timeout=5)
    seen = polls(server)

    again = await job.wait(timeout=5)

    assert again == first
    assert polls(server) == seen


@pytest.mark.anyio
async def test_nuro_wait_follows_status(server: FakeServer) -> None:
    """A nuro Job waits through ``running`` to ``succeeded`` and returns its one clip."""
    task_id = golden("nuro_task_running.json")["task_id"]
    path = f"/api/v1/nuro/task/{task_id}"
    server.on("GET", path, reply("nuro_task_running.json"), reply("nuro_task_succeeded.json"))

    clips = await server.api.job(task_id, Family.NURO).wait(timeout=5)

    assert [r.path for r in server.requests] == [path, path]
    [clip] = clips
    assert clip.clip_id == task_id
    assert clip.audio_url == golden("nuro_task_succeeded.json")["audio_url"]


@pytest.mark.anyio
async def test_studio_failure_status_ends_the_wait(server: FakeServer) -> None:
    """A studio task whose status is FAILURE ends the wait with TaskFailed and its reason."""
    task_id = "1938c07e-5b2a-4f1d-9c3e-7a8b6d5e4f30"
    failure = {"code": "success", "message": "", "data": {
        "task_id": task_id, "status": "FAILURE", "fail_reason": "generation error",
        "progress": "0%", "data": None}}  # fmt: skip
    in_progress = {"code": "success", "message": "", "data": {
        "task_id": task_id, "status": "IN_PROGRESS", "progress": "40%", "data": None}}  # fmt: skip
    server.on("GET", f"/api/v1/studio/task/{task_id}", reply(in_progress), reply(failure))

    with raises(TaskFailed) as info:
        await server.api.job(task_id, "studio").wait(timeout=5)

    assert info.value.task_id == task_id
    assert info.value.snapshot is not None
    assert info.value.snapshot.message == "generation error"
