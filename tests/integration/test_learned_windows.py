"""A journal keeps the learned completion windows, so a second run starts warm."""

from __future__ import annotations

from pathlib import Path

import pytest

from musicapi_async import Family, MusicAPI, PollPolicy, SonicRequest, SQLiteJournal
from musicapi_async.emulator import Emulator

SPEED = 600.0


def song(i: int) -> SonicRequest:
    return SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt=f"song {i}")


@pytest.mark.anyio
async def test_second_journaled_run_starts_from_the_first_runs_windows(tmp_path: Path) -> None:
    """generate_many saves what it learned in its journal and a new client starts from it."""
    path = tmp_path / "runs.sqlite3"
    policy = PollPolicy().scaled(SPEED)
    async with Emulator(speed=SPEED, credits=100_000) as emu:
        async with (
            SQLiteJournal(path) as journal,
            MusicAPI(emu.api_key, base_url=emu.url, poll=policy) as api,
        ):
            outcomes = [o async for o in api.generate_many(
                (song(i) for i in range(20)), concurrency=20, journal=journal)]  # fmt: skip
            assert all(o.ok for o in outcomes)
            first = api.poller.model.learned()["done:sonic"]
        assert len(first) == 20
        # Stored in the server's seconds (minutes), not the wall's (a fraction of a second
        # at this speed): the documented 2-4 minutes, give or take the gap between the two
        # polls each observation lies between, which a loaded machine stretches.
        assert all(30 <= offset <= 1800 for offset in first), first
        async with (
            SQLiteJournal(path) as journal,
            MusicAPI(emu.api_key, base_url=emu.url, poll=policy) as api,
        ):
            prior = ((120 + 120 * 0.05**0.5) / SPEED, 240 / SPEED)  # documented timings
            assert api.poller.model.window(Family.SONIC) == pytest.approx(prior)
            async for outcome in api.generate_many([song(100)], journal=journal):
                assert outcome.ok
            second = api.poller.model.learned()["done:sonic"]
            assert sorted(second[:20]) == pytest.approx(sorted(first), abs=0.01)
            assert len(second) == 21
        async with SQLiteJournal(path) as journal:
            assert len((await journal.load_windows())["done:sonic"]) == 21


@pytest.mark.anyio
async def test_each_task_type_learns_its_own_window() -> None:
    """A stem split (done in seconds) is learned under its own type, apart from new songs,
    and a journal hands both on."""
    async with (
        Emulator(speed=SPEED, credits=100_000) as emu,
        MusicAPI(emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(SPEED)) as api,
    ):
        clips = await (await api.submit(song(1))).wait(timeout=60)
        await (await api.sonic.stems(clip_id=clips[0].clip_id)).wait(timeout=60)
        learned = api.poller.model.learned()
    assert sorted(k for k in learned if k.startswith("done:")) == [
        "done:sonic",
        "done:sonic/stems_basic",
    ]
    assert len(learned["done:sonic"]) == len(learned["done:sonic/stems_basic"]) == 1
    # Stems are done well before a new song's documented 2 minutes.
    assert learned["done:sonic/stems_basic"][0] < 120 <= learned["done:sonic"][0]
