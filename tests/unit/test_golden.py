"""Every golden body in tests/data parses, through the public client, into the right models.

The bodies come from MUSICAPI.md (see tests/data/README.md). Each is served by the fake
transport on the path the client calls, so these tests cover the envelope of each
family, not just the clip converter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

from musicapi_async import (
    Clip,
    ClipState,
    Family,
    LyricsCandidate,
    Persona,
    TaskSnapshot,
    UploadedClip,
)

from .support import DATA, FakeServer, golden, reply

TASK = "468d0e42-f7a6-40ce-9a4c-37db56b13b99"
CLIP_FIELDS = frozenset(a.name for a in attrs.fields(Clip)) - {"extra"}
NEWER_CLIP_FIELDS = {"negative_tags", "style_weight", "weirdness_constraint"}


def assert_clip_is(clip: Clip, wire: Mapping[str, Any]) -> None:
    """``clip`` holds exactly what ``wire`` said: named fields typed, the rest in extra."""
    assert clip.clip_id == wire["clip_id"]
    assert clip.state == wire["state"]
    assert isinstance(clip.state, ClipState)
    for name in ("title", "tags", "lyrics", "audio_url", "image_url", "video_url", "mv",
                 "created_at", "gpt_description_prompt"):  # fmt: skip
        assert getattr(clip, name) == wire.get(name), name
    duration = wire.get("duration")
    if duration is None:
        assert clip.duration is None
    else:
        assert isinstance(clip.duration, float)
        assert clip.duration == float(duration)
    assert clip.extra == {k: v for k, v in wire.items() if k not in CLIP_FIELDS}


async def sonic_snapshot(server: FakeServer, name: str) -> TaskSnapshot:
    """Serve golden ``name`` as the sonic task answer and poll it once."""
    server.on("GET", f"/api/v1/sonic/task/{TASK}", reply(name))
    snapshot = await server.api.sonic.get(TASK)
    [request] = server.requests
    assert request.path == f"/api/v1/sonic/task/{TASK}"
    return snapshot


def test_every_golden_file_is_documented_and_served() -> None:
    """Each file in tests/data is well-formed, listed in its README and used by a test."""
    readme = (DATA / "README.md").read_text()
    tests = "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    files = sorted(p for p in DATA.iterdir() if p.name != "README.md")
    assert files
    for path in files:
        assert f"`{path.name}`" in readme, f"{path.name} is not in tests/data/README.md"
        assert f'"{path.name}"' in tests, f"no test serves {path.name}"
        if path.suffix == ".json":
            assert isinstance(json.loads(path.read_bytes()), dict)
    listed = {line.split("`")[1] for line in readme.splitlines() if line.startswith("| `")}
    assert listed == {p.name for p in files}


# -------------------------------------------------------------------------- sonic


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["sonic_submit_with_code.json", "sonic_submit_live_no_code.json"])
async def test_sonic_submit_with_or_without_code(server: FakeServer, name: str) -> None:
    """A sonic submit answer gives the task id whether or not it carries ``code``."""
    server.on("POST", "/api/v1/sonic/create", reply(name))

    job = await server.api.sonic.create(custom_mode=False, mv="sonic-v5",
                                        gpt_description_prompt="a calm piano piece")  # fmt: skip

    assert job.task_id == golden(name)["task_id"] == TASK
    assert job.family is Family.SONIC


@pytest.mark.anyio
@pytest.mark.parametrize(
    "name",
    [
        "sonic_task_doc_v1.json",
        "sonic_task_live_v55_running.json",
        "sonic_task_live_v55_partial.json",
        "sonic_task_live_v55.json",
        "sonic_task_failed_clip.json",
        "sonic_task_unknown_state.json",
        "sonic_webhook_payload_chirp_v5.json",
    ],
)
async def test_sonic_task_clips_match_the_wire(server: FakeServer, name: str) -> None:
    """Every clip of a sonic task answer keeps each wire field, typed, extras included."""
    snapshot = await sonic_snapshot(server, name)
    wire = golden(name)

    assert snapshot.task_id == TASK
    assert snapshot.family is Family.SONIC
    assert snapshot.ready
    assert snapshot.message == wire.get("message")
    assert len(snapshot.clips) == len(wire["data"])
    for clip, clip_wire in zip(snapshot.clips, wire["data"], strict=True):
        assert_clip_is(clip, clip_wire)


@pytest.mark.anyio
async def test_sonic_doc_v1_example(server: FakeServer) -> None:
    """The [V1] example: integer duration 179 becomes 179.0, 12 fields, no extras, done."""
    snapshot = await sonic_snapshot(server, "sonic_task_doc_v1.json")

    first = snapshot.clips[0]
    assert first.clip_id == "26c9c592-0566-46cf-bb71-91ac1deaa7b5"
    assert first.state is ClipState.SUCCEEDED
    assert first.duration == 179.0
    assert type(first.duration) is float
    assert first.mv == "sonic-v3-5"
    assert first.video_url is not None
    assert first.video_url.endswith(".mp4")
    assert first.gpt_description_prompt is None
    assert first.extra == {}
    assert snapshot.done
    assert snapshot.failed_clips == ()


@pytest.mark.anyio
async def test_sonic_not_ready_first_answer(server: FakeServer) -> None:
    """``{"type": "not_ready"}`` is a snapshot that is not ready, has no clips, not done."""
    snapshot = await sonic_snapshot(server, "sonic_task_not_ready.json")

    assert not snapshot.ready
    assert snapshot.clips == ()
    assert snapshot.status == "not_ready"
    assert not snapshot.done


@pytest.mark.anyio
async def test_sonic_live_v55_running(server: FakeServer) -> None:
    """Both clips running: not terminal, duration None, the task is not done."""
    snapshot = await sonic_snapshot(server, "sonic_task_live_v55_running.json")

    assert [c.state for c in snapshot.clips] == [ClipState.RUNNING, ClipState.RUNNING]
    assert all(c.duration is None and not c.is_terminal for c in snapshot.clips)
    assert not snapshot.done


@pytest.mark.anyio
async def test_sonic_live_v55_partial_is_not_done(server: FakeServer) -> None:
    """One clip succeeded and one still running: the task is not done."""
    snapshot = await sonic_snapshot(server, "sonic_task_live_v55_partial.json")

    assert snapshot.clips[0].is_terminal
    assert not snapshot.clips[1].is_terminal
    assert not snapshot.done


@pytest.mark.anyio
async def test_sonic_live_v55_succeeded(server: FakeServer) -> None:
    """Live v5.5: string durations become floats, video_url None, newer fields in extra."""
    snapshot = await sonic_snapshot(server, "sonic_task_live_v55.json")

    assert snapshot.done
    assert [c.duration for c in snapshot.clips] == [104.88, 98.4]
    assert all(type(c.duration) is float for c in snapshot.clips)
    for clip in snapshot.clips:
        assert clip.mv == "sonic-v5-5"
        assert clip.video_url is None
        assert set(clip.extra) == NEWER_CLIP_FIELDS
        assert clip.extra["style_weight"] == 0.65
        assert clip.extra["weirdness_constraint"] == 0.3
        assert clip.extra["negative_tags"] == "country"
    assert len(golden("sonic_task_live_v55.json")["data"][0]) == 15


@pytest.mark.anyio
async def test_sonic_failed_clip(server: FakeServer) -> None:
    """A failed clip is terminal: the task is done, and failed_clips names that clip."""
    snapshot = await sonic_snapshot(server, "sonic_task_failed_clip.json")

    ok, failed = snapshot.clips
    assert ok.state is ClipState.SUCCEEDED
    assert failed.state == "failed"
    assert failed.state is ClipState.FAILED
    assert snapshot.done
    assert snapshot.failed_clips == (failed,)
    assert failed.extra["message"] == "Provider error. Credits were refunded."


@pytest.mark.anyio
async def test_sonic_unknown_state_is_kept(server: FakeServer) -> None:
    """An unknown state is kept as a ClipState equal to its wire string, never terminal."""
    snapshot = await sonic_snapshot(server, "sonic_task_unknown_state.json")

    odd = snapshot.clips[0]
    assert isinstance(odd.state, ClipState)
    assert odd.state == "mastering"
    assert odd.state.value == "mastering"
    assert not odd.state.is_known
    assert ClipState.SUCCEEDED.is_known
    assert not odd.is_terminal
    assert not snapshot.done


@pytest.mark.anyio
async def test_sonic_webhook_payload_chirp_v5(server: FakeServer) -> None:
    """The webhook clip parses: chirp-v5 model, "104.88" duration, nulls kept in extra."""
    snapshot = await sonic_snapshot(server, "sonic_webhook_payload_chirp_v5.json")

    [clip] = snapshot.clips
    assert clip.clip_id == "30264033-2b01-43a7-8779-2a834b067486"
    assert clip.mv == "chirp-v5"
    assert clip.duration == 104.88
    assert clip.extra == dict.fromkeys(NEWER_CLIP_FIELDS)
    assert snapshot.extra["platform"] == "suno"
    assert snapshot.extra["task_id"] == golden("sonic_webhook_payload_chirp_v5.json")["task_id"]
    assert snapshot.done


# ---------------------------------------------------------------------------- nuro


@pytest.mark.anyio
async def test_nuro_submit(server: FakeServer) -> None:
    """A nuro submit answer gives the task id of a nuro Job."""
    server.on("POST", "/api/v1/nuro/create", reply("nuro_submit.json"))

    job = await server.api.nuro.create_vocal(lyrics="[verse]\nhello")

    assert job.task_id == golden("nuro_submit.json")["task_id"]
    assert job.family is Family.NURO


@pytest.mark.anyio
async def test_nuro_flat_task_maps_onto_one_clip(server: FakeServer) -> None:
    """The flat nuro task object becomes one Clip named by the task id, extras kept."""
    wire = golden("nuro_task_succeeded.json")
    task_id = wire["task_id"]
    server.on("GET", f"/api/v1/nuro/task/{task_id}", reply("nuro_task_succeeded.json"))

    snapshot = await server.api.nuro.get(task_id)

    assert snapshot.family is Family.NURO
    assert snapshot.task_id == task_id
    assert snapshot.status == "succeeded"
    assert snapshot.progress == 100.0
    assert snapshot.done
    [clip] = snapshot.clips
    assert clip.clip_id == task_id
    assert clip.state is ClipState.SUCCEEDED
    assert clip.audio_url == wire["audio_url"]
    assert (clip.audio_url or "").endswith(".wav")
    assert clip.lyrics == wire["lyrics"]
    assert clip.duration == 0.0
    assert clip.extra == {k: wire[k] for k in ("genre", "mood", "gender", "timbre")}


@pytest.mark.anyio
async def test_nuro_running_task(server: FakeServer) -> None:
    """A running nuro task reports its integer progress and is not done."""
    task_id = golden("nuro_task_running.json")["task_id"]
    server.on("GET", f"/api/v1/nuro/task/{task_id}", reply("nuro_task_running.json"))

    snapshot = await server.api.nuro.get(task_id)

    assert snapshot.progress == 45.0
    assert snapshot.clips[0].state is ClipState.RUNNING
    assert not snapshot.done


# -------------------------------------------------------------------------- studio


@pytest.mark.anyio
async def test_studio_submit_string_code(server: FakeServer) -> None:
    """Studio's ``{"code": "success", "data": "<id>"}`` is a success carrying the task id."""
    server.on("POST", "/api/v1/studio/create", reply("studio_submit.json"))

    job = await server.api.studio.create(prompt="a bossa nova caper")

    assert job.task_id == golden("studio_submit.json")["data"]
    assert job.family is Family.STUDIO


@pytest.mark.anyio
async def test_studio_task_songs_map_onto_clips(server: FakeServer) -> None:
    """Studio songs become succeeded Clips: id, joined tags, song_path as audio, "100%"."""
    wire = golden("studio_task_success.json")["data"]
    task_id = wire["task_id"]
    server.on("GET", f"/api/v1/studio/task/{task_id}", reply("studio_task_success.json"))

    snapshot = await server.api.studio.get(task_id)

    assert snapshot.family is Family.STUDIO
    assert snapshot.task_id == task_id
    assert snapshot.status == "SUCCESS"
    assert snapshot.progress == 100.0
    assert snapshot.message is None
    assert snapshot.extra["action"] == "studio-generate"
    assert snapshot.done
    songs = wire["data"]["songs"]
    assert len(snapshot.clips) == len(songs)
    for clip, song in zip(snapshot.clips, songs, strict=True):
        assert clip.clip_id == song["id"]
        assert clip.state is ClipState.SUCCEEDED
        assert clip.title == song["title"]
        assert clip.lyrics == song["lyrics"]
        assert clip.tags == ", ".join(song["tags"])
        assert clip.audio_url == song["song_path"]
        for key in ("liked", "likes", "plays", "artist"):
            assert clip.extra[key] == song[key]


# ------------------------------------------------------------------ synchronous calls


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["persona_seed.json", "persona_newer.json"])
async def test_persona_answers(server: FakeServer, name: str) -> None:
    """Both persona answer shapes give the persona id and drop the envelope keys."""
    server.on("POST", "/api/v1/sonic/persona", reply(name))

    persona = await server.api.sonic.create_persona(name="Nova", continue_clip_id="clip-1")

    assert isinstance(persona, Persona)
    assert persona.persona_id == golden(name)["persona_id"]
    assert persona.extra == {}


@pytest.mark.anyio
async def test_upload_answer(server: FakeServer) -> None:
    """The upload answer gives the uploaded clip id."""
    server.on("POST", "/api/v1/sonic/upload", reply("upload.json"))

    uploaded = await server.api.sonic.upload(url="https://example.com/demo.mp3")

    assert isinstance(uploaded, UploadedClip)
    assert uploaded.clip_id == golden("upload.json")["clip_id"]
    assert uploaded.extra == {}


@pytest.mark.anyio
async def test_lyrics_answer(server: FakeServer) -> None:
    """The lyrics answer gives every candidate, in order."""
    server.on("POST", "/api/v1/sonic/lyrics", reply("lyrics.json"))

    candidates = await server.api.lyrics.generate(description="a song about sky")

    expected = golden("lyrics.json")["results"]
    assert candidates == [LyricsCandidate(title=r["title"], lyrics=r["lyrics"]) for r in expected]
    assert [c.title for c in candidates] == ["Whisper of Shadows", "Midnight Shadows"]


@pytest.mark.anyio
async def test_credits_answer(server: FakeServer) -> None:
    """The flat get-credits answer gives credits, extra credits and their total."""
    server.on("GET", "/api/v1/get-credits", reply("credits.json"))

    credits = await server.api.get_credits()

    assert (credits.credits, credits.extra_credits, credits.total) == (50, 0, 50)
    assert credits.extra == {}


@pytest.mark.anyio
async def test_credits_unknown_keys_kept(server: FakeServer) -> None:
    """Keys get-credits adds later are kept in ``extra``."""
    server.on("GET", "/api/v1/get-credits",
              reply({"credits": 5, "extra_credits": 2, "lyrics_credits": 40}))  # fmt: skip

    credits = await server.api.get_credits()

    assert credits.total == 7
    assert credits.extra == {"lyrics_credits": 40}
