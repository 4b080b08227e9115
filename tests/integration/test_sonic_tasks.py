"""The task-starting sonic endpoints that take audio (issue 13), through the SDK."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from musicapi_async import (
    ClipState,
    CreateVoiceRequest,
    InvalidRequest,
    MusicAPI,
    PollPolicy,
    SampleRequest,
    SQLiteJournal,
    SubmissionOutcomeUnknown,
    TaskFailed,
    UploadCoverRequest,
    UploadExtendRequest,
    cost_of,
)
from musicapi_async.emulator import Emulator, Fault, FaultKind

from ..loopback import webhook_receiver
from .support import (
    DESCRIPTION,
    LONG,
    LYRICS,
    SPEED,
    UPLOAD_URL,
    WAIT,
    emulated_task,
    finished_song,
    wait_succeeded,
)

pytestmark = pytest.mark.anyio

UNKNOWN_CLIP = "00000000-0000-0000-0000-000000000000"


async def test_upload_extend_makes_two_extensions_for_19_credits(
    emu: Emulator, api: MusicAPI, http: aiohttp.ClientSession
) -> None:
    """upload_extend uploads and extends in one billed call; its clips are extensions."""
    job = await api.sonic.upload_extend(url=UPLOAD_URL, continue_at=0.1, custom_mode=True,
                                        mv="sonic-v5", prompt=LYRICS)  # fmt: skip
    clips = await wait_succeeded(job)
    assert job.snapshot is not None
    assert job.snapshot.pairs == ()
    recorded = await emulated_task(http, emu, job.task_id)
    assert recorded["task_type"] == "extend_upload_music"
    assert emu.stats.credits_spent == 19
    # An extension can be joined to its upload with concat, like any extension.
    (whole,) = await wait_succeeded(await api.sonic.concat(continue_clip_id=clips[0].clip_id), 1)
    assert whole.duration is not None
    assert clips[0].duration is not None
    assert whole.duration == pytest.approx(0.1 + clips[0].duration, abs=0.02)


async def test_upload_extend_auto_concat_waits_for_every_full_song(
    emu: Emulator, api: MusicAPI
) -> None:
    """With auto_concat the job ends only once each pair's full song is there."""
    job = await api.sonic.upload_extend(url=UPLOAD_URL, continue_at=1, auto_concat=True,
                                        custom_mode=False, mv="sonic-v5",
                                        gpt_description_prompt=DESCRIPTION)  # fmt: skip
    clips = await job.wait(timeout=WAIT)
    assert job.snapshot is not None
    pairs = job.snapshot.pairs
    assert len(pairs) == 2
    for pair in pairs:
        assert pair.full is not None
        assert (pair.extended.state, pair.full.state) == (ClipState.SUCCEEDED,) * 2
        assert pair.extended.duration is not None
        assert pair.full.duration == pytest.approx(1 + pair.extended.duration, abs=0.02)
    assert clips == [c for p in pairs for c in (p.extended, p.full)]


@pytest.mark.musicapi_emulator(speed=0)
async def test_upload_extend_pairs_are_not_finished_while_the_concat_runs(
    emu: Emulator, api: MusicAPI
) -> None:
    """Succeeded extensions with ``full: null`` are not a finished task; the fulls end it."""
    job = await api.sonic.upload_extend(url=UPLOAD_URL, auto_concat=True, custom_mode=True,
                                        mv="sonic-v4-5", prompt=LYRICS)  # fmt: skip
    seen_gap = False
    for _ in range(200):
        emu.advance(5)
        snapshot = await api.sonic.get(job.task_id)
        if snapshot.pairs and all(p.extended.state is ClipState.SUCCEEDED for p in snapshot.pairs):
            if any(p.full is None for p in snapshot.pairs):
                seen_gap = True
                assert all(c.is_terminal for c in snapshot.clips)
                assert not snapshot.done
            else:
                break
    assert seen_gap
    emu.advance(LONG)
    final = await api.sonic.get(job.task_id)
    assert final.done
    assert all(p.full is not None and p.complete for p in final.pairs)
    assert len(final.clips) == 4


async def test_upload_extend_continue_at_past_the_upload_is_refused_unbilled(
    emu: Emulator, api: MusicAPI
) -> None:
    """A continue_at beyond the uploaded audio is the emulator's 400, never billed."""
    with pytest.raises(InvalidRequest, match="continue_at"):
        await api.sonic.upload_extend(url=UPLOAD_URL, continue_at=3000, custom_mode=True,
                                      mv="sonic-v5", prompt=LYRICS)  # fmt: skip
    assert emu.stats.credits_spent == 0


async def test_upload_cover_covers_the_upload_for_17_credits(
    emu: Emulator, api: MusicAPI, http: aiohttp.ClientSession
) -> None:
    """upload_cover is one billed call; its task covers the uploaded clip."""
    job = await api.sonic.upload_cover(url=UPLOAD_URL, custom_mode=False, mv="sonic-v5",
                                       audio_weight=0.6)  # fmt: skip
    await wait_succeeded(job)
    assert (await emulated_task(http, emu, job.task_id))["task_type"] == "cover_upload_music"
    assert emu.stats.credits_spent == 17


async def test_upload_cover_is_validated_before_sending(emu: Emulator, api: MusicAPI) -> None:
    """A weight outside 0-1, a bad URL or a too-long title never leaves the client."""
    with pytest.raises(InvalidRequest, match="audio_weight"):
        await api.sonic.upload_cover(url=UPLOAD_URL, custom_mode=False, mv="sonic-v5",
                                     audio_weight=1.5)  # fmt: skip
    with pytest.raises(InvalidRequest, match="not accessible"):
        await api.sonic.upload_cover(url="ftp://example.com/a.mp3", custom_mode=False,
                                     mv="sonic-v5")  # fmt: skip
    with pytest.raises(InvalidRequest, match="title"):
        await api.sonic.upload_cover(url=UPLOAD_URL, custom_mode=True, mv="sonic-v5",
                                     prompt=LYRICS, title="t" * 81)  # fmt: skip
    with pytest.raises(InvalidRequest, match="mv"):
        await api.sonic.upload_cover(url=UPLOAD_URL, custom_mode=False, mv="sonic-v4-5-all")
    assert sum(emu.stats.requests.values()) == 0


async def test_sample_from_a_clip_or_a_url(emu: Emulator, api: MusicAPI) -> None:
    """sample takes exactly one audio source and makes a whole new 2-clip song."""
    source = await finished_song(api)
    job = await api.sonic.sample(sample_clip_id=source.clip_id, chop_sample_start_s=2,
                                 chop_sample_end_s=8, custom_mode=False, mv="sonic-v4-5-all",
                                 make_instrumental=False,
                                 gpt_description_prompt=DESCRIPTION)  # fmt: skip
    await wait_succeeded(job)
    job = await api.sonic.sample(url=UPLOAD_URL, chop_sample_start_s=0, chop_sample_end_s=5,
                                 custom_mode=True, mv="sonic-v5",
                                 make_instrumental=True)  # fmt: skip
    await wait_succeeded(job)
    assert emu.stats.billed["sonic.sample"] == 2
    assert emu.stats.credits_spent == 15 + 2 * 16


async def test_sample_checks_its_source_and_window_before_sending(
    emu: Emulator, api: MusicAPI
) -> None:
    """Both or neither source, or a window whose start is not before its end, is refused."""
    common: dict[str, Any] = {"custom_mode": False, "mv": "sonic-v5", "make_instrumental": False,
              "gpt_description_prompt": DESCRIPTION}  # fmt: skip
    with pytest.raises(InvalidRequest, match="exactly one"):
        await api.sonic.sample(url=UPLOAD_URL, sample_clip_id="c1", chop_sample_start_s=0,
                               chop_sample_end_s=5, **common)  # fmt: skip
    with pytest.raises(InvalidRequest, match="exactly one"):
        await api.sonic.sample(chop_sample_start_s=0, chop_sample_end_s=5, **common)
    with pytest.raises(InvalidRequest, match="less than"):
        await api.sonic.sample(url=UPLOAD_URL, chop_sample_start_s=6, chop_sample_end_s=5,
                               **common)  # fmt: skip
    assert sum(emu.stats.requests.values()) == 0
    with pytest.raises(InvalidRequest, match="clip not found"):
        await api.sonic.sample(sample_clip_id=UNKNOWN_CLIP, chop_sample_start_s=0,
                               chop_sample_end_s=5, **common)  # fmt: skip
    assert emu.stats.credits_spent == 0


async def test_replace_section_regenerates_a_span(emu: Emulator, api: MusicAPI) -> None:
    """replace_section makes a 2-clip task from a clip's span, for 15 credits."""
    source = await finished_song(api)
    job = await api.sonic.replace_section(clip_id=source.clip_id, mv="sonic-v5",
                                          infill_start_s=10, infill_end_s=20,
                                          infill_lyrics="[Bridge]\nla la")  # fmt: skip
    clips = await wait_succeeded(job)
    assert clips[0].title == source.title
    assert emu.stats.credits_spent == 15 + 15


async def test_replace_section_checks_span_model_and_clip(emu: Emulator, api: MusicAPI) -> None:
    """start >= end and sonic-v3-5 are refused locally; an unknown clip is the 400."""
    with pytest.raises(InvalidRequest, match="less than"):
        await api.sonic.replace_section(clip_id="c1", mv="sonic-v5", infill_start_s=20,
                                        infill_end_s=20)  # fmt: skip
    with pytest.raises(InvalidRequest, match="sonic-v4 or newer"):
        await api.sonic.replace_section(clip_id="c1", mv="sonic-v3-5", infill_start_s=1,
                                        infill_end_s=2)  # fmt: skip
    assert sum(emu.stats.requests.values()) == 0
    with pytest.raises(InvalidRequest, match="clip not found"):
        await api.sonic.replace_section(clip_id=UNKNOWN_CLIP, mv="sonic-v5", infill_start_s=1,
                                        infill_end_s=2)  # fmt: skip
    source = await finished_song(api)
    with pytest.raises(InvalidRequest, match="within the clip"):
        await api.sonic.replace_section(clip_id=source.clip_id, mv="sonic-v5",
                                        infill_start_s=1, infill_end_s=3000)  # fmt: skip
    assert emu.stats.credits_spent == 15


async def test_create_voice_yields_a_persona_for_persona_music(
    emu: Emulator, api: MusicAPI
) -> None:
    """create_voice is a task whose clip carries a persona_id that persona_music takes."""
    job = await api.sonic.create_voice(audio_url="https://example.com/voice/me.wav")
    (voice,) = await wait_succeeded(job, count=1)
    assert voice.persona_id
    song = await api.sonic.create_with_persona(persona_id=voice.persona_id, custom_mode=True,
                                               mv="sonic-v5", prompt=LYRICS)  # fmt: skip
    await wait_succeeded(song)
    assert emu.stats.billed["sonic.create_voice"] == 1
    assert emu.stats.credits_spent == 4 + 15


async def test_a_failed_voice_is_refunded_and_has_no_persona(emu: Emulator, api: MusicAPI) -> None:
    """A create-voice task that fails ends with TaskFailed, no persona, and its 4 credits back."""
    emu.fail_next()
    job = await api.sonic.create_voice(audio_url="https://example.com/voice/me.wav")
    with pytest.raises(TaskFailed):
        await job.wait(timeout=WAIT)
    assert job.snapshot is not None
    assert [c.persona_id for c in job.snapshot.clips] == [None]
    emu.advance(LONG)
    assert emu.balance().credits == 1000


async def test_upload_extend_pair_failure_ends_the_task(emu: Emulator, api: MusicAPI) -> None:
    """A failed extension needs no concat: its pair is complete and the task ends failed."""
    emu.fail_next(partial=True)
    job = await api.sonic.upload_extend(url=UPLOAD_URL, continue_at=1, auto_concat=True,
                                        custom_mode=True, mv="sonic-v5", prompt=LYRICS)  # fmt: skip
    with pytest.raises(TaskFailed):
        await job.wait(timeout=WAIT)
    assert job.snapshot is not None
    first, last = job.snapshot.pairs
    assert first.full is not None
    assert first.full.state is ClipState.SUCCEEDED
    assert last.extended.state is ClipState.FAILED
    assert last.complete


async def test_add_vocals_and_add_instrumental_are_short_methods(
    emu: Emulator, api: MusicAPI, http: aiohttp.ClientSession
) -> None:
    """add_vocals (lyrics required) and add_instrumental send their task types."""
    source = await finished_song(api)
    vocals = await api.sonic.add_vocals(continue_clip_id=source.clip_id, mv="sonic-v5",
                                        prompt=LYRICS)  # fmt: skip
    backing = await api.sonic.add_instrumental(continue_clip_id=source.clip_id, mv="sonic-v5")
    await wait_succeeded(vocals)
    await wait_succeeded(backing)
    assert (await emulated_task(http, emu, vocals.task_id))["task_type"] == "add_vocals"
    assert (await emulated_task(http, emu, backing.task_id))["task_type"] == "add_instrumental"
    with pytest.raises(InvalidRequest, match="prompt"):
        await api.sonic.add_vocals(continue_clip_id=source.clip_id, mv="sonic-v5", prompt="")


async def test_new_requests_go_through_generate_many(emu: Emulator, api: MusicAPI) -> None:
    """The request models work with generate_many like any generation, each billed once."""
    requests: list[UploadCoverRequest | SampleRequest] = [
        UploadCoverRequest(url=UPLOAD_URL, custom_mode=False, mv="sonic-v5"),
        SampleRequest(url=UPLOAD_URL, chop_sample_start_s=0, chop_sample_end_s=4,
                      custom_mode=True, mv="sonic-v5", make_instrumental=True),
    ]  # fmt: skip
    outcomes = [o async for o in api.generate_many(requests)]
    assert all(o.ok for o in outcomes)
    assert sorted(len(o.clips) for o in outcomes) == [2, 2]
    expected = sum(cost_of("sonic.upload_cover" if isinstance(r, UploadCoverRequest)
                           else "sonic.sample", {})[0] for r in requests)  # fmt: skip
    assert emu.stats.credits_spent == expected == 17 + 16


async def test_unknown_fields_and_clips_fail_loudly(emu: Emulator, api: MusicAPI) -> None:
    """A field the endpoint does not take is an InvalidRequest naming it, before sending."""
    with pytest.raises(InvalidRequest, match="continue_clip_id"):
        await api.sonic.upload_cover(url=UPLOAD_URL, custom_mode=False, mv="sonic-v5",
                                     continue_clip_id="x")  # fmt: skip
    assert sum(emu.stats.requests.values()) == 0


async def test_a_paired_task_resolves_through_its_webhook(emu: Emulator) -> None:
    """The completed webhook of an auto_concat task carries its pairs, full songs included."""
    policy = PollPolicy().scaled(SPEED)
    async with webhook_receiver() as (url, clients):
        api = MusicAPI(emu.api_key, base_url=emu.url, poll=policy, webhook_url=url,
                       webhook_secret="whsec-pairs")  # fmt: skip
        clients.append(api)
        async with api:
            job = await api.sonic.upload_extend(url=UPLOAD_URL, continue_at=1, auto_concat=True,
                                                custom_mode=True, mv="sonic-v5",
                                                prompt=LYRICS)  # fmt: skip
            clips = await job.wait(timeout=WAIT)
            emu.advance(LONG)  # every delivery falls due, and reaches the open client
            await emu.drain_webhooks()
    assert len(clips) == 4
    assert job.snapshot is not None
    assert all(p.full is not None for p in job.snapshot.pairs)
    # The SDK's handler answers 400 to a delivery it cannot read: this one it read.
    completed = [d for d in emu.webhook_deliveries if d.event == "song.completed"]
    assert [d.status for d in completed] == [200]


@pytest.mark.parametrize(
    ("endpoint", "request_"),
    [
        ("sonic.upload_extend", UploadExtendRequest(url=UPLOAD_URL, custom_mode=True,
                                                    mv="sonic-v5", prompt=LYRICS)),
        ("sonic.create_voice", CreateVoiceRequest(audio_url="https://example.com/v/me.wav")),
    ],
)  # fmt: skip
async def test_a_dropped_answer_is_outcome_unknown_and_never_resent(
    emu: Emulator, api: MusicAPI, endpoint: str, request_: UploadExtendRequest | CreateVoiceRequest
) -> None:
    """An answer lost after billing is SubmissionOutcomeUnknown, and the call is sent once."""
    emu.faults.add(Fault(FaultKind.ACCEPT_THEN_DROP, endpoint=endpoint))
    with pytest.raises(SubmissionOutcomeUnknown) as caught:
        await api.submit(request_)
    assert caught.value.endpoint == endpoint
    assert (emu.stats.requests[endpoint], emu.stats.billed[endpoint]) == (1, 1)
    assert len(emu.task_ids()) == 1  # the task exists: reconcile it, never re-send


async def test_a_journaled_run_is_not_billed_again(
    emu: Emulator, api: MusicAPI, tmp_path: Path
) -> None:
    """Run twice with one journal, the new kinds are resumed from it, not sent again."""
    requests: list[UploadExtendRequest | CreateVoiceRequest] = [
        UploadExtendRequest(url=UPLOAD_URL, continue_at=1, auto_concat=True, custom_mode=True,
                            mv="sonic-v5", prompt=LYRICS),
        CreateVoiceRequest(audio_url="https://example.com/voice/me.wav"),
    ]  # fmt: skip
    async with SQLiteJournal(tmp_path / "journal.db") as journal:
        first = [o async for o in api.generate_many(requests, journal=journal)]
        again = [o async for o in api.generate_many(requests, journal=journal)]
    assert all(o.ok and not o.resumed for o in first)
    assert all(o.ok and o.resumed for o in again)
    by_index = {o.index: o for o in again}
    assert len(by_index[0].clips) == 4
    assert by_index[1].clips[0].persona_id
    assert emu.stats.credits_spent == 19 + 4
