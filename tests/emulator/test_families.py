"""Shapes of every endpoint's answers, and that the SDK's parser reads them (§5-§8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from musicapi_async._models import ClipState, Credits, LyricsCandidate, Persona, UploadedClip

from .support import LONG, NURO_BGM, NURO_VOCAL, STUDIO, Client

pytestmark = pytest.mark.anyio

GOLDEN = Path(__file__).resolve().parent.parent / "data"


def _golden(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((GOLDEN / name).read_text())
    return data


async def test_get_credits_is_flat(api: Client) -> None:
    """``GET /api/v1/get-credits`` answers ``{"credits": N, "extra_credits": M}``."""
    answer = await api.call("credits")
    assert answer.json == {"credits": 1000, "extra_credits": 0}
    assert answer.parsed("credits") == Credits(credits=1000, extra_credits=0)


async def test_upload_is_synchronous(api: Client) -> None:
    """Upload answers ``{code: 200, message, clip_id}`` at once."""
    answer = await api.call("sonic.upload", {"url": "https://example.com/a/song.mp3"})
    assert answer.status == 200
    assert set(answer.json) == set(_golden("upload.json"))
    assert isinstance(answer.parsed("sonic.upload"), UploadedClip)


async def test_lyrics_returns_two_candidates(api: Client) -> None:
    """Lyrics answers two ``{title, lyrics}`` candidates under ``results``."""
    answer = await api.call("lyrics.create", {"description": "a song about sky"})
    assert answer.json["code"] == 200
    assert answer.json["message"] == "success"
    results = answer.json["results"]
    assert len(results) == 2
    assert all(set(r) == {"title", "lyrics"} for r in results)
    parsed = answer.parsed("lyrics.create")
    assert len(parsed) == 2
    assert all(isinstance(c, LyricsCandidate) for c in parsed)


@pytest.mark.parametrize("clip_field", ["continue_clip_id", "clip_id"])
@pytest.mark.parametrize("text_field", ["description", "describe"])
async def test_persona_accepts_both_spellings(
    api: Client, clip_field: str, text_field: str
) -> None:
    """Persona takes the seed's and the newer field names, and its id drives persona_music."""
    clip_id = (await api.call("sonic.upload", {"url": "https://example.com/v.mp3"})).json["clip_id"]
    answer = await api.call(
        "sonic.persona", {"name": "Nova", clip_field: clip_id, text_field: "warm alto"}
    )
    assert answer.status == 200, answer.body
    assert set(answer.json) == {"code", "persona_id", "message"}
    persona = answer.parsed("sonic.persona")
    assert isinstance(persona, Persona)
    body = {
        "task_type": "persona_music",
        "custom_mode": True,
        "mv": "sonic-v4",
        "prompt": "[Verse]\nla",
        "persona_id": persona.persona_id,
    }
    assert (await api.call("sonic.create", body)).status == 200


async def test_persona_needs_a_known_clip(api: Client) -> None:
    """A persona of an unknown clip answers 400 and costs nothing."""
    answer = await api.call("sonic.persona", {"name": "Nova", "clip_id": "missing"})
    assert (answer.status, answer.message) == (400, "clip not found.")
    assert api.emulator.balance().credits == 1000


async def test_unknown_persona_is_rejected(api: Client) -> None:
    """``persona_music`` with a persona id nobody created answers 400."""
    body = {
        "task_type": "persona_music",
        "custom_mode": True,
        "mv": "sonic-v4",
        "prompt": "[Verse]\nla",
        "persona_id": "nobody",
    }
    answer = await api.call("sonic.create", body)
    assert (answer.status, answer.message) == (400, "persona not found.")


@pytest.mark.parametrize("body", [NURO_VOCAL, NURO_BGM])
async def test_nuro_task_is_flat_with_integer_progress(
    api: Client, body: dict[str, object]
) -> None:
    """Nuro polls answer a flat object: status, integer progress 0-100, one WAV song."""
    task_id = await api.create(body, "nuro.create")
    progress: list[int] = []
    statuses: list[str] = []
    for _ in range(40):
        answer = await api.poll(task_id, "nuro.task")
        data = answer.json
        assert data["task_id"] == task_id
        assert isinstance(data["progress"], int)
        progress.append(data["progress"])
        if not statuses or statuses[-1] != data["status"]:
            statuses.append(data["status"])
        api.emulator.advance(1.0)
    assert statuses == ["pending", "running", "succeeded"]
    assert progress == sorted(progress)
    assert progress[0] == 0
    assert progress[-1] == 100
    final = (await api.poll(task_id, "nuro.task")).json
    assert final["audio_url"].endswith(f"/media/audio/{task_id}.wav")
    assert set(_golden("nuro_task_succeeded.json")) - {"genre", "mood", "gender", "timbre"} <= set(
        final
    )
    snapshot = (await api.poll(task_id, "nuro.task")).parsed("nuro.task", task_id)
    assert snapshot.done
    assert len(snapshot.clips) == 1
    assert snapshot.progress == 100


async def test_nuro_submit_shape(api: Client) -> None:
    """Nuro submits answer ``{"message": "success", "task_id": ...}``."""
    answer = await api.call("nuro.create", dict(NURO_VOCAL))
    assert set(answer.json) == set(_golden("nuro_submit.json"))


async def test_studio_submit_and_task_shapes(api: Client) -> None:
    """Studio answers a string ``code``, ``NN%`` progress and songs under ``data.data.songs``."""
    answer = await api.call("studio.create", dict(STUDIO))
    assert answer.json["code"] == "success"
    assert answer.json["message"] == ""
    task_id = answer.json["data"]
    assert answer.parsed("studio.create").task_id == task_id
    statuses: list[str] = []
    for _ in range(150):
        data = (await api.poll(task_id, "studio.task")).json["data"]
        assert data["progress"].endswith("%")
        if not statuses or statuses[-1] != data["status"]:
            statuses.append(data["status"])
        api.emulator.advance(1.0)
    assert statuses == ["SUBMITTED", "IN_PROGRESS", "SUCCESS"]
    final = (await api.poll(task_id, "studio.task")).json
    golden = _golden("studio_task_success.json")["data"]
    assert isinstance(golden, dict)
    assert set(golden) <= set(final["data"])
    songs = final["data"]["data"]["songs"]
    assert len(songs) == 2
    assert set(golden["data"]["songs"][0]) <= set(songs[0])
    assert songs[0]["tags"] == ["jazz", "bossa nova"]
    snapshot = (await api.poll(task_id, "studio.task")).parsed("studio.task", task_id)
    assert snapshot.done
    assert snapshot.progress == 100
    assert [c.state for c in snapshot.clips] == [ClipState.SUCCEEDED] * 2
    assert all(c.audio_url and c.audio_url.endswith(".wav") for c in snapshot.clips)


async def test_studio_failure_status(api: Client) -> None:
    """A failing studio task ends ``FAILURE`` with a ``fail_reason`` and no songs."""
    api.emulator.fail_next()
    task_id = await api.create(STUDIO, "studio.create")
    api.emulator.advance(LONG)
    data = (await api.poll(task_id, "studio.task")).json["data"]
    assert data["status"] == "FAILURE"
    assert data["fail_reason"]
    assert data["data"]["songs"] == []
    snapshot = (await api.poll(task_id, "studio.task")).parsed("studio.task", task_id)
    assert snapshot.done
    assert snapshot.failed_clips
