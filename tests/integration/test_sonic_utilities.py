"""The sonic utilities (issue 13) through the SDK against the emulator."""

from __future__ import annotations

import pytest

from musicapi_async import InvalidRequest, MusicAPI, SourcePurged
from musicapi_async.emulator import Emulator

from .support import finished_song

pytestmark = pytest.mark.anyio

UNKNOWN_CLIP = "00000000-0000-0000-0000-000000000000"


async def test_wav_answers_the_clip_master_url_for_2_credits(emu: Emulator, api: MusicAPI) -> None:
    """sonic.wav answers a WAV URL and costs 2 credits (the higher documented figure)."""
    source = await finished_song(api)
    before = (await api.get_credits()).credits
    wav = await api.sonic.wav(clip_id=source.clip_id)
    assert wav.wav_url is not None
    assert wav.wav_url.endswith(f"{source.clip_id}.wav")
    assert (await api.get_credits()).credits == before - 2


async def test_midi_waits_through_preparing_answers_billed_once(
    emu: Emulator, api: MusicAPI
) -> None:
    """sonic.midi repeats its 202 "preparing" answers for free until the notes are there."""
    source = await finished_song(api)
    midi = await api.sonic.midi(clip_id=source.clip_id)
    assert midi.ready
    assert midi.midi_url is not None
    assert midi.instruments[0]["name"] == "Piano"
    assert emu.stats.requests["sonic.midi"] >= 2  # at least one 202 first
    assert emu.stats.billed["sonic.midi"] == 1


async def test_vox_range_is_checked_before_sending(emu: Emulator, api: MusicAPI) -> None:
    """A vocal range over 30 s or reversed is refused locally; a good one is served."""
    source = await finished_song(api)
    with pytest.raises(InvalidRequest, match="at most 30"):
        await api.sonic.vox(clip_id=source.clip_id, vocal_start_s=0, vocal_end_s=31)
    with pytest.raises(InvalidRequest, match="greater than"):
        await api.sonic.vox(clip_id=source.clip_id, vocal_start_s=10, vocal_end_s=5)
    with pytest.raises(InvalidRequest, match="at most 30"):  # a missing start reads as 0
        await api.sonic.vox(clip_id=source.clip_id, vocal_end_s=40)
    assert emu.stats.requests.get("sonic.vox", 0) == 0
    vox = await api.sonic.vox(clip_id=source.clip_id, vocal_start_s=1, vocal_end_s=11)
    assert (vox.source_clip_id, vox.vocal_start_s, vox.vocal_end_s) == (source.clip_id, 1, 11)
    assert vox.vox_audio_id


async def test_aligned_lyrics_bill_the_first_call_only(emu: Emulator, api: MusicAPI) -> None:
    """aligned_lyrics answers timed words; the first call per clip is billed, repeats free."""
    source = await finished_song(api)
    first = await api.sonic.aligned_lyrics(clip_id=source.clip_id)
    again = await api.sonic.aligned_lyrics(clip_id=source.clip_id)
    assert first == again
    assert first.alignment
    word = first.alignment[0]
    assert word.word
    assert word.success is True
    assert word.start_s is not None
    assert word.end_s is not None
    assert word.start_s < word.end_s
    assert emu.stats.billed["sonic.aligned_lyrics"] == 1


async def test_upsample_tags_expands_and_refuses_empty(emu: Emulator, api: MusicAPI) -> None:
    """upsample_tags expands a tag string; an empty one is refused before sending."""
    result = await api.sonic.upsample_tags(tags="lofi, piano")
    assert result.upsampled_tags is not None
    assert result.upsampled_tags.startswith("lofi, piano")
    with pytest.raises(InvalidRequest, match="tags"):
        await api.sonic.upsample_tags(tags=" ")
    assert emu.stats.requests["sonic.upsample_tags"] == 1


async def test_download_prepares_files_and_reports_a_purged_source(
    emu: Emulator, api: MusicAPI
) -> None:
    """download retries 202 free until the files exist; a purged source is SourcePurged."""
    source = await finished_song(api)
    with pytest.raises(InvalidRequest, match="formats"):
        await api.sonic.download(clip_id=source.clip_id, formats=["flac"])
    files = await api.sonic.download(clip_id=source.clip_id, formats=["mp3", "wav"])
    assert set(files.files) == {"mp3", "wav"}
    assert emu.stats.billed["sonic.download"] == 1
    emu.advance(31 * 24 * 3600)
    with pytest.raises(SourcePurged):
        await api.sonic.download(clip_id=source.clip_id, formats=["wav"])


async def test_utilities_refuse_an_unknown_clip_unbilled(emu: Emulator, api: MusicAPI) -> None:
    """An unknown clip is the documented 400 "clip not found." and nothing is billed."""
    for call in (api.sonic.wav, api.sonic.midi, api.sonic.aligned_lyrics):
        with pytest.raises(InvalidRequest, match="clip not found"):
            await call(clip_id=UNKNOWN_CLIP)
    assert sum(emu.stats.billed.values()) == 0


async def test_stems_job_clips_are_the_stems(emu: Emulator, api: MusicAPI) -> None:
    """sonic.stems is a Job whose clips are the stems, each with its own audio URL."""
    source = await finished_song(api)
    basic = await (await api.sonic.stems(clip_id=source.clip_id)).wait(timeout=600)
    full = await (await api.sonic.stems(clip_id=source.clip_id, full=True)).wait(timeout=600)
    assert [c.extra["stem_type"] for c in basic] == ["Vocals", "Instrumental"]
    assert len(full) == 12
    urls = {c.audio_url for c in (*basic, *full)}
    assert None not in urls
    assert len(urls) == 14
    assert (emu.stats.billed["sonic.stems_basic"], emu.stats.billed["sonic.stems_full"]) == (1, 1)


async def test_mashup_blends_two_clips_and_checks_its_ids(emu: Emulator, api: MusicAPI) -> None:
    """mashup takes exactly two clips (sonic-v4-5-all allowed) and makes a 2-clip Job."""
    first, second = await finished_song(api), await finished_song(api)
    with pytest.raises(InvalidRequest, match="exactly two"):
        await api.sonic.mashup(mashup_clip_ids=[first.clip_id], custom_mode=False,
                               mv="sonic-v5", gpt_description_prompt="a duet")  # fmt: skip
    with pytest.raises(InvalidRequest, match="mv"):
        await api.sonic.create(custom_mode=False, mv="sonic-v4-5-all",
                               gpt_description_prompt="a duet")  # fmt: skip
    job = await api.sonic.mashup(mashup_clip_ids=[first.clip_id, second.clip_id],
                                 custom_mode=False, mv="sonic-v4-5-all",
                                 gpt_description_prompt="a duet")  # fmt: skip
    clips = await job.wait(timeout=600)
    assert len(clips) == 2
    assert all(c.audio_url for c in clips)
    assert emu.stats.billed["sonic.mashup"] == 1
    assert emu.stats.requests.get("sonic.mashup", 0) == 1
