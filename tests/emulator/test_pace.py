"""The documented create pace, enforced by default, and the speed every answer announces."""

from __future__ import annotations

import aiohttp
import anyio
import pytest

from musicapi_async import MusicAPI, SonicRequest
from musicapi_async.cli._main import EMULATOR_SPEED
from musicapi_async.emulator import Emulator
from musicapi_async.emulator.__main__ import build_parser

from .support import SONG

pytestmark = pytest.mark.anyio


async def test_the_documented_pace_is_enforced_by_default() -> None:
    """``Emulator()`` refuses a second create within 3 emulated seconds (429), unbilled."""
    async with Emulator(speed=0) as emu, aiohttp.ClientSession() as session:
        url = f"{emu.url}/api/v1/sonic/create"
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        async with session.post(url, json=SONG, headers=headers) as first:
            assert first.status == 200
        emu.advance(1.0)
        async with session.post(url, json=SONG, headers=headers) as second:
            # Whole seconds of emulated time, which the speed header lets a client convert.
            assert (second.status, second.headers["Retry-After"]) == (429, "2")
            assert second.headers["X-Emulator-Speed"] == "0"
        emu.advance(2.0)
        async with session.post(url, json=SONG, headers=headers) as third:
            assert third.status == 200
        assert emu.stats.billed == {"sonic.create": 2}


async def test_the_pace_can_be_turned_off() -> None:
    """``create_interval=None`` (or 0) accepts creates back to back."""
    for off in (None, 0):
        async with Emulator(speed=0, create_interval=off) as emu, aiohttp.ClientSession() as s:
            url = f"{emu.url}/api/v1/sonic/create"
            headers = {"Authorization": f"Bearer {emu.api_key}"}
            for _ in range(3):
                async with s.post(url, json=SONG, headers=headers) as answer:
                    assert answer.status == 200


async def test_every_answer_announces_the_speed() -> None:
    """Successes and errors alike carry ``X-Emulator-Speed``; unauthenticated ones too."""
    async with Emulator(speed=45) as emu, aiohttp.ClientSession() as session:
        async with session.get(f"{emu.url}/api/v1/get-credits") as refused:
            assert (refused.status, refused.headers["X-Emulator-Speed"]) == (401, "45")
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        async with session.get(f"{emu.url}/api/v1/get-credits", headers=headers) as ok:
            assert (ok.status, ok.headers["X-Emulator-Speed"]) == (200, "45")


def test_one_default_speed_and_pace_everywhere() -> None:
    """``Emulator()``, the emulator server and the CLI's ``--emulator`` share one speed."""
    args = build_parser().parse_args([])
    assert args.speed == EMULATOR_SPEED == 30
    assert "speed=30" in repr(Emulator())
    assert args.create_interval == 3
    assert build_parser().parse_args(["--no-create-limit"]).create_interval == 0


async def test_the_quick_start_follows_the_emulators_speed() -> None:
    """A client with the default poll policy finishes a song at the emulator's pace."""
    async with Emulator(speed=600) as emu, MusicAPI(emu.api_key, base_url=emu.url) as api:
        song = SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt="a song")
        jobs = [await api.submit(song) for _ in range(3)]  # paced, one per 3 emulated s
        # At real time the first poll alone would come two minutes after the create.
        with anyio.fail_after(15):
            for job in jobs:
                assert len(await job.wait()) == 2
        assert api.poll_policy.time_scale == 600
        assert emu.stats.billed == {"sonic.create": 3}
