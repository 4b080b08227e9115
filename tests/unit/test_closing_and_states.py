"""Every wait ends: closing the client, leaving ``generate_many`` early, odd task states.

Closing used to leave waiters in other tasks pending forever; leaving ``generate_many``
while a create was being retried made closing raise ``ExceptionGroup(ClosedResourceError)``;
``complete``/``error``/``SUCCEEDED`` never ended a wait.
"""

from __future__ import annotations

import copy
import inspect
import logging
import math

import anyio
import pytest

from musicapi_async import (
    ClientClosed,
    ClipState,
    Governor,
    HttpRequest,
    HttpResponse,
    Job,
    MockTransport,
    MusicAPI,
    SonicRequest,
    TaskFailed,
    TaskTimeout,
    set_testing,
)

from .support import FAST_POLL, FakeServer, golden, reply

TASK = "468d0e42-f7a6-40ce-9a4c-37db56b13b99"
SONIC_TASK = f"/api/v1/sonic/task/{TASK}"


def with_states(*states: str) -> HttpResponse:
    """The finished golden task answer with its clips' states replaced by ``states``."""
    body = copy.deepcopy(golden("sonic_task_live_v55.json"))
    for clip, state in zip(body["data"], states, strict=True):
        clip["state"] = state
    return reply(body)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "states", [("complete", "complete"), ("SUCCEEDED", "Succeeded"), ("success", "done")]
)
async def test_synonyms_and_other_cases_of_success_end_the_wait(
    server: FakeServer, states: tuple[str, str]
) -> None:
    """``complete``, ``SUCCEEDED`` and other spellings of success finish the task."""
    server.on("GET", SONIC_TASK, with_states(*states))
    clips = await server.api.job(TASK).wait(timeout=5)
    assert [c.state for c in clips] == [ClipState.SUCCEEDED, ClipState.SUCCEEDED]


@pytest.mark.anyio
async def test_error_state_is_a_failure(server: FakeServer) -> None:
    """A clip in ``error`` (or ``FAILED``) is terminal: the wait raises TaskFailed."""
    server.on("GET", SONIC_TASK, with_states("error", "FAILED"))
    with pytest.raises(TaskFailed) as info:
        await server.api.job(TASK).wait(timeout=5)
    assert [c.state for c in info.value.clips] == [ClipState.FAILED, ClipState.FAILED]


def test_only_members_are_known() -> None:
    """A known state in another case is the member; an unknown one is kept and not known."""
    assert ClipState("SUCCEEDED") is ClipState.SUCCEEDED
    assert ClipState("SUCCEEDED").is_known
    odd = ClipState("PENDING_REVIEW")
    assert not odd.is_known
    assert odd == "PENDING_REVIEW"
    assert not odd.is_terminal


@pytest.mark.anyio
async def test_task_stuck_in_an_unknown_state_ends_at_its_deadline_naming_it(
    server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Clips in a state the SDK does not know end the wait at its deadline, state named."""
    server.on("GET", SONIC_TASK, with_states("under_review", "succeeded"))
    with caplog.at_level(logging.WARNING, "musicapi_async"), pytest.raises(TaskTimeout) as info:
        await server.api.job(TASK).wait(timeout=0.2)
    assert "'under_review'" in str(info.value)
    assert info.value.task_id == TASK
    assert "under_review" in caplog.text


def test_the_default_wait_has_a_finite_deadline() -> None:
    """``Job.wait()`` without arguments has a finite, documented deadline."""
    default = inspect.signature(Job.wait).parameters["timeout"].default
    assert isinstance(default, float)
    assert math.isfinite(default)
    assert str(int(default // 60)) in (Job.wait.__doc__ or "")


def running_forever(request: HttpRequest) -> HttpResponse:
    """A server on which the task never ends."""
    return reply("sonic_task_live_v55_running.json")


@pytest.mark.anyio
async def test_closing_the_client_ends_every_waiter_with_a_clear_error() -> None:
    """Waiters in tasks the client does not own get ClientClosed when it closes."""
    errors: list[BaseException] = []
    polled = anyio.Event()

    def answer(request: HttpRequest) -> HttpResponse:
        polled.set()
        return running_forever(request)

    async def wait_on(job: Job) -> None:
        try:
            await job.wait()
        except ClientClosed as exc:
            errors.append(exc)

    with anyio.fail_after(10):  # a guard: the waiters used to hang forever
        async with (
            anyio.create_task_group() as outside,
            MusicAPI("k", transport=MockTransport(answer), poll=FAST_POLL) as api,
        ):
            outside.start_soon(wait_on, api.job(TASK))
            outside.start_soon(wait_on, api.job(TASK))
            await polled.wait()
    assert len(errors) == 2
    assert all(isinstance(e, ClientClosed) and e.task_id == TASK for e in errors)
    assert "closed" in str(errors[0])


@pytest.mark.anyio
@pytest.mark.parametrize("final", ["accepted", "server-error"])
async def test_leaving_generate_many_mid_retry_closes_cleanly(
    final: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Leaving generate_many while a create is retried closes the client without an
    ExceptionGroup, and the create's task id (or unknown outcome) is reported."""
    second_try = anyio.Event()
    release = anyio.Event()
    tries = 0

    async def answer(request: HttpRequest) -> HttpResponse:
        nonlocal tries
        if request.method == "GET":
            return running_forever(request)
        tries += 1
        if tries == 1:
            return reply({"code": 429, "message": "Too many requests."}, 429)
        second_try.set()
        await release.wait()
        if final == "accepted":
            return reply({"message": "success", "task_id": TASK})
        return reply({"code": 500, "message": "Internal Server Error."}, 500)

    request = SonicRequest(custom_mode=True, mv="sonic-v5", prompt="[Verse]\nla")
    with set_testing(), caplog.at_level(logging.WARNING, "musicapi_async"), anyio.fail_after(10):
        async with MusicAPI("k", transport=MockTransport(answer), poll=FAST_POLL,
                            governor=Governor.unlimited()) as api:  # fmt: skip

            async def consume() -> None:
                async for _ in api.generate_many([request]):
                    pass

            async with anyio.create_task_group() as group:
                group.start_soon(consume)
                await second_try.wait()
                group.cancel_scope.cancel()  # the caller leaves while the create is in flight
            release.set()
    assert tries == 2
    expected = TASK if final == "accepted" else "it may have been billed"
    assert expected in caplog.text
