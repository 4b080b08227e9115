"""Webhooks (§9): signed deliveries to a loopback receiver, refusals, duplicates."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from musicapi_async._signing import sign_webhook

from .support import LONG, NURO_VOCAL, SONG, serve

pytestmark = pytest.mark.anyio

SECRET = "whsec-test"


class Receiver:
    """A loopback webhook endpoint that records what it was sent."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        return web.Response(status=self.status)

    def events(self) -> list[str]:
        return [headers["X-Webhook-Event"] for headers, _ in self.received]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    """A running receiver and its URL."""
    recorder = Receiver()
    app = web.Application()
    app.router.add_post("/hook", recorder.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield recorder, str(server.make_url("/hook"))
    finally:
        await server.close()


def _verify(headers: dict[str, str], body: bytes, secret: str = SECRET) -> dict[str, Any]:
    timestamp = headers["X-Webhook-Timestamp"]
    assert headers["X-Webhook-Signature"] == sign_webhook(secret, timestamp, body)
    assert abs(int(timestamp) - time.time()) < 60
    assert headers["X-Webhook-Id"] == headers["Idempotency-Key"]
    payload: dict[str, Any] = json.loads(body)
    return payload


async def test_streaming_then_completed_signed(receiver: tuple[Receiver, str]) -> None:
    """A sonic task with a webhook gets song.streaming then song.completed, both verifiable."""
    recorder, url = receiver
    async with serve() as api:
        task_id = await api.create({**SONG, "webhook_url": url, "webhook_secret": SECRET})
        api.emulator.advance(LONG)
        await api.emulator.drain_webhooks()
        assert recorder.events() == ["song.streaming", "song.completed"]
        ids = set()
        for headers, body in recorder.received:
            payload = _verify(headers, body)
            assert (payload["code"], payload["task_id"], payload["platform"]) == (
                200,
                task_id,
                "suno",
            )
            assert len(payload["data"]) == 2
            ids.add(headers["X-Webhook-Id"])
        assert len(ids) == 2
        final = json.loads(recorder.received[-1][1])
        assert {c["state"] for c in final["data"]} == {"succeeded"}
        assert api.emulator.stats.webhooks["delivered"] == 2


async def test_failed_event_and_default_secret(receiver: tuple[Receiver, str]) -> None:
    """A failing task sends song.failed; without a secret the emulator's default signs."""
    recorder, url = receiver
    async with serve(webhook_secret="default-secret") as api:
        api.emulator.fail_next()
        await api.create({**SONG, "webhook_url": url})
        api.emulator.advance(LONG)
        await api.emulator.drain_webhooks()
        assert recorder.events() == ["song.failed"]
        headers, body = recorder.received[0]
        payload = _verify(headers, body, "default-secret")
        assert payload["message"].startswith("Task failed")


async def test_nuro_webhook_is_flat_with_audio_url(receiver: tuple[Receiver, str]) -> None:
    """Nuro webhooks carry the flat task object with a top-level ``audio_url``."""
    recorder, url = receiver
    async with serve() as api:
        task_id = await api.create({**NURO_VOCAL, "webhook_url": url}, "nuro.create")
        api.emulator.advance(LONG)
        await api.emulator.drain_webhooks()
        assert recorder.events() == ["song.completed"]
        payload = json.loads(recorder.received[0][1])
        assert payload["task_id"] == task_id
        assert payload["platform"] == "nuro"
        assert payload["audio_url"].endswith(".wav")


async def test_duplicates_repeat_the_same_delivery(receiver: tuple[Receiver, str]) -> None:
    """With ``webhook_duplicates`` each delivery arrives twice, identical, same id."""
    recorder, url = receiver
    async with serve(webhook_duplicates=True) as api:
        api.emulator.fail_next()
        await api.create({**SONG, "webhook_url": url})
        api.emulator.advance(LONG)
        await api.emulator.drain_webhooks()
        assert len(recorder.received) == 2
        assert recorder.received[0] == recorder.received[1]
        assert api.emulator.stats.webhooks["duplicates"] == 1


async def test_non_loopback_targets_are_refused(receiver: tuple[Receiver, str]) -> None:
    """A ``webhook_url`` off this machine is accepted on create but never contacted."""
    async with serve() as api:
        await api.create({**SONG, "webhook_url": "https://hooks.example.com/musicapi"})
        api.emulator.advance(LONG)
        await api.emulator.drain_webhooks()
        assert api.emulator.stats.webhooks == {"refused": 1}
        (delivery,) = api.emulator.webhook_deliveries
        assert delivery.status is None
        assert delivery.error
        assert "loopback" in delivery.error


async def test_disabled_webhooks_send_nothing(receiver: tuple[Receiver, str]) -> None:
    """``webhooks=False`` sends nothing."""
    recorder, url = receiver
    async with serve(webhooks=False) as api:
        await api.create({**SONG, "webhook_url": url})
        api.emulator.advance(LONG)
        await api.emulator.drain_webhooks()
        assert recorder.received == []
        assert api.emulator.stats.webhooks == {}


async def test_receiver_errors_are_recorded(receiver: tuple[Receiver, str]) -> None:
    """A receiver answering 500 is recorded as a failed delivery."""
    recorder, url = receiver
    recorder.status = 500
    async with serve() as api:
        api.emulator.fail_next()
        await api.create({**SONG, "webhook_url": url})
        api.emulator.advance(LONG)
        await api.emulator.drain_webhooks()
        assert api.emulator.stats.webhooks["failed"] == 1
        assert api.emulator.webhook_deliveries[-1].status == 500


async def test_webhooks_fire_on_the_running_clock(receiver: tuple[Receiver, str]) -> None:
    """At high speed deliveries arrive without ``advance``: the scheduler sleeps until due."""
    recorder, url = receiver
    async with serve(speed=3000) as api:
        await api.create({**NURO_VOCAL, "webhook_url": url}, "nuro.create")
        for _ in range(200):
            if recorder.received:
                break
            await anyio.sleep(0.01)
        assert recorder.events() == ["song.completed"]
