"""What the poller learns from a task it finds already done at its very first poll, and
when that first poll comes."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest

from musicapi_async import (
    Governor,
    MockTransport,
    MusicAPI,
    PollPolicy,
    RetryPolicy,
    SonicRequest,
)
from musicapi_async._http import HttpRequest, HttpResponse

from .support import FAST_POLL, SECRET, reply

ACCEPTED = reply("sonic_submit_with_code.json")
SUCCEEDED = reply("sonic_task_live_v55.json")
SONG = SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt="a song")


def client(now: list[float], polled: Callable[[], None], poll: PollPolicy) -> MusicAPI:
    """A client on ``now[0]``'s clock whose server accepts a song and answers every poll
    with it done, after calling ``polled``."""

    def answer(request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            return ACCEPTED
        polled()
        return SUCCEEDED

    return MusicAPI(api_key=SECRET, transport=MockTransport(answer), poll=poll,
                    retry=RetryPolicy(attempts=1), governor=Governor.unlimited(),
                    clock=lambda: now[0])  # fmt: skip


@pytest.mark.anyio
async def test_a_task_done_at_its_first_poll_is_learned_one_gap_back_not_halfway() -> None:
    """Done at the first look: the sample is taken as if polled one steady gap before (half
    a gap before the first poll), never the midpoint of submission and first poll (which
    drags the first poll early) nor the first poll itself (which creeps it later)."""
    now = [0.0]

    def polled() -> None:
        now[0] = 100.0  # the first poll reaches the server 100 s after the submission

    async with client(now, polled, FAST_POLL) as api:
        job = await api.submit(SONG)
        await job.wait(timeout=5)
        learned = api.poller.model.learned()
    expected = (100.0 - FAST_POLL.steady_interval / 2) * FAST_POLL.time_scale
    assert learned["done:sonic"] == [pytest.approx(expected)]


@pytest.mark.anyio
async def test_a_first_poll_placed_before_learning_waits_for_the_learned_edge() -> None:
    """A first poll placed from the prior is put off when the window learned meanwhile
    starts later: the first GET waits for the new edge instead of polling early."""
    # The poller's schedule runs on this clock, which only the test moves: due times are
    # compared with it, so where the GET lands does not depend on the machine's speed.
    now = [0.0]
    polled_at: list[float] = []
    policy = PollPolicy(jitter=0).scaled(1000)  # the prior's first poll: 0.147

    async with client(now, lambda: polled_at.append(now[0]), policy) as api:
        job = await api.submit(SONG)
        async with anyio.create_task_group() as group:
            group.start_soon(job.wait)
            await anyio.wait_all_tasks_blocked()  # the first poll is on the schedule
            assert api.poller.watching(job.task_id)
            # Learned while the task waits: sonic tasks finish at 400 s (0.4 here).
            api.poller.model.seed({"done:sonic": [400.0] * 32})
            now[0] = 0.2  # the first poll's placed time has passed, the new edge has not
            with anyio.fail_after(5):
                while not (api.poller.stats.put_off or polled_at):  # noqa: ASYNC110 - counters
                    await anyio.sleep(0.01)
            assert polled_at == []
            now[0] = 1.0
    assert polled_at == [1.0]
    assert api.poller.stats.put_off == 1
