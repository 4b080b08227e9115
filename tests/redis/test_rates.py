"""``RedisRateStore``: one token bucket and one pause per kind, shared by every process."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from musicapi_async import CoordinationError
from musicapi_async._redis import RedisRateStore
from musicapi_async._redis._store import connect

pytestmark = pytest.mark.anyio

HOUR = 1 / 3600


@contextlib.asynccontextmanager
async def stores(
    url: str,
    namespace: str,
    *,
    create_rate: float | None,
    create_burst: int = 1,
    margin: float = 0.0,
) -> AsyncIterator[tuple[RedisRateStore, RedisRateStore]]:
    """Two rate stores on their own connections: two processes on one key."""
    links = [connect(url, timeout=1) for _ in range(2)]
    one, two = (RedisRateStore(link, url, namespace=namespace, create_rate=create_rate,
                               create_burst=create_burst, margin=margin)
                for link in links)  # fmt: skip
    try:
        yield one, two
    finally:
        for link in links:
            await link.aclose()


async def test_two_processes_share_one_bucket(redis_url: str, namespace: str) -> None:
    """With a burst of 2, two grants go (one per process); the third waits, wherever asked."""
    async with stores(redis_url, namespace, create_rate=HOUR, create_burst=2) as (one, two):
        assert await one.reserve("create") == 0
        assert await two.reserve("create") == 0
        wait = await one.reserve("create")

        assert 3599 < wait <= 3600  # the next slot of an hourly rate
        assert await two.reserve("create") > 7199  # and the one after it


async def test_slots_follow_the_server_speed_with_a_margin(redis_url: str, namespace: str) -> None:
    """At an hourly rate on a server 3600x faster, with a 50 % margin, slots are 1.5 s
    apart; a pause of four server minutes lasts a fifteenth of a wall second."""
    async with stores(redis_url, namespace, create_rate=HOUR, margin=0.5) as (one, two):
        for store in (one, two):
            store.set_time_scale(3600)
        assert await one.reserve("create") == 0
        assert 1.4 < await two.reserve("create") <= 1.5
        await two.pause("poll", 240)
        assert 0.06 < await one.reserve("poll") <= 0.067


async def test_a_throttle_in_one_process_pauses_the_others(redis_url: str, namespace: str) -> None:
    """``pause("create", 60)`` in one process makes the other's creates wait, not its polls."""
    async with stores(redis_url, namespace, create_rate=None) as (one, two):
        await one.pause("create", 60)

        assert 59 < await two.reserve("create") <= 60
        assert await two.reserve("poll") == 0


async def test_a_retry_after_of_hours_is_capped(redis_url: str, namespace: str) -> None:
    """A pause never exceeds ``max_pause``, whatever the server asked for."""
    async with stores(redis_url, namespace, create_rate=None) as (one, _):
        await one.pause("poll", 86_400)

        assert 299 < await one.reserve("poll") <= 300


@pytest.mark.usefixtures("redis_url")  # skipped, like the others, without Redis
def test_rates_must_be_positive() -> None:
    """A zero, negative or infinite rate is refused at construction."""
    link = connect("redis://127.0.0.1:1/0", timeout=1)  # never used: no connection opens
    for rate in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="create_rate"):
            RedisRateStore(link, "redis://x", namespace="n", create_rate=rate)


async def test_no_redis_no_token(namespace: str) -> None:
    """A store that cannot reach Redis refuses the token: the request is not sent."""
    from .support import free_port

    url = f"redis://127.0.0.1:{free_port()}/0"
    link = connect(url, timeout=0.5)
    store = RedisRateStore(link, url, namespace=namespace, create_rate=1)

    with pytest.raises(CoordinationError, match="nothing was sent"):
        await store.acquire("create")
    await link.aclose()
