"""Retries through the client: free calls ride out failures, paid ones are never re-sent blindly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from musicapi_async import (
    Budget,
    Governor,
    HttpRequest,
    HttpResponse,
    MockTransport,
    MusicAPI,
    NetworkError,
    Orphan,
    PollPolicy,
    RateLimited,
    RetryPolicy,
    ServerError,
    SonicRequest,
    SQLiteJournal,
    SubmissionOutcomeUnknown,
    TransportFailure,
    set_testing,
)

from .support import FAST_POLL, SECRET, FakeServer, FakeTime, raises, reply

CREATE = ("POST", "/api/v1/sonic/create")
CREDITS = ("GET", "/api/v1/get-credits")
ACCEPTED = reply({"message": "success", "task_id": "t-1"})
BALANCE = reply({"credits": 7, "extra_credits": 1})


@pytest.fixture(autouse=True)
def no_sleeps() -> Iterator[None]:
    """Retries wait zero seconds in these tests (stamina-style testing switch)."""
    with set_testing():
        yield


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    """A fake server and an open client with the default retry policy and no create pacing."""
    fake = FakeServer()
    fake.api = MusicAPI(api_key=SECRET, transport=fake.transport, retry=RetryPolicy(),
                        governor=Governor.unlimited())  # fmt: skip
    async with fake.api:
        yield fake


async def create(server: FakeServer) -> str:
    job = await server.api.sonic.create(custom_mode=False, mv="sonic-v5",
                                        gpt_description_prompt="a song")  # fmt: skip
    return job.task_id


@pytest.mark.anyio
async def test_free_call_rides_out_gateway_pages_and_resets(server: FakeServer) -> None:
    """A GET retries a 502 page and a reset after sending, then returns the answer."""
    server.on(*CREDITS, reply(b"<html>bad gateway</html>", 502),
              TransportFailure("reset", sent=True), BALANCE)  # fmt: skip
    credits = await server.api.get_credits()
    assert credits.total == 8
    assert len(server.requests) == 3
    assert server.api.stats.retries == 2


@pytest.mark.anyio
async def test_paid_call_is_resent_after_an_explicit_refusal(server: FakeServer) -> None:
    """A create refused with 429 (or the 403 QPS message) is sent again and succeeds."""
    server.on(*CREATE, reply({"code": 429, "message": "slow"}, 429, {"Retry-After": "1"}),
              reply({"type": "forbidden", "message": "API QPS limit exceeded"}, 403),
              ACCEPTED)  # fmt: skip
    assert await create(server) == "t-1"
    assert len(server.requests) == 3
    assert server.api.stats.throttled == 2


@pytest.mark.anyio
async def test_paid_call_is_resent_when_it_never_left(server: FakeServer) -> None:
    """A create whose connection could not be opened is sent again."""
    server.on(*CREATE, TransportFailure("refused", sent=False), ACCEPTED)
    assert await create(server) == "t-1"
    assert len(server.requests) == 2


@pytest.mark.anyio
@pytest.mark.parametrize(
    "answer",
    [
        TransportFailure("reset after sending", sent=True),
        reply({"code": 500, "message": "Internal Server Error."}, 500),
        reply(b"<html>502</html>", 502),
        reply(b'{"message": "success", "task_id": ', 200),
    ],
    ids=["reset", "500", "502", "truncated-200"],
)
async def test_paid_call_with_a_lost_answer_is_never_resent(
    server: FakeServer, answer: TransportFailure | object
) -> None:
    """A create that may have been billed raises SubmissionOutcomeUnknown after one try."""
    server.on(*CREATE, answer)  # type: ignore[arg-type]
    with raises(SubmissionOutcomeUnknown) as info:
        await create(server)
    assert len(server.requests) == 1
    assert info.value.endpoint == "sonic.create"
    assert info.value.request is not None


@pytest.mark.anyio
async def test_usage_quota_is_not_retried(server: FakeServer) -> None:
    """'API usage limit exceeded' is a quota, not a pause: it is raised at once."""
    server.on(*CREATE, reply({"type": "forbidden", "message": "API usage limit exceeded"}, 403))
    with raises(RateLimited):
        await create(server)
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_retries_stop_at_the_attempt_cap(server: FakeServer) -> None:
    """A GET failing every time is tried `attempts` times, then the last error is raised."""
    server.on(*CREDITS, reply({"code": 500, "message": "down"}, 500))
    with raises(ServerError):
        await server.api.get_credits()
    assert len(server.requests) == RetryPolicy().attempts


@pytest.mark.anyio
async def test_unreachable_host_is_a_network_error(server: FakeServer) -> None:
    """A free call that never connects, every time, ends as NetworkError."""
    server.on(*CREDITS, TransportFailure("no route", sent=False))
    with raises(NetworkError):
        await server.api.get_credits()


@pytest.mark.anyio
async def test_log_records_never_show_secrets(caplog: pytest.LogCaptureFixture) -> None:
    """The package logger redacts the key, even from a message that contains it."""
    transport = MockTransport(lambda _: BALANCE)
    with caplog.at_level(logging.DEBUG, logger="musicapi_async"):
        async with MusicAPI(api_key=SECRET, transport=transport) as api:
            await api.get_credits()
            logging.getLogger("musicapi_async").warning("echoed by a server: %s", SECRET)
    assert caplog.records
    assert all(SECRET not in r.getMessage() for r in caplog.records)
    assert "[redacted]" in caplog.text


@pytest.mark.anyio
async def test_creates_are_paced_on_the_real_api() -> None:
    """Against api.musicapi.ai the default governor spaces creates (about one per 3 s)."""
    server = FakeServer()
    server.api = MusicAPI(api_key=SECRET, transport=server.transport)
    server.on(*CREATE, ACCEPTED)
    async with server.api:
        assert server.api.governor.state("create").rate == pytest.approx(1 / 3)
        await create(server)
        assert server.api.governor.state("create").tokens < 1


# ------------------------------------------------------------------ money: issue 11


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "text"),
    [(500, "Upstream rate limit error; generation aborted"),
     (502, "Too many requests, please retry"), (504, "Generation queue is full")],
)  # fmt: skip
async def test_a_5xx_create_is_never_resent_whatever_its_text(
    server: FakeServer, status: int, text: str
) -> None:
    """A create answered 5xx "rate limit", "too many", "queue is full" is sent once only."""
    server.on(*CREATE, reply({"code": status, "message": text}, status), ACCEPTED)
    with raises(SubmissionOutcomeUnknown) as info:
        await create(server)
    assert len(server.requests) == 1
    assert info.value.status == status


@pytest.mark.anyio
async def test_refused_creates_wait_their_turn_past_the_attempt_cap(server: FakeServer) -> None:
    """A create refused ten times (429, QPS 403) is sent again each time and then accepted."""
    qps = reply({"type": "forbidden", "message": "API QPS limit exceeded"}, 403)
    slow = reply({"code": 429, "message": "Too many requests."}, 429, {"Retry-After": "2"})
    server.on(*CREATE, *([qps, slow] * 5), ACCEPTED)
    assert await create(server) == "t-1"
    assert len(server.requests) == 11
    assert server.api.stats.throttled == 10


@pytest.mark.anyio
async def test_creates_are_paced_by_default_everywhere() -> None:
    """With no governor given, creates go one per 3 s on any host (the documented pace)."""
    t = FakeTime()
    server = FakeServer()
    server.on(*CREATE, ACCEPTED)
    with set_testing(False):
        # Only the clock is injected: the budgets are the default ones.
        governor = Governor(clock=t.clock, sleep=t.sleep)
        server.api = MusicAPI(api_key=SECRET, base_url="http://localhost:1",
                              transport=server.transport)  # fmt: skip
        assert server.api.governor.state("create").rate == pytest.approx(1 / 3)
        server.api = MusicAPI(api_key=SECRET, base_url="http://localhost:1",
                              transport=server.transport, governor=governor)  # fmt: skip
        async with server.api:
            stamps = []
            for _ in range(3):
                await create(server)
                stamps.append(t.now)
    assert stamps == [0, 3, 6]


@pytest.mark.anyio
async def test_a_qps_refusal_holds_the_next_create_at_least_a_second() -> None:
    """After a 403 "API QPS limit exceeded" the create is re-sent a second later, not 0.2 s."""
    t = FakeTime()
    server = FakeServer()
    server.on(*CREATE, reply({"type": "forbidden", "message": "API QPS limit exceeded"}, 403),
              ACCEPTED)  # fmt: skip
    with set_testing(False):
        # A fast pace (10 per second): the second's wait is the refusal's, not the pace's.
        governor = Governor(Budget(rate=10), clock=t.clock, sleep=t.sleep)
        server.api = MusicAPI(api_key=SECRET, transport=server.transport, governor=governor)
        async with server.api:
            assert await create(server) == "t-1"
    assert t.now >= 1.0


@pytest.mark.anyio
async def test_a_day_long_retry_after_on_a_poll_pauses_polling_at_most_max_pause() -> None:
    """A poll answered Retry-After: 86400 pauses polls for max_pause (300 s), not a day."""
    t = FakeTime()
    server = FakeServer()
    task = ("GET", "/api/v1/sonic/task/t-1")
    a_day = reply({"code": 429, "message": "Too many requests."}, 429, {"retry-after": "86400"})
    server.on(*task, a_day, reply("sonic_task_live_v55.json"))
    with set_testing(False):
        server.api = MusicAPI(api_key=SECRET, transport=server.transport, poll=FAST_POLL,
                              governor=Governor(clock=t.clock, sleep=t.sleep))  # fmt: skip
        async with server.api:
            with anyio.fail_after(10):
                clips = await server.api.job("t-1").wait()
    assert clips
    assert max(t.sleeps) == pytest.approx(300)


@pytest.mark.anyio
async def test_the_client_follows_the_speed_the_emulator_announces() -> None:
    """X-Emulator-Speed: 60 makes the poll schedule and the create pace 60 times faster."""
    speedy = reply({"credits": 7, "extra_credits": 1}, 200, {"x-emulator-speed": "60"})
    async with MusicAPI(api_key=SECRET, transport=MockTransport(lambda _: speedy)) as api:
        await api.get_credits()
        assert api.governor.time_scale == 60
        assert api.poll_policy.time_scale == 60
    mine = PollPolicy().scaled(10)
    async with MusicAPI(api_key=SECRET, transport=MockTransport(lambda _: speedy),
                        poll=mine) as api:  # fmt: skip
        await api.get_credits()
        assert api.governor.time_scale == 60
        assert api.poll_policy is mine  # a schedule the caller scaled stays theirs
    async with MusicAPI(api_key=SECRET, transport=MockTransport(lambda _: BALANCE)) as api:
        await api.get_credits()  # the real API sends no such header: real time
        assert (api.governor.time_scale, api.poll_policy.time_scale) == (1, 1)


# ---------------------------------------------------------------- cancelled creates


class SlowCreate:
    """A server whose create is received (and billed) at once but answered only on release.

    ``deadline``: a cancel scope whose deadline passes once the create has arrived, as a
    short ``move_on_after`` would, but never before (which a loaded machine can make a
    10 ms one do: nothing is then sent, and there is no task id to keep).
    """

    def __init__(self) -> None:
        self.received = anyio.Event()
        self.release = anyio.Event()
        self.billed = 0
        self.deadline: anyio.CancelScope | None = None

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        self.billed += 1
        self.received.set()
        if self.deadline is not None:
            self.deadline.deadline = anyio.current_time()
        await self.release.wait()
        return ACCEPTED


def slow_client(server: SlowCreate, **kwargs: object) -> MusicAPI:
    return MusicAPI(api_key=SECRET, transport=MockTransport(server),
                    governor=Governor.unlimited(), **kwargs)  # type: ignore[arg-type]  # fmt: skip


def song() -> SonicRequest:
    return SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt="a song")


@pytest.mark.anyio
async def test_a_create_cancelled_by_wait_for_keeps_its_task_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """asyncio.wait_for times out a slow create: TimeoutError, and the id is in api.orphans."""
    server = SlowCreate()
    seen: list[Orphan] = []
    with caplog.at_level(logging.WARNING, logger="musicapi_async"):
        async with slow_client(server, on_orphan=seen.append) as api:
            # The timer starts once the create has arrived: it cannot run out before.
            create = asyncio.ensure_future(api.submit(song()))
            await server.received.wait()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(create, timeout=0.01)
            assert server.billed == 1
            server.release.set()
        # Leaving the client waited for the shielded POST: nothing outlives it.
    assert [o.task_id for o in api.orphans] == ["t-1"]
    assert seen == api.orphans
    assert api.orphans[0].endpoint == "sonic.create"
    assert "t-1" in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.anyio
async def test_a_create_cancelled_by_a_cancel_scope_keeps_its_task_id() -> None:
    """A cancel scope's deadline leaves the block (no result), and the id is in api.orphans."""
    server = SlowCreate()
    async with slow_client(server) as api:
        with anyio.CancelScope() as scope:
            server.deadline = scope
            await api.submit(song())
        assert scope.cancelled_caught
        server.release.set()
    assert [o.task_id for o in api.orphans] == ["t-1"]


@pytest.mark.anyio
async def test_a_cancelled_create_task_raises_cancelled_and_keeps_its_task_id() -> None:
    """task.cancel() during the POST gives CancelledError; the billed task is kept."""
    server = SlowCreate()
    async with slow_client(server) as api:
        task = asyncio.ensure_future(api.submit(song()))
        await server.received.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert api.orphans == []  # not answered yet
        server.release.set()
    assert [o.task_id for o in api.orphans] == ["t-1"]
    assert server.billed == 1


@pytest.mark.anyio
async def test_a_cancelled_create_that_fails_is_kept_as_an_unknown_outcome() -> None:
    """A cancelled create whose answer is then lost is kept as SubmissionOutcomeUnknown."""
    received, release = anyio.Event(), anyio.Event()

    async def lost(request: HttpRequest) -> HttpResponse:
        received.set()
        scope.deadline = anyio.current_time()  # the caller gives up once the POST is out
        await release.wait()
        raise TransportFailure("reset after sending", sent=True)

    async with MusicAPI(api_key=SECRET, transport=MockTransport(lost),
                        governor=Governor.unlimited()) as api:  # fmt: skip
        with anyio.CancelScope() as scope:
            await api.submit(song())
        release.set()
    [orphan] = api.orphans
    assert orphan.task_id is None
    assert isinstance(orphan.error, SubmissionOutcomeUnknown)


@pytest.mark.anyio
async def test_a_journaled_run_left_while_its_create_is_in_flight_journals_the_task_id(
    tmp_path: Path,
) -> None:
    """Leaving generate_many after its create was sent still records the billed task id."""
    server = SlowCreate()
    async with SQLiteJournal(tmp_path / "jobs.sqlite") as journal:
        async with slow_client(server) as api:

            async def run() -> None:
                async with aclosing(api.generate_many([song()], journal=journal)) as results:
                    async for _ in results:
                        raise AssertionError("nothing can finish: the run is left first")

            async with anyio.create_task_group() as group:
                group.start_soon(run)
                await server.received.wait()
                group.cancel_scope.cancel()  # the user leaves while the POST is out
            server.release.set()
        [entry] = await journal.pending_tasks()
    assert entry.task_id == "t-1"
    assert server.billed == 1
