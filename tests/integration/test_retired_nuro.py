"""Nuro's retirement: the emulator's ``retire_nuro`` switch answers 410, unbilled."""

from __future__ import annotations

import pytest

from musicapi_async import EndpointGone, MusicAPI
from musicapi_async.emulator import Emulator
from musicapi_async.emulator.__main__ import _fault_kwargs, build_parser

from .support import WAIT

pytestmark = pytest.mark.anyio


@pytest.mark.musicapi_emulator(retire_nuro=True)
async def test_retired_nuro_create_is_gone_unbilled(emu: Emulator, api: MusicAPI) -> None:
    """With retire_nuro, nuro create answers 410: EndpointGone, one request, no credits."""
    with pytest.raises(EndpointGone) as gone:
        await api.nuro.create_instrumental(description="calm lo-fi beat")
    assert gone.value.status == 410
    assert "producer" in str(gone.value)
    assert "sonic" in str(gone.value)
    assert emu.stats.requests["nuro.create"] == 1
    assert emu.stats.billed == {}
    assert (await api.get_credits()).credits == 1000


@pytest.mark.musicapi_emulator(retire_nuro=True)
async def test_retired_nuro_get_is_gone(emu: Emulator, api: MusicAPI) -> None:
    """With retire_nuro, polling a nuro task answers 410 too (one request)."""
    with pytest.raises(EndpointGone) as gone:
        await api.nuro.get("b1eac403-06cb-4e58-971d-835d3b321508")
    assert gone.value.endpoint == "nuro.task"
    assert emu.stats.requests["nuro.task"] == 1


async def test_nuro_still_works_where_it_is_served(emu: Emulator, api: MusicAPI) -> None:
    """Without the switch, api.nuro keeps working (servers that still serve it)."""
    job = await api.nuro.create_vocal(lyrics="[verse]\nhello sky")
    clips = await job.wait(timeout=WAIT)
    assert len(clips) == 1
    assert emu.stats.billed["nuro.create"] == 1


def test_cli_flag_retires_nuro() -> None:
    """``--retire-nuro`` reaches ``Emulator(retire_nuro=True)``; the default serves nuro."""
    assert _fault_kwargs(build_parser().parse_args(["--retire-nuro"]))["retire_nuro"] is True
    assert _fault_kwargs(build_parser().parse_args([]))["retire_nuro"] is False
