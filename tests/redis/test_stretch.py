"""A refused create widens the fleet's create slots for every process, for a while."""

from __future__ import annotations

import pytest

from musicapi_async._redis import RedisRateStore
from musicapi_async._redis._rates import STRETCH_STEP
from musicapi_async._redis._store import connect

pytestmark = pytest.mark.anyio

HOUR = 1 / 3600


async def test_a_refusal_in_one_process_spaces_every_processs_slots_wider(
    redis_url: str, namespace: str
) -> None:
    """After one process is refused, the next slots (the other's too) come 1.5 intervals
    apart instead of one; polls are not slowed."""
    links = [connect(redis_url, timeout=1) for _ in range(2)]
    one, two = (RedisRateStore(link, redis_url, namespace=namespace, create_rate=HOUR,
                               margin=0.0) for link in links)  # fmt: skip
    try:
        first, second = await one.reserve("create"), await two.reserve("create")
        assert first == 0
        assert 3599 < second - first <= 3600.002  # each wait is rounded up to the ms
        assert one.stretch() == pytest.approx(1.0)

        await one.pause("create", 0.001)  # the server refused a create: no wait asked
        third, fourth = await two.reserve("create"), await one.reserve("create")
        stretched = 3600 * (1 + STRETCH_STEP)
        assert stretched - 2 < fourth - third <= stretched + 0.002
        assert one.stretch() == pytest.approx(1 + STRETCH_STEP, abs=0.01)
        assert await two.reserve("poll") == 0
    finally:
        for link in links:
            await link.aclose()
