"""``examples/backend_redis_workers.py``: three worker processes, one song, one poller."""

from __future__ import annotations

import pytest

from ..test_examples import load

pytestmark = pytest.mark.anyio


async def test_three_workers_follow_one_song_polled_by_one(redis_url: str) -> None:
    """A song submitted to worker 0 streams to workers 1 and 2; only one of them polls."""
    result = await load("backend_redis_workers").main(speed=600.0, redis=redis_url)

    assert all(names[-1] == "TaskDone" for names in result["events"].values())
    assert len(result["events"]) == 2
    assert sum(result["polls"]) == result["emulator_polls"] > 0
    assert sum(1 for polls in result["polls"] if polls) == 1
