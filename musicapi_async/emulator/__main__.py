"""``python -m musicapi_async.emulator``: run the MusicAPI emulator until Ctrl-C.

python -m musicapi_async.emulator --port 8000 --api-key KEY --speed 30 --credits 1000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from ._clock import DEFAULT_CREATE_INTERVAL, DEFAULT_SPEED

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The command line of the emulator (the SDK's CLI reuses it)."""
    parser = argparse.ArgumentParser(
        prog="python -m musicapi_async.emulator",
        description="Serve a local emulation of MusicAPI (musicapi.ai) for development "
        "and tests. No credits are spent and nothing leaves this machine.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    add("--port", type=int, default=8000, help="port to bind; 0 picks a free one "
        "(default: %(default)s)")  # fmt: skip
    add("--api-key", default="test-key", help="the key clients must send (default: %(default)s)")
    add("--speed", type=float, default=DEFAULT_SPEED, help="emulated seconds per wall "
        "second, announced to clients in the X-Emulator-Speed header (default: "
        "%(default)g)")  # fmt: skip
    add("--credits", type=int, default=1000, help="subscription credits (default: %(default)s)")
    add("--extra-credits", type=int, default=0, help="one-time credits, spent first")
    add("--lyrics-credits", type=int, default=100, help="lyrics credit pool "
        "(default: %(default)s)")  # fmt: skip
    add("--failure-rate", type=float, default=0.0, help="chance a task fails (0-1)")
    add("--seed", type=int, default=0, help="seed of every random choice")
    add("--create-interval", type=float, default=DEFAULT_CREATE_INTERVAL, metavar="SECONDS",
        help="emulated seconds between creates per key, as the API documents; faster ones "
        "get 429 (default: %(default)g; 0 turns it off)")  # fmt: skip
    add(
        "--no-create-limit",
        dest="create_interval",
        action="store_const",
        const=0.0,
        help="accept creates as fast as they come (a kinder world than the real API)",
    )
    add("--lenient", action="store_true", help="accept unknown request keys and models")
    add("--no-webhooks", action="store_true", help="never deliver webhooks")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    from ._emulator import Emulator  # lazy: --help stays instant

    emulator = Emulator(args.api_key, speed=args.speed, credits=args.credits,
                        extra_credits=args.extra_credits, lyrics_credits=args.lyrics_credits,
                        failure_rate=args.failure_rate, seed=args.seed,
                        create_interval=args.create_interval, strict=not args.lenient,
                        webhooks=not args.no_webhooks, host=args.host,
                        port=args.port)  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows has no signal handlers
            loop.add_signal_handler(sig, stop.set)
    async with emulator:
        print(f"MusicAPI emulator listening on {emulator.url}", flush=True)
        print(f"API key: {emulator.api_key}", flush=True)
        print(f"Speed: {args.speed:g}x; control surface: {emulator.url}/_emulator/stats; "
              "press Ctrl-C to stop.", flush=True)  # fmt: skip
        await stop.wait()
    print("Emulator stopped.", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until Ctrl-C or SIGTERM; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        return 130
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
