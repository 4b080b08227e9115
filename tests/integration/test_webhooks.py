"""Webhooks: verification, and push delivery resolving jobs against the emulator."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import aiohttp
import pytest
from aiohttp import web

from musicapi_async import (
    ClipPlayable,
    MusicAPI,
    PollPolicy,
    SonicRequest,
    TaskDone,
    WebhookDeduplicator,
    WebhookVerificationError,
    verify_webhook,
)
from musicapi_async._signing import sign_webhook
from musicapi_async.emulator import Emulator

SECRET = "whsec-test"
SPEED = 600.0
BODY = json.dumps(
    {
        "code": 200,
        "task_id": "task-1",
        "platform": "suno",
        "data": [
            {
                "clip_id": "c1",
                "state": "succeeded",
                "audio_url": "https://x/c1.mp3",
                "duration": "104.88",
                "mv": "chirp-v5",
            },
            {
                "clip_id": "c2",
                "state": "succeeded",
                "audio_url": "https://x/c2.mp3",
                "duration": 99,
            },
        ],
    }
).encode()


def signed(body: bytes = BODY, *, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    stamp = str(int(time.time() if at is None else at))
    return {
        "X-Webhook-Id": "evt-1",
        "Idempotency-Key": "evt-1",
        "X-Webhook-Event": "song.completed",
        "X-Webhook-Timestamp": stamp,
        "X-Webhook-Signature": sign_webhook(secret, stamp, body),
    }


def test_valid_delivery_parses_into_clips() -> None:
    """A correctly signed delivery yields its task id and the same Clip models as a poll."""
    event = verify_webhook(BODY, signed(), SECRET)
    assert event.event_id == "evt-1"
    assert event.kind == "completed"
    assert event.task_id == "task-1"
    assert event.snapshot.done
    assert [c.duration for c in event.snapshot.clips] == [104.88, 99.0]
    assert event.snapshot.clips[0].mv == "chirp-v5"


def test_headers_are_case_insensitive() -> None:
    """Lower-case header names (as some frameworks give them) verify the same."""
    headers = {k.lower(): v for k, v in signed().items()}
    assert verify_webhook(BODY, headers, SECRET).task_id == "task-1"


@pytest.mark.parametrize(
    ("body", "headers", "secret", "reason"),
    [
        (BODY.replace(b"c1", b"c9"), signed(), SECRET, "signature"),
        (BODY, signed(secret="other"), SECRET, "signature"),
        (BODY, signed(at=time.time() - 3600), SECRET, "tolerance"),
        (BODY, {k: v for k, v in signed().items() if "Signature" not in k}, SECRET, "no sig"),
        (BODY, {k: v for k, v in signed().items() if "Timestamp" not in k}, SECRET, "Timestamp"),
        (BODY, {k: v for k, v in signed().items() if "Id" not in k and "Idem" not in k}, SECRET,
         "X-Webhook-Id"),
        (b"not json", signed(b"not json"), SECRET, "JSON"),
        (b'{"code": 200}', signed(b'{"code": 200}'), SECRET, "task_id"),
        (BODY, signed(), "", "secret"),
    ],
    ids=["tampered", "wrong-secret", "stale", "no-signature", "no-timestamp", "no-id",
         "not-json", "no-task", "no-secret"],
)  # fmt: skip
def test_bad_deliveries_are_rejected(
    body: bytes, headers: Mapping[str, str], secret: str, reason: str
) -> None:
    """Tampered bodies, wrong secrets, stale timestamps and missing headers are refused."""
    with pytest.raises(WebhookVerificationError) as caught:
        verify_webhook(body, headers, secret)
    assert SECRET not in str(caught.value)


def test_legacy_body_only_signature_is_accepted_only_when_opted_in() -> None:
    """The older scheme (X-Signature = HMAC of the raw body) verifies only on opt-in."""
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    headers = {"X-Signature": digest, "X-Webhook-Id": "evt-2"}
    with pytest.raises(WebhookVerificationError, match="legacy_signatures=True") as refused:
        verify_webhook(BODY, headers, SECRET)
    assert refused.value.reply_status == 401
    assert verify_webhook(BODY, headers, SECRET, legacy_signatures=True).timestamp is None
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY + b" ", headers, SECRET, legacy_signatures=True)


@pytest.mark.parametrize("stamp", ["\u00b2", "9" * 400, "-5", "12.5", "", "\u0661\u0662"])
def test_malformed_timestamps_are_a_typed_400(stamp: str) -> None:
    """A non-ASCII-digit or huge X-Webhook-Timestamp is a WebhookVerificationError (400)."""
    headers = {**signed(), "X-Webhook-Timestamp": stamp}
    with pytest.raises(WebhookVerificationError) as caught:
        verify_webhook(BODY, headers, SECRET)
    assert caught.value.reply_status == 400


def test_deeply_nested_signed_body_is_a_typed_400() -> None:
    """A correctly signed body of deeply nested JSON is refused, not a RecursionError."""
    for body in (
        b"[" * 1000 + b"]" * 1000,
        b'{"task_id": "t", "data": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    ):
        with pytest.raises(WebhookVerificationError) as caught:
            verify_webhook(body, signed(body), SECRET)
        assert caught.value.reply_status == 400


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    """The depth check skips strings: a title full of brackets still verifies."""
    data = json.loads(BODY)
    data["data"][0]["title"] = '[[[[{{{{\\"' * 50
    body = json.dumps(data).encode()
    assert (
        verify_webhook(body, signed(body), SECRET).snapshot.clips[0].title
        == data["data"][0]["title"]
    )


def test_replay_under_a_new_webhook_id_is_recognised() -> None:
    """A captured delivery re-sent with a fresh, unsigned X-Webhook-Id is a duplicate."""
    dedupe = WebhookDeduplicator()
    original = signed()
    replay = {**original, "X-Webhook-Id": "evt-forged", "Idempotency-Key": "evt-forged"}
    first = verify_webhook(BODY, original, SECRET)
    again = verify_webhook(BODY, replay, SECRET)
    assert first.signed_digest == again.signed_digest
    assert dedupe.seen_event(first) is False
    assert dedupe.seen_event(again) is True
    # MusicAPI's own retry: same id, signed afresh later, is a duplicate too.
    retry = {**signed(at=time.time() + 5)}
    assert dedupe.seen_event(verify_webhook(BODY, retry, SECRET)) is True


def test_deduplicator_remembers_a_bounded_number_of_ids() -> None:
    """A repeated id is reported once seen; the oldest ids are forgotten past the bound."""
    dedupe = WebhookDeduplicator(size=2)
    assert [dedupe.seen(i) for i in ("a", "a", "b", "c")] == [False, True, False, False]
    assert dedupe.seen("a") is False


class Receiver:
    """A loopback aiohttp server whose /hook route calls ``handler`` (set by each test)."""

    def __init__(self) -> None:
        self.calls = 0
        self.url = ""
        self.handler: Callable[[web.Request], Awaitable[web.StreamResponse]] | None = None

    async def hook(self, request: web.Request) -> web.StreamResponse:
        self.calls += 1
        assert self.handler is not None
        return await self.handler(request)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A running Receiver on a free loopback port."""
    target = Receiver()
    app = web.Application()
    app.router.add_post("/hook", target.hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    target.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield target
    finally:
        await runner.cleanup()


def songs(count: int) -> list[SonicRequest]:
    return [SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt=f"s{i}")
            for i in range(count)]  # fmt: skip


async def run_batch(emu: Emulator, receiver: Receiver, count: int, speed: float) -> list[str]:
    policy = PollPolicy().scaled(speed)
    async with MusicAPI(emu.api_key, base_url=emu.url, poll=policy, webhook_url=receiver.url,
                        webhook_secret=SECRET) as api:  # fmt: skip
        receiver.handler = api.webhook_handler()
        return [o.task_id async for o in api.generate_many(songs(count), concurrency=count)
                if o.ok and o.task_id]  # fmt: skip


@pytest.mark.anyio
async def test_webhooks_resolve_200_jobs_with_almost_no_polls(receiver: Receiver) -> None:
    """200 jobs complete through webhooks, each once, at <= 0.2 polls per job."""
    # 120x, not faster: the emulator, the client and the receiver share one loop here, and
    # 400 deliveries must not take longer (in emulated time) than a real network would.
    async with Emulator(speed=120, credits=100_000, webhook_duplicates=True) as emu:
        done = await run_batch(emu, receiver, 200, 120)
        polls = emu.stats.requests.get("sonic.task", 0)
    assert len(done) == 200
    assert len(set(done)) == 200
    assert polls / 200 <= 0.2
    assert receiver.calls >= 400  # every event arrived twice


@pytest.mark.anyio
async def test_lost_webhooks_are_caught_by_the_safety_net(receiver: Receiver) -> None:
    """With the emulator sending no webhooks, the same batch completes through slow polls."""
    async with Emulator(speed=SPEED, credits=100_000, webhooks=False) as emu:
        done = await run_batch(emu, receiver, 50, SPEED)
    assert len(set(done)) == 50
    assert receiver.calls == 0


@pytest.mark.anyio
async def test_streaming_webhook_reaches_updates(receiver: Receiver) -> None:
    """A job's updates() see the streaming webhook as ClipPlayable, then TaskDone."""
    policy = PollPolicy().scaled(SPEED)
    async with (
        Emulator(speed=SPEED) as emu,
        MusicAPI(emu.api_key, base_url=emu.url, poll=policy, webhook_url=receiver.url,
                 webhook_secret=SECRET) as api,
    ):  # fmt: skip
        receiver.handler = api.webhook_handler()
        job = await api.submit(songs(1)[0])
        kinds = [type(e) async for e in job.updates()]
        polls = emu.stats.requests.get("sonic.task", 0)
    assert kinds.index(ClipPlayable) < kinds.index(TaskDone)
    assert polls == 0


@pytest.mark.anyio
async def test_handler_answers_400_never_500_to_malformed_deliveries(receiver: Receiver) -> None:
    """Malformed timestamps and nested bodies get a 400 from webhook_handler, no traceback."""
    async with (
        Emulator(speed=0, webhooks=False) as emu,
        MusicAPI(emu.api_key, base_url=emu.url, webhook_url=receiver.url,
                 webhook_secret=SECRET) as api,
    ):  # fmt: skip
        receiver.handler = api.webhook_handler()
        nested = b"[" * 1000 + b"]" * 1000
        cases = [
            (BODY, {**signed(), "X-Webhook-Timestamp": "\u00b2"}),
            (BODY, {**signed(), "X-Webhook-Timestamp": "9" * 400}),
            (nested, signed(nested)),
        ]
        async with aiohttp.ClientSession() as session:
            for body, headers in cases:
                encoded = {k: v.encode().decode("latin-1") for k, v in headers.items()}
                async with session.post(receiver.url, data=body, headers=encoded) as response:
                    assert response.status == 400
                    assert "Traceback" not in await response.text()


@pytest.mark.anyio
async def test_replayed_delivery_with_new_id_is_not_applied_twice(receiver: Receiver) -> None:
    """feed_webhook returns None for a replay that changed only X-Webhook-Id."""
    async with (
        Emulator(speed=0, webhooks=False) as emu,
        MusicAPI(emu.api_key, base_url=emu.url, webhook_url=receiver.url,
                 webhook_secret=SECRET) as api,
    ):  # fmt: skip
        headers = signed()
        assert await api.feed_webhook(BODY, headers) is not None
        replay = {**headers, "X-Webhook-Id": "evt-new", "Idempotency-Key": "evt-new"}
        assert await api.feed_webhook(BODY, replay) is None
        legacy = {"X-Signature": hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest(),
                  "X-Webhook-Id": "evt-legacy"}  # fmt: skip
        with pytest.raises(WebhookVerificationError):
            await api.feed_webhook(BODY, legacy)
        body = BODY.replace(b"task-1", b"task-2")
        legacy["X-Signature"] = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert await api.feed_webhook(body, legacy, legacy_signatures=True) is not None


@pytest.mark.anyio
async def test_forged_delivery_gets_401_and_changes_nothing(receiver: Receiver) -> None:
    """The aiohttp handler answers 401 to a bad signature; a good one resolves the job."""
    url = receiver.url
    async with (
        Emulator(speed=0, webhooks=False) as emu,
        MusicAPI(emu.api_key, base_url=emu.url, webhook_url=url, webhook_secret=SECRET) as api,
    ):
        receiver.handler = api.webhook_handler()
        job = await api.submit(songs(1)[0])
        forged = BODY.replace(b"task-1", job.task_id.encode())
        async with aiohttp.ClientSession() as session:
            bad = signed(forged, secret="guess")
            async with session.post(url, data=forged, headers=bad) as response:
                assert response.status == 401
            good = signed(forged)
            async with session.post(url, data=forged, headers=good) as response:
                assert response.status == 200
        clips = await job.wait(timeout=5)
    assert [c.clip_id for c in clips] == ["c1", "c2"]


def test_deeply_nested_signed_body_is_a_verification_error() -> None:
    """A signed body of ~2 KB nested arrays is refused as not JSON, not a RecursionError."""
    body = b"[" * 1000 + b"]" * 1000
    with pytest.raises(WebhookVerificationError, match="not JSON"):
        verify_webhook(body, signed(body), SECRET)
