"""``musicapi``: the command line, built on the public SDK.

    musicapi bulk songs.jsonl --journal runs.sqlite3 --out songs/   many songs, resumable
    musicapi generate --gpt-description-prompt "a sea shanty"       one song
    musicapi demo                                                    no key: a local emulator
    musicapi stems CLIP_ID --out stems/     the sonic utilities: wav, midi, bpm, vox, ...

Exit status: 0 everything done, 1 something failed, 2 usage or input error (nothing was
sent), 3 (bulk) nothing failed but lines were held back by --budget, 130 interrupted
(Ctrl-C; in-flight tasks and how to resume are printed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shlex
import sys
import typing
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import AsyncExitStack, aclosing, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import anyio
import attrs

from musicapi_async import (
    DEFAULT_BASE_URL,
    AuthenticationError,
    Clip,
    ClipFailed,
    ClipPlayable,
    Family,
    InvalidRequest,
    Job,
    MusicAPI,
    MusicAPIError,
    PersonaRequest,
    PollPolicy,
    SonicRequest,
    SonicTaskType,
    TaskDone,
    TaskFailed,
    TaskNotFound,
    TaskSnapshot,
    TaskTimeout,
    __version__,
    clip_to_wire,
    endpoint_of,
    to_wire,
    validate_body,
)

if TYPE_CHECKING:
    from musicapi_async import RedisCoordination

__all__ = ["build_parser", "main"]

# The demo input ships in the wheel, so `musicapi demo` works wherever the package does.
DEMO_FILE: Final = Path(__file__).parent.with_name("_data") / "demo.jsonl"
NEEDS_RICH: Final = (
    "this command draws with rich, which is not installed: pip install 'musicapi-async[cli]'"
)
EMULATOR_SPEED: Final = 30.0  # the demo's two dozen songs (three waves deep) in ~30 s
_API = TypeVar("_API", bound=MusicAPI)


class _Usage(Exception):
    """A usage error: printed as one line, exit status 2."""


@attrs.define
class _Context:
    """One invocation: its options, its output and what is in flight for Ctrl-C."""

    args: argparse.Namespace
    argv: list[str]
    in_flight: list[str] = attrs.field(factory=list)
    on_interrupt: Callable[[], None] | None = None

    def say(self, text: str = "") -> None:
        if not self.args.json:
            print(text, flush=True)

    def result(self, document: Any) -> None:
        if self.args.json:
            print(json.dumps(document, ensure_ascii=False, indent=2, default=str), flush=True)

    @property
    def speed(self) -> float:
        speed = self.args.speed
        return (
            float(speed) if speed is not None else (EMULATOR_SPEED if self.args.emulator else 1.0)
        )


# ------------------------------------------------------------------------------ parser


def _add_globals(parser: argparse.ArgumentParser, *, sub: bool) -> None:
    """The global options, on the main parser and (so they may follow the command) on each
    subcommand, where their defaults are suppressed so they do not override the main's."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if sub else value

    group = parser.add_argument_group("global options")
    add = group.add_argument
    add("--api-key", default=default(None), metavar="KEY",
        help="API key (default: $MUSICAPI_API_KEY)")  # fmt: skip
    add("--base-url", default=default(None), metavar="URL",
        help="API base URL (default: $MUSICAPI_BASE_URL or https://api.musicapi.ai)")  # fmt: skip
    add("--emulator", action="store_true", default=default(False),
        help="run against an in-process MusicAPI emulator: no key, no credits spent")  # fmt: skip
    add("--speed", type=float, default=default(None), metavar="N",
        help=f"run N times faster than MusicAPI: the emulator's clock and the poll "
        f"schedule (default: {EMULATOR_SPEED:g} with --emulator; a `musicapi emulator` "
        "server announces its own speed and the client follows it)")  # fmt: skip
    add("--emulator-credits", type=int, default=default(5000), metavar="N",
        help="credits of the --emulator account (default: 5000)")  # fmt: skip
    add("--json", action="store_true", default=default(False),
        help="print one JSON document instead of text")  # fmt: skip
    add("-v", "--verbose", action="count", default=default(0),
        help="log each request (method, path, status, time) and retry to stderr; -vv "
        "also the bodies (keys and secrets redacted)")  # fmt: skip


def _sonic_options(parser: argparse.ArgumentParser) -> None:
    """One flag per field of ``POST /api/v1/sonic/create``, named after the wire field."""
    hints = typing.get_type_hints(SonicRequest)
    group = parser.add_argument_group("song fields (MusicAPI's names; see MUSICAPI docs)")
    for field in attrs.fields(SonicRequest):
        flag = "--" + field.name.replace("_", "-")
        kinds = set(typing.get_args(hints[field.name])) or {hints[field.name]}
        if field.name == "task_type":
            group.add_argument(
                flag,
                default="create_music",
                choices=[t.value for t in SonicTaskType],
                help="default: create_music",
            )
        elif bool in kinds:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None)
        else:
            kind = int if int in kinds else float if float in kinds else str
            group.add_argument(flag, type=kind, default=None, metavar=field.name.upper())


_Command = Callable[[str, str], argparse.ArgumentParser]


def _task_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("task_id", metavar="TASK_ID")
    sub.add_argument(
        "--family",
        choices=[f.value for f in Family],
        default=None,
        help="the task's product family (default: found by polling "
        "sonic, then nuro, then studio; polls are free)",
    )


def _output_args(sub: argparse.ArgumentParser, out: str) -> None:
    sub.add_argument(
        "--out", default=out, metavar="DIR", help=f"where files are saved (default: {out})"
    )
    sub.add_argument(
        "--download",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="download the finished files (default: yes)",
    )
    sub.add_argument(
        "--kinds",
        default="audio,image",
        metavar="LIST",
        help="files to download: audio, image, video (default: audio,image)",
    )


def _bulk_parser(command: _Command) -> None:
    """``musicapi bulk FILE``: its input, pacing, journal, budget and output options."""
    bulk = command("bulk", "Create many songs, personas and lyrics from a file, with live "
                   "progress, a journal to resume from, and a manifest.")  # fmt: skip
    add = bulk.add_argument
    add("file", metavar="FILE",
        help="JSONL, CSV or plain text (one description per line); - reads stdin")  # fmt: skip
    add("--format", choices=["jsonl", "csv", "text"], default=None,
        help="the file's format (default: from its extension or content)")  # fmt: skip
    add("--concurrency", type=int, default=8, metavar="N",
        help="requests in flight at once (default: 8)")  # fmt: skip
    add("--journal", default=None, metavar="PATH",
        help="SQLite journal: run the same command again after a crash or "
        "Ctrl-C and nothing already accepted is sent twice")  # fmt: skip
    add("--budget", type=int, default=None, metavar="CREDITS",
        help="credits this run may commit; requests past it are not sent")  # fmt: skip
    add("--mv", default="sonic-v5",
        help="model of sonic lines that name none (default: sonic-v5)")  # fmt: skip
    add("--timeout", type=float, default=1800, metavar="SECONDS",
        help="seconds each task may take once accepted (default: 1800)")  # fmt: skip
    add("--manifest", default=None, metavar="PATH",
        help="the JSONL manifest (default: OUT/manifest.jsonl)")  # fmt: skip
    add("--dry-run", action="store_true",
        help="check the file and show the plan and its cost; send nothing")  # fmt: skip
    _output_args(bulk, "musicapi-output")
    from ._fleet import add_fleet_args  # [redis hook] --redis URL: a fleet run

    add_fleet_args(bulk)


def _generate_parser(command: _Command) -> None:
    gen = command(
        "generate",
        "Create one sonic song, print its stream URL as soon as one exists, wait, and download it.",
    )
    _sonic_options(gen)
    gen.add_argument("--timeout", type=float, default=1800, metavar="SECONDS")
    _output_args(gen, ".")


def _one_shot_parsers(command: _Command) -> None:
    """The commands that make or look at one thing: persona, lyrics, tasks, credits."""
    persona = command("persona", "Create a persona (a reusable voice) from a recent clip.")
    persona.add_argument("--name", required=True)
    persona.add_argument("--clip-id", required=True, metavar="CLIP_ID")
    persona.add_argument("--description", default=None)
    persona.add_argument("--styles", default=None)
    lyrics = command("lyrics", "Write lyrics for a description (lyrics credits).")
    lyrics.add_argument("description")
    _task_args(command("status", "Poll a task once and show its clips."))
    wait = command("wait", "Wait for a task to finish (stream URL first), then show it.")
    _task_args(wait)
    wait.add_argument("--timeout", type=float, default=1800, metavar="SECONDS")
    download = command(
        "download", "Download a finished task's files, or (with --format) a clip's prepared files."
    )
    _task_args(download)
    _output_args(download, ".")
    from ._utilities import add_download_args  # download CLIP_ID --format F: /sonic/download

    add_download_args(download)
    command("credits", "Show the account's remaining credits.")


def _other_parsers(command: _Command, subs: Any) -> None:
    """reconcile, demo and emulator."""
    from musicapi_async.emulator.__main__ import build_parser as emulator_parser

    from ._reconcile import add_reconcile_parser

    add_reconcile_parser(
        command(
            "reconcile",
            "Settle the requests a bulk journal marks as "
            "sent with no answer (maybe billed): list them, look them "
            "up, or record what you found.",
        )
    )
    demo = command(
        "demo",
        "Run the bundled demo (two dozen songs of every kind) on the "
        "in-process emulator: no key, no credits. Same as `musicapi bulk "
        "DEMO_FILE --emulator --concurrency 16 --out musicapi-demo`.",
    )
    demo.epilog = "It takes every option of `musicapi bulk`, e.g. --out DIR or --dry-run."
    subs.add_parser(
        "emulator",
        parents=[emulator_parser()],
        add_help=False,
        help="Serve the MusicAPI emulator (as python -m musicapi_async.emulator).",
        description="Serve a local emulation of MusicAPI.",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``musicapi`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="musicapi",
        description="MusicAPI (musicapi.ai) from the command line: songs one at a time or "
        "by the hundred, with live progress. Try it without a key: musicapi demo",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_globals(parser, sub=False)
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, text: str) -> argparse.ArgumentParser:
        sub = subs.add_parser(name, help=text, description=text)
        _add_globals(sub, sub=True)
        return sub

    _generate_parser(command)
    _bulk_parser(command)
    _one_shot_parsers(command)
    from ._utilities import add_utility_parsers  # wav, midi, bpm, vox, ..., stems

    add_utility_parsers(command)
    _other_parsers(command, subs)
    return parser


# -------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``musicapi`` command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if args.command == "demo":  # `bulk` on the bundled file; the user's options last
            at = argv.index("demo")
            argv = [*argv[:at], "bulk", str(DEMO_FILE), "--emulator", "--concurrency", "16",
                    "--out", "musicapi-demo", *argv[at + 1 :]]  # fmt: skip
            args = parser.parse_args(argv)
        elif unknown:
            args = parser.parse_args(argv)  # the usual error about them
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    if args.command == "emulator":
        from musicapi_async.emulator.__main__ import main as emulator_main

        return emulator_main(argv[argv.index("emulator") + 1 :])
    _logging(args.verbose)
    ctx = _Context(args, argv)
    run = _COMMANDS.get(args.command) or typing.cast(  # the utilities: ``cli._utilities``
        "Callable[[_Context], Coroutine[Any, Any, int]]", args.utility
    )
    try:
        return asyncio.run(run(ctx))
    except _Usage as exc:
        return _error(ctx, str(exc), 2)
    except KeyboardInterrupt:
        if ctx.on_interrupt is not None:
            ctx.on_interrupt()
        else:
            print("\nInterrupted.", file=sys.stderr)
            for task_id in ctx.in_flight:
                print(f"Task {task_id} is still running upstream; resume waiting with: "
                      f"musicapi wait {task_id}", file=sys.stderr)  # fmt: skip
        return 130
    except (AuthenticationError, InvalidRequest) as exc:
        # Local validation failures (no HTTP status) and a refused key are the caller's to fix.
        local = isinstance(exc, AuthenticationError) or exc.status is None
        return _error(ctx, f"{type(exc).__name__}: {exc}", 2 if local else 1)
    except MusicAPIError as exc:
        return _error(ctx, f"{type(exc).__name__}: {exc}", 1)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "rich":
            raise
        # rich is the [cli] extra; the display asks for it before any request is sent.
        return _error(ctx, NEEDS_RICH, 2)


def _is_key_option(arg: str) -> bool:
    # argparse takes any unambiguous prefix: --api, --api-k, --a all mean --api-key.
    name = arg.split("=", 1)[0]
    return len(name) > 2 and "--api-key".startswith(name)


def _shown_command(argv: Sequence[str], key: str | None = None) -> str:
    """The command line to print (to resume a run), with ``$MUSICAPI_API_KEY`` for the key."""
    shown = list(argv)
    for i, arg in enumerate(shown):
        if arg == "--":
            break
        if _is_key_option(arg):
            if "=" in arg:
                shown[i] = arg.split("=", 1)[0] + "=@KEY@"
            elif i + 1 < len(shown):
                shown[i + 1] = "@KEY@"
    if key and len(key) >= 8:  # wherever else it was written (a typo'd flag, a positional)
        shown = [arg.replace(key, "@KEY@") for arg in shown]
    # shlex leaves the placeholder unquoted; the variable must stay expandable.
    return shlex.join(["musicapi", *shown]).replace("@KEY@", '"$MUSICAPI_API_KEY"')


def _error(ctx: _Context, message: str, code: int) -> int:
    # Errors scrub the keys of open clients as they are built; this one is printed after
    # the client closed, so scrub the key the command line knows too.
    key = getattr(ctx.args, "api_key", None) or os.environ.get("MUSICAPI_API_KEY")
    if key and len(key) >= 4:
        message = message.replace(key, "[redacted]")
    if ctx.args.json:
        ctx.result({"ok": False, "exit_code": code, "error": message})
    else:
        print(f"musicapi: error: {message}", file=sys.stderr)
    return code


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time: the live display redirects it, so
    ``-v`` lines scroll above the display instead of tearing it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except (OSError, ValueError):
            self.handleError(record)


def _logging(verbose: int) -> None:
    if verbose:
        from musicapi_async import BODIES

        logger = logging.getLogger("musicapi_async")
        logger.setLevel(BODIES if verbose > 1 else logging.DEBUG)
        if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
            handler = _StderrHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            logger.addHandler(handler)


def _credentials(args: argparse.Namespace) -> tuple[str, str | None]:
    key = args.api_key or os.environ.get("MUSICAPI_API_KEY")
    if not key:
        raise _Usage(
            "no API key: pass --api-key KEY or set MUSICAPI_API_KEY "
            "(or add --emulator to try it locally without one)"
        )
    return key, args.base_url or os.environ.get("MUSICAPI_BASE_URL")


@asynccontextmanager
async def _client(
    ctx: _Context, cls: type[_API], coordination: RedisCoordination | None = None
) -> AsyncIterator[_API]:
    """An open client of ``cls``: on the in-process emulator with ``--emulator``."""
    async with AsyncExitStack() as stack:
        base_url: str | None
        if ctx.args.emulator:
            from musicapi_async.emulator import Emulator

            emulator = await stack.enter_async_context(
                Emulator(speed=ctx.speed, credits=ctx.args.emulator_credits)
            )
            key, base_url = emulator.api_key, emulator.url
        else:
            key, base_url = _credentials(ctx.args)
        api = cls(
            key, base_url=base_url, poll=PollPolicy().scaled(ctx.speed), coordination=coordination
        )
        await stack.enter_async_context(api)
        yield api


# ---------------------------------------------------------------------------- commands


# The keys the JSON output has always shown, present (as null) even when unset.
_CLIP_KEYS: Final = ("clip_id", "state", "title", "duration", "audio_url", "image_url")


def _clip_json(clip: Clip, files: Sequence[Path] = ()) -> dict[str, Any]:
    """The clip as the API sent it (the package's one clip -> JSON), plus its files."""
    return {**dict.fromkeys(_CLIP_KEYS), **clip_to_wire(clip), "files": [str(p) for p in files]}


def _clip_line(clip: Clip) -> str:
    length = f"{int(clip.duration) // 60}:{int(clip.duration) % 60:02d}" if clip.duration else "-"
    return f"  {clip.clip_id}  {clip.state.value:<9}  {length:>5}  {clip.title or ''}" + (
        f"\n      {clip.audio_url}" if clip.audio_url else ""
    )


def _kinds(text: str) -> tuple[Any, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in kinds if k not in ("audio", "image", "video")]
    if bad:
        raise _Usage(f"--kinds: unknown file kind(s) {', '.join(bad)}; use audio, image, video")
    return kinds


async def _follow(ctx: _Context, api: MusicAPI, job: Job) -> int:
    """Print the stream URL(s) as they appear, wait, download; the exit status."""
    args = ctx.args
    ctx.in_flight.append(job.task_id)
    try:
        with anyio.fail_after(args.timeout):
            async with aclosing(job.updates()) as events:
                async for event in events:
                    if isinstance(event, ClipPlayable):
                        ctx.say(f"Listen now: {event.clip.audio_url}  ({event.clip.title})")
                    elif isinstance(event, ClipFailed):
                        ctx.say(f"Clip {event.clip.clip_id} failed.")
                    elif isinstance(event, TaskDone):
                        break
    except TimeoutError:
        raise TaskTimeout(
            f"task {job.task_id} was not finished after {args.timeout:g} s; "
            f"resume with: musicapi wait {job.task_id}",
            task_id=job.task_id,
        ) from None
    ctx.in_flight.remove(job.task_id)
    return await _finish(ctx, api, job.task_id, job.result)


async def _finish(
    ctx: _Context, api: MusicAPI, task_id: str, result: Callable[[], list[Clip]]
) -> int:
    """Show (and download) the clips of a finished task."""
    try:
        clips = result()
    except TaskFailed as exc:
        ctx.result(
            {
                "ok": False,
                "task_id": task_id,
                "error": str(exc),
                "clips": [_clip_json(c) for c in exc.clips],
            }
        )
        print(f"musicapi: task {task_id} failed: {exc}", file=sys.stderr)
        return 1
    files: dict[str, list[Path]] = {}
    ctx.say(f"Task {task_id} finished:")
    for clip in clips:
        ctx.say(_clip_line(clip))
    if getattr(ctx.args, "download", False):  # `wait` has no --download: it only shows
        kinds = _kinds(ctx.args.kinds)
        for clip in clips:
            files[clip.clip_id] = await api.download(
                clip, ctx.args.out, kinds=kinds, overwrite=True
            )
            for path in files[clip.clip_id]:
                ctx.say(f"Saved {path}")
    ctx.result(
        {
            "ok": True,
            "task_id": task_id,
            "clips": [_clip_json(c, files.get(c.clip_id, ())) for c in clips],
        }
    )
    return 0


async def _generate(ctx: _Context) -> int:
    args = ctx.args
    fields = {
        f.name: getattr(args, f.name)
        for f in attrs.fields(SonicRequest)
        if getattr(args, f.name) is not None
    }
    task_type = SonicTaskType(fields.pop("task_type"))
    if task_type != "concat_music":
        fields.setdefault("mv", "sonic-v5")
        fields.setdefault("custom_mode", "gpt_description_prompt" not in fields)
    request = SonicRequest(task_type=task_type, **fields)
    validate_body(endpoint_of(request), to_wire(request))  # before a key is even looked at
    _kinds(args.kinds)  # a typo here must not cost a song
    async with _client(ctx, MusicAPI) as api:
        job = await api.submit(request)
        ctx.say(f"Task {job.task_id} accepted ({task_type.value}); waiting…")
        return await _follow(ctx, api, job)


def _no_emulator(ctx: _Context) -> None:
    """Refuse ``--emulator`` for a command about an existing task: it could never exist."""
    if ctx.args.emulator:
        raise _Usage(
            f"--emulator starts a fresh, empty emulator for each command, so it "
            f"cannot know task {ctx.args.task_id}. Run `musicapi emulator` in "
            "another terminal, then give every command --base-url "
            "http://127.0.0.1:8000 --api-key test-key instead of --emulator."
        )


async def _find_task(ctx: _Context, api: MusicAPI) -> TaskSnapshot:
    """Poll the task in its ``--family``, or in each family until one knows it."""
    task_id = ctx.args.task_id
    if ctx.args.family is not None:
        return await api.get_task(task_id, Family(ctx.args.family))
    last: InvalidRequest | None = None
    for family in Family:
        try:
            return await api.get_task(task_id, family)
        except InvalidRequest as exc:  # "task not found." (or nuro's 404): not this family
            if exc.status not in (400, 404):
                raise
            last = exc
    families = ", ".join(f.value for f in Family)
    raise TaskNotFound(
        f"no family ({families}) knows task {task_id}; check the id and that "
        "--base-url and the key are the ones that created it, or pass "
        "--family",
        task_id=task_id,
        status=last.status if last else None,
    )


async def _wait(ctx: _Context) -> int:
    _no_emulator(ctx)
    async with _client(ctx, MusicAPI) as api:
        family = ctx.args.family or (await _find_task(ctx, api)).family
        return await _follow(ctx, api, api.job(ctx.args.task_id, Family(family)))


def _snapshot_json(snapshot: TaskSnapshot) -> dict[str, Any]:
    return {
        "task_id": snapshot.task_id,
        "family": snapshot.family.value,
        "ready": snapshot.ready,
        "done": snapshot.done,
        "status": snapshot.status,
        "progress": snapshot.progress,
        "clips": [clip_to_wire(c) for c in snapshot.clips],
    }


async def _status(ctx: _Context) -> int:
    _no_emulator(ctx)
    async with _client(ctx, MusicAPI) as api:
        snapshot = await _find_task(ctx, api)
    state = "done" if snapshot.done else ("not ready yet" if not snapshot.ready else "running")
    ctx.say(f"Task {snapshot.task_id} ({snapshot.family.value}): {state}")
    for clip in snapshot.clips:
        ctx.say(_clip_line(clip))
    ctx.result(_snapshot_json(snapshot))
    return 0


async def _download(ctx: _Context) -> int:
    if ctx.args.formats:  # download CLIP_ID --format F: the clip's prepared files
        from ._utilities import download_prepared

        return await download_prepared(ctx)
    ctx.args.out = ctx.args.out or "."  # None unless given: --format saves only with --out
    _no_emulator(ctx)
    _kinds(ctx.args.kinds)
    async with _client(ctx, MusicAPI) as api:
        snapshot = await _find_task(ctx, api)
        if not snapshot.done:
            return _error(
                ctx,
                f"task {snapshot.task_id} is not finished yet; wait for it "
                f"with: musicapi wait {snapshot.task_id}",
                1,
            )
        job = api.job(snapshot.task_id, snapshot.family)
        job.observe(snapshot)
        return await _finish(ctx, api, snapshot.task_id, job.result)


async def _credits(ctx: _Context) -> int:
    async with _client(ctx, MusicAPI) as api:
        credits = await api.get_credits()
    ctx.say(
        f"{credits.total} credits ({credits.credits} subscription, {credits.extra_credits} extra)"
    )
    ctx.result(
        {"credits": credits.credits, "extra_credits": credits.extra_credits, "total": credits.total}
    )
    return 0


async def _lyrics(ctx: _Context) -> int:
    async with _client(ctx, MusicAPI) as api:
        candidates = await api.lyrics.generate(description=ctx.args.description)
    for candidate in candidates:
        ctx.say(f"# {candidate.title}\n\n{candidate.lyrics}\n")
    ctx.result([{"title": c.title, "lyrics": c.lyrics} for c in candidates])
    return 0


async def _persona(ctx: _Context) -> int:
    args = ctx.args
    request = PersonaRequest(
        name=args.name,
        continue_clip_id=args.clip_id,
        description=args.description,
        styles=args.styles,
    )
    validate_body(endpoint_of(request), to_wire(request))
    async with _client(ctx, MusicAPI) as api:
        persona = await api.sonic.create_persona(
            name=args.name,
            continue_clip_id=args.clip_id,
            description=args.description,
            **({"styles": args.styles} if args.styles else {}),
        )
    ctx.say(
        f"Persona {persona.persona_id} created; use it with "
        f"--task-type persona_music --persona-id {persona.persona_id}"
    )
    ctx.result({"persona_id": persona.persona_id})
    return 0


async def _bulk(ctx: _Context) -> int:
    from ._bulk import bulk_command

    def on_interrupt(report: Callable[[], None]) -> None:
        ctx.on_interrupt = report

    if ctx.args.redis:  # [redis hook] a fleet run (``cli._fleet``)
        from ._fleet import fleet_command

        base_url = ctx.args.base_url or os.environ.get("MUSICAPI_BASE_URL") or DEFAULT_BASE_URL
        return await fleet_command(ctx.args, lambda c: _client(ctx, MusicAPI, c), base_url=base_url)
    where = (
        f"emulator at {ctx.speed:g}x speed"
        if ctx.args.emulator
        else (ctx.args.base_url or os.environ.get("MUSICAPI_BASE_URL") or "api.musicapi.ai")
    )
    return await bulk_command(
        ctx.args,
        lambda cls: _client(ctx, cls),
        where=where,
        resume=_shown_command(ctx.argv, ctx.args.api_key),
        on_interrupt=on_interrupt,
    )


async def _reconcile(ctx: _Context) -> int:
    from ._reconcile import reconcile_command

    return await reconcile_command(ctx.args, lambda cls: _client(ctx, cls))


_COMMANDS: Final[dict[str, Callable[[_Context], Coroutine[Any, Any, int]]]] = {
    "generate": _generate,
    "bulk": _bulk,
    "persona": _persona,
    "lyrics": _lyrics,
    "status": _status,
    "wait": _wait,
    "download": _download,
    "credits": _credits,
    "reconcile": _reconcile,
}
