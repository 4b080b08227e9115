"""Producer and riffusion through the public SDK, against a real emulator on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from musicapi_async import (
    AnyRequest,
    ClipState,
    EndpointGone,
    Family,
    InvalidRequest,
    MockTransport,
    MusicAPI,
    ProducerRequest,
    RiffusionRequest,
    SQLiteJournal,
    TaskFailed,
)
from musicapi_async._http import HttpRequest, HttpResponse
from musicapi_async.emulator import Emulator

from ..loopback import webhook_receiver
from .support import UPLOAD_URL, WAIT, wait_succeeded

pytestmark = pytest.mark.anyio

SECRET = "whsec-producer-tests"


async def producer_song(api: MusicAPI, **fields: Any) -> str:
    """Create a producer song, wait for it, return its clip id."""
    job = await api.producer.create(sound="lo-fi piano", **fields)
    (clip,) = await wait_succeeded(job, 1)
    return clip.clip_id


# ------------------------------------------------------------------------ producer


async def test_producer_create_makes_one_song(emu: Emulator, api: MusicAPI) -> None:
    """producer.create ends in one succeeded song; its task answer says SUCCESS; 10 credits."""
    job = await api.producer.create(sound="lo-fi piano", title="Rain", seed=7)
    assert job.family is Family.PRODUCER
    (clip,) = await wait_succeeded(job, 1)
    assert clip.title == "Rain"
    assert clip.mv == "FUZZ-2.0"
    assert clip.audio_url
    snapshot = await api.producer.get(job.task_id)
    assert (snapshot.status, snapshot.done) == ("SUCCESS", True)
    assert emu.balance().credits == 1000 - 10


async def test_producer_edits_downloads_and_uploads(emu: Emulator, api: MusicAPI) -> None:
    """extend, replace, cover (12 each), download and upload (2 each) each end in one song."""
    clip_id = await producer_song(api)
    uploaded = await wait_succeeded(await api.producer.upload(url=UPLOAD_URL), 1)
    jobs = [
        await api.producer.extend(clip_id=clip_id, starts_at=30, length=60, lyrics="la"),
        await api.producer.replace(clip_id=clip_id, starts_at=10, ends_at=20),
        await api.producer.cover(clip_id=clip_id, strength=0.4),
        await api.producer.extend(clip_id=uploaded[0].clip_id, upload=True, length=30),
    ]
    for job in jobs:
        await wait_succeeded(job, 1)
    (download,) = await wait_succeeded(await api.producer.download(clip_id=clip_id), 1)
    assert download.clip_id == clip_id
    assert emu.balance().credits == 1000 - 10 - 2 - 4 * 12 - 2


async def test_producer_takes_the_legacy_spellings(emu: Emulator, api: MusicAPI) -> None:
    """starts, ends, lyrics_text and cover_strength are still accepted and sent as given."""
    clip_id = await producer_song(api)
    for task_type, fields in (
        ("extend_music", {"starts": 5, "lyrics_text": "[verse] again"}),
        ("replace_music", {"starts": 5, "ends": 9}),
        ("cover_music", {"cover_strength": 0.7}),
    ):
        job = await api.producer.create_task(task_type, clip_id=clip_id, **fields)
        await wait_succeeded(job, 1)
        assert job.request is not None
    assert emu.stats.statuses["producer.create"] == {"200": 4}


async def test_a_failed_producer_task_is_refunded_and_says_so(emu: Emulator, api: MusicAPI) -> None:
    """A FAILED producer task raises TaskFailed; its message says refunded; credits return."""
    emu.fail_next()
    job = await api.producer.create(sound="doomed")
    with pytest.raises(TaskFailed) as failed:
        await job.wait(timeout=WAIT)
    snapshot = await api.producer.get(job.task_id)
    assert snapshot.status == "FAILED"
    assert snapshot.message is not None
    assert "refunded" in snapshot.message
    assert failed.value.task_id == job.task_id
    assert emu.balance().credits == 1000


@pytest.mark.parametrize("task_type", ["music_variation", "swap_music_vocals", "swap_music_sound"])
async def test_retired_producer_task_types_are_gone(
    emu: Emulator, api: MusicAPI, task_type: str
) -> None:
    """A retired task type is EndpointGone naming it: sent once, never billed."""
    with pytest.raises(EndpointGone) as gone:
        await api.producer.create_task(task_type, clip_id="00000000-0000-4000-8000-000000000000")
    assert gone.value.operation == task_type
    assert task_type in str(gone.value)
    assert emu.stats.requests["producer.create"] == 1
    assert emu.stats.billed == {}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"sound": "x", "title": "t" * 81}, "title"),
        ({"sound": "x", "webhook_url": "https://example.com/" + "a" * 1010}, "webhook_url"),
        ({}, "sound"),
    ],
)
async def test_producer_create_is_checked_before_sending(
    emu: Emulator, api: MusicAPI, fields: dict[str, Any], field: str
) -> None:
    """Bad create fields are InvalidRequest before any request (title 80, URL 1024, ...)."""
    with pytest.raises(InvalidRequest) as bad:
        await api.producer.create(**fields)
    assert bad.value.field == field
    assert emu.stats.requests.get("producer.create", 0) == 0


@pytest.mark.parametrize(
    ("task_type", "fields", "field"),
    [
        ("extend_music", {"length": 0}, "length"),
        ("extend_music", {"length": 241}, "length"),
        ("cover_music", {"strength": 1.5}, "strength"),
        ("replace_music", {"starts_at": 9, "ends_at": 3}, "ends_at"),
        ("extend_music", {"clip_id": None}, "clip_id"),
    ],
)
async def test_producer_edits_are_checked_before_sending(
    emu: Emulator, api: MusicAPI, task_type: str, fields: dict[str, Any], field: str
) -> None:
    """Edit ranges (length 1-240, strength 0-1, ends after starts) are checked locally."""
    body = {"clip_id": "00000000-0000-4000-8000-000000000000", **fields}
    with pytest.raises(InvalidRequest) as bad:
        await api.producer.create_task(task_type, **body)
    assert bad.value.field == field
    assert emu.stats.requests.get("producer.create", 0) == 0


async def test_producer_and_riffusion_in_generate_many_with_a_journal(
    emu: Emulator, api: MusicAPI, tmp_path: Path
) -> None:
    """generate_many runs producer and riffusion requests, journaled, to their songs."""
    requests: list[AnyRequest] = [
        ProducerRequest(sound="calm synth"),
        RiffusionRequest(prompt="a sunny song"),
    ]
    async with SQLiteJournal(tmp_path / "journal.db") as journal:
        outcomes = [o async for o in api.generate_many(requests, journal=journal)]
        again = [o async for o in api.generate_many(requests, journal=journal)]
    assert [len(o.clips) for o in sorted(outcomes, key=lambda o: o.index)] == [1, 2]
    assert all(o.ok for o in outcomes)
    assert all(o.resumed for o in again)
    assert emu.stats.billed == {"producer.create": 1, "riffusion.create": 1}


@pytest.fixture
async def hook_url() -> AsyncIterator[tuple[str, list[MusicAPI]]]:
    """A loopback receiver that hands deliveries to the client put in its list."""
    async with webhook_receiver() as receiver:
        yield receiver


async def test_producer_jobs_complete_by_webhook(
    emu: Emulator, hook_url: tuple[str, list[MusicAPI]]
) -> None:
    """A producer task's webhook (platform producer) resolves its job."""
    url, clients = hook_url
    async with MusicAPI(
        emu.api_key, base_url=emu.url, webhook_url=url, webhook_secret=SECRET
    ) as api:
        clients.append(api)
        job = await api.producer.create(sound="lo-fi piano")
        await wait_succeeded(job, 1)
    assert emu.stats.webhooks["delivered"] >= 1


# ----------------------------------------------------------------------- riffusion

RIFFUSION_EDITS: list[tuple[str, dict[str, Any]]] = [
    ("extend_music", {"continue_at": 30}),
    ("cover_music", {}),
    ("replace_music", {"replace_start_time": 5, "replace_end_time": 10}),
    ("swap_music_sound", {"sound": "jazz"}),
    ("swap_music_vocals", {}),
]


async def test_riffusion_serves_every_task_type(emu: Emulator, api: MusicAPI) -> None:
    """Every documented riffusion task type ends in two songs; one deprecation warning."""
    with pytest.warns(DeprecationWarning, match="riffusion"):
        created = await api.riffusion.create(prompt="a happy song")
    clip_id = (await wait_succeeded(created, 2))[0].clip_id
    uploaded = (await api.riffusion.upload(url=UPLOAD_URL)).clip_id  # no second warning
    for task_type, fields in RIFFUSION_EDITS:
        upload_type = task_type.replace("_music", "_upload_music")
        for kind, source in ((task_type, clip_id), (upload_type, uploaded)):
            job = await api.riffusion.create(
                task_type=kind,
                continue_clip_id=source,
                custom_mode=True,
                lyrics="[verse] la",
                **fields,
            )
            await wait_succeeded(job, 2)
    assert emu.stats.billed["riffusion.create"] == 1 + 2 * len(RIFFUSION_EDITS)


async def test_a_riffusion_task_with_one_song_is_not_done() -> None:
    """ "If you only receive one song, continue to poll": one succeeded song is not done."""
    one = {"clip_id": "a", "state": "succeeded"}
    bodies = iter([[one], [one, {**one, "clip_id": "b"}]])

    def handle(request: HttpRequest) -> HttpResponse:
        body = {"code": 200, "message": "success", "data": next(bodies)}
        return HttpResponse(200, {}, json.dumps(body).encode())

    async with MusicAPI("k" * 32, transport=MockTransport(handle)) as api:
        with pytest.warns(DeprecationWarning, match="riffusion"):
            first = await api.riffusion.get("task-1")
        second = await api.riffusion.get("task-1")
    assert (len(first.clips), first.done) == (1, False)
    assert (len(second.clips), second.done) == (2, True)
    assert all(c.state is ClipState.SUCCEEDED for c in second.clips)


async def test_the_deprecation_warning_is_once_per_client(emu: Emulator) -> None:
    """Each client warns on its first riffusion call only."""
    for _ in range(2):
        async with MusicAPI(emu.api_key, base_url=emu.url) as api:
            with pytest.warns(DeprecationWarning, match="riffusion"):
                await api.riffusion.upload(url=UPLOAD_URL)
            await api.riffusion.upload(url=UPLOAD_URL)  # filterwarnings=error: none here
