"""The rate governor: rate, burst and concurrency per budget, and slowing down on throttle.

Time is a fake clock that the governor's injected sleep advances: no test really sleeps.
"""

from __future__ import annotations

import math

import anyio
import anyio.lowlevel
import pytest

from musicapi_async._errors import RateLimited
from musicapi_async._governor import (
    API_CREATE_BUDGET,
    Budget,
    Governor,
    Kind,
)

from .support import FakeTime

NO_LIMIT = Budget()


def governor(t: FakeTime, create: Budget = API_CREATE_BUDGET, poll: Budget = NO_LIMIT) -> Governor:
    """A governor on fake time."""
    return Governor(create, poll, clock=t.clock, sleep=t.sleep)


async def grant_times(gov: Governor, t: FakeTime, n: int, kind: Kind = "create") -> list[float]:
    """The fake times at which ``n`` sequential leases of ``kind`` are granted."""
    times = []
    for _ in range(n):
        async with gov.lease(kind):
            times.append(round(t.now, 6))
    return times


@pytest.mark.anyio
async def test_default_spaces_creates_three_seconds_apart() -> None:
    """The real API's default grants one create immediately, then one every 3 s."""
    t = FakeTime()
    assert await grant_times(governor(t), t, 4) == [0, 3, 6, 9]


@pytest.mark.anyio
async def test_concurrent_creators_share_one_rate() -> None:
    """Creates from many coroutines together still go out one per 3 s."""
    t = FakeTime()
    gov = governor(t)
    times: list[float] = []

    async def one() -> None:
        async with gov.create():
            times.append(round(t.now, 6))

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(one)
    assert sorted(times) == [0, 3, 6, 9, 12]


@pytest.mark.anyio
async def test_burst_allows_that_many_at_once_then_the_rate() -> None:
    """A bucket of 3 at 1/s grants 3 at once after a quiet spell, then one per second."""
    t = FakeTime()
    gov = governor(t, create=Budget(rate=1, burst=3))
    assert await grant_times(gov, t, 5) == [0, 0, 0, 1, 2]


@pytest.mark.anyio
async def test_concurrency_cap_limits_requests_in_flight() -> None:
    """With ``concurrency=2`` at most two leases are held at once, across coroutines."""
    gov = Governor(Budget(), Budget(concurrency=2))
    release = anyio.Event()
    in_flight = peak = done = 0

    async def one() -> None:
        nonlocal in_flight, peak, done
        async with gov.poll():
            in_flight += 1
            peak = max(peak, in_flight)
            await release.wait()
            in_flight -= 1
        done += 1

    async with anyio.create_task_group() as tg:
        for _ in range(6):
            tg.start_soon(one)
        await anyio.wait_all_tasks_blocked()
        assert gov.state("poll").in_flight == 2
        release.set()
    assert (peak, done) == (2, 6)


@pytest.mark.anyio
async def test_throttle_pauses_until_retry_after_and_halves_the_rate() -> None:
    """After a 429 with Retry-After 10 the next create waits 10 s, then gaps beyond 3 s."""
    t = FakeTime()
    gov = governor(t)
    async with gov.create():
        pass
    gov.throttled("create", 10)
    assert gov.state("create").rate == pytest.approx(1 / 6)
    # Half rate (6 s), then one recovery step per success, a tenth of the learned ceiling
    # (0.9 / 3): 1/(1/6 + 0.03) = 5.08 s, then 1/(1/6 + 0.06) = 4.41 s.
    assert await grant_times(gov, t, 3) == [10, 15.084746, 19.49651]


@pytest.mark.anyio
async def test_rate_limited_leaving_the_block_is_reported_as_a_throttle() -> None:
    """``RateLimited`` raised inside ``async with`` pauses the budget and propagates."""
    t = FakeTime()
    gov = governor(t)
    with pytest.raises(RateLimited):
        async with gov.create():
            raise RateLimited("429", status=429, retry_after=20)
    state = gov.state("create")
    assert (state.paused_until, state.throttles) == (20, 1)
    assert state.rate == pytest.approx(1 / 6)


@pytest.mark.anyio
async def test_success_recovers_the_rate_additively_up_to_the_configured_rate() -> None:
    """Each success after a throttle adds a tenth of the configured rate, never above it."""
    t = FakeTime()
    gov = governor(t, create=Budget(rate=1, burst=1, learn=0))
    gov.throttled("create", 0)
    rates = []
    for _ in range(7):
        async with gov.create():
            pass
        rates.append(round(gov.state("create").rate, 6))
    assert rates == [0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0]


@pytest.mark.anyio
async def test_one_burst_of_throttles_halves_the_rate_only_once() -> None:
    """Leases granted before a throttle extend the pause but do not halve the rate again."""
    t = FakeTime()
    gov = governor(t, create=Budget(rate=1, burst=3))
    entered = refused = 0

    async def throttled_request(retry_after: float) -> None:
        nonlocal entered, refused
        try:
            async with gov.create():
                entered += 1
                while entered < 3:  # all three are in flight when the 429s arrive
                    await anyio.lowlevel.checkpoint()
                raise RateLimited("429", retry_after=retry_after)
        except RateLimited:
            refused += 1

    async with anyio.create_task_group() as tg:
        for retry_after in (5, 8, 2):
            tg.start_soon(throttled_request, retry_after)
    state = gov.state("create")
    assert refused == 3
    assert state.rate == 0.5
    assert (state.throttles, state.paused_until) == (3, 8)


@pytest.mark.anyio
async def test_rate_never_drops_below_min_rate() -> None:
    """Repeated throttles halve the rate down to ``min_rate`` and no further."""
    t = FakeTime()
    gov = governor(t, create=Budget(rate=1, min_rate=0.2))
    for _ in range(5):
        gov.throttled("create", 0)
    assert gov.state("create").rate == 0.2


@pytest.mark.anyio
async def test_pause_is_capped_by_max_pause() -> None:
    """A Retry-After of a day pauses the budget only ``max_pause`` seconds."""
    t = FakeTime()
    gov = governor(t, create=Budget(rate=1, max_pause=60))
    gov.throttled("create", 86400)
    assert gov.state("create").paused_until == 60


@pytest.mark.anyio
async def test_budgets_are_separate() -> None:
    """A throttled create budget does not delay polls."""
    t = FakeTime()
    gov = governor(t)
    gov.throttled("create", 30)
    assert await grant_times(gov, t, 3, "poll") == [0, 0, 0]
    assert t.sleeps == []


@pytest.mark.anyio
async def test_unlimited_grants_without_waiting() -> None:
    """``Governor.unlimited()`` lets 200 creates through with no wait."""
    t = FakeTime()
    gov = Governor.unlimited(clock=t.clock, sleep=t.sleep)
    assert await grant_times(gov, t, 200) == [0] * 200
    assert t.sleeps == []


@pytest.mark.anyio
async def test_unlimited_budget_slows_when_throttled_and_returns_to_unlimited() -> None:
    """A throttled unlimited budget drops to half ``assumed_rate``, then recovers to unlimited."""
    t = FakeTime()
    gov = governor(t, poll=Budget(assumed_rate=4))
    gov.throttled("poll", 1)
    assert gov.state("poll").rate == 2
    # 2/s after the pause, plus 0.4/s per success: gaps of 1/2.4 s, then 1/2.8 s.
    assert await grant_times(gov, t, 3, "poll") == [1, 1.416667, 1.77381]
    for _ in range(20):
        async with gov.poll():
            pass
    assert gov.state("poll").rate == math.inf


@pytest.mark.anyio
async def test_cancelled_waiter_gives_back_its_slot() -> None:
    """A lease cancelled while waiting frees its slot and its place in line."""
    t = FakeTime()

    async def stopped(seconds: float) -> None:  # the pause cannot end while the lease waits
        await anyio.sleep_forever()

    gov = Governor(Budget(rate=1, concurrency=1), Budget(), clock=t.clock, sleep=stopped)
    gov.throttled("create", 0.1)
    with anyio.move_on_after(0.02):
        async with gov.create():
            pytest.fail("granted during the pause")
    assert gov.state("create").in_flight == 0
    t.now = 0.1  # the pause is over
    with anyio.fail_after(2):
        async with gov.create():
            assert gov.state("create").in_flight == 1


def test_budget_refuses_nonsense() -> None:
    """A zero rate or a zero concurrency cap is refused at construction."""
    with pytest.raises(ValueError, match="rate"):
        Budget(rate=0)
    with pytest.raises(ValueError, match="concurrency"):
        Budget(concurrency=0)


@pytest.mark.anyio
async def test_throttles_teach_the_ceiling_the_servers_pace() -> None:
    """Each throttle lowers the ceiling a tenth: the rate recovers to what was accepted."""
    t = FakeTime()
    gov = governor(t, create=Budget(rate=1, burst=1))
    gov.throttled("create", 0)
    gov.throttled("create", 0)
    for _ in range(40):
        async with gov.create():
            pass
    assert gov.state("create").rate == pytest.approx(0.81)


@pytest.mark.anyio
async def test_a_refusal_without_retry_after_pauses_at_least_a_second() -> None:
    """A 403 QPS refusal (no Retry-After) holds the next create a second, not 0.2 s."""
    t = FakeTime()
    gov = governor(t, create=Budget(rate=100, burst=1))
    async with gov.create():
        pass
    with pytest.raises(RateLimited):
        async with gov.create():
            raise RateLimited("API QPS limit exceeded", status=403)
    before = t.now
    async with gov.create():
        assert t.now - before >= 1.0


@pytest.mark.anyio
async def test_time_scale_runs_the_budget_in_the_servers_seconds() -> None:
    """At time scale 60, one create per 3 server seconds is one per 50 ms of ours."""
    t = FakeTime()
    gov = governor(t)
    gov.set_time_scale(60)
    assert await grant_times(gov, t, 3) == [0, 0.05, 0.1]
    gov.throttled("create", 60)  # a Retry-After of a server minute: one wall second
    start = t.now
    async with gov.create():
        assert t.now - start == pytest.approx(1.0)
    with pytest.raises(ValueError, match="time scale"):
        gov.set_time_scale(0)


@pytest.mark.anyio
async def test_a_day_long_retry_after_on_polls_pauses_at_most_max_pause() -> None:
    """A poll answered Retry-After: 86400 holds polls for max_pause (300 s), not a day."""
    t = FakeTime()
    gov = governor(t)
    with pytest.raises(RateLimited):
        async with gov.poll():
            raise RateLimited("Too many requests", status=429, retry_after=86400)
    async with gov.poll():
        assert t.now == pytest.approx(300)


@pytest.mark.anyio
async def test_learning_never_takes_the_ceiling_below_half_the_configured_rate() -> None:
    """However many throttles a long-lived client meets, it recovers to half its pace."""
    t = FakeTime()
    gov = governor(t, create=Budget(rate=1, burst=1))
    for _ in range(50):
        gov.throttled("create", 0)
    for _ in range(200):
        async with gov.create():
            pass
    assert gov.state("create").rate == pytest.approx(0.5)
