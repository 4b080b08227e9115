"""What the poller learns from a task it finds already done at its very first poll."""

from __future__ import annotations

import pytest

from musicapi_async import Governor, MockTransport, MusicAPI, RetryPolicy, SonicRequest
from musicapi_async._http import HttpRequest, HttpResponse

from .support import FAST_POLL, SECRET, reply

ACCEPTED = reply("sonic_submit_with_code.json")
SUCCEEDED = reply("sonic_task_live_v55.json")


@pytest.mark.anyio
async def test_a_task_done_at_its_first_poll_is_learned_at_that_poll_not_halfway() -> None:
    """Done at the first look: the sample is the first poll's offset, an upper bound, never
    the midpoint of submission and first poll (which would drag the first poll early)."""
    now = [0.0]

    def answer(request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            return ACCEPTED
        now[0] = 100.0  # the first poll reaches the server 100 s after the submission
        return SUCCEEDED

    api = MusicAPI(api_key=SECRET, transport=MockTransport(answer), poll=FAST_POLL,
                   retry=RetryPolicy(attempts=1), governor=Governor.unlimited(),
                   clock=lambda: now[0])  # fmt: skip
    async with api:
        job = await api.submit(SonicRequest(custom_mode=False, mv="sonic-v5",
                                            gpt_description_prompt="a song"))  # fmt: skip
        await job.wait(timeout=5)
        learned = api.poller.model.learned()
    assert learned["done:sonic"] == [pytest.approx(100.0 * FAST_POLL.time_scale)]
