"""``generate_many`` when the account runs out of credits, or a budget is nearly spent."""

from __future__ import annotations

import pytest

from musicapi_async import (
    AnyRequest,
    BudgetExceeded,
    InsufficientCredits,
    MusicAPI,
    PersonaRequest,
    PollPolicy,
    SonicRequest,
)
from musicapi_async.emulator import Emulator

SPEED = 600.0


def song(i: int) -> SonicRequest:
    """A 15-credit song."""
    return SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt=f"song {i}")


@pytest.mark.anyio
async def test_no_request_is_sent_after_the_account_says_it_cannot_pay() -> None:
    """After one 403 'not enough credits', the rest come back unsent (status None)."""
    async with (
        Emulator(speed=SPEED, credits=40) as emu,
        MusicAPI(emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(SPEED)) as api,
    ):
        outcomes = sorted([o async for o in api.generate_many([song(i) for i in range(6)],
                                                              concurrency=1)],
                          key=lambda o: o.index)  # fmt: skip
        sent = emu.stats.requests["sonic.create"]
    assert [o.ok for o in outcomes] == [True, True, False, False, False, False]
    refused, *held = (o.error for o in outcomes[2:])
    assert isinstance(refused, InsufficientCredits)
    assert refused.status == 403
    assert all(isinstance(e, InsufficientCredits) and e.status is None for e in held)
    assert sent == 3


@pytest.mark.anyio
async def test_budget_sends_a_later_request_that_still_fits() -> None:
    """A 15-credit song past a 20-credit budget is refused; a 1-credit persona after it is sent."""
    async with (
        Emulator(speed=SPEED) as emu,
        MusicAPI(emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(SPEED)) as api,
    ):
        (first,) = [o async for o in api.generate_many([song(0)])]
        clip_id = first.clips[0].clip_id
        requests: list[AnyRequest] = [
            song(1),
            song(2),
            PersonaRequest(name="Nova", continue_clip_id=clip_id),
        ]
        outcomes = sorted([o async for o in api.generate_many(requests, concurrency=1,
                                                              budget=20)],
                          key=lambda o: o.index)  # fmt: skip
        billed = emu.stats.billed
    assert outcomes[0].ok
    assert isinstance(outcomes[1].error, BudgetExceeded)
    assert outcomes[2].ok
    assert billed == {"sonic.create": 2, "sonic.persona": 1}
