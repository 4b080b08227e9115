"""The Redis connection behind ``RedisCoordination``, and its errors made typed.

redis-py is imported here, lazily (only when a coordination is opened), so that
``import musicapi_async`` works without it installed.
"""

from __future__ import annotations

import contextlib
import functools
import json
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from .._convert import clip_to_wire, structure_open
from .._errors import CoordinationError
from .._models import Clip, ClipPair, Family, TaskSnapshot

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["connect", "describe_url", "guarded", "snapshot_from_json", "snapshot_to_json"]

_INSTALL: Final = "Redis coordination needs redis-py: pip install 'musicapi-async[redis]'"


def describe_url(url: str) -> str:
    """``url`` without its password, for messages and reprs."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@functools.cache
def _driver() -> dict[str, Any]:
    """The ``CLIENT SETINFO`` names, worked out once per process (redis-py >= 7).

    Left to itself, redis-py reads its own package metadata (an e-mail header parse,
    about a millisecond) for every connection it opens; a fleet process opens a dozen
    at its first burst of creates, so each process paid for it again.
    """
    try:
        from redis.driver_info import DriverInfo
    except ImportError:  # an older redis-py: it reads its version once on import
        return {}
    from .._version import __version__

    return {"driver_info": DriverInfo().add_upstream_driver("musicapi-async", __version__)}


def connect(url: str, *, timeout: float, max_connections: int = 8) -> Redis:
    """A client for ``url`` that gives up fast: a dead Redis must fail closed, not hang.

    Its pool blocks (up to ``timeout``) when all ``max_connections`` are busy, so that
    thousands of waiting jobs share a few connections instead of failing. A command
    holds its connection for one round trip (well under a millisecond on a LAN), so a
    few connections carry thousands of commands a second; each one more costs a
    connect and a handshake, paid by every process of a fleet at its first burst.
    """
    try:
        from redis.asyncio import BlockingConnectionPool, Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
    except ImportError as exc:  # pragma: no cover - the test environment has it
        raise ImportError(_INSTALL) from exc

    # One quick retry absorbs a dropped idle connection; every command used is safe to
    # repeat (claims are NX, transitions are checked, a token taken twice only slows).
    # No health-check PING before commands (one more round trip on every new connection
    # and on one idle for 10 s): that retry covers a dead connection, and the snapshot
    # listener pings its own when it has been quiet.
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=timeout, socket_timeout=timeout,
        socket_connect_timeout=timeout, retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
        **_driver())  # fmt: skip
    return Redis.from_pool(pool)


@contextlib.contextmanager
def guarded(url: str, doing: str, *, task_id: str | None = None) -> Iterator[None]:
    """Turn any Redis failure inside the block into ``CoordinationError``."""
    from redis.exceptions import RedisError

    try:
        yield
    except (RedisError, OSError) as exc:
        kept = f"; task {task_id} was accepted: keep its id" if task_id else ""
        raise CoordinationError(
            f"Redis at {describe_url(url)} failed while {doing} "
            f"({type(exc).__name__}: {exc}){kept}",
            task_id=task_id,
        ) from exc


def snapshot_to_json(snapshot: TaskSnapshot) -> str:
    """A snapshot as JSON text, clips as the API sent them."""
    data: dict[str, Any] = {
        "task_id": snapshot.task_id,
        "family": snapshot.family.value,
        "ready": snapshot.ready,
        "status": snapshot.status,
        "progress": snapshot.progress,
        "message": snapshot.message,
        "extra": dict(snapshot.extra),
        "clips": [clip_to_wire(c) for c in snapshot.clips],
    }
    if snapshot.pairs:  # upload-extend with auto_concat: kept, or a peer sees it done early
        data["pairs"] = [{**p.extra, "extended": clip_to_wire(p.extended),
                          "full": None if p.full is None else clip_to_wire(p.full)}
                         for p in snapshot.pairs]  # fmt: skip
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


def snapshot_from_json(text: str | bytes) -> TaskSnapshot:
    """The snapshot ``snapshot_to_json`` wrote."""
    data = json.loads(text)
    return TaskSnapshot(
        task_id=data["task_id"],
        family=Family(data["family"]),
        clips=tuple(structure_open(c, Clip) for c in data["clips"]),
        ready=data["ready"],
        status=data["status"],
        progress=data["progress"],
        message=data["message"],
        extra=data["extra"],
        pairs=tuple(_pair(p) for p in data.get("pairs", ())),
    )


def _pair(data: dict[str, Any]) -> ClipPair:
    full = data["full"]
    extra = {k: v for k, v in data.items() if k not in ("extended", "full")}
    return ClipPair(extended=structure_open(data["extended"], Clip),
                    full=None if full is None else structure_open(full, Clip),
                    extra=extra)  # fmt: skip
