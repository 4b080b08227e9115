"""The emulator's sonic batch over raw HTTP: envelope, per-item fates, status, pace, faults."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from musicapi_async.emulator import Fault, FaultKind

from .support import DESCRIBED, LONG, SONG, Client, serve

pytestmark = pytest.mark.anyio


def body(*items: Any) -> dict[str, Any]:
    """A batch body of ``items``."""
    return {"items": [dict(item) for item in items]}


async def test_items_are_created_billed_and_refused_one_by_one(api: Client) -> None:
    """A bad item is answered in its place with a create's message; the others are billed."""
    bad = {**DESCRIBED, "mv": "sonic-v9"}
    answer = await api.call("sonic.batch", body(SONG, bad, DESCRIBED))
    assert answer.status == 200
    data = answer.json
    assert data["message"] == "success"
    assert data["submitted"] == 2
    first, second, third = data["tasks"]
    assert set(first) == {"index", "task_id"}
    assert (second["index"], second["code"]) == (1, 400)
    assert "'mv'" in second["message"]
    assert third["index"] == 2
    stats = api.emulator.stats
    assert stats.billed == {"sonic.create": 2}
    assert stats.credits_spent == 30


async def test_the_status_answers_each_task_as_the_task_endpoint_would(api: Client) -> None:
    """GET batch: each task's own poll answer plus its id; unknown or missing id is a 400."""
    accepted = (await api.call("sonic.batch", body(SONG, DESCRIBED))).json
    batch_id = accepted["batch_id"]
    api.emulator.advance(LONG)
    status = await api.call("sonic.batch_status", task_id=batch_id)
    assert status.status == 200
    for entry in status.json["tasks"]:
        alone = await api.poll(entry.pop("task_id"))
        assert entry == alone.json
    unknown = await api.call("sonic.batch_status", task_id="no-such-batch")
    assert (unknown.status, unknown.message) == (400, "batch not found.")
    missing = await api.request("GET", "/api/v1/sonic/batch")
    assert (missing.status, missing.message) == (400, "missing batch id.")


async def test_a_bad_envelope_is_refused_whole_and_unbilled(api: Client) -> None:
    """Eleven items or no list: 400 for the whole batch, nothing billed."""
    eleven = await api.call("sonic.batch", body(*[DESCRIBED] * 11))
    assert eleven.status == 400
    assert "10" in eleven.message
    assert (await api.call("sonic.batch", {"items": "x"})).status == 400
    assert api.emulator.stats.billed == {}


async def test_a_batch_counts_as_its_items_against_the_pace() -> None:
    """After a batch of 3 the next create must wait 3 intervals, not 1."""
    async with serve(create_interval=3) as api:
        assert (await api.call("sonic.batch", body(DESCRIBED, DESCRIBED, DESCRIBED))).status == 200
        api.emulator.advance(4)
        early = await api.call("sonic.create", dict(DESCRIBED))
        assert early.status == 429
        assert early.headers["retry-after"] == "5"
        api.emulator.advance(5)
        assert (await api.call("sonic.create", dict(DESCRIBED))).status == 200


async def test_faults_apply_to_batch_posts() -> None:
    """accept_then_drop on a batch: every item is billed, no answer arrives."""
    async with serve() as api:
        api.emulator.faults.add(Fault(FaultKind.ACCEPT_THEN_DROP, endpoint="sonic.batch"))
        with pytest.raises(aiohttp.ClientError):  # the connection closes with no answer
            await api.call("sonic.batch", body(DESCRIBED, SONG))
        stats = api.emulator.stats
        assert stats.dropped == {"sonic.batch": 1}
        assert stats.billed == {"sonic.create": 2}
