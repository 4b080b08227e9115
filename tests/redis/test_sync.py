"""Round trips a running fleet process saves: coalesced reservations, window trades."""

from __future__ import annotations

import asyncio

import pytest

from musicapi_async import CoordinationError, Family, RedisCoordination
from musicapi_async._polling import CompletionModel, LearnedWindows, PollPolicy
from musicapi_async._redis._rates import _Coalesced
from musicapi_async._redis._store import connect
from musicapi_async._redis._windows import RedisWindowStore
from musicapi_async._windows import WindowKeeper

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_caller_cancelled_when_its_turn_to_send_comes_passes_the_turn_on() -> None:
    """The caller due to send next is cancelled as its turn comes: the next one in line
    sends instead, and a caller cancelled while in line costs no slot."""
    release = asyncio.Event()
    sent: list[int] = []

    async def send(count: int) -> list[float]:
        first = sum(sent)
        sent.append(count)
        if len(sent) == 1:
            await release.wait()
        return [float(first + i) for i in range(count)]

    coalesced = _Coalesced(send)
    tasks: list[asyncio.Task[float]] = []

    async def first() -> float:
        answer = await coalesced.take()
        tasks[1].cancel()  # its turn to send has just come, before it could take it
        return answer

    tasks.append(asyncio.create_task(first()))
    tasks += [asyncio.create_task(coalesced.take()) for _ in range(3)]
    await asyncio.sleep(0)  # all four asked: the first sends, three wait in line
    tasks[2].cancel()  # still in line
    release.set()
    assert await tasks[0] == 0.0
    assert await tasks[3] == 1.0
    assert sent == [1, 1]
    for task in tasks[1:3]:
        with pytest.raises(asyncio.CancelledError):
            await task


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_failed_round_trip_fails_every_caller_it_carried_and_no_later_one() -> None:
    """The send made for two callers fails: both get the error; the next caller sends
    again."""
    release = asyncio.Event()
    sent: list[int] = []

    async def send(count: int) -> list[float]:
        sent.append(count)
        if len(sent) == 1:
            await release.wait()
        elif len(sent) == 2:
            raise CoordinationError("Redis is gone")
        return [float(i) for i in range(count)]

    coalesced = _Coalesced(send)
    tasks = [asyncio.create_task(coalesced.take()) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    assert await tasks[0] == 0.0
    for task in tasks[1:]:  # the two that came meanwhile, sent for together
        with pytest.raises(CoordinationError):
            await task
    assert await coalesced.take() == 0.0
    assert sent == [1, 2, 1]


class _Poller:
    """What a ``WindowKeeper`` reads of a poller: its model and policy."""

    def __init__(self) -> None:
        self.policy = PollPolicy()
        self.model = CompletionModel(self.policy)


class _Exchange:
    """A window store that trades incrementally, in memory: what each call gave and got."""

    def __init__(self, others: list[LearnedWindows]) -> None:
        self.given: list[LearnedWindows] = []
        self._others = others

    async def load_windows(self) -> LearnedWindows:
        return {"done:sonic": [100.0]}

    async def save_windows(self, windows: LearnedWindows) -> None:
        raise AssertionError("a trading store is never given whole windows")

    async def exchange_windows(self, own: LearnedWindows) -> LearnedWindows:
        self.given.append(own)
        return self._others.pop(0) if self._others else {}


async def test_a_keeper_gives_each_sample_it_observed_once_and_no_other() -> None:
    """Seeded and received samples are never given back; each own sample is given once."""
    poller = _Poller()
    store = _Exchange([{"done:sonic": [150.0, 160.0]}])
    keeper = WindowKeeper(store, poller)  # type: ignore[arg-type]
    await keeper.load()
    await keeper.sync()  # nothing observed yet: only takes the others' two
    poller.model.observe_done(Family.SONIC, 120.0, 140.0)
    await keeper.sync()
    await keeper.sync()  # nothing new
    poller.model.observe_done(Family.SONIC, 170.0, 190.0)
    await keeper.save()
    await keeper.save()  # nothing new: no round trip
    assert store.given == [{}, {"done:sonic": [130.0]}, {}, {"done:sonic": [180.0]}]
    assert sorted(poller.model.learned()["done:sonic"]) == [100.0, 130.0, 150.0, 160.0, 180.0]


async def test_processes_trade_only_the_samples_new_to_them(redis_url: str, namespace: str) -> None:
    """Each exchange returns what the others added since, never the caller's own; a
    whole-window save of an older client is counted, and readers see plain lists."""
    links = [connect(redis_url, timeout=1) for _ in range(3)]
    one, two, old = (RedisWindowStore(link, redis_url, namespace=namespace) for link in links)
    try:
        assert await one.load_windows() == {}
        assert await one.exchange_windows({"done:sonic": [1.0, 2.0]}) == {}
        assert await two.exchange_windows({"done:sonic": [3.0]}) == {"done:sonic": [1.0, 2.0]}
        assert await one.exchange_windows({}) == {"done:sonic": [3.0]}
        await old.save_windows({"done:sonic": [1.0, 2.0, 3.0, 4.0], "playable:sonic": [5.0]})
        assert await one.exchange_windows({"done:sonic": [6.0]}) == {
            "done:sonic": [4.0],
            "playable:sonic": [5.0],
        }
        assert await two.exchange_windows({}) == {"done:sonic": [4.0, 6.0], "playable:sonic": [5.0]}
        assert await old.load_windows() == {
            "done:sonic": [1.0, 2.0, 3.0, 4.0, 6.0],
            "playable:sonic": [5.0],
        }
    finally:
        for link in links:
            await link.aclose()


async def test_one_keep_alive_marks_the_process_alive_and_renews_only_its_own_leases(
    redis_url: str, namespace: str
) -> None:
    """A keep-alive renews this session's marker and the leases it still holds; a lease
    another session took is dropped from what it holds, not renewed."""
    coordination = RedisCoordination(redis_url, namespace=namespace, lease_ttl=10)
    link = connect(redis_url, timeout=1)
    try:
        ours, theirs = (f"{namespace}:lease:{task}" for task in ("ours", "theirs"))
        await link.set(ours, coordination.session, px=1000)
        await link.set(theirs, "another session", px=1000)
        coordination._held = {"ours": 0.0, "theirs": 0.0}
        await coordination._renew(0.0)
        assert coordination._held == {"ours": 0.0}
        assert await link.pttl(ours) > 5000
        assert 0 < await link.pttl(theirs) <= 1000
        marker = coordination.journal.session_key(coordination.session)
        assert await link.pttl(marker) > 25_000  # three leases' worth
    finally:
        await coordination.aclose()
        await link.aclose()
