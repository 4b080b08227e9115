"""Fault injection: every kind once, its billing, and how a plan is scripted (§13, §14)."""

from __future__ import annotations

import time

import aiohttp
import pytest

from musicapi_async._errors import RateLimited, ResponseDecodeError, ServerError
from musicapi_async.emulator import Fault, FaultKind, FaultPlan

from .support import SONG, Client, serve

pytestmark = pytest.mark.anyio


async def test_rate_limit_429_carries_retry_after(api: Client) -> None:
    """``rate_limit_429`` answers 429 with ``Retry-After``; the SDK reads it; nothing billed."""
    api.emulator.faults.add(Fault(FaultKind.RATE_LIMIT_429, retry_after=7))
    answer = await api.call("sonic.create", dict(SONG))
    assert (answer.status, answer.headers["retry-after"]) == (429, "7")
    with pytest.raises(RateLimited) as caught:
        answer.parsed("sonic.create")
    assert caught.value.retry_after == 7
    assert api.emulator.balance().credits == 1000
    assert (await api.call("sonic.create", dict(SONG))).status == 200  # count=1: spent


@pytest.mark.parametrize(
    ("kind", "message"),
    [(FaultKind.QPS_403, "API QPS limit exceeded"), (FaultKind.QUEUE_FULL_403, "Queue is full")],
)
async def test_throttling_403s(api: Client, kind: FaultKind, message: str) -> None:
    """``qps_403``/``queue_full_403`` answer 403 with nuro's texts, read as rate limiting."""
    api.emulator.faults.add(Fault(kind, endpoint="nuro.create"))
    answer = await api.call("nuro.create", {"type": "vocal", "lyrics": "la"})
    assert answer.json == {"code": 403, "type": "forbidden", "message": message}
    with pytest.raises(RateLimited):
        answer.parsed("nuro.create")
    assert api.emulator.stats.billed == {}


async def test_server_500(api: Client) -> None:
    """``server_500`` answers 500 "Internal Server Error." and bills nothing."""
    api.emulator.faults.add(Fault(FaultKind.SERVER_500))
    answer = await api.call("sonic.create", dict(SONG))
    assert (answer.status, answer.message) == (500, "Internal Server Error.")
    with pytest.raises(ServerError):
        answer.parsed("sonic.create")
    assert api.emulator.balance().credits == 1000


async def test_gateway_html_502(api: Client) -> None:
    """``gateway_html_502`` answers an HTML gateway page, which the SDK calls a server error."""
    api.emulator.faults.add(Fault(FaultKind.GATEWAY_HTML_502, endpoint="credits"))
    answer = await api.call("credits")
    assert answer.status == 502
    assert answer.headers["content-type"].startswith("text/html")
    assert b"502 Bad Gateway" in answer.body
    with pytest.raises(ServerError, match="HTML"):
        answer.parsed("credits")


async def test_slow_answers_late_but_correctly(api: Client) -> None:
    """``slow`` delays the answer by ``delay`` wall seconds and otherwise answers normally."""
    api.emulator.faults.add(Fault(FaultKind.SLOW, endpoint="credits", delay=0.3))
    started = time.monotonic()
    answer = await api.call("credits")
    assert time.monotonic() - started >= 0.3
    assert answer.json == {"credits": 1000, "extra_credits": 0}


async def test_malformed_json(api: Client) -> None:
    """``malformed_json`` answers 200 with a cut JSON body: a decode error for the SDK."""
    task_id = await api.create()
    api.emulator.faults.add(Fault(FaultKind.MALFORMED_JSON, endpoint="sonic.task"))
    answer = await api.poll(task_id)
    assert answer.status == 202
    with pytest.raises(ResponseDecodeError):
        answer.parsed("sonic.task", task_id)


async def test_reset_drops_the_connection_before_processing(api: Client) -> None:
    """``reset`` resets the connection; the create was never processed nor billed."""
    api.emulator.faults.add(Fault(FaultKind.RESET, endpoint="sonic.create"))
    with pytest.raises(aiohttp.ClientError):
        await api.call("sonic.create", dict(SONG))
    assert api.emulator.task_ids() == ()
    assert api.emulator.balance().credits == 1000
    assert api.emulator.stats.dropped == {"sonic.create": 1}


async def test_accept_then_drop_bills_without_answering(api: Client) -> None:
    """``accept_then_drop`` creates and bills the task, then closes with no answer."""
    api.emulator.faults.add(Fault(FaultKind.ACCEPT_THEN_DROP, endpoint="sonic.create"))
    with pytest.raises(aiohttp.ClientError):
        await api.call("sonic.create", dict(SONG))
    assert len(api.emulator.task_ids()) == 1
    assert api.emulator.balance().credits == 985
    stats = api.emulator.stats
    assert stats.billed == {"sonic.create": 1}
    assert stats.dropped == {"sonic.create": 1}
    assert stats.statuses["sonic.create"] == {"dropped": 1}
    assert stats.faults == {"accept_then_drop": 1}


async def test_count_after_and_globs(api: Client) -> None:
    """A rule skips ``after`` matching requests, then fires ``count`` times, on its glob only."""
    api.emulator.faults.add(Fault(FaultKind.SERVER_500, endpoint="*.task", after=1, count=2))
    task_id = await api.create()
    statuses = [(await api.poll(task_id)).status for _ in range(4)]
    assert statuses == [202, 500, 500, 202]
    assert (await api.call("credits")).status == 200


async def test_probability_is_seeded() -> None:
    """A probabilistic rule fires on the same requests for the same seed."""
    runs = []
    for _ in range(2):
        plan = FaultPlan(
            [Fault("server_500", endpoint="credits", count=None, probability=0.3)], seed=3
        )
        async with serve(faults=plan) as api:
            runs.append([(await api.call("credits")).status for _ in range(30)])
    assert runs[0] == runs[1]
    assert 3 <= runs[0].count(500) <= 20


def test_bad_rules_are_refused() -> None:
    """Unknown kinds, endpoints that match nothing and bad probabilities raise ValueError."""
    with pytest.raises(ValueError, match="not a valid FaultKind"):
        Fault("meteor")
    with pytest.raises(ValueError, match="matches no endpoint"):
        Fault(FaultKind.RESET, endpoint="sonic.craete")
    with pytest.raises(ValueError, match="probability"):
        Fault(FaultKind.RESET, probability=2)
    with pytest.raises(ValueError, match="unknown fault field"):
        Fault.from_json({"kind": "reset", "endpont": "credits"})


async def test_faults_via_the_control_surface(api: Client) -> None:
    """Faults can be added, listed and cleared over HTTP."""
    added = await api.control(
        "POST",
        "/faults",
        {
            "faults": [
                {"kind": "rate_limit_429", "endpoint": "credits", "retry_after": 2},
                {"kind": "queue_full_403", "endpoint": "nuro.*", "count": None},
            ]
        },
    )
    assert added.status == 200
    assert len(added.json["rules"]) == 2
    assert (await api.call("credits")).status == 429
    listed = (await api.control("GET", "/faults")).json
    assert listed["fired"] == {"rate_limit_429": 1}
    assert len(listed["rules"]) == 1
    assert (await api.control("DELETE", "/faults")).json["rules"] == []
    bad = await api.control("POST", "/faults", {"kind": "nope"})
    assert bad.status == 400


async def test_create_interval_answers_429_with_retry_after() -> None:
    """With ``create_interval`` a second create too soon answers 429 and is not billed."""
    async with serve(create_interval=3.0, speed=0) as api:
        assert (await _create_status(api)) == 200
        answer = await api.call("sonic.create", dict(SONG))
        assert answer.status == 429
        assert int(answer.headers["retry-after"]) >= 1
        api.emulator.advance(3.0)
        assert (await _create_status(api)) == 200
        assert api.emulator.stats.billed == {"sonic.create": 2}


async def test_create_interval_can_answer_the_qps_403() -> None:
    """With ``rate_limit_status=403`` too-fast creates get 403 "API QPS limit exceeded"."""
    async with serve(create_interval=3.0, rate_limit_status=403) as api:
        assert (await _create_status(api)) == 200
        answer = await api.call("sonic.create", dict(SONG))
        assert (answer.status, answer.message) == (403, "API QPS limit exceeded")


async def _create_status(api: Client) -> int:
    return (await api.call("sonic.create", dict(SONG))).status


async def test_moderation_answers_the_documented_403s() -> None:
    """Banned words in lyrics or descriptions answer the documented 403 texts, unbilled."""
    async with serve(banned_words=["Zyzzyva"]) as api:
        lyrics = await api.call("sonic.create", {**SONG, "prompt": "[Verse]\nzyzzyva sings"})
        assert (lyrics.status, lyrics.message) == (
            403,
            "The lyrics contain inappropriate content: 'zyzzyva'.",
        )
        described = await api.call(
            "sonic.create",
            {
                "custom_mode": False,
                "mv": "sonic-v4",
                "gpt_description_prompt": "in the style of Zyzzyva",
            },
        )
        assert described.status == 403
        assert described.message == (
            "The song description contains artist names: 'Zyzzyva' which is not allowed."
        )
        assert api.emulator.balance().credits == 1000
