"""Retries through the client: free calls ride out failures, paid ones are never re-sent blindly."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from musicapi_async import (
    Governor,
    MockTransport,
    MusicAPI,
    NetworkError,
    RateLimited,
    RetryPolicy,
    ServerError,
    SubmissionOutcomeUnknown,
    TransportFailure,
    set_testing,
)

from .support import SECRET, FakeServer, raises, reply

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
