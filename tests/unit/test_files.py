"""Safe download names from song titles, collision-free paths, and all-or-nothing writes."""

from __future__ import annotations

import os
import stat
import unicodedata
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
from hypothesis import given
from hypothesis import strategies as st

from musicapi_async import (
    CallerError,
    DownloadTooLarge,
    IncompleteDownload,
    NetworkError,
    atomic_write_bytes,
)
from musicapi_async._files import (
    atomic_write,
    safe_filename,
    unique_path,
)

FORBIDDEN = set('/\\:*?"<>|\0')
RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)),
            *(f"lpt{n}" for n in range(10))}  # fmt: skip


def name(title: str) -> str:
    """``safe_filename`` with an ``.mp3`` suffix and a clip id fallback."""
    return safe_filename(title, suffix=".mp3", fallback="clip-123")


def listing(directory: Path) -> list[str]:
    """The sorted names in ``directory``, hidden temporary files included."""
    return sorted(os.listdir(directory))


def assert_safe(result: str, max_length: int = 120) -> None:
    """The properties every name must have, whatever the title."""
    assert result
    assert not FORBIDDEN & set(result)
    assert ".." not in result
    assert not result.startswith((".", " "))
    assert not result.endswith((".", " "))
    assert len(result.encode()) <= max_length
    assert result.split(".")[0].rstrip().lower() not in RESERVED
    assert all(unicodedata.category(c) != "Cc" for c in result)


# -------------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("../../etc/passwd", "etc_passwd.mp3"),
        ("/etc/passwd", "etc_passwd.mp3"),
        ("\uff0fetc\uff0fpasswd", "etc_passwd.mp3"),  # fullwidth slashes, NFKC'd first
        ("a/b\\c", "a_b_c.mp3"),
        ("..", "clip-123.mp3"),
        ("", "clip-123.mp3"),
        ("  . .  ", "clip-123.mp3"),
        ("con", "_con.mp3"),
        ("CON.txt", "_CON.txt.mp3"),
        ("Lpt9", "_Lpt9.mp3"),
        ("nul .tar", "_nul .tar.mp3"),
        ("\uff43\uff4f\uff4e", "_con.mp3"),  # fullwidth "con"
        ("console", "console.mp3"),  # only the exact device names are reserved
        ("bell\x07 tab\tnew\nline\x7f", "bell tab new line.mp3"),
        ("song\u202egpj.exe", "songgpj.exe.mp3"),  # bidi override removed
        ("...hidden", "hidden.mp3"),
        ("trailing dots...", "trailing dots.mp3"),
        ("a....b", "a.b.mp3"),
        ("What? Yes: <no>", "What_ Yes_ _no_.mp3"),
        ("🎵 Song for Ana 🎶", "🎵 Song for Ana 🎶.mp3"),
    ],
)
def test_titles_become_safe_names(title: str, expected: str) -> None:
    """Each hostile or unusual title maps to the expected safe name."""
    result = name(title)
    assert result == expected
    assert_safe(result)


def test_long_titles_are_cut_to_max_length_bytes() -> None:
    """A 300-character title is cut to exactly 120 bytes, suffix included."""
    result = name("a" * 300)
    assert result == "a" * 116 + ".mp3"


@pytest.mark.parametrize(
    ("unit", "max_length"),
    [
        # The limits are picked so that a cut by code points would land mid-cluster.
        ("é", 61),  # 2 bytes: the odd byte left over is not half a character
        ("🎵", 123),  # 4 bytes, 3 left over
        ("👍🏽", 128),  # emoji + skin tone: not the emoji without its tone
        ("🇫🇷", 128),  # a flag is two regional indicators: not one of them alone
        ("👨\u200d👩\u200d👧", 116),  # a ZWJ family: not the father alone
        ("e\u0301\u0302", 126),  # a letter with two marks (NFKC composes one): not the bare é
    ],
)
def test_cuts_never_split_a_character_or_cluster(unit: str, max_length: int) -> None:
    """Cutting a run of multi-byte clusters keeps only whole clusters."""
    normal = unicodedata.normalize("NFKC", unit)
    result = safe_filename(unit * 100, suffix=".mp3", fallback="x", max_length=max_length)
    stem = result.removesuffix(".mp3")
    assert stem
    assert stem == normal * (len(stem) // len(normal))
    assert len(result.encode()) <= max_length
    assert len(result.encode()) > max_length - len(normal.encode())


def test_fallback_is_cleaned_and_an_unusable_one_is_refused() -> None:
    """The fallback goes through the same cleaning; if nothing survives, ValueError."""
    assert safe_filename("///", suffix=".wav", fallback="../clip:7") == "clip_7.wav"
    with pytest.raises(ValueError, match="fallback"):
        safe_filename("..", fallback="..")


def test_bad_suffix_and_tiny_max_length_are_refused() -> None:
    """A suffix that is not an extension, or no room for a name, raises ValueError."""
    with pytest.raises(ValueError, match="suffix"):
        safe_filename("x", suffix="/../.mp3", fallback="x")
    with pytest.raises(ValueError, match="max_length"):
        safe_filename("x", suffix=".mp3", fallback="x", max_length=10)


@given(st.text(max_size=400))
def test_any_title_gives_a_safe_name(title: str) -> None:
    """Whatever the text, the name obeys every rule."""
    assert_safe(name(title))


# -------------------------------------------------------------------------- collisions


def test_unique_path_numbers_taken_names(tmp_path: Path) -> None:
    """A taken name becomes ``name (2).ext``, then ``name (3).ext``."""
    first = unique_path(tmp_path, "song.mp3")
    first.write_bytes(b"1")
    second = unique_path(tmp_path, "song.mp3")
    second.write_bytes(b"2")
    third = unique_path(tmp_path, "song.mp3")
    assert [p.name for p in (first, second, third)] == ["song.mp3", "song (2).mp3",
                                                        "song (3).mp3"]  # fmt: skip


def test_titles_that_clean_alike_get_distinct_paths(tmp_path: Path) -> None:
    """``a/b``, ``a\\b`` and ``a:b`` all clean to ``a_b`` yet land in three files."""
    paths = []
    for title in ("a/b", "a\\b", "a:b"):
        path = unique_path(tmp_path, name(title))
        path.write_bytes(title.encode())
        paths.append(path.name)
    assert paths == ["a_b.mp3", "a_b (2).mp3", "a_b (3).mp3"]


def test_unique_path_refuses_paths_and_respects_max_length(tmp_path: Path) -> None:
    """A name with a separator is refused; a numbered long name still fits max_length."""
    with pytest.raises(ValueError, match="plain"):
        unique_path(tmp_path, "../x.mp3")
    long = "b" * 116 + ".mp3"
    (tmp_path / long).write_bytes(b"")
    numbered = unique_path(tmp_path, long, max_length=120)
    assert numbered.name == "b" * 112 + " (2).mp3"


# ------------------------------------------------------------------------------ writes


async def stream(
    target: Path, chunks: list[bytes | BaseException], *, max_bytes: int | None = None
) -> Path:
    """Write ``chunks`` through ``atomic_write``, raising any exception found among them."""
    async with atomic_write(target, max_bytes=max_bytes) as out:
        for chunk in chunks:
            if isinstance(chunk, BaseException):
                raise chunk
            await out.write(chunk)
    return out.path


@pytest.mark.anyio
async def test_atomic_write_moves_the_file_into_place_when_complete(tmp_path: Path) -> None:
    """A complete write appears at its path with its bytes and no temporary file is left."""
    target = tmp_path / "song.mp3"
    async with atomic_write(target, expected_size=6, max_bytes=10) as out:
        await out.write(b"abc")
        [temp] = listing(tmp_path)  # only a hidden temporary file so far
        assert temp.startswith(".")
        assert temp.endswith(".part")
        await out.write(b"def")
    assert out.path == target
    assert target.read_bytes() == b"abcdef"
    assert listing(tmp_path) == ["song.mp3"]


@pytest.mark.anyio
async def test_exception_mid_stream_leaves_nothing(tmp_path: Path) -> None:
    """An error in the middle of a download leaves no partial file and no temporary file."""
    with pytest.raises(ConnectionResetError):
        await stream(tmp_path / "song.mp3", [b"half of it", ConnectionResetError()])
    assert listing(tmp_path) == []


@pytest.mark.anyio
async def test_bytes_beyond_max_bytes_leave_nothing(tmp_path: Path) -> None:
    """A body longer than max_bytes raises DownloadTooLarge and leaves no file."""
    with pytest.raises(DownloadTooLarge) as caught:
        await stream(tmp_path / "song.mp3", [b"12345", b"67890"], max_bytes=8)
    assert caught.value.limit == 8
    assert isinstance(caught.value, CallerError)
    assert listing(tmp_path) == []


@pytest.mark.anyio
async def test_announced_size_over_max_bytes_is_refused_before_writing(tmp_path: Path) -> None:
    """A Content-Length above max_bytes is refused before any file is created."""
    with pytest.raises(DownloadTooLarge):
        async with atomic_write(tmp_path / "song.mp3", max_bytes=8, expected_size=9):
            pytest.fail("the block must not run")
    assert listing(tmp_path) == []


@pytest.mark.anyio
async def test_fewer_bytes_than_content_length_leave_nothing(tmp_path: Path) -> None:
    """A body cut short of its Content-Length raises IncompleteDownload and leaves no file."""
    with pytest.raises(IncompleteDownload) as caught:
        async with atomic_write(tmp_path / "song.mp3", expected_size=100) as out:
            await out.write(b"only 14 bytes!")
    assert (caught.value.expected, caught.value.received) == (100, 14)
    assert isinstance(caught.value, NetworkError)  # a GET: safe to download again
    assert listing(tmp_path) == []


@pytest.mark.anyio
async def test_more_bytes_than_content_length_leave_nothing(tmp_path: Path) -> None:
    """A body longer than its Content-Length is refused and leaves no file."""
    with pytest.raises(IncompleteDownload):
        async with atomic_write(tmp_path / "song.mp3", expected_size=4) as out:
            await out.write(b"12345")
    assert listing(tmp_path) == []


@pytest.mark.anyio
async def test_cancelled_download_leaves_nothing(tmp_path: Path) -> None:
    """A download cancelled mid-stream still removes its temporary file."""
    with anyio.move_on_after(0.05) as scope:
        async with atomic_write(tmp_path / "song.mp3") as out:
            await out.write(b"partial")
            await anyio.sleep(10)
    assert scope.cancelled_caught
    assert listing(tmp_path) == []


@pytest.mark.anyio
async def test_existing_file_is_never_overwritten_by_default(tmp_path: Path) -> None:
    """With the default ``on_exists="rename"`` an existing file is kept and the new one numbered."""
    (tmp_path / "song.mp3").write_bytes(b"old")
    async with atomic_write(tmp_path / "song.mp3") as out:
        await out.write(b"new")
    assert out.path.name == "song (2).mp3"
    assert (tmp_path / "song.mp3").read_bytes() == b"old"
    assert out.path.read_bytes() == b"new"


@pytest.mark.anyio
async def test_on_exists_error_and_replace(tmp_path: Path) -> None:
    """``on_exists="error"`` raises and cleans up; ``"replace"`` swaps the content."""
    target = tmp_path / "song.mp3"
    target.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        async with atomic_write(target, on_exists="error") as out:
            await out.write(b"new")
    assert listing(tmp_path) == ["song.mp3"]
    async with atomic_write(target, on_exists="replace") as out:
        await out.write(b"new")
    assert target.read_bytes() == b"new"
    assert listing(tmp_path) == ["song.mp3"]


@pytest.mark.anyio
async def test_concurrent_writers_to_one_name_get_distinct_files(tmp_path: Path) -> None:
    """Two downloads racing for the same name both land, in two files."""
    started = anyio.Event()

    async def download(payload: bytes) -> None:
        async with atomic_write(tmp_path / "song.mp3") as out:
            await out.write(payload)
            if payload == b"first":
                started.set()
            else:
                await started.wait()

    async with anyio.create_task_group() as tg:
        tg.start_soon(download, b"first")
        tg.start_soon(download, b"second")
    assert listing(tmp_path) == ["song (2).mp3", "song.mp3"]
    contents = {(tmp_path / n).read_bytes() for n in listing(tmp_path)}
    assert contents == {b"first", b"second"}


@pytest.mark.anyio
@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
async def test_finished_file_has_ordinary_permissions(tmp_path: Path) -> None:
    """The final file gets 0o666 minus the umask, not a temporary file's 0o600."""
    async with atomic_write(tmp_path / "song.mp3") as out:
        await out.write(b"x")
    mode = stat.S_IMODE((await anyio.to_thread.run_sync(out.path.stat)).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_atomic_write_bytes_replaces_whole_and_leaves_no_temp(tmp_path: Path) -> None:
    """atomic_write_bytes puts the new bytes in place (creating folders) and no .part stays."""
    target = tmp_path / "out" / "manifest.jsonl"
    assert atomic_write_bytes(target, b"old\n") == target
    atomic_write_bytes(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["manifest.jsonl"]


def test_atomic_write_bytes_failure_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rename that fails leaves the old file whole and removes the temporary one."""
    target = tmp_path / "manifest.jsonl"
    target.write_bytes(b"old\n")

    def refuse(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.jsonl"]
