"""Downloads that are safe on disk: file names from song titles, and all-or-nothing writes.

A title is text from a model and from users, so it can be ``../../etc/passwd``, ``CON``,
an emoji wall or 300 characters long. ``safe_filename`` turns it into one plain name:

1. NFKC-normalise (a fullwidth solidus, U+FF0F, becomes ``/`` *before* separators go);
2. whitespace becomes one space; control, bidi-override and invisible characters go;
3. ``/`` and ``\\`` split the title: empty and dot-only parts (``..``) are dropped and the
   rest joined with ``_``; the other characters Windows forbids (``:*?"<>|``) become ``_``;
4. runs of dots shrink to one; leading dots and spaces, trailing dots and spaces go;
5. the result is cut to ``max_length`` UTF-8 bytes (suffix and tag included) at a
   character boundary, never inside an emoji sequence or before a combining mark; the
   tag (a clip id) is never cut, only the title;
6. an empty result falls back to ``fallback`` (a clip id, say);
7. a Windows device name (``CON``, ``nul.txt``, ``com1``...) gets a ``_`` prefix.

``atomic_write`` streams into a hidden temporary file in the target's directory and moves
it into place only once complete (size checked, fsynced); on any failure, cancellation
included, the temporary file is removed, so a partial download never looks finished.
A writer locks its temporary file; ``remove_stale_parts`` deletes the unlocked ones a
killed process left behind.
"""

from __future__ import annotations

import os
import re
import secrets
import time
import unicodedata
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Final, Literal

import anyio
import anyio.to_thread

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from ._errors import DownloadTooLarge, IncompleteDownload

__all__ = [
    "AtomicFile",
    "atomic_write",
    "atomic_write_bytes",
    "remove_stale_parts",
    "safe_filename",
    "unique_path",
]

_SEPARATORS: Final = re.compile(r"[/\\]")
_FORBIDDEN: Final = re.compile(r'[:*?"<>|]')
_DOTS: Final = re.compile(r"\.{2,}")
_SPACES: Final = re.compile(r" {2,}")
_SUFFIX: Final = re.compile(r"(?:\.[A-Za-z0-9]{1,16}){0,3}")
# Bidi controls can make "song<RLO>3pm.exe" display as "songexe.mp3"; the others are
# invisible. Zero-width joiners stay: emoji sequences are built with them.
_INVISIBLE: Final = frozenset(
    [0x061C, 0x180E, 0x200B, 0x200E, 0x200F, 0xFEFF, *range(0x202A, 0x202F),
     *range(0x2060, 0x2065), *range(0x2066, 0x2070), *range(0xFFF9, 0xFFFC)]
)  # fmt: skip
_ZWJ: Final = "\u200d"
# Windows refuses these as a file's name before its first dot, in any case.
_RESERVED: Final = frozenset(
    [
        "con",
        "prn",
        "aux",
        "nul",
        "conin$",
        "conout$",
        *(f"com{n}" for n in range(10)),
        *(f"lpt{n}" for n in range(10)),
    ]
)
_MIN_STEM: Final = 8  # room for "_conout$", the longest reserved name with its prefix
_UNIQUE_TRIES: Final = 10_000
_PART_PREFIX: Final = ".musicapi-"
_PART_SUFFIX: Final = ".part"
_PART_GRACE: Final = 60.0  # seconds: a temporary file younger than this may be unlocked yet


# ------------------------------------------------------------------------------- names


def _extends(char: str) -> bool:
    """Whether ``char`` attaches to the character before it (a cut must not go before)."""
    cp = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")  # combining marks, VS, keycap
        or char == _ZWJ
        or 0x1F3FB <= cp <= 0x1F3FF  # skin tones
        or 0xE0020 <= cp <= 0xE007F  # tag sequences (subdivision flags)
    )


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _cut(text: str, limit: int) -> str:
    """The longest prefix of ``text`` within ``limit`` UTF-8 bytes that ends a cluster."""
    end, size = 0, 0
    for char in text:
        size += len(char.encode())
        if size > limit:
            break
        end += 1
    if end == len(text):
        return text
    # Back off while the cut would split a grapheme cluster: before a mark or modifier,
    # after a joiner, or between the two halves of a flag.
    while end > 0:
        run = 0
        while run < end and _regional(text[end - 1 - run]):
            run += 1
        if _extends(text[end]) or text[end - 1] == _ZWJ or (run % 2 and _regional(text[end])):
            end -= 1
        else:
            break
    return text[:end]


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if c.isspace() else c for c in text)
    text = "".join(
        c for c in text if unicodedata.category(c) not in ("Cc", "Cs") and ord(c) not in _INVISIBLE
    )
    parts = [p for p in _SEPARATORS.split(text) if p.strip(" .")]
    text = _FORBIDDEN.sub("_", "_".join(parts))
    text = _SPACES.sub(" ", _DOTS.sub(".", text))
    return text.lstrip(". ").rstrip(". ")


def _is_reserved(name: str) -> bool:
    return name.split(".", 1)[0].rstrip(" ").casefold() in _RESERVED


def safe_filename(
    title: str, *, suffix: str = "", fallback: str, max_length: int = 120, tag: str = ""
) -> str:
    """A file name from ``title`` that is safe on Linux, macOS and Windows.

    Args:
        title: any text, e.g. a song title.
        suffix: the extension to add, e.g. ``".mp3"`` (ASCII letters and digits).
        fallback: used when nothing of ``title`` survives, e.g. the clip id; cleaned too.
        max_length: the most UTF-8 bytes the name may take, suffix included.
        tag: cleaned and put between the stem and the suffix, never cut: only the title
            is shortened to make room, so names that differ by their tag (a clip id)
            always stay different, however long the title.

    Returns:
        A non-empty name with no separators, of at most ``max_length`` bytes.

    Raises:
        ValueError: ``suffix`` is not a plain extension, ``max_length`` leaves no room for
            a name, or both ``title`` and ``fallback`` clean to nothing.
    """
    if not _SUFFIX.fullmatch(suffix):
        raise ValueError(f"suffix must look like '.mp3', not {suffix!r}")
    # The tag keeps its spaces (" - 0123abcd") but loses anything unsafe in a name.
    tag = _FORBIDDEN.sub(
        "_",
        _SEPARATORS.sub(
            "_",
            "".join(
                c
                for c in unicodedata.normalize("NFKC", tag)
                if c.isprintable() and ord(c) not in _INVISIBLE
            ),
        ),
    )
    budget = max_length - len(suffix.encode()) - len(tag.encode())
    if budget < _MIN_STEM:
        raise ValueError(f"max_length {max_length} leaves no room for a name")
    for text in (title, fallback):
        stem = _cut(_clean(text), budget).rstrip(". ")
        if stem:
            break
    else:
        raise ValueError(f"neither the title nor the fallback {fallback!r} is usable")
    name = stem + tag + suffix
    if _is_reserved(name):
        stem = _cut(stem, budget - 1).rstrip(". ")
        name = f"_{stem}{tag}{suffix}"
    return name


def _check_plain(name: str) -> None:
    if not name or name in (".", "..") or _SEPARATORS.search(name) or "\0" in name:
        raise ValueError(f"not a plain file name: {name!r}")


def _numbered(name: str, n: int, max_length: int) -> str:
    dot = name.rfind(".")
    stem, ext = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    tag = f" ({n})"
    room = max_length - len(ext.encode()) - len(tag.encode())
    return f"{_cut(stem, room).rstrip('. ')}{tag}{ext}"


def unique_path(directory: str | os.PathLike[str], name: str, *, max_length: int = 255) -> Path:
    """``directory / name``, or ``name (2)``, ``name (3)``... if that is taken.

    The check is advisory (another writer may take the name next); ``atomic_write`` with
    ``on_exists="rename"`` repeats it atomically when it moves a file into place.

    Args:
        directory: where the file goes.
        name: a plain file name, e.g. from ``safe_filename``.
        max_length: the most UTF-8 bytes a numbered name may take.

    Returns:
        A path in ``directory`` where nothing exists yet.

    Raises:
        ValueError: ``name`` is not a plain file name.
        FileExistsError: 10,000 names in a row were taken.
    """
    _check_plain(name)
    folder = Path(directory)
    for n in range(1, _UNIQUE_TRIES + 1):
        candidate = folder / (name if n == 1 else _numbered(name, n, max_length))
        if not os.path.lexists(candidate):  # lexists: a dangling symlink counts as taken
            return candidate
    raise FileExistsError(f"no free name for {name!r} in {folder}")


# ------------------------------------------------------------------------------ writes


def _lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd`` without waiting; ``True`` if it was taken.

    A writer holds the lock on its temporary file for as long as it writes; the OS drops
    it when the process dies, which is how a sweep tells an orphan from a live download.
    Without ``fcntl`` (Windows) a file open elsewhere cannot be deleted anyway.
    """
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _create_temp(directory: Path) -> tuple[int, Path]:
    # Our own mkstemp: 0o666 minus the umask, like any downloaded file (mkstemp's 0o600
    # would carry over to the final file); hidden, and obviously partial by its name.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp = directory / f"{_PART_PREFIX}{secrets.token_hex(8)}{_PART_SUFFIX}"
        try:
            fd = os.open(temp, flags, 0o666)
        except FileExistsError:
            continue
        _lock(fd)
        return fd, temp


def remove_stale_parts(directory: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files that killed downloads left in ``directory``.

    Only ``.musicapi-*.part`` files that no live writer holds (and that are not brand
    new, which covers the instant between a writer creating its file and locking it)
    are removed; errors are ignored, the sweep is best effort.

    Returns:
        The paths removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(_PART_PREFIX) and name.endswith(_PART_SUFFIX)):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if time.time() - entry.stat(follow_symlinks=False).st_mtime < _PART_GRACE:
                continue
            fd = os.open(entry.path, os.O_RDONLY)
        except OSError:
            continue
        try:
            if _lock(fd):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _place(temp: Path, target: Path) -> None:
    """Move ``temp`` to ``target`` unless ``target`` exists (then ``FileExistsError``)."""
    if os.name == "nt":
        os.rename(temp, target)  # Windows' rename never replaces
        return
    try:
        os.link(temp, target)  # atomic, and fails if the name is taken
    except OSError as exc:
        if isinstance(exc, FileExistsError):
            raise
        # No hard links on this file system (FAT, some shares): check, then rename.
        if os.path.lexists(target):
            raise FileExistsError(f"{target} exists") from exc
        os.rename(temp, target)
        return
    os.unlink(temp)


def _fsync_directory(directory: Path) -> None:
    # Makes the new name durable; not possible on Windows, where rename is journaled.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace ``path`` with ``data`` completely or not at all (blocking; small files).

    The synchronous sibling of ``atomic_write(path, on_exists="replace")``: the bytes go
    to the same hidden temporary file, are fsynced, then renamed over ``path``; a reader
    sees the old file or the new one, never half of either.

    Returns:
        ``path``, as a ``Path``.
    """
    target = Path(path)
    _check_plain(target.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = _create_temp(target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)
    return target


class AtomicFile:
    """The handle ``atomic_write`` yields: write bytes to it, in order.

    Attributes:
        path: the requested path; once the block has ended, the final path.
        bytes_written: bytes accepted so far.
    """

    def __init__(
        self, fd: int, temp: Path, target: Path, max_bytes: int | None, expected_size: int | None
    ) -> None:
        self._file = anyio.wrap_file(os.fdopen(fd, "wb"))
        self._temp = temp
        self.path = target
        self._max_bytes = max_bytes
        self._expected = expected_size
        self.bytes_written = 0

    async def write(self, data: bytes) -> None:
        """Append ``data`` (in a worker thread).

        Raises:
            DownloadTooLarge: ``data`` would take the file past ``max_bytes``.
            IncompleteDownload: ``data`` would take it past ``expected_size``.
        """
        total = self.bytes_written + len(data)
        if self._max_bytes is not None and total > self._max_bytes:
            raise DownloadTooLarge(
                f"{self.path.name}: more than {self._max_bytes} bytes", limit=self._max_bytes
            )
        if self._expected is not None and total > self._expected:
            raise IncompleteDownload(
                f"{self.path.name}: more bytes than the announced {self._expected}",
                expected=self._expected,
                received=total,
            )
        await self._file.write(data)
        self.bytes_written = total

    async def _commit(self, on_exists: Literal["rename", "replace", "error"]) -> None:
        if self._expected is not None and self.bytes_written != self._expected:
            raise IncompleteDownload(
                f"{self.path.name}: {self.bytes_written} of {self._expected} bytes arrived",
                expected=self._expected,
                received=self.bytes_written,
            )
        self.path = await anyio.to_thread.run_sync(self._finish, on_exists)

    def _finish(self, on_exists: Literal["rename", "replace", "error"]) -> Path:
        raw = self._file.wrapped
        raw.flush()
        os.fsync(raw.fileno())  # the bytes are on disk before the name points at them
        raw.close()
        target = self.path
        if on_exists == "replace":
            os.replace(self._temp, target)
        elif on_exists == "error":
            _place(self._temp, target)
        else:
            for _ in range(_UNIQUE_TRIES):
                target = unique_path(target.parent, self.path.name)
                try:
                    _place(self._temp, target)
                    break
                except FileExistsError:
                    continue  # taken since unique_path looked: take the next number
            else:
                raise FileExistsError(f"no free name for {self.path}")
        _fsync_directory(target.parent)
        return target

    def _discard(self) -> None:
        self._file.wrapped.close()
        self._temp.unlink(missing_ok=True)


def atomic_write(
    path: str | os.PathLike[str],
    *,
    max_bytes: int | None = None,
    expected_size: int | None = None,
    on_exists: Literal["rename", "replace", "error"] = "rename",
) -> AbstractAsyncContextManager[AtomicFile]:
    """Write a file completely or not at all: ``async with atomic_write(p) as f:``.

    The bytes go to a hidden temporary file next to ``path``. When the block ends
    normally the size is checked, the file fsynced and moved into place; when it raises
    (or is cancelled, or the checks fail) the temporary file is removed and nothing
    appears at ``path``.

    Args:
        path: where the file should end up.
        max_bytes: the most bytes accepted.
        expected_size: the announced ``Content-Length``: exactly this many must arrive.
        on_exists: if ``path`` is taken by then: ``"rename"`` to ``name (2).ext`` (read
            the final path from ``f.path``), ``"replace"`` it, or ``"error"``.

    Returns:
        An async context manager yielding an ``AtomicFile``.

    Raises:
        DownloadTooLarge: more than ``max_bytes`` (at once if ``expected_size`` says so).
        IncompleteDownload: the bytes written do not match ``expected_size``.
        FileExistsError: ``path`` exists and ``on_exists="error"``.
    """
    return _atomic_write(Path(path), max_bytes, expected_size, on_exists)


@asynccontextmanager
async def _atomic_write(
    target: Path,
    max_bytes: int | None,
    expected_size: int | None,
    on_exists: Literal["rename", "replace", "error"],
) -> AsyncIterator[AtomicFile]:
    _check_plain(target.name)
    if max_bytes is not None and expected_size is not None and expected_size > max_bytes:
        # Refused before a byte is downloaded.
        raise DownloadTooLarge(
            f"{target.name}: {expected_size} bytes announced, more than {max_bytes}",
            limit=max_bytes,
        )
    fd, temp = await anyio.to_thread.run_sync(_create_temp, target.parent)
    out = AtomicFile(fd, temp, target, max_bytes, expected_size)
    try:
        yield out
        await out._commit(on_exists)
    except BaseException:
        # Shielded: a cancelled download must still clean up after itself.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(out._discard)
        raise
