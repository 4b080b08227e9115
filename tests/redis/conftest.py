"""Fixtures of the Redis tests: a reachable server and a namespace of one's own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from .support import HOW, delete_namespace, shared_url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis URL: ``$MUSICAPI_TEST_REDIS_URL``, or a private ``redis-server``."""
    pytest.importorskip("redis", reason=f"redis-py is not installed (the test extra). {HOW}")
    url, server = shared_url(tmp_path_factory)
    try:
        yield url
    finally:
        if server is not None:
            server.stop()


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    """A fresh key prefix for one test; its keys (and only them) are deleted after it."""
    name = f"musicapi-test-{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        delete_namespace(redis_url, name)
