"""One CLI invocation's context: its options, its output, its usage errors and its client.

Kept apart from ``_main`` (the entry point) and ``_commands`` (what each command does)
because both of them, and ``_utilities``, build on it: a leaf module, so none of them
import one another in a circle.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from musicapi_async import MusicAPI, PollPolicy

if TYPE_CHECKING:
    from musicapi_async import RedisCoordination

__all__ = ["EMULATOR_SPEED"]


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
