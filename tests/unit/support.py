"""Shared helpers for the unit tests: golden bodies, a routing fake server, secret checks."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TypeVar

import anyio.lowlevel
import pytest

from musicapi_async import (
    Governor,
    HttpRequest,
    HttpResponse,
    MockTransport,
    MusicAPI,
    PollPolicy,
    RetryPolicy,
)

DATA: Final = Path(__file__).resolve().parent.parent / "data"

# An API key that must never show up in any repr, message or request the SDK builds.
SECRET: Final = "sk-secret-7f3a9c1e5b2d4f6a8c0e2b4d6f8a0c2e"

# Polls as fast as possible so that waits finish in milliseconds.
FAST_POLL: Final = PollPolicy(initial_delay=0, min_interval=0.001, max_interval=0.002)

E = TypeVar("E", bound=BaseException)

Answer = HttpResponse | BaseException


def golden_bytes(name: str) -> bytes:
    """The raw bytes of ``tests/data/<name>``."""
    return (DATA / name).read_bytes()


def golden(name: str) -> Any:
    """The decoded JSON of ``tests/data/<name>``."""
    return json.loads(golden_bytes(name))


def reply(
    body: bytes | str | Mapping[str, Any] | list[Any],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """An ``HttpResponse``: a mapping/list body is JSON-encoded, a str is a golden file."""
    if isinstance(body, str):
        raw = golden_bytes(body)
    elif isinstance(body, bytes):
        raw = body
    else:
        raw = json.dumps(body).encode()
    return HttpResponse(status, dict(headers or {}), raw)


def sent_json(request: HttpRequest) -> Any:
    """The JSON body of a request the client sent."""
    assert request.body is not None, f"{request.method} {request.path} had no body"
    return json.loads(request.body)


class FakeServer:
    """A fake MusicAPI: answers ``(method, path)`` from queues; the last answer repeats.

    An answer may be an exception, which the handler raises (``TransportFailure``).
    A request to a route that was not set up fails the test.
    """

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], deque[Answer]] = {}
        self.transport = MockTransport(self._handle)
        # One try per call: these tests pin what each answer maps to, not the retries
        # (tests/unit/test_client_retries.py covers those).
        # No create pacing: these tests send creates back to back on a fake server (the
        # pacing itself is covered in test_governor.py and test_client_retries.py).
        self.api = MusicAPI(api_key=SECRET, transport=self.transport, poll=FAST_POLL,
                            retry=RetryPolicy(attempts=1),
                            governor=Governor.unlimited())  # fmt: skip

    def on(self, method: str, path: str, *answers: Answer) -> None:
        """Answer ``method path`` with ``answers`` in turn, then keep repeating the last."""
        self._routes[(method, path)] = deque(answers)

    @property
    def requests(self) -> list[HttpRequest]:
        """Every request the client sent, in order."""
        return self.transport.requests

    def _handle(self, request: HttpRequest) -> HttpResponse:
        queue = self._routes.get((request.method, request.path))
        if not queue:
            raise AssertionError(f"unexpected request {request.method} {request.path}")
        answer = queue.popleft() if len(queue) > 1 else queue[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer


def assert_no_secret(exc: BaseException) -> None:
    """Neither the exception, its attributes nor its causes show the API key."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for text in (str(current), repr(current), repr(vars(current))):
            assert SECRET not in text, f"the API key leaked through {type(current).__name__}"
        current = current.__cause__ or current.__context__


@contextmanager
def raises(kind: type[E], match: str | None = None) -> Iterator[pytest.ExceptionInfo[E]]:
    """``pytest.raises`` that also checks the raised error does not show the API key."""
    with pytest.raises(kind, match=match) as info:
        yield info
    assert_no_secret(info.value)


class FakeTime:
    """A clock that only moves when the governor sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()
