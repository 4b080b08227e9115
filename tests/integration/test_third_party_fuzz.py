"""The vendor client's producer and riffusion resources work unchanged against the emulator.

As in ``test_third_party``: ``musicapi`` (musicapi-sdk 0.1.0) is synchronous, so each
call runs in a worker thread; the emulator's clock is stopped and moved by the test.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import TypeVar

import anyio
import musicapi
import pytest

from musicapi_async.emulator import Emulator

from .support import LONG, UPLOAD_URL

pytestmark = [pytest.mark.anyio, pytest.mark.musicapi_emulator(speed=0)]

T = TypeVar("T")


@pytest.fixture
def vendor(emu: Emulator) -> Iterator[musicapi.MusicAPI]:
    """The vendor's client, unchanged but for its base URL."""
    client = musicapi.MusicAPI(api_key=emu.api_key, base_url=f"{emu.url}/api/v1")
    with client:
        yield client


async def in_thread(call: Callable[[], T]) -> T:
    """Run a blocking vendor call off the loop, so the emulator can answer it."""
    return await anyio.to_thread.run_sync(call)


async def producer_song(emu: Emulator, vendor: musicapi.MusicAPI) -> musicapi.ProducerSong:
    """Create a producer song with the vendor client and let it finish."""
    params = musicapi.ProducerCreateParams(
        task_type="create_music", sound="lo-fi piano", title="Rain", mv="FUZZ-2.0"
    )
    submitted = await in_thread(lambda: vendor.producer.create(params))
    emu.advance(LONG)
    task = await in_thread(lambda: vendor.producer.get_task(submitted.task_id))
    assert (task.code, task.message) == (200, "success")
    (song,) = task.data
    assert isinstance(song, musicapi.ProducerSong)
    return song


async def test_vendor_producer_create_extend_replace(
    emu: Emulator, vendor: musicapi.MusicAPI
) -> None:
    """The vendor's producer create, extend and replace get one song each, billed 10/12/12."""
    song = await producer_song(emu, vendor)
    assert (song.title, song.state, song.mv) == ("Rain", "succeeded", "FUZZ-2.0")
    assert song.audio_url
    for params in (
        musicapi.ProducerCreateParams(
            task_type="extend_music", clip_id=song.clip_id, starts_at=30, length=60
        ),
        musicapi.ProducerCreateParams(
            task_type="replace_music",
            clip_id=song.clip_id,
            starts_at=10,
            ends_at=20,
            instruction="more drums",
        ),
    ):
        submitted = await in_thread(functools.partial(vendor.producer.create, params))
        emu.advance(LONG)
        task = await in_thread(functools.partial(vendor.producer.get_task, submitted.task_id))
        assert [s.state for s in task.data] == ["succeeded"]
    assert emu.stats.billed["producer.create"] == 3
    assert emu.balance().credits == 1000 - 10 - 12 - 12


async def test_vendor_producer_upload_and_download(
    emu: Emulator, vendor: musicapi.MusicAPI
) -> None:
    """The vendor's producer upload (``audio_url``) and download are tasks it can poll."""
    song = await producer_song(emu, vendor)
    upload = await in_thread(
        lambda: vendor.producer.upload(musicapi.ProducerUploadParams(audio_url=UPLOAD_URL))
    )
    emu.advance(5)  # the documented create pace: one create every 3 s per key
    download = await in_thread(
        lambda: vendor.producer.download(
            musicapi.ProducerDownloadParams(clip_id=str(song.clip_id), format="wav")
        )
    )
    emu.advance(LONG)
    uploaded = await in_thread(lambda: vendor.producer.get_task(upload.task_id))
    fetched = await in_thread(lambda: vendor.producer.get_task(download.task_id))
    assert uploaded.data[0].clip_id
    assert fetched.data[0].clip_id == song.clip_id
    assert fetched.data[0].audio_url == song.audio_url
    assert emu.stats.billed["producer.upload"] == emu.stats.billed["producer.download"] == 1


async def test_vendor_producer_retired_task_type_is_410(
    emu: Emulator, vendor: musicapi.MusicAPI
) -> None:
    """A retired producer task type answers the vendor client 410, unbilled."""
    params = musicapi.ProducerCreateParams(
        task_type="swap_music_vocals",  # type: ignore[arg-type]
        clip_id="00000000-0000-4000-8000-000000000000",
    )
    with pytest.raises(musicapi.MusicAPIError) as gone:
        await in_thread(lambda: vendor.producer.create(params))
    assert "swap_music_vocals" in str(gone.value)
    assert emu.stats.statuses["producer.create"] == {"410": 1}
    assert emu.stats.billed == {}


async def test_vendor_riffusion_create_upload_and_poll(
    emu: Emulator, vendor: musicapi.MusicAPI
) -> None:
    """The vendor's riffusion create gets two songs; its upload returns a clip id."""
    params = musicapi.RiffusionCreateParams(
        task_type="create_music",
        mv="FUZZ-1.1",
        custom_mode=False,
        make_instrumental=False,
        prompt="a happy pop song",
    )
    submitted = await in_thread(lambda: vendor.riffusion.create(params))
    emu.advance(LONG)
    task = await in_thread(lambda: vendor.riffusion.get_task(submitted.task_id))
    assert (task.code, task.message) == (200, "success")
    assert [s.state for s in task.data] == ["succeeded", "succeeded"]
    uploaded = await in_thread(
        lambda: vendor.riffusion.upload(musicapi.RiffusionUploadParams(url=UPLOAD_URL))
    )
    assert (uploaded.code, uploaded.message) == (200, "success")
    assert uploaded.clip_id
    assert emu.balance().credits == 1000 - 12 - 2
