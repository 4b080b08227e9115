"""``RedisRateStore``: one token bucket and one pause per kind, shared by every process."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
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


@contextlib.asynccontextmanager
async def server_clock(url: str) -> AsyncIterator[Callable[[], Awaitable[float]]]:
    """Redis's clock (``TIME``, in seconds): the one the stores grant and pause by.

    The waits a store returns shrink as that clock runs, by however long a loaded
    machine takes between two calls: tests bound them by readings of it, not by a guess.
    """
    link = connect(url, timeout=1)

    async def now() -> float:
        seconds, micros = await link.time()
        return seconds + micros / 1_000_000

    try:
        yield now
    finally:
        await link.aclose()


def assert_left(wait: float, due: float, elapsed: float) -> None:
    """``wait`` is what is left of ``due`` seconds fixed at most ``elapsed`` server seconds
    earlier: no more than ``due``, less only by that time (the script rounds up to the ms)."""
    assert due - elapsed - 0.001 <= wait <= due + 0.001, (wait, due, elapsed)


async def test_two_processes_share_one_bucket(redis_url: str, namespace: str) -> None:
    """With a burst of 2, two grants go (one per process); the third waits, wherever asked."""
    async with (
        stores(redis_url, namespace, create_rate=HOUR, create_burst=2) as (one, two),
        server_clock(redis_url) as now,
    ):
        start = await now()
        assert await one.reserve("create") == 0
        assert await two.reserve("create") == 0
        wait = await one.reserve("create")
        assert_left(wait, 3600, await now() - start)  # the next slot of an hourly rate
        wait = await two.reserve("create")
        assert_left(wait, 7200, await now() - start)  # and the one after it


async def test_slots_follow_the_server_speed_with_a_margin(redis_url: str, namespace: str) -> None:
    """At an hourly rate on a server 3600x faster, with a 50 % margin, slots are 1.5 s
    apart; on a server 4x faster, a pause of four server minutes lasts one wall minute."""
    async with (
        stores(redis_url, namespace, create_rate=HOUR, margin=0.5) as (one, two),
        server_clock(redis_url) as now,
    ):
        for store in (one, two):
            store.set_time_scale(3600)
        start = await now()
        assert await one.reserve("create") == 0
        assert_left(await two.reserve("create"), 1.5, await now() - start)
        # A pause long enough in wall time to outlast any stall of a loaded machine.
        for store in (one, two):
            store.set_time_scale(4)
        start = await now()
        await two.pause("poll", 240)
        assert_left(await one.reserve("poll"), 60, await now() - start)


async def test_a_throttle_in_one_process_pauses_the_others(redis_url: str, namespace: str) -> None:
    """``pause("create", 60)`` in one process makes the other's creates wait, not its polls."""
    async with (
        stores(redis_url, namespace, create_rate=None) as (one, two),
        server_clock(redis_url) as now,
    ):
        start = await now()
        await one.pause("create", 60)

        assert_left(await two.reserve("create"), 60, await now() - start)
        assert await two.reserve("poll") == 0


async def test_a_retry_after_of_hours_is_capped(redis_url: str, namespace: str) -> None:
    """A pause never exceeds ``max_pause``, whatever the server asked for."""
    async with (
        stores(redis_url, namespace, create_rate=None) as (one, _),
        server_clock(redis_url) as now,
    ):
        start = await now()
        await one.pause("poll", 86_400)

        assert_left(await one.reserve("poll"), 300, await now() - start)


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


async def test_reservations_asked_at_once_share_round_trips(redis_url: str, namespace: str) -> None:
    """Ten creates reserved at once get ten consecutive slots from two script calls."""
    async with (
        stores(redis_url, namespace, create_rate=HOUR) as (one, _),
        server_clock(redis_url) as now,
    ):
        calls: list[int] = []
        take = one._take

        async def counted(*, keys: list[str], args: list[object]) -> object:
            calls.append(int(str(args[2])))
            return await take(keys=keys, args=args)  # type: ignore[arg-type]

        one._take = counted  # type: ignore[assignment]
        start = await now()
        waits: list[float] = []

        async def reserve() -> None:
            waits.append(await one.reserve("create"))

        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(reserve)
        assert calls == [1, 9]  # the first alone, the nine that came meanwhile together
        elapsed = await now() - start
        for index, wait in enumerate(sorted(waits)):
            assert_left(wait, 3600 * index, elapsed)
