"""The CLI's argument parser: the global options and every subcommand's arguments.

Separate from ``_main`` because it is a long, declarative table that changes whenever a
command gains an option, while the entry point around it rarely changes.
"""

from __future__ import annotations

import argparse
import typing
from collections.abc import Callable
from typing import Any

import attrs

from musicapi_async import Family, SonicRequest, SonicTaskType, __version__

from ._context import EMULATOR_SPEED

__all__ = ["build_parser"]


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
