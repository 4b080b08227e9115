"""Downloads: real files from the emulator, safe names, no partial files, no leaked key."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web

from musicapi_async import (
    Clip,
    ClipState,
    DownloadTooLarge,
    Governor,
    HttpResponse,
    IncompleteDownload,
    MockTransport,
    MusicAPI,
    PollPolicy,
    set_testing,
)
from musicapi_async.emulator import Emulator

from ..loopback import serving

SPEED = 600.0
KEY = "sk-download-secret-0123456789"


@pytest.fixture(autouse=True)
def no_sleeps() -> Iterator[None]:
    """Download retries wait no time."""
    with set_testing():
        yield


@pytest.mark.anyio
async def test_finished_song_downloads_as_real_files(tmp_path: Path) -> None:
    """A finished clip's audio and cover land on disk as a WAV and a PNG named by title."""
    async with (
        Emulator(speed=SPEED) as emu,
        MusicAPI(emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(SPEED)) as api,
    ):
        job = await api.sonic.create(custom_mode=True, mv="sonic-v5", prompt="[Verse]\nla",
                                     title="Stars Tonight")  # fmt: skip
        clip = (await job.wait(timeout=30))[0]
        paths = await api.download(clip, tmp_path / "songs")
    audio, image = paths
    assert audio.name == f"Stars Tonight - {clip.clip_id[:8]}.wav"
    assert audio.read_bytes()[:4] == b"RIFF"
    assert audio.read_bytes()[8:12] == b"WAVE"
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "songs").iterdir()) == sorted(p.name for p in paths)


def media(body: bytes, headers: dict[str, str] | None = None) -> MockTransport:
    return MockTransport(lambda _: HttpResponse(500),
                         media=lambda _: HttpResponse(200, headers or {}, body))  # fmt: skip


def clip(title: str, clip_id: str = "0123456789abcdef") -> Clip:
    return Clip(clip_id=clip_id, state=ClipState.SUCCEEDED, title=title,
                audio_url="https://cdn.example/a.mp3")  # fmt: skip


@pytest.mark.anyio
@pytest.mark.parametrize(
    "title",
    ["../../etc/passwd", "con", "CON.txt", "a/b\\c", "bell\x07 and\nnewline", "🎵 Sea 🌊 Song",
     "x" * 300, ""],
    ids=["traversal", "con", "con-ext", "separators", "control", "emoji", "300-chars", "empty"],
)  # fmt: skip
async def test_titles_become_safe_file_names(tmp_path: Path, title: str) -> None:
    """Whatever the title, the file lands inside the folder with a clean, short name."""
    async with MusicAPI("k", transport=media(b"ID3data")) as api:
        (path,) = await api.download(clip(title), tmp_path, kinds=("audio",))
    assert path.parent == tmp_path
    assert path.read_bytes() == b"ID3data"
    assert len(path.name.encode()) <= 120
    assert not any(ord(c) < 32 for c in path.name)
    assert path.name.split(".")[0].lower() not in {"con", "prn", "aux", "nul"}
    assert path.suffix == ".mp3"


@pytest.mark.anyio
async def test_same_title_twice_does_not_collide(tmp_path: Path) -> None:
    """Two downloads that want the same name both survive under distinct names."""
    async with MusicAPI("k", transport=media(b"one")) as api:
        (first,) = await api.download(clip("Same"), tmp_path, kinds=("audio",))
        (second,) = await api.download(clip("Same"), tmp_path, kinds=("audio",))
    assert first != second
    assert {first.read_bytes(), second.read_bytes()} == {b"one"}


@pytest.mark.anyio
async def test_download_cut_short_leaves_no_file(tmp_path: Path) -> None:
    """A body shorter than its Content-Length raises and leaves neither file nor temp file."""
    transport = media(b"half", {"content-length": "100"})
    async with MusicAPI("k", transport=transport) as api:
        with pytest.raises(IncompleteDownload):
            await api.download(clip("Cut"), tmp_path, kinds=("audio",))
    assert list(tmp_path.iterdir()) == []
    assert len(transport.fetched) > 1  # a GET is safe to try again, and was


@pytest.mark.anyio
async def test_download_over_the_cap_is_refused(tmp_path: Path) -> None:
    """More than max_bytes raises DownloadTooLarge and leaves nothing on disk."""
    async with MusicAPI("k", transport=media(b"x" * 5000)) as api:
        with pytest.raises(DownloadTooLarge) as caught:
            await api.download(clip("Big"), tmp_path, kinds=("audio",), max_bytes=1000)
    assert caught.value.limit == 1000
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
async def cdn() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A loopback 'CDN' that records the headers of every request."""
    seen: list[dict[str, str]] = []

    async def serve(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response(body=b"RIFF....WAVE", content_type="audio/wav")

    app = web.Application()
    app.router.add_get("/{name}", serve)
    async with serving(app) as url:
        yield url, seen


@pytest.mark.anyio
async def test_media_hosts_never_see_the_api_key(
    tmp_path: Path, cdn: tuple[str, list[dict[str, str]]]
) -> None:
    """Downloads carry no Authorization header: the key never travels to a CDN."""
    url, seen = cdn
    target = Clip(clip_id="c1", state=ClipState.SUCCEEDED, title="t", audio_url=f"{url}/c1")
    async with MusicAPI(KEY, base_url="http://127.0.0.1:9", governor=Governor.unlimited()) as api:
        (path,) = await api.download(target, tmp_path, kinds=("audio",))
    assert path.suffix == ".wav"
    assert seen
    assert all("Authorization" not in headers for headers in seen)
    assert all(KEY not in str(headers) for headers in seen)


@pytest.mark.anyio
async def test_long_non_latin_titles_keep_one_file_per_clip(tmp_path: Path) -> None:
    """Two clips with a long CJK title get two files: the title is cut, never the clip id."""
    title = "夜" * 80
    async with MusicAPI("k", transport=media(b"ID3")) as api:
        (first,) = await api.download(clip(title, "aaaaaaaa-1"), tmp_path, kinds=("audio",),
                                      overwrite=True)  # fmt: skip
        (second,) = await api.download(clip(title, "bbbbbbbb-2"), tmp_path, kinds=("audio",),
                                       overwrite=True)  # fmt: skip
    assert first != second
    assert first.name.endswith(" - aaaaaaaa.mp3")
    assert second.name.endswith(" - bbbbbbbb.mp3")
    assert all(len(p.name.encode()) <= 120 for p in (first, second))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, second.name])


AUDIO = bytes(range(256)) * 400  # 102,400 bytes


@pytest.fixture
async def raw_host() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A loopback host that answers each GET with the raw bytes queued in ``answers``."""
    import asyncio

    answers: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answers[0])
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/song.mp3", answers
    finally:
        server.close()
        await server.wait_closed()


def _gzip_cut() -> bytes:
    import gzip
    import random

    noise = random.Random(7).randbytes(len(AUDIO))  # incompressible: the cut is mid-stream
    packed = gzip.compress(noise)
    return packed[: len(packed) // 2]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nConnection: close\r\n\r\n"
        + AUDIO[:51_200],
        b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Encoding: gzip\r\n"
        b"Connection: close\r\n\r\n" + _gzip_cut(),
        b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(b"400\r\n" + AUDIO[i : i + 1024] + b"\r\n" for i in range(0, 51_200, 1024)),
    ],
    ids=["no-content-length", "truncated-gzip", "chunks-cut"],
)
async def test_transfer_cut_short_raises_and_leaves_no_file(
    tmp_path: Path, raw_host: tuple[str, list[bytes]], answer: bytes
) -> None:
    """A body cut halfway, however it was framed, raises IncompleteDownload; no file stays."""
    url, answers = raw_host
    answers.append(answer)
    target = Clip(clip_id="c1", state=ClipState.SUCCEEDED, title="t", audio_url=url)
    async with MusicAPI(KEY, base_url="http://127.0.0.1:9") as api:
        with pytest.raises(IncompleteDownload):
            await api.download(target, tmp_path, kinds=("audio",))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.anyio
async def test_complete_gzip_media_is_saved_decoded(
    tmp_path: Path, raw_host: tuple[str, list[bytes]]
) -> None:
    """A whole gzip-encoded body is decoded and saved in full."""
    import gzip

    url, answers = raw_host
    answers.append(b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Encoding: gzip\r\n"
                   b"Connection: close\r\n\r\n" + gzip.compress(AUDIO))  # fmt: skip
    target = Clip(clip_id="c1", state=ClipState.SUCCEEDED, title="t", audio_url=url)
    async with MusicAPI(KEY, base_url="http://127.0.0.1:9") as api:
        (path,) = await api.download(target, tmp_path, kinds=("audio",))
    assert path.read_bytes() == AUDIO


@pytest.mark.anyio
async def test_leftover_part_files_are_removed_by_the_next_run(tmp_path: Path) -> None:
    """A .musicapi-*.part file a killed run left behind is gone after the next download."""
    import os

    orphan = tmp_path / ".musicapi-0123456789abcdef.part"
    orphan.write_bytes(b"half a song")
    os.utime(orphan, (1_000_000_000, 1_000_000_000))  # left long ago
    keep = tmp_path / "mine.part"
    keep.write_bytes(b"not ours")
    async with MusicAPI("k", transport=media(b"ID3")) as api:
        (path,) = await api.download(clip("Song"), tmp_path, kinds=("audio",))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, "mine.part"])
