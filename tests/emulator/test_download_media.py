"""The files ``/sonic/download`` prepares are real links, served as their format (§10)."""

from __future__ import annotations

import io
import wave

import pytest

from .support import Client

pytestmark = pytest.mark.anyio


async def _prepared(api: Client, formats: list[str]) -> dict[str, str]:
    """A finished clip's files in ``formats``, past the "still preparing" answers."""
    clip = (await api.finished_clips(await api.create()))[0]
    body = {"clip_id": clip["clip_id"], "formats": formats}
    assert (await api.call("sonic.download", body)).status == 202
    api.emulator.advance(60)
    answer = await api.call("sonic.download", body)
    assert answer.status == 200, answer.body
    files: dict[str, str] = answer.json["data"]["files"]
    assert set(files) == set(formats)
    return files


async def test_each_prepared_file_is_served_with_its_formats_content_type(api: Client) -> None:
    """mp3 is audio/mpeg, m4a audio/mp4, wav audio/wav, each with its format's header."""
    files = await _prepared(api, ["mp3", "m4a", "wav"])
    answers = {fmt: await api.request("GET", url, key=None) for fmt, url in files.items()}
    assert {fmt: a.status for fmt, a in answers.items()} == {"mp3": 200, "m4a": 200, "wav": 200}
    types = {fmt: a.headers["content-type"] for fmt, a in answers.items()}
    assert types == {"mp3": "audio/mpeg", "m4a": "audio/mp4", "wav": "audio/wav"}
    assert answers["mp3"].body[:2] == b"\xff\xf3"  # an MPEG-2 Layer III frame sync
    assert answers["m4a"].body[4:12] == b"ftypM4A "
    assert answers["wav"].body[:4] == b"RIFF"


async def test_the_mp3_lasts_as_long_as_the_clip(api: Client) -> None:
    """The MP3's whole 36 ms frames cover the clip's duration (to one frame)."""
    files = await _prepared(api, ["mp3", "wav"])
    mp3 = (await api.request("GET", files["mp3"], key=None)).body
    with wave.open(io.BytesIO((await api.request("GET", files["wav"], key=None)).body)) as w:
        seconds = w.getnframes() / w.getframerate()
    frames = len(mp3) // 36
    assert len(mp3) % 36 == 0
    assert seconds <= frames * 0.036 < seconds + 0.036


async def test_an_unknown_clip_or_format_is_not_found(api: Client) -> None:
    """Media of a clip that does not exist, or in a format never prepared, answers 404."""
    clip = (await api.finished_clips(await api.create()))[0]
    audio = clip["audio_url"]
    assert (await api.request("GET", audio.replace(".wav", ".flac"), key=None)).status == 404
    unknown = audio.replace(clip["clip_id"], "00000000-0000-0000-0000-000000000000")
    assert (await api.request("GET", unknown.replace(".wav", ".mp3"), key=None)).status == 404


async def test_the_midi_url_serves_a_standard_midi_file(api: Client) -> None:
    """``/sonic/midi``'s ``midi_url`` is an audio/midi file with a note-on per listed note."""
    clip = (await api.finished_clips(await api.create()))[0]
    body = {"clip_id": clip["clip_id"]}
    assert (await api.call("sonic.midi", body)).status == 202
    api.emulator.advance(60)
    data = (await api.call("sonic.midi", body)).json["data"]
    answer = await api.request("GET", data["midi_url"], key=None)
    assert (answer.status, answer.headers["content-type"]) == (200, "audio/midi")
    assert answer.body[:4] == b"MThd"
    assert answer.body[14:18] == b"MTrk"
    pitches = [n["pitch"] for n in data["instruments"][0]["notes"]]
    assert [b for b in pitches if bytes((0x90, b, 90)) in answer.body] == pitches
