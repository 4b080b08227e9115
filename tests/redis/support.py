"""A Redis server for the tests: the one in ``$MUSICAPI_TEST_REDIS_URL``, or a private one."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Final

import pytest

ENV: Final = "MUSICAPI_TEST_REDIS_URL"
HOW: Final = (
    "Redis tests need a Redis server: set MUSICAPI_TEST_REDIS_URL=redis://127.0.0.1:6379/15 "
    "(a spare db number) or install redis-server (apt-get install redis-server)"
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ping(url: str) -> bool:
    """Whether the Redis at ``url`` answers."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


class RedisProcess:
    """A private ``redis-server`` on a free port, with an append-only file, so that a test
    can stop it and start it again with its data."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip(HOW)
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it answers (it reloads what it had)."""
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "yes", "--appendfsync", "always", "--dir",
                str(self.directory)]  # fmt: skip
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 10
        while not ping(self.url):
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop it (SIGTERM: it syncs its append-only file first)."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            process.wait(10)


def shared_url(tmp_factory: pytest.TempPathFactory) -> tuple[str, RedisProcess | None]:
    """``$MUSICAPI_TEST_REDIS_URL``, else a private server, else skip."""
    url = os.environ.get(ENV)
    if url:
        if not ping(url):
            pytest.fail(f"{ENV}={url} does not answer")
        return url, None
    server = RedisProcess(tmp_factory.mktemp("redis"))
    server.start()
    return server.url, server


def delete_namespace(url: str, namespace: str) -> None:
    """Delete only the keys of ``namespace``: the server may be shared."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(match=f"{namespace}:*", count=1000):
            client.delete(key)
    finally:
        client.close()
