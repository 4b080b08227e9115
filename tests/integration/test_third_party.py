"""The vendor-branded client (musicapi-sdk 0.1.0) works unchanged against the emulator.

``musicapi`` is synchronous (httpx), so every call runs in a worker thread while the
emulator serves in the test's event loop. Its only setting changed is ``base_url``,
pointed at the emulator (the vendor's default is ``https://api.musicapi.ai/api/v1``).
The emulator's clock is stopped (``speed=0``) so each test moves time itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import TypeVar

import aiohttp
import anyio
import musicapi
import pytest

from musicapi_async.emulator import Emulator

from .support import DESCRIPTION, LONG, LYRICS, UPLOAD_URL, emulated_task, fetch

pytestmark = [pytest.mark.anyio, pytest.mark.musicapi_emulator(speed=0)]

T = TypeVar("T")

# Polls every 20 ms and gives up after 10 s, so a broken wait fails instead of hanging.
POLL = musicapi.PollOptions(poll_interval_ms=20, timeout_ms=10_000)


@pytest.fixture
def vendor(emu: Emulator) -> Iterator[musicapi.MusicAPI]:
    """The vendor's client, unchanged but for its base URL."""
    client = musicapi.MusicAPI(api_key=emu.api_key, base_url=f"{emu.url}/api/v1")
    with client:
        yield client


async def in_thread(call: Callable[[], T]) -> T:
    """Run a blocking vendor call off the loop, so the emulator can answer it."""
    return await anyio.to_thread.run_sync(call)


def described_song() -> musicapi.SonicCreateParams:
    """A description-mode create, in the vendor's own parameter type."""
    return musicapi.SonicCreateParams(custom_mode=False, mv="sonic-v5",
                                      gpt_description_prompt=DESCRIPTION)  # fmt: skip


async def finished_clip_id(emu: Emulator, vendor: musicapi.MusicAPI) -> str:
    """Create a song with the vendor client, let it finish, and return a clip id."""
    submitted = await in_thread(lambda: vendor.sonic.create(described_song()))
    emu.advance(LONG)
    task = await in_thread(lambda: vendor.sonic.get_task(submitted.task_id))
    assert [song.state for song in task.data] == ["succeeded", "succeeded"]
    return str(task.data[0].clip_id)


@pytest.mark.musicapi_emulator(speed=0, extra_credits=7)
async def test_vendor_credits_match_the_ledger(emu: Emulator, vendor: musicapi.MusicAPI) -> None:
    """``credits.get()`` reads the emulator's balances, extra credits included."""
    balance = await in_thread(vendor.credits.get)
    assert (balance.credits, balance.extra_credits) == (1000, 7)
    await in_thread(lambda: vendor.sonic.create(described_song()))
    balance = await in_thread(vendor.credits.get)
    assert (balance.credits, balance.extra_credits) == (992, 0)
    assert (emu.balance().credits, emu.balance().extra_credits) == (992, 0)


async def vendor_generate_and_wait(
    vendor: musicapi.MusicAPI,
    emu: Emulator,
    *,
    not_ready_polls: int,
    then: Callable[[], object],
    before: Callable[[], Awaitable[None]] | None = None,
) -> musicapi.SonicTaskResult:
    """Run the vendor's ``generate_and_wait`` in a thread; after it has seen
    ``not_ready_polls`` not_ready answers, call ``then`` (which moves the clock)."""
    results: list[musicapi.SonicTaskResult] = []

    async def generate() -> None:
        call = lambda: vendor.sonic.generate_and_wait(described_song(), POLL)  # noqa: E731
        results.append(await in_thread(call))

    async with anyio.create_task_group() as group:
        group.start_soon(generate)
        with anyio.fail_after(10):
            while emu.stats.statuses.get("sonic.task", {}).get("202", 0) < not_ready_polls:  # noqa: ASYNC110
                await anyio.sleep(0.01)
        if before is not None:
            await before()
        then()
    (result,) = results
    return result


async def test_vendor_generate_and_wait_rides_not_ready_to_the_clips(
    emu: Emulator, vendor: musicapi.MusicAPI, http: aiohttp.ClientSession
) -> None:
    """``generate_and_wait`` keeps polling through 202 not_ready and returns the emulated clips."""
    # Once the helper has polled through not_ready, jump past the end in one step, as its
    # first ``code: 200`` ends its wait whatever the clips' states (next test).
    result = await vendor_generate_and_wait(vendor, emu, not_ready_polls=2,
                                            then=lambda: emu.advance(LONG))  # fmt: skip
    assert (result.code, result.message) == (200, "success")
    assert [song.state for song in result.data] == ["succeeded", "succeeded"]
    (task_id,) = emu.task_ids()
    recorded = await emulated_task(http, emu, task_id)
    assert [song.clip_id for song in result.data] == [c["clip_id"] for c in recorded["clips"]]
    assert recorded["cost"] == 15
    for song in result.data:
        assert song.gpt_description_prompt == DESCRIPTION
        assert float(str(song.duration)) > 0  # the emulator sends a decimal string, as live
        status, _, body = await fetch(http, str(song.audio_url))
        assert (status, body[:4], body[8:12]) == (200, b"RIFF", b"WAVE")
    assert emu.balance().credits == 985


async def test_vendor_generate_and_wait_stops_at_the_first_200_as_live(
    emu: Emulator, vendor: musicapi.MusicAPI, http: aiohttp.ClientSession
) -> None:
    """The vendor helper returns at the first ``code: 200`` though clips still run (§4.3)."""
    ready_at: list[float] = []

    def make_ready() -> None:
        emu.advance(ready_at[0] - emu.now + 0.001)  # ready, nowhere near done

    async def remember_ready() -> None:
        (only,) = emu.task_ids()
        ready_at.append((await emulated_task(http, emu, only))["ready_at"])

    result = await vendor_generate_and_wait(vendor, emu, not_ready_polls=1, then=make_ready,
                                            before=remember_ready)  # fmt: skip
    (task_id,) = emu.task_ids()
    assert result.code == 200
    assert [song.state for song in result.data] == ["pending", "pending"]
    assert emu.task_status(task_id) == "pending"


async def test_vendor_lyrics_draw_from_the_lyrics_pool(
    emu: Emulator, vendor: musicapi.MusicAPI
) -> None:
    """``sonic.lyrics`` returns two candidates and spends lyrics credits only."""
    params = musicapi.SonicLyricsParams(description="a song about the open sky")
    result = await in_thread(lambda: vendor.sonic.lyrics(params))
    assert result.code == 200
    assert len(result.results) == 2
    assert all(set(r) == {"title", "lyrics"} and r["lyrics"] for r in result.results)
    balance = emu.balance()
    assert (balance.credits, balance.lyrics_credits) == (1000, 90)
    assert emu.stats.billed == {"lyrics.create": 1}


async def test_vendor_upload_feeds_extend_upload_music(
    emu: Emulator, vendor: musicapi.MusicAPI, http: aiohttp.ClientSession
) -> None:
    """``sonic.upload`` returns a clip id the emulator knows, usable by extend_upload_music."""
    uploaded = await in_thread(
        lambda: vendor.sonic.upload(musicapi.SonicUploadParams(url=UPLOAD_URL))
    )
    assert uploaded.code == 200
    params = musicapi.SonicCreateParams(
        task_type="extend_upload_music", custom_mode=True, mv="sonic-v5", prompt=LYRICS,
        continue_clip_id=uploaded.clip_id, continue_at=0.1)  # fmt: skip
    submitted = await in_thread(lambda: vendor.sonic.create(params))
    recorded = await emulated_task(http, emu, submitted.task_id)
    assert (recorded["task_type"], recorded["cost"]) == ("extend_upload_music", 15)
    assert emu.stats.billed == {"sonic.upload": 1, "sonic.create": 1}
    assert emu.balance().credits == 1000 - 2 - 15


async def test_vendor_persona_with_newer_field_names_feeds_persona_music(
    emu: Emulator, vendor: musicapi.MusicAPI, http: aiohttp.ClientSession
) -> None:
    """``create_persona`` (newer ``clip_id``/``describe`` names) feeds a persona_music create."""
    clip_id = await finished_clip_id(emu, vendor)
    params = musicapi.CreatePersonaParams(name="Nova", clip_id=clip_id, describe="airy vocals")
    persona = await in_thread(lambda: vendor.sonic.create_persona(params))
    assert (persona.code, persona.message) == (200, "success")
    create = musicapi.SonicCreateParams(task_type="persona_music", custom_mode=True,
                                        mv="sonic-v5", prompt=LYRICS,
                                        persona_id=persona.persona_id)  # fmt: skip
    submitted = await in_thread(lambda: vendor.sonic.create(create))
    recorded = await emulated_task(http, emu, submitted.task_id)
    assert recorded["task_type"] == "persona_music"
    assert emu.stats.billed == {"sonic.create": 2, "sonic.persona": 1}


async def test_vendor_errors_follow_the_documented_statuses(emu: Emulator) -> None:
    """A wrong key is the vendor's auth error (401); an unpayable create its credit error (403)."""
    emu.add_account("poor-key", credits=5)
    wrong = musicapi.MusicAPI(api_key="wrong-key", base_url=f"{emu.url}/api/v1")
    poor = musicapi.MusicAPI(api_key="poor-key", base_url=f"{emu.url}/api/v1")
    with wrong, poor:
        with pytest.raises(musicapi.MusicAPIError) as auth:
            await in_thread(wrong.credits.get)
        with pytest.raises(musicapi.MusicAPIError) as credit:
            await in_thread(lambda: poor.sonic.create(described_song()))
    assert auth.value.is_auth_error
    assert str(auth.value) == "Invalid API key."
    assert credit.value.is_credit_error
    assert str(credit.value).startswith("The remaining credits are not enough.")
    assert emu.stats.billed == {}
    assert emu.balance("poor-key").credits == 5


async def test_vendor_bpm_is_served_and_refuses_a_stale_clip(
    emu: Emulator, vendor: musicapi.MusicAPI
) -> None:
    """The vendor's ``bpm`` gets the documented envelope; a clip over 24 h old is refused."""
    clip_id = await finished_clip_id(emu, vendor)
    result = await in_thread(lambda: vendor.sonic.bpm(musicapi.BpmParams(clip_id=clip_id)))
    assert (result.code, result.message) == (200, "success")
    assert set(result.data) == {"avg_bpm", "max_bpm", "min_bpm"}
    emu.advance(25 * 3600)
    with pytest.raises(musicapi.MusicAPIError) as stale:
        await in_thread(lambda: vendor.sonic.bpm(musicapi.BpmParams(clip_id=clip_id)))
    assert "24 hours" in str(stale.value)
    assert emu.stats.billed["sonic.bpm"] == 1


async def test_vendor_sonic_utilities_are_served(emu: Emulator, vendor: musicapi.MusicAPI) -> None:
    """The vendor's wav, midi, vox, aligned_lyrics and upsample_tags calls work unchanged."""
    clip_id = await finished_clip_id(emu, vendor)
    sonic = vendor.sonic
    wav = await in_thread(lambda: sonic.wav(musicapi.WavParams(clip_id=clip_id)))
    assert wav.data["wav_url"].endswith(".wav")
    midi = await in_thread(lambda: sonic.midi(musicapi.MidiParams(clip_id=clip_id)))
    assert midi.code == 202  # the vendor hands the "still preparing" answer back
    emu.advance(60)
    midi = await in_thread(lambda: sonic.midi(musicapi.MidiParams(clip_id=clip_id)))
    assert (midi.code, set(midi.data)) == (200, {"midi_url", "instruments"})
    vox = await in_thread(
        lambda: sonic.vox(musicapi.VoxParams(clip_id=clip_id, vocal_start_s=0, vocal_end_s=5))
    )
    assert vox.data["source_clip_id"] == clip_id
    aligned = await in_thread(
        lambda: sonic.aligned_lyrics(musicapi.AlignedLyricsParams(clip_id=clip_id))
    )
    assert {"word", "start_s", "end_s", "p_align", "success"} <= set(aligned.data["alignment"][0])
    tags = await in_thread(lambda: sonic.upsample_tags(musicapi.UpsampleTagsParams(tags="jazz")))
    assert tags.data["upsampled_tags"].startswith("jazz")
    assert emu.stats.billed["sonic.midi"] == 1


async def test_vendor_stems_are_served_as_a_task(emu: Emulator, vendor: musicapi.MusicAPI) -> None:
    """The vendor's stems_basic and stems_full submit tasks whose songs are the stems."""
    clip_id = await finished_clip_id(emu, vendor)
    basic = await in_thread(lambda: vendor.sonic.stems_basic(musicapi.StemsParams(clip_id)))
    emu.advance(5)  # past the per-key create interval: stems are creates
    full = await in_thread(lambda: vendor.sonic.stems_full(musicapi.StemsParams(clip_id)))
    emu.advance(LONG)
    for task_id, count in ((basic.task_id, 2), (full.task_id, 12)):
        task = await in_thread(partial(vendor.sonic.get_task, task_id))
        assert [song.state for song in task.data] == ["succeeded"] * count
        assert all(song.audio_url for song in task.data)


async def test_vendor_mashup_is_served(emu: Emulator, vendor: musicapi.MusicAPI) -> None:
    """The vendor's mashup of two clips submits a task that finishes."""
    clip_id = await finished_clip_id(emu, vendor)
    other = await finished_clip_id(emu, vendor)
    params = musicapi.MashupParams(
        mashup_clip_ids=(clip_id, other),
        custom_mode=False,
        mv="sonic-v5",
        gpt_description_prompt=DESCRIPTION,
    )
    submitted = await in_thread(lambda: vendor.sonic.mashup(params))
    emu.advance(LONG)
    task = await in_thread(partial(vendor.sonic.get_task, submitted.task_id))
    assert [song.state for song in task.data] == ["succeeded", "succeeded"]
