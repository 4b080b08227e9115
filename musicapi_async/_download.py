"""Downloading a clip's files: streamed, size-checked, atomically placed, safely named.

Each file streams through the transport into a hidden temporary file in the target
directory and is renamed into place only when complete (``_files.atomic_write``): a
download cut short, too large, shorter than its ``Content-Length``, a compressed stream
without its end, or a body with no framing at all leaves nothing behind; temporary files
of a killed run are removed the next time that folder is downloaded into. Names come
from the clip's title and id (``safe_filename``), so they cannot escape the directory,
and never overwrite another file (``unique_path``).
"""

from __future__ import annotations

import contextlib
import os
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Final
from urllib.parse import urlsplit

import anyio

from ._errors import (
    IncompleteDownload,
    InvalidRequest,
    NetworkError,
    RateLimited,
    ResponseDecodeError,
    ServerError,
)
from ._files import AtomicFile, atomic_write, remove_stale_parts, safe_filename, unique_path
from ._http import TransportFailure
from ._models import Clip, MediaKind
from ._protocol import parse_retry_after
from ._retry import RetryPolicy, retrying
from ._transport import Transport

__all__ = ["DEFAULT_MAX_BYTES", "MediaKind", "download_clip"]

DEFAULT_MAX_BYTES: Final = 512 * 2**20  # a 8-minute WAV is ~85 MB; leave room
_SWEPT: set[Path] = set()
_SWEPT_LIMIT: Final = 4096

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
        raise RateLimited(
            f"media host {where} is throttling",
            status=status,
            retry_after=parse_retry_after(headers.get("retry-after")),
        )
    if status >= 500:
        raise ServerError(f"media host {where} failed", status=status)
    raise InvalidRequest(f"media not available ({status}) at {where}", status=status)


class _Body:
    """How one answer frames and encodes its body, and the checks that prove it whole.

    A body is complete only if something says where it ends: a ``Content-Length`` (the
    raw bytes are counted against it), chunked framing (the transport fails on a missing
    last chunk), or a gzip/deflate stream's own end marker. A body delimited only by the
    connection closing could have been cut anywhere, so it is refused rather than saved.
    """

    def __init__(self, url: str, headers: Mapping[str, str]) -> None:
        where = urlsplit(url).netloc
        length = headers.get("content-length", "").strip()
        self.length = int(length) if length.isdigit() else None
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        encoding = headers.get("content-encoding", "").strip().lower()
        self.decoder: zlib._Decompress | None = None
        if encoding in ("gzip", "x-gzip", "deflate"):
            # 32 + MAX_WBITS: a gzip or zlib header, detected from the stream itself.
            self.decoder = zlib.decompressobj(32 + zlib.MAX_WBITS)
        elif encoding not in ("", "identity"):
            raise ResponseDecodeError(
                f"media host {where} sent an unsupported Content-Encoding {encoding!r}"
            )
        if self.length is None and not chunked and self.decoder is None:
            raise IncompleteDownload(
                f"media host {where} sent no Content-Length and no chunked framing: a "
                f"download cut short could not be told from a complete one",
                expected=None,
                received=0,
            )
        self.received = 0

    def decode(self, chunk: bytes) -> bytes:
        self.received += len(chunk)
        if self.length is not None and self.received > self.length:
            raise IncompleteDownload(
                f"more bytes than the announced {self.length}",
                expected=self.length,
                received=self.received,
            )
        if self.decoder is None:
            return chunk
        try:
            return self.decoder.decompress(chunk)
        except zlib.error as exc:
            raise ResponseDecodeError(f"undecodable compressed media: {exc}") from exc

    def finish(self) -> bytes:
        """The bytes still held by the decoder; raises if the body was not complete."""
        if self.length is not None and self.received != self.length:
            raise IncompleteDownload(
                f"{self.received} of {self.length} bytes arrived",
                expected=self.length,
                received=self.received,
            )
        if self.decoder is None:
            return b""
        rest = self.decoder.flush()
        if not self.decoder.eof:
            raise IncompleteDownload(
                "the compressed stream ended before its end marker",
                expected=self.length,
                received=self.received,
            )
        return rest


async def _download_one(
    transport: Transport,
    url: str,
    directory: Path,
    clip: Clip,
    kind: MediaKind,
    max_bytes: int,
    overwrite: bool,
) -> Path:
    async with contextlib.AsyncExitStack() as stack:
        holder: list[AtomicFile] = []
        bodies: list[_Body] = []

        async def on_headers(status: int, headers: Mapping[str, str]) -> None:
            _check_status(url, status, headers)
            body = _Body(url, headers)
            bodies.append(body)
            # The clip id is a tag, never cut: a long title is shortened instead, so the
            # clips of one song (same title) never share a file name.
            name = safe_filename(
                clip.title or "untitled",
                tag=f" - {clip.clip_id[:8]}",
                suffix=_suffix(url, headers.get("content-type"), kind),
                fallback=clip.clip_id,
            )
            target = directory / name if overwrite else unique_path(directory, name)
            # An encoded body's length is not the file's: the raw bytes are checked instead.
            expected = body.length if body.decoder is None else None
            holder.append(
                await stack.enter_async_context(
                    atomic_write(
                        target,
                        max_bytes=max_bytes,
                        expected_size=expected,
                        on_exists="replace" if overwrite else "rename",
                    )
                )
            )

        async def write(chunk: bytes) -> None:
            data = bodies[0].decode(chunk)
            if data:
                await holder[0].write(data)

        try:
            await transport.fetch(url, on_headers, write)
        except TransportFailure as failure:
            if not bodies:
                raise
            # The answer had begun: whatever the network did, the file is incomplete.
            raise IncompleteDownload(
                f"the transfer broke off after {bodies[0].received} bytes ({failure})",
                expected=bodies[0].length,
                received=bodies[0].received,
            ) from failure.cause
        # Still inside the stack: a failed check discards the temporary file.
        rest = bodies[0].finish()
        if rest:
            await holder[0].write(rest)
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
    if folder not in _SWEPT:
        # Temporary files of a run that was killed mid-download: once per folder and run
        # (the memory of swept folders is bounded; forgetting one costs one more sweep).
        if len(_SWEPT) >= _SWEPT_LIMIT:
            _SWEPT.clear()
        _SWEPT.add(folder)
        await anyio.to_thread.run_sync(remove_stale_parts, folder)
    paths: list[Path] = []
    for kind in kinds:
        url = getattr(clip, _FIELDS[kind])
        if not url:
            continue

        async def once(url: str = url, kind: MediaKind = kind) -> Path:
            try:
                return await _download_one(transport, url, folder, clip, kind, max_bytes, overwrite)
            except TransportFailure as failure:
                # A GET may be repeated at will: lost answers are plain network errors.
                raise NetworkError(f"downloading {kind}: {failure}") from failure.cause

        paths.append(await retrying(retry or RetryPolicy(), False, once))
    return paths
