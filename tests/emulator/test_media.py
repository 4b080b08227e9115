"""Media served by the emulator: real WAV audio and PNG images (§4.1 URLs, §7.2 WAV)."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from .support import LONG, NURO_VOCAL, SONG, STUDIO, Client

pytestmark = pytest.mark.anyio


async def test_audio_is_a_wav_a_player_can_open(api: Client) -> None:
    """A finished clip's ``audio_url`` serves an 8 kHz mono 8-bit WAV that is not silence."""
    clip = (await api.finished_clips(await api.create()))[0]
    answer = await api.request("GET", clip["audio_url"], key=None)
    assert answer.status == 200
    assert answer.headers["content-type"] == "audio/wav"
    assert answer.body[:4] == b"RIFF"
    assert answer.body[8:12] == b"WAVE"
    with wave.open(io.BytesIO(answer.body)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 1, 8000)
        frames = audio.readframes(audio.getnframes())
    assert max(abs(s - 128) for s in frames[:20000]) > 40  # not silence


@pytest.mark.parametrize("endpoint", ["sonic", "nuro", "studio"])
async def test_audio_lasts_as_long_as_the_clip_says(api: Client, endpoint: str) -> None:
    """The WAV's length is the clip's stated ``duration`` (to one sample), in every family."""
    body = {"sonic": SONG, "nuro": NURO_VOCAL, "studio": STUDIO}[endpoint]
    task_id = await api.create(body, f"{endpoint}.create")
    api.emulator.advance(LONG)
    snapshot = (await api.poll(task_id, f"{endpoint}.task")).parsed(f"{endpoint}.task", task_id)
    for clip in snapshot.clips:
        assert clip.duration is not None
        assert clip.duration > 20  # far past the old 2-4 s
        answer = await api.request("GET", clip.audio_url, key=None)
        with wave.open(io.BytesIO(answer.body)) as audio:
            seconds = audio.getnframes() / audio.getframerate()
        assert abs(seconds - clip.duration) <= 0.01, (seconds, clip.duration)
        assert len(answer.body) < 8000 * 400  # small: 8 kHz, 8-bit, mono


async def test_audio_derives_from_the_clip(api: Client) -> None:
    """The same clip always sounds the same, and the two clips of a task differ."""
    first, second = await api.finished_clips(await api.create())
    a1 = await api.request("GET", first["audio_url"], key=None)
    a2 = await api.request("GET", first["audio_url"], key=None)
    b = await api.request("GET", second["audio_url"], key=None)
    assert a1.body == a2.body != b.body


async def test_image_is_a_png(api: Client) -> None:
    """``image_url`` serves a PNG with a valid signature and a 64x64 header."""
    clip = (await api.finished_clips(await api.create()))[0]
    answer = await api.request("GET", clip["image_url"], key=None)
    assert answer.status == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.body[:8] == b"\x89PNG\r\n\x1a\n"
    assert answer.body[12:16] == b"IHDR"
    assert struct.unpack(">II", answer.body[16:24]) == (64, 64)


async def test_stream_url_serves_audio_while_streaming(api: Client) -> None:
    """A streaming clip's ``audio_url`` is a chunked WAV stream."""
    task_id = await api.create()
    for _ in range(300):
        api.emulator.advance(1.0)
        clips = (await api.poll(task_id)).json.get("data", [])
        streaming = [c for c in clips if c["state"] == "streaming"]
        if streaming:
            break
    answer = await api.request("GET", streaming[0]["audio_url"], key=None)
    assert answer.status == 200
    assert answer.headers.get("transfer-encoding") == "chunked"
    assert answer.body[:4] == b"RIFF"


async def test_unknown_media_is_404(api: Client) -> None:
    """Media of a clip the emulator never made answers 404."""
    answer = await api.request("GET", "/media/audio/nope.wav", key=None)
    assert answer.status == 404
    assert api.emulator.stats.requests["media.audio"] == 1
