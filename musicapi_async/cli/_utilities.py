"""The sonic utilities from the command line, one command each (MUSICAPI.md §10).

    musicapi wav CLIP_ID                      the URL of the clip's WAV master
    musicapi midi CLIP_ID                     its MIDI file and notes (waits while prepared)
    musicapi bpm CLIP_ID                      its tempo
    musicapi vox CLIP_ID --vocal-start-s S --vocal-end-s E     isolated vocals (<= 30 s)
    musicapi aligned-lyrics CLIP_ID           its lyrics, word by word with times
    musicapi upsample-tags "lofi, piano"      a tag string made richer
    musicapi download CLIP_ID --format mp3 --format wav [--out DIR]   prepared files
    musicapi stems CLIP_ID [--full] --out DIR  a stems task: waits, saves a file per stem

Each prints text, or with ``--json`` the typed result as the package turns results into
JSON (``result_to_json``: the API's own field names, unknown ones kept); stems print the
clips as ``generate`` does. Requests are checked before a key is looked at, like
``generate``'s. A clip's id means something only to the server and key that made it, so
the commands about a clip refuse ``--emulator`` (a fresh, empty emulator) and turn the
API's "clip not found." into a line that says what to check.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import aclosing, asynccontextmanager
from pathlib import Path
from typing import Any, Final

import anyio
import attrs

from musicapi_async import (
    KIND_TYPES,
    Clip,
    ClipFailed,
    ClipState,
    ClipSucceeded,
    InvalidRequest,
    Job,
    MusicAPI,
    TaskDone,
    TaskTimeout,
    endpoint_of,
    request_from_wire,
    result_to_json,
    to_wire,
    validate_body,
)

from ._commands import _clip_json
from ._context import _client, _Context, _Usage

__all__ = ["add_download_args", "add_utility_parsers", "download_prepared"]

_Run = Callable[[_Context], Coroutine[Any, Any, int]]
_Command = Callable[[str, str], argparse.ArgumentParser]
# The file name of a prepared download: "clip - 1a2b3c4d.mp3" (the SDK adds the id tag and
# the suffix its content type names).
_PREPARED_TITLE: Final = "clip"


# ------------------------------------------------------------------------------ parser


def add_utility_parsers(command: _Command) -> None:
    """``wav``, ``midi``, ``bpm``, ``vox``, ``aligned-lyrics``, ``upsample-tags``, ``stems``."""

    def about_clip(name: str, text: str, run: _Run) -> argparse.ArgumentParser:
        sub = command(name, text)
        sub.add_argument("clip_id", metavar="CLIP_ID", help="a finished clip of this account")
        sub.set_defaults(utility=run)
        return sub

    about_clip("wav", "Show the URL of a clip's WAV master (POST /sonic/wav).", _wav)
    midi = about_clip("midi", "Show a clip's MIDI file and notes, waiting while the "
                      "server prepares it (POST /sonic/midi; billed once).", _midi)  # fmt: skip
    _timeout(midi, 300)
    about_clip("bpm", "Show a clip's tempo (POST /sonic/bpm; clips up to 24 h old).", _bpm)
    vox = about_clip("vox", "Isolate the vocals of up to 30 s of a clip (POST /sonic/vox).", _vox)
    vox.add_argument("--vocal-start-s", type=float, default=None, metavar="S",
                     help="where the range starts, in seconds (default: 0)")  # fmt: skip
    vox.add_argument("--vocal-end-s", type=float, default=None, metavar="E",
                     help="where it ends (default: 30 s later, or the clip's end)")  # fmt: skip
    about_clip("aligned-lyrics", "Show a clip's lyrics word by word, with the time each "
               "is sung (POST /sonic/aligned-lyrics; billed once).", _aligned)  # fmt: skip
    tags = command("upsample-tags", "Expand a short tag string into a richer style "
                   "description (POST /sonic/upsample-tags).")  # fmt: skip
    tags.add_argument("tags", metavar="TAGS", help='e.g. "lofi, piano"')
    tags.set_defaults(utility=_upsample_tags)
    stems = about_clip("stems", "Split a clip into stems (a task: POST /sonic/stems/basic, "
                       "or /stems/full), wait, and save each stem as a file named "
                       "after it.", _stems)  # fmt: skip
    stems.add_argument("--full", action="store_true",
                       help="every instrument (default: vocals and instrumental)")  # fmt: skip
    stems.add_argument("--out", required=True, metavar="DIR", help="where the stems are saved")
    _timeout(stems, 1800)


def add_download_args(download: argparse.ArgumentParser) -> None:
    """``musicapi download CLIP_ID --format F``: a clip's prepared files, not a task's."""
    group = download.add_argument_group(
        "a clip's prepared files (POST /sonic/download) instead of a task's"
    )
    group.add_argument("--format", "--formats", dest="formats", action="append", default=None,
                       metavar="FORMAT", help="prepare the clip's file in FORMAT (mp3, m4a or "
                       "wav; repeat for several): the id given is then a CLIP_ID; the URLs "
                       "are shown, and saved into DIR with --out DIR")  # fmt: skip
    group.add_argument("--timeout", type=float, default=300, metavar="SECONDS",
                       help="seconds the files may take to prepare (default: 300)")  # fmt: skip
    download.description = (
        "Download the files of a finished task, or with --format a clip's files in "
        "the formats asked for (POST /sonic/download)."
    )
    download.set_defaults(out=None)  # a task's files go to "." (see ``_main._download``)


def _timeout(sub: argparse.ArgumentParser, default: float) -> None:
    sub.add_argument("--timeout", type=float, default=default, metavar="SECONDS",
                     help=f"seconds to wait at most (default: {default:g})")  # fmt: skip


# ------------------------------------------------------------------------------ shared


def _checked(kind: str, **fields: Any) -> None:
    """Check the request of input ``kind`` as the client will, before a key is looked at."""
    given = {name: value for name, value in fields.items() if value is not None}
    request: object = request_from_wire(KIND_TYPES[kind], given)
    validate_body(endpoint_of(request), to_wire(request))


@asynccontextmanager
async def _about(ctx: _Context, clip_id: str) -> AsyncIterator[MusicAPI]:
    """A client for a command about ``clip_id``; a clip the server does not know is said
    so in words that name what to check."""
    if ctx.args.emulator:
        raise _Usage(
            f"--emulator starts a fresh, empty emulator for each command, so it has no "
            f"clip {clip_id}. Run `musicapi emulator` in another terminal, make a song "
            "there, then give every command --base-url http://127.0.0.1:8000 --api-key "
            "test-key instead of --emulator."
        )
    try:
        async with _client(ctx, MusicAPI) as api:
            yield api
    except InvalidRequest as exc:
        said = (exc.api_message or "").lower()
        if exc.status is None or "clip" not in said or "not found" not in said:
            raise
        raise InvalidRequest(
            f"no clip {clip_id} here ({exc.api_message}): check the id, and that --base-url "
            "and the key are the ones that made it",
            status=exc.status,
            api_message=exc.api_message,
        ) from exc


def _document(result: object) -> dict[str, Any]:
    """The result as the API sent it (the package's one result -> JSON rule)."""
    document: dict[str, Any] = json.loads(result_to_json(result))
    return document


def _seconds(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}"


# ------------------------------------------------------------------------ one answer


async def _wav(ctx: _Context) -> int:
    clip_id = ctx.args.clip_id
    _checked("wav", clip_id=clip_id)
    async with _about(ctx, clip_id) as api:
        result = await api.sonic.wav(clip_id=clip_id)
    ctx.say(f"WAV of {clip_id}: {result.wav_url or '(no URL in the answer)'}")
    ctx.result(_document(result))
    return 0


async def _midi(ctx: _Context) -> int:
    clip_id = ctx.args.clip_id
    _checked("midi", clip_id=clip_id)
    async with _about(ctx, clip_id) as api:
        ctx.say(f"Asking for the MIDI of {clip_id} (the first ask starts preparing it)…")
        result = await api.sonic.midi(clip_id=clip_id, timeout=ctx.args.timeout)
    ctx.say(f"MIDI of {clip_id}: {result.midi_url}")
    for instrument in result.instruments:
        notes = instrument.get("notes") or ()
        ctx.say(f"  {instrument.get('name', '?')}: {len(notes)} notes")
    ctx.result(_document(result))
    return 0


async def _bpm(ctx: _Context) -> int:
    clip_id = ctx.args.clip_id
    _checked("bpm", clip_id=clip_id)
    async with _about(ctx, clip_id) as api:
        result = await api.sonic.bpm(clip_id=clip_id)
    ctx.say(f"{clip_id}: {result.avg_bpm:g} BPM on average "
            f"(from {result.min_bpm:g} to {result.max_bpm:g})")  # fmt: skip
    ctx.result(_document(result))
    return 0


async def _vox(ctx: _Context) -> int:
    args = ctx.args
    start, end = args.vocal_start_s, args.vocal_end_s
    _checked("vox", clip_id=args.clip_id, vocal_start_s=start, vocal_end_s=end)
    async with _about(ctx, args.clip_id) as api:
        result = await api.sonic.vox(clip_id=args.clip_id, vocal_start_s=start, vocal_end_s=end)
    ctx.say(f"Vocals of {args.clip_id} from {_seconds(result.vocal_start_s)} s to "
            f"{_seconds(result.vocal_end_s)} s: {result.vox_audio_id} "
            f"({result.status or 'no status'})")  # fmt: skip
    wave = result.wave_response
    if isinstance(wave, dict) and wave.get("audio_url"):
        ctx.say(f"  {wave['audio_url']}")
    ctx.result(_document(result))
    return 0


async def _aligned(ctx: _Context) -> int:
    clip_id = ctx.args.clip_id
    _checked("aligned_lyrics", clip_id=clip_id)
    async with _about(ctx, clip_id) as api:
        result = await api.sonic.aligned_lyrics(clip_id=clip_id)
    ctx.say(f"Lyrics of {clip_id}, {len(result.alignment)} words (start, end, word):")
    for word in result.alignment:
        ctx.say(f"  {_seconds(word.start_s):>7}  {_seconds(word.end_s):>7}  {word.word}")
    ctx.result(_document(result))
    return 0


async def _upsample_tags(ctx: _Context) -> int:
    tags = ctx.args.tags
    _checked("upsample_tags", tags=tags)
    async with _client(ctx, MusicAPI) as api:
        result = await api.sonic.upsample_tags(tags=tags)
    ctx.say(result.upsampled_tags or "(no tags in the answer)")
    ctx.result(_document(result))
    return 0


# --------------------------------------------------------------------------- files


async def download_prepared(ctx: _Context) -> int:
    """``musicapi download CLIP_ID --format F...``: prepare, show, and with --out save."""
    args = ctx.args
    clip_id, formats = args.task_id, list(args.formats)  # the positional is a clip id here
    if args.family is not None:
        raise _Usage("--family is for a task id; with --format the id is a clip's")
    _checked("download", clip_id=clip_id, formats=formats)
    saved: dict[str, Path] = {}
    async with _about(ctx, clip_id) as api:
        ctx.say(f"Preparing {', '.join(formats)} of {clip_id}…")
        result = await api.sonic.download(clip_id=clip_id, formats=formats, timeout=args.timeout)
        for fmt, url in result.files.items():
            ctx.say(f"  {fmt:<4} {url}")
            if args.out is not None and isinstance(url, str) and url:
                saved[fmt] = await _save(api, clip_id, url, args.out)
                ctx.say(f"Saved {saved[fmt]}")
    ctx.result({**_document(result), "saved": {fmt: str(p) for fmt, p in saved.items()}})
    return 0


async def _save(api: MusicAPI, clip_id: str, url: str, out: str) -> Path:
    """One prepared file, downloaded as the SDK downloads a clip's audio (streamed, checked,
    placed atomically, named safely, its suffix from its content type)."""
    carrier = Clip(clip_id=clip_id, state=ClipState.SUCCEEDED, title=_PREPARED_TITLE,
                   audio_url=url)  # fmt: skip
    [path] = await api.download(carrier, out, kinds=("audio",), overwrite=True)
    return path


def _stem(clip: Clip) -> str:
    return str(clip.extra.get("stem_type") or clip.title or clip.clip_id)


async def _stems(ctx: _Context) -> int:
    args = ctx.args
    _checked("stems_full" if args.full else "stems", clip_id=args.clip_id)
    files: dict[str, list[Path]] = {}
    async with _about(ctx, args.clip_id) as api:
        job = await api.sonic.stems(clip_id=args.clip_id, full=args.full)
        which = "every instrument's" if args.full else "vocal and instrumental"
        ctx.say(f"Task {job.task_id} accepted ({which} stems of {args.clip_id}); waiting…")
        clips = await _wait(ctx, job)
        for clip in clips:
            # Named after the stem ("Vocals - 1a2b3c4d.mp3"), not the song's title.
            named = attrs.evolve(clip, title=_stem(clip))
            files[clip.clip_id] = await api.download(
                named, args.out, kinds=("audio",), overwrite=True
            )
            for path in files[clip.clip_id]:
                ctx.say(f"Saved {_stem(clip)}: {path}")
    ctx.result({"ok": True, "task_id": job.task_id, "source_clip_id": args.clip_id,
                "clips": [_clip_json(c, files.get(c.clip_id, ())) for c in clips]})  # fmt: skip
    return 0


async def _wait(ctx: _Context, job: Job) -> list[Clip]:
    """Wait for the stems task until ``--timeout``, saying as each stem is done."""
    ctx.in_flight.append(job.task_id)  # Ctrl-C prints how to resume waiting
    try:
        with anyio.fail_after(ctx.args.timeout):
            async with aclosing(job.updates(playable=False)) as events:
                async for event in events:
                    if isinstance(event, ClipSucceeded):
                        ctx.say(f"  {_stem(event.clip)}: ready")
                    elif isinstance(event, ClipFailed):
                        ctx.say(f"  {_stem(event.clip)}: failed")
                    elif isinstance(event, TaskDone):
                        break
    except TimeoutError:
        raise TaskTimeout(
            f"stems task {job.task_id} was not finished after {ctx.args.timeout:g} s; "
            f"resume with: musicapi wait {job.task_id}, then musicapi download "
            f"{job.task_id} --out DIR",
            task_id=job.task_id,
        ) from None
    ctx.in_flight.remove(job.task_id)
    return job.result()
