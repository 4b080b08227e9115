"""Every sonic ``task_type`` and its reference rules (§3.1, §3.5)."""

from __future__ import annotations

from typing import Any

import pytest

from .support import SONG, Client

pytestmark = pytest.mark.anyio


async def _song(api: Client) -> dict[str, Any]:
    return (await api.finished_clips(await api.create()))[0]


async def _upload(api: Client) -> str:
    answer = await api.call("sonic.upload", {"url": "https://example.com/hum.wav"})
    return str(answer.json["clip_id"])


def _edit(task_type: str, clip_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "task_type": task_type,
        "custom_mode": True,
        "mv": "sonic-v4",
        "prompt": "[Verse]\nmore",
        "continue_clip_id": clip_id,
        **extra,
    }


async def test_extend_then_concat_yields_the_full_song(api: Client) -> None:
    """Extend models only the extension; concat of it lasts continue_at plus the extension."""
    source = await _song(api)
    extension_task = await api.create(_edit("extend_music", source["clip_id"], continue_at=30))
    extensions = await api.finished_clips(extension_task)
    assert len(extensions) == 2
    extension = extensions[0]
    assert float(extension["duration"]) <= 120
    concat = await api.create(
        {"task_type": "concat_music", "continue_clip_id": extension["clip_id"]}
    )
    (full,) = await api.finished_clips(concat)
    assert full["state"] == "succeeded"
    assert float(full["duration"]) == pytest.approx(30 + float(extension["duration"]), abs=0.01)
    assert full["title"] == extension["title"]


async def test_concat_needs_an_extension(api: Client) -> None:
    """``concat_music`` of a clip that is not an extension answers 400."""
    source = await _song(api)
    answer = await api.call(
        "sonic.create", {"task_type": "concat_music", "continue_clip_id": source["clip_id"]}
    )
    assert (answer.status, answer.message) == (
        400,
        "concat_music needs the clip id of an extension.",
    )


async def test_extend_beyond_the_end_is_rejected(api: Client) -> None:
    """``continue_at`` past the source's end answers 400."""
    source = await _song(api)
    answer = await api.call(
        "sonic.create", _edit("extend_music", source["clip_id"], continue_at=10_000)
    )
    assert answer.status == 400


async def test_references_must_be_known_and_finished(api: Client) -> None:
    """Edits of unknown clips, or of clips still generating, answer 400 and bill nothing."""
    unknown = await api.call("sonic.create", _edit("cover_music", "nope"))
    assert (unknown.status, unknown.message) == (400, "clip not found.")
    task_id = await api.create()
    api.emulator.advance(30)
    clip_id = (await api.poll(task_id)).json["data"][0]["clip_id"]
    early = await api.call("sonic.create", _edit("cover_music", clip_id))
    assert (early.status, early.message) == (400, "The clip has not succeeded yet.")
    assert api.emulator.stats.billed == {"sonic.create": 1}


@pytest.mark.parametrize("task_type", ["extend_music", "cover_music"])
async def test_uploaded_clips_need_the_upload_task_types(api: Client, task_type: str) -> None:
    """Using ``extend_music``/``cover_music`` on an uploaded clip is a 400 (§3.1)."""
    clip_id = await _upload(api)
    answer = await api.call("sonic.create", _edit(task_type, clip_id, continue_at=0.1))
    assert answer.status == 400
    assert "upload_music" in answer.message


@pytest.mark.parametrize("task_type", ["extend_upload_music", "cover_upload_music"])
async def test_upload_task_types_work_on_uploads_only(api: Client, task_type: str) -> None:
    """``*_upload_music`` accept an uploaded clip and refuse a generated one."""
    uploaded = await _upload(api)
    ok = await api.call("sonic.create", _edit(task_type, uploaded, continue_at=0.1))
    assert ok.status == 200, ok.body
    generated = await _song(api)
    refused = await api.call(
        "sonic.create", _edit(task_type, generated["clip_id"], continue_at=0.1)
    )
    assert refused.status == 400


@pytest.mark.parametrize("task_type", ["remaster", "add_instrumental", "add_vocals", "cover_music"])
async def test_edits_produce_two_clips(api: Client, task_type: str) -> None:
    """Cover, remaster and add_* are accepted and produce two clips each."""
    source = await _song(api)
    body = {
        "task_type": task_type,
        "mv": "sonic-v5",
        "continue_clip_id": source["clip_id"],
        "prompt": "[Verse]\nnew words",
    }
    if task_type == "cover_music":
        body["custom_mode"] = True
    task_id = await api.create(body)
    clips = await api.finished_clips(task_id)
    assert [c["state"] for c in clips] == ["succeeded", "succeeded"]


async def test_omitted_task_type_is_create_music(api: Client) -> None:
    """A body without ``task_type`` creates music, as observed live."""
    assert "task_type" not in SONG
    clips = await api.finished_clips(await api.create(SONG))
    assert len(clips) == 2
