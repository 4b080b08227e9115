"""The credits ledger: costs, extra credits first, refunds, the lyrics pool (§8, §12)."""

from __future__ import annotations

import pytest

from musicapi_async._errors import InsufficientCredits

from .support import LONG, NURO_VOCAL, SONG, STUDIO, Client, serve

pytestmark = pytest.mark.anyio

CREDITS_MESSAGE = (
    "The remaining credits are not enough. You can buy more one-time credit packs or subscribe."
)


async def _balance(api: Client) -> dict[str, int]:
    answer = await api.call("credits")
    return {k: int(v) for k, v in answer.json.items()}


async def test_documented_costs(api: Client) -> None:
    """Sonic 15, nuro 10, studio 15, upload 2 credits; polls and get-credits are free."""
    await api.create()
    assert await _balance(api) == {"credits": 985, "extra_credits": 0}
    await api.create(NURO_VOCAL, "nuro.create")
    await api.create(STUDIO, "studio.create")
    await api.call("sonic.upload", {"url": "https://example.com/x.mp3"})
    for task_id in api.emulator.task_ids():
        await api.poll(task_id)
    assert await _balance(api) == {"credits": 1000 - 15 - 10 - 15 - 2, "extra_credits": 0}


async def test_extra_credits_are_spent_first() -> None:
    """A create takes extra credits first and the subscription's for the rest."""
    async with serve(credits=100, extra_credits=10) as api:
        await api.create()
        assert await _balance(api) == {"credits": 95, "extra_credits": 0}


async def test_not_enough_credits_is_the_documented_403() -> None:
    """A create the balance cannot cover answers 403 with the exact text and takes nothing."""
    async with serve(credits=14) as api:
        answer = await api.call("sonic.create", dict(SONG))
        assert (answer.status, answer.message) == (403, CREDITS_MESSAGE)
        with pytest.raises(InsufficientCredits):
            answer.parsed("sonic.create")
        assert await _balance(api) == {"credits": 14, "extra_credits": 0}
        assert api.emulator.task_ids() == ()


async def test_concat_costs_two_credits_and_an_empty_balance_stops_it() -> None:
    """concat_music costs 2; with fewer than 2 left it is refused."""
    async with serve(credits=32) as api:
        source = (await api.finished_clips(await api.create()))[0]
        extend = {
            "task_type": "extend_music",
            "custom_mode": True,
            "mv": "sonic-v4",
            "prompt": "[Verse]\nx",
            "continue_clip_id": source["clip_id"],
            "continue_at": 10,
        }
        extension = (await api.finished_clips(await api.create(extend)))[0]
        assert await _balance(api) == {"credits": 2, "extra_credits": 0}
        concat = {"task_type": "concat_music", "continue_clip_id": extension["clip_id"]}
        assert (await api.call("sonic.create", concat)).status == 200
        assert (await api.call("sonic.create", concat)).status == 403


async def test_a_failed_task_is_refunded_once_where_it_was_taken() -> None:
    """A failed task's credits come back once, to the balances they came from."""
    async with serve(credits=100, extra_credits=5) as api:
        api.emulator.fail_next()
        task_id = await api.create()
        assert await _balance(api) == {"credits": 90, "extra_credits": 0}
        api.emulator.advance(LONG)
        for _ in range(3):
            await api.poll(task_id)
        assert await _balance(api) == {"credits": 100, "extra_credits": 5}
        stats = api.emulator.stats
        assert (stats.credits_spent, stats.credits_refunded) == (15, 15)


async def test_refunds_happen_on_time_without_a_poll() -> None:
    """The refund appears in get-credits once the clip has failed, even if nobody polled."""
    async with serve() as api:
        api.emulator.fail_next()
        await api.create()
        assert (await _balance(api))["credits"] == 985
        api.emulator.advance(LONG)
        assert (await _balance(api))["credits"] == 1000


async def test_lyrics_draw_from_their_own_pool() -> None:
    """Lyrics cost 10 lyrics credits, leave credits alone, and 403 when the pool is empty."""
    async with serve(lyrics_credits=15) as api:
        body = {"description": "a song about sky"}
        assert (await api.call("lyrics.create", body)).status == 200
        assert await _balance(api) == {"credits": 1000, "extra_credits": 0}
        assert api.emulator.balance().lyrics_credits == 5
        refused = await api.call("lyrics.create", body)
        assert (refused.status, refused.message) == (403, CREDITS_MESSAGE)
        assert api.emulator.stats.lyrics_credits_spent == 10


async def test_no_subscription_allows_only_extra_credits() -> None:
    """Without an active subscription only extra credits pay; the 403 says so."""
    async with serve() as api:
        api.emulator.add_account("lapsed", credits=500, extra_credits=20, subscription_active=False)
        assert (await api.call("sonic.create", dict(SONG), key="lapsed")).status == 200
        answer = await api.call("sonic.create", dict(SONG), key="lapsed")
        assert answer.status == 403
        assert answer.message.startswith("You do not have an active subscription.")


async def test_each_key_has_its_own_ledger(api: Client) -> None:
    """Another key's spending does not touch the first key's balance."""
    api.emulator.add_account("second", credits=30)
    await api.call("sonic.create", dict(SONG), key="second")
    assert (await api.call("credits", key="second")).json == {"credits": 15, "extra_credits": 0}
    assert await _balance(api) == {"credits": 1000, "extra_credits": 0}
