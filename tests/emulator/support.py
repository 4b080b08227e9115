"""Helpers of the emulator tests: raw HTTP calls (no SDK client) and request bodies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

import aiohttp
import attrs

from musicapi_async._endpoints import ENDPOINTS
from musicapi_async._protocol import HttpResponse, parse_response
from musicapi_async.emulator import Emulator

# Enough emulated time for any task to end (sonic tasks take at most ~4 minutes).
LONG: Final = 3600.0

SONG: Final[Mapping[str, Any]] = {
    "custom_mode": True,
    "mv": "sonic-v4",
    "title": "Stars",
    "tags": "pop",
    "prompt": "[Verse]\nStars they shine above me",
}
DESCRIBED: Final[Mapping[str, Any]] = {
    "custom_mode": False,
    "mv": "sonic-v5",
    "gpt_description_prompt": "A calm and relaxing piano track about rain",
}
NURO_VOCAL: Final[Mapping[str, Any]] = {"type": "vocal", "lyrics": "[verse]\nhello sky"}
NURO_BGM: Final[Mapping[str, Any]] = {
    "type": "bgm",
    "description": "calm lo-fi beat",
    "genre": ["ambient"],
    "duration": 30,
}
STUDIO: Final[Mapping[str, Any]] = {
    "prompt": "jazz, bossa nova",
    "lyrics_type": "generate",
    "model_type": "studio32-v1.5",
    "prompt_strength": 0.5,
    "clarity_strength": 0.25,
    "lyrics_strength": 0.5,
    "generation_quality": 0.75,
    "config": {"mode": "regular"},
}

_DEFAULT: Final = object()


@attrs.frozen
class Answer:
    """One HTTP answer as received."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)

    @property
    def message(self) -> Any:
        """The ``message`` of a JSON error body."""
        return self.json["message"]

    def parsed(self, endpoint: str, task_id: str | None = None) -> Any:
        """What the SDK's sans-I/O parser makes of this answer (or raises)."""
        return parse_response(
            ENDPOINTS[endpoint], HttpResponse(self.status, self.headers, self.body), task_id=task_id
        )


class Client:
    """Raw calls to an emulator, so the HTTP contract is tested without the SDK client."""

    def __init__(self, session: aiohttp.ClientSession, emulator: Emulator) -> None:
        self.session = session
        self.emulator = emulator

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        data: bytes | None = None,
        key: Any = _DEFAULT,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one request to the emulator and read the whole answer."""
        sent = dict(headers or {})
        if key is _DEFAULT:
            key = self.emulator.api_key
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        url = path if path.startswith("http") else self.emulator.url + path
        async with self.session.request(method, url, data=data, headers=sent) as response:
            lowered = {k.lower(): v for k, v in response.headers.items()}
            return Answer(response.status, lowered, await response.read())

    async def call(
        self, endpoint: str, body: Any = None, *, task_id: str | None = None, key: Any = _DEFAULT
    ) -> Answer:
        """Call an ``ENDPOINTS`` row by name."""
        ep = ENDPOINTS[endpoint]
        return await self.request(ep.method, ep.url_path(task_id), body=body, key=key)

    async def create(self, body: Mapping[str, Any] = SONG, endpoint: str = "sonic.create") -> str:
        """Submit a generation and return its task id."""
        answer = await self.call(endpoint, dict(body))
        assert answer.status == 200, answer.body
        accepted = answer.parsed(endpoint)
        return str(accepted.task_id)

    async def poll(self, task_id: str, endpoint: str = "sonic.task") -> Answer:
        """Poll a task."""
        return await self.call(endpoint, task_id=task_id)

    async def finished_clips(self, task_id: str) -> list[dict[str, Any]]:
        """Jump past the end of a sonic task and return its clips."""
        self.emulator.advance(LONG)
        answer = await self.poll(task_id)
        assert answer.status == 200, answer.body
        return list(answer.json["data"])

    async def control(self, method: str, path: str, body: Any = None) -> Answer:
        """Call the ``/_emulator`` control surface."""
        return await self.request(method, "/_emulator" + path, body=body, key=None)


@asynccontextmanager
async def serve(**kwargs: Any) -> AsyncIterator[Client]:
    """A running emulator (``speed=0`` unless given: only ``advance`` moves time).

    With time stopped the documented create pace (one per 3 emulated seconds) would refuse
    every create after the first, so it is off unless a test asks for it (test_faults).
    """
    kwargs.setdefault("speed", 0)
    kwargs.setdefault("create_interval", None)
    async with Emulator(**kwargs) as emulator, aiohttp.ClientSession() as session:
        yield Client(session, emulator)
