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

import asyncio
import logging
import sys
import typing
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, Final

from musicapi_async import AuthenticationError, InvalidRequest, MusicAPIError

from ._commands import _COMMANDS
from ._context import EMULATOR_SPEED as EMULATOR_SPEED  # the old path (tests)
from ._context import _Context, _error, _Usage
from ._context import _shown_command as _shown_command  # the old path (tests)
from ._parser import build_parser

__all__ = ["build_parser", "main"]

# The demo input ships in the wheel, so `musicapi demo` works wherever the package does.
DEMO_FILE: Final = Path(__file__).parent.with_name("_data") / "demo.jsonl"
NEEDS_RICH: Final = (
    "this command draws with rich, which is not installed: pip install 'musicapi-async[cli]'"
)


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
