"""``python -m musicapi_async.emulator``: run the MusicAPI emulator until Ctrl-C.

python -m musicapi_async.emulator --port 8000 --api-key KEY --speed 30 --credits 1000
python -m musicapi_async.emulator --fault server_500,endpoint=sonic.task,count=3 --seed 7
python -m musicapi_async.emulator --fault qps_403,probability=0.1,count=none --banned-words X
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from typing import Any

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
    add(
        "--port",
        type=int,
        default=8000,
        help="port to bind; 0 picks a free one (default: %(default)s)",
    )
    add("--api-key", default="test-key", help="the key clients must send (default: %(default)s)")
    add(
        "--speed",
        type=float,
        default=DEFAULT_SPEED,
        help="emulated seconds per wall "
        "second, announced to clients in the X-Emulator-Speed header (default: "
        "%(default)g)",
    )
    add("--credits", type=int, default=1000, help="subscription credits (default: %(default)s)")
    add("--extra-credits", type=int, default=0, help="one-time credits, spent first")
    add("--lyrics-credits", type=int, default=100, help="lyrics credit pool (default: %(default)s)")
    add("--failure-rate", type=float, default=0.0, help="chance a task fails (0-1)")
    add(
        "--seed",
        type=int,
        default=None,
        help="seed of every random choice, for a "
        "repeatable run (default: a fresh one, so task ids never repeat across runs)",
    )
    add(
        "--create-interval",
        type=float,
        default=DEFAULT_CREATE_INTERVAL,
        metavar="SECONDS",
        help="emulated seconds between creates per key, as the API documents; faster ones "
        "get 429 (default: %(default)g; 0 turns it off)",
    )
    add(
        "--no-create-limit",
        dest="create_interval",
        action="store_const",
        const=0.0,
        help="accept creates as fast as they come (a kinder world than the real API)",
    )
    add("--lenient", action="store_true", help="accept unknown request keys and models")
    add("--no-webhooks", action="store_true", help="never deliver webhooks")
    add(
        "--retire-nuro",
        action="store_true",
        help="answer nuro create and get with 410 Gone, "
        "as the newest docs do (to test a migration to sonic and producer)",
    )
    _add_fault_options(parser)
    return parser


def _fault(text: str) -> Any:
    from ._faults import parse_fault  # lazy: --help stays instant

    try:
        return parse_fault(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",") if w.strip())


def _add_fault_options(parser: argparse.ArgumentParser) -> None:
    """Faults and content rules: everything ``Emulator(...)`` can inject, as flags."""
    group = parser.add_argument_group("faults and moderation (all answers are the documented ones)")
    add = group.add_argument
    add(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="KIND[,KEY=VALUE...]",
        help="inject a fault, e.g. --fault server_500,endpoint=sonic.create,count=2 or "
        "--fault qps_403,probability=0.1,count=none; repeatable. Kinds: rate_limit_429, "
        "qps_403, queue_full_403, usage_limit_403, server_500, system_error_500, "
        "algorithm_error_500, semantic_error_500, gateway_html_502, invalid_signature_401, "
        "auth_expired_401, language_400, lyrics_format_403, copyright_403, "
        "moderation_review_403, producer_tags_403, slow, malformed_json, reset, "
        "accept_then_drop. Keys: endpoint, count, probability, after, delay, retry_after",
    )
    add(
        "--banned-words",
        type=_words,
        default=(),
        metavar="W1,W2",
        help="words moderation refuses (inappropriate lyrics / artist names)",
    )
    add(
        "--copyrighted",
        type=_words,
        default=(),
        metavar="P1,P2",
        help="phrases whose presence in lyrics is refused as copyrighted content",
    )
    add(
        "--producer-tags",
        type=_words,
        default=(),
        metavar="W1,W2",
        help="words whose presence in a description is refused as producer tags",
    )
    add(
        "--review-words",
        type=_words,
        default=(),
        metavar="W1,W2",
        help="words that send a description to moderation review (refused)",
    )
    add(
        "--failure-style",
        choices=["clips", "http_504"],
        default="clips",
        help="failed tasks show failed clips, or their polls answer the documented 504 "
        "(default: %(default)s)",
    )
    add(
        "--rate-limit-status",
        type=int,
        choices=[429, 403],
        default=429,
        help="the answer to a too-fast create: 429, or 403 API QPS limit exceeded",
    )
    add(
        "--not-ready-status",
        type=int,
        choices=[200, 202],
        default=202,
        help="HTTP status of a not-ready poll (default: %(default)s)",
    )
    add("--webhook-duplicates", action="store_true", help="deliver every webhook twice")


def _fault_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """``Emulator(...)`` keyword arguments from ``_add_fault_options``' flags."""
    return {
        "faults": args.fault,
        "banned_words": args.banned_words,
        "copyrighted": args.copyrighted,
        "producer_tags": args.producer_tags,
        "review_words": args.review_words,
        "failure_style": args.failure_style,
        "rate_limit_status": args.rate_limit_status,
        "not_ready_status": args.not_ready_status,
        "webhook_duplicates": args.webhook_duplicates,
        "retire_nuro": args.retire_nuro,
    }


async def _serve(args: argparse.Namespace) -> None:
    from ._emulator import Emulator  # lazy: --help stays instant

    emulator = Emulator(
        args.api_key,
        speed=args.speed,
        credits=args.credits,
        extra_credits=args.extra_credits,
        lyrics_credits=args.lyrics_credits,
        failure_rate=args.failure_rate,
        seed=args.seed,
        create_interval=args.create_interval,
        strict=not args.lenient,
        webhooks=not args.no_webhooks,
        host=args.host,
        port=args.port,
        **_fault_kwargs(args),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows has no signal handlers
            loop.add_signal_handler(sig, stop.set)
    async with emulator:
        print(f"MusicAPI emulator listening on {emulator.url}", flush=True)
        print(f"API key: {emulator.api_key}", flush=True)
        print(
            f"Speed: {args.speed:g}x; control surface: {emulator.url}/_emulator/stats; "
            "press Ctrl-C to stop.",
            flush=True,
        )
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
