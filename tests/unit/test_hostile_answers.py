"""Hostile answers: deep nesting and huge bodies become typed errors, never a crash.

A ~2 KB body of nested arrays used to raise ``RecursionError`` out of the parser: on a
create it escaped instead of ``SubmissionOutcomeUnknown``, in the poller it killed the
client's task group and every waiter with it.
"""

from __future__ import annotations

import anyio
import pytest

from musicapi_async import (
    MusicAPIError,
    ResponseDecodeError,
    ServerError,
    SubmissionOutcomeUnknown,
    TaskTimeout,
)

from .support import FakeServer, raises, reply

NESTED = b"[" * 1000 + b"]" * 1000
NESTED_OBJECT = b'{"message": ' + b'{"message": ' * 900 + b"1" + b"}" * 901
GOOD = "468d0e42-f7a6-40ce-9a4c-37db56b13b99"
BAD = "0badbad0-0000-4000-8000-000000000000"


@pytest.mark.anyio
@pytest.mark.parametrize("body", [NESTED, NESTED_OBJECT], ids=["arrays", "objects"])
async def test_nested_answer_to_a_free_call_is_a_decode_error(
    server: FakeServer, body: bytes
) -> None:
    """A deeply nested 200 answer raises ResponseDecodeError, not RecursionError."""
    server.on("GET", "/api/v1/get-credits", reply(body))
    with raises(ResponseDecodeError):
        await server.api.get_credits()


@pytest.mark.anyio
async def test_nested_error_answer_is_a_server_error(server: FakeServer) -> None:
    """A deeply nested 500 answer is still read as the ServerError its status says."""
    server.on("GET", f"/api/v1/sonic/task/{GOOD}", reply(NESTED_OBJECT, status=500))
    with raises(ServerError):
        await server.api.get_task(GOOD)


@pytest.mark.anyio
@pytest.mark.parametrize("body", [NESTED, NESTED_OBJECT], ids=["arrays", "objects"])
async def test_nested_answer_to_a_create_is_an_unknown_outcome(
    server: FakeServer, body: bytes
) -> None:
    """A create answered 200 with nested junk may have been billed: SubmissionOutcomeUnknown."""
    server.on("POST", "/api/v1/sonic/create", reply(body))
    with raises(SubmissionOutcomeUnknown) as info:
        await server.api.sonic.create(custom_mode=True, mv="sonic-v5", prompt="la")
    assert info.value.endpoint == "sonic.create"
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_one_hostile_task_does_not_end_the_others(server: FakeServer) -> None:
    """A task whose polls answer nested junk times out alone; its neighbour completes."""
    server.on("GET", f"/api/v1/sonic/task/{GOOD}", reply("sonic_task_live_v55.json"))
    server.on("GET", f"/api/v1/sonic/task/{BAD}", reply(NESTED))
    bad_error: list[BaseException] = []

    async def wait_bad() -> None:
        try:
            await server.api.job(BAD).wait(timeout=0.3)
        except TaskTimeout as exc:
            bad_error.append(exc)

    async with anyio.create_task_group() as group:
        group.start_soon(wait_bad)
        clips = await server.api.job(GOOD).wait(timeout=5)

    assert len(clips) == 2
    assert len(bad_error) == 1
    assert server.api.poller.running
    assert server.api.poller.stats.poll_errors > 0


@pytest.mark.anyio
async def test_an_unexpected_error_in_one_poll_ends_only_that_wait(server: FakeServer) -> None:
    """An exception no parser typed (a transport bug) ends its own task's wait, no other."""
    server.on("GET", f"/api/v1/sonic/task/{GOOD}", reply("sonic_task_live_v55.json"))
    server.on("GET", f"/api/v1/sonic/task/{BAD}", RuntimeError("a bug in a custom transport"))
    bad_error: list[MusicAPIError] = []

    async def wait_bad() -> None:
        try:
            await server.api.job(BAD).wait(timeout=5)
        except MusicAPIError as exc:
            bad_error.append(exc)

    async with anyio.create_task_group() as group:
        group.start_soon(wait_bad)
        clips = await server.api.job(GOOD).wait(timeout=5)

    assert len(clips) == 2
    assert [type(e) for e in bad_error] == [MusicAPIError]
    assert BAD in str(bad_error[0])
    assert isinstance(bad_error[0].__cause__, RuntimeError)
    assert server.api.poller.running
