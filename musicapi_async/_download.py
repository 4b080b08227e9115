"""Downloading a clip's files: streamed, size-checked, atomically placed, safely named.

Each file streams through the transport into a hidden temporary file in the target
directory and is renamed into place only when complete (``_files.atomic_write``): a
download cut short, too large or shorter than its ``Content-Length`` leaves nothing
behind. Names come from the clip's title and id (``safe_filename``), so they cannot
escape the directory, and never overwrite another file (``unique_path``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Final
from urllib.parse import urlsplit

import anyio

from ._errors import InvalidRequest, NetworkError, RateLimited, ServerError
from ._files import AtomicFile, atomic_write, safe_filename, unique_path
from ._models import Clip, MediaKind
from ._protocol import parse_retry_after
from ._retry import RetryPolicy, retrying
from ._transport import Transport, TransportFailure

__all__ = ["DEFAULT_MAX_BYTES", "MediaKind", "download_clip"]

DEFAULT_MAX_BYTES: Final = 512 * 2**20  # a 8-minute WAV is ~85 MB; leave room

_FIELDS: Final[Mapping[MediaKind, str]] = {
    "audio": "audio_url",
    "image": "image_url",
    "video": "video_url",
}
_BY_TYPE: Final[Mapping[str, str]] = {
    "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav", "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3", "audio/mp4": ".m4a", "audio/aac": ".aac", "audio/flac": ".flac",
    "audio/ogg": ".ogg", "image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp",
    "video/mp4": ".mp4",
}  # fmt: skip
_DEFAULT_SUFFIX: Final[Mapping[MediaKind, str]] = {
    "audio": ".mp3",
    "image": ".jpg",
    "video": ".mp4",
}


def _suffix(url: str, content_type: str | None, kind: MediaKind) -> str:
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in _BY_TYPE:
        return _BY_TYPE[mime]
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    if suffix in _BY_TYPE.values():
        return suffix
    return _DEFAULT_SUFFIX[kind]


def _check_status(url: str, status: int, headers: Mapping[str, str]) -> None:
    if status == 200:
        return
    where = urlsplit(url).netloc
    if status == 429:
        raise RateLimited(f"media host {where} is throttling", status=status,
                          retry_after=parse_retry_after(headers.get("retry-after")))  # fmt: skip
    if status >= 500:
        raise ServerError(f"media host {where} failed", status=status)
    raise InvalidRequest(f"media not available ({status}) at {where}", status=status)


async def _download_one(
    transport: Transport,
    url: str,
    directory: Path,
    stem: str,
    fallback: str,
    kind: MediaKind,
    max_bytes: int,
    overwrite: bool,
) -> Path:
    async with contextlib.AsyncExitStack() as stack:
        holder: list[AtomicFile] = []

        async def on_headers(status: int, headers: Mapping[str, str]) -> None:
            _check_status(url, status, headers)
            name = safe_filename(stem, suffix=_suffix(url, headers.get("content-type"), kind),
                                 fallback=fallback)  # fmt: skip
            target = directory / name if overwrite else unique_path(directory, name)
            length = headers.get("content-length")
            # aiohttp decompresses encoded bodies, so their length is not the header's.
            expected = (int(length) if length and length.isdigit()
                        and not headers.get("content-encoding") else None)  # fmt: skip
            holder.append(await stack.enter_async_context(atomic_write(
                target, max_bytes=max_bytes, expected_size=expected,
                on_exists="replace" if overwrite else "rename")))  # fmt: skip

        async def write(chunk: bytes) -> None:
            await holder[0].write(chunk)

        await transport.fetch(url, on_headers, write)
    return holder[0].path


async def download_clip(
    transport: Transport,
    clip: Clip,
    directory: str | os.PathLike[str],
    *,
    kinds: Sequence[MediaKind] = ("audio", "image"),
    max_bytes: int = DEFAULT_MAX_BYTES,
    overwrite: bool = False,
    retry: RetryPolicy | None = None,
) -> list[Path]:
    """Download ``clip``'s files of ``kinds`` into ``directory``; see ``MusicAPI.download``."""
    folder = Path(directory)
    await anyio.to_thread.run_sync(lambda: folder.mkdir(parents=True, exist_ok=True))
    stem = f"{clip.title or 'untitled'} - {clip.clip_id[:8]}"
    paths: list[Path] = []
    for kind in kinds:
        url = getattr(clip, _FIELDS[kind])
        if not url:
            continue

        async def once(url: str = url, kind: MediaKind = kind) -> Path:
            try:
                return await _download_one(transport, url, folder, stem, clip.clip_id, kind,
                                           max_bytes, overwrite)  # fmt: skip
            except TransportFailure as failure:
                # A GET may be repeated at will: lost answers are plain network errors.
                raise NetworkError(f"downloading {kind}: {failure}") from failure.cause

        paths.append(await retrying(retry or RetryPolicy(), False, once))
    return paths
