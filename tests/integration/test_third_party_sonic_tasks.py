"""The vendor client (musicapi-sdk 0.1.0) drives the task-starting audio endpoints unchanged.

As in ``test_third_party``: the client is synchronous, so each call runs in a worker
thread; only its ``base_url`` is changed; the emulator's clock is stopped and each test
moves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import anyio
import musicapi
import pytest

from musicapi_async.emulator import Emulator

from .support import DESCRIPTION, LONG, LYRICS, UPLOAD_URL

pytestmark = [pytest.mark.anyio, pytest.mark.musicapi_emulator(speed=0)]

T = TypeVar("T")


@pytest.fixture
def vendor(emu: Emulator) -> Iterator[musicapi.MusicAPI]:
    """The vendor's client, unchanged but for its base URL."""
    with musicapi.MusicAPI(api_key=emu.api_key, base_url=f"{emu.url}/api/v1") as client:
        yield client


async def in_thread(call: Callable[[], T]) -> T:
    """Run a blocking vendor call off the loop, so the emulator can answer it."""
    return await anyio.to_thread.run_sync(call)


async def finished(emu: Emulator, vendor: musicapi.MusicAPI, task_id: str) -> list[str]:
    """Let task ``task_id`` end, read it with the vendor's get_task, return its clip ids."""
    emu.advance(LONG)
    task = await in_thread(lambda: vendor.sonic.get_task(task_id))
    assert task.code == 200
    assert [song.state for song in task.data] == ["succeeded"] * len(task.data)
    return [str(song.clip_id) for song in task.data]


async def test_vendor_upload_extend_and_upload_cover(
    emu: Emulator, vendor: musicapi.MusicAPI
) -> None:
    """upload_extend/upload_cover answer the task id with their ``steps``; tasks poll."""
    params = musicapi.UploadExtendParams(url=UPLOAD_URL, custom_mode=True, mv="sonic-v5",
                                         prompt=LYRICS, continue_at=0.1)  # fmt: skip
    extend = await in_thread(lambda: vendor.sonic.upload_extend(params))
    assert extend.code == 200
    assert extend.task_id
    assert extend.failed_step is None
    assert set(extend.steps) == {"upload", "extend"}
    assert len(await finished(emu, vendor, extend.task_id)) == 2
    cover = await in_thread(lambda: vendor.sonic.upload_cover(musicapi.UploadCoverParams(
        url=UPLOAD_URL, custom_mode=False, mv="sonic-v5", audio_weight=0.4, auto_concat=False,
        gpt_description_prompt=DESCRIPTION)))  # fmt: skip
    assert cover.task_id
    assert set(cover.steps) == {"upload", "cover"}
    assert len(await finished(emu, vendor, cover.task_id)) == 2
    assert emu.stats.credits_spent == 19 + 17


async def test_vendor_sample_replace_section_and_create_voice(
    emu: Emulator, vendor: musicapi.MusicAPI
) -> None:
    """sample, replace_section and create_voice submit and poll with the vendor's types."""
    sample = await in_thread(lambda: vendor.sonic.sample(musicapi.SampleParams(
        url=UPLOAD_URL, chop_sample_start_s=0, chop_sample_end_s=5, custom_mode=False,
        mv="sonic-v5", make_instrumental=True, gpt_description_prompt=DESCRIPTION)))  # fmt: skip
    assert sample.task_id is not None
    clip_id = (await finished(emu, vendor, sample.task_id))[0]
    emu.advance(LONG)  # past the create interval of 3 emulated seconds
    replaced = await in_thread(lambda: vendor.sonic.replace_section(musicapi.ReplaceSectionParams(
        clip_id=clip_id, mv="sonic-v5", infill_start_s=5, infill_end_s=15,
        infill_lyrics="[Bridge]\nla")))  # fmt: skip
    assert len(await finished(emu, vendor, replaced.task_id)) == 2
    emu.advance(LONG)
    voice = await in_thread(lambda: vendor.sonic.create_voice(
        musicapi.CreateVoiceParams(audio_url="https://example.com/voice/me.mp3")))  # fmt: skip
    assert voice.task_id
    await finished(emu, vendor, voice.task_id)
    assert emu.stats.billed["sonic.create_voice"] == 1


async def test_vendor_sees_a_refused_sample_as_its_error(
    emu: Emulator, vendor: musicapi.MusicAPI
) -> None:
    """An unknown sample clip is the documented 400, raised by the vendor as MusicAPIError."""
    params = musicapi.SampleParams(sample_clip_id="00000000-0000-0000-0000-000000000000",
                                   chop_sample_start_s=0, chop_sample_end_s=5,
                                   custom_mode=True, mv="sonic-v5",
                                   make_instrumental=True)  # fmt: skip
    with pytest.raises(musicapi.MusicAPIError) as caught:
        await in_thread(lambda: vendor.sonic.sample(params))
    assert caught.value.status == 400
    assert "clip not found" in str(caught.value)
    assert emu.stats.credits_spent == 0
