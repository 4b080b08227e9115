"""The ``/_emulator`` control surface: the numbers tests and benchmarks assert on."""

from __future__ import annotations

import pytest

from .support import LONG, SONG, Client

pytestmark = pytest.mark.anyio


async def test_stats_count_requests_billing_and_tasks(api: Client) -> None:
    """``/_emulator/stats`` equals ``emu.stats`` and counts what the server saw."""
    task_id = await api.create()
    await api.poll(task_id)
    await api.call("credits", key=None)
    await api.call("sonic.create", {**SONG, "mv": "bad"})
    stats = (await api.control("GET", "/stats")).json
    assert stats == api.emulator.stats.to_json()
    assert stats["requests"] == {"sonic.create": 2, "sonic.task": 1, "credits": 1}
    assert stats["statuses"] == {
        "sonic.create": {"200": 1, "400": 1},
        "sonic.task": {"202": 1},
        "credits": {"401": 1},
    }
    assert stats["billed"] == {"sonic.create": 1}
    assert stats["credits_spent"] == 15
    assert stats["tasks"] == {"not_ready": 1}
    api.emulator.advance(LONG)
    stats = (await api.control("GET", "/stats")).json
    assert stats["tasks"] == {"succeeded": 1}
    assert stats["clips"] == {"succeeded": 2}


async def test_control_requests_are_not_counted(api: Client) -> None:
    """Calls to the control surface do not show up in the request counts."""
    await api.control("GET", "/stats")
    await api.control("GET", "/tasks")
    assert api.emulator.stats.requests == {}


async def test_stats_reset(api: Client) -> None:
    """``POST /_emulator/stats/reset`` zeroes the counters, and counting goes on after."""
    await api.create()
    assert (await api.control("POST", "/stats/reset")).json["requests"] == {}
    await api.call("credits")
    assert api.emulator.stats.requests == {"credits": 1}
    assert api.emulator.stats.statuses == {"credits": {"200": 1}}


async def test_tasks_listing_and_filter(api: Client) -> None:
    """``/_emulator/tasks`` lists tasks with their states; ``?status=`` filters them."""
    api.emulator.fail_next()
    failed = await api.create()
    ok = await api.create()
    api.emulator.advance(LONG)
    listing = (await api.control("GET", "/tasks")).json
    assert listing["count"] == 2
    only_failed = (await api.control("GET", "/tasks?status=failed")).json["tasks"]
    assert [t["task_id"] for t in only_failed] == [failed]
    one = (await api.control("GET", f"/tasks/{ok}")).json
    assert one["status"] == "succeeded"
    assert one["cost"] == 15
    assert not one["refunded"]
    assert [c["state"] for c in one["clips"]] == ["succeeded", "succeeded"]
    assert (await api.control("GET", "/tasks/nope")).status == 404


async def test_advance_and_fail_next_over_http(api: Client) -> None:
    """``/advance`` jumps the clock and ``/fail-next`` makes the next task fail."""
    assert (await api.control("POST", "/fail-next", {"count": 1})).status == 200
    task_id = await api.create()
    moved = (await api.control("POST", "/advance", {"seconds": LONG})).json
    assert moved["virtual_time"] >= LONG
    assert api.emulator.task_status(task_id) == "failed"
    assert (await api.control("POST", "/advance", {"seconds": "soon"})).status == 400


async def test_accounts_over_http(api: Client) -> None:
    """``/accounts`` shows balances per key and opens new keys."""
    opened = await api.control(
        "POST", "/accounts", {"api_key": "k2", "credits": 40, "lyrics_credits": 10}
    )
    assert opened.json == {
        "credits": 40,
        "extra_credits": 0,
        "lyrics_credits": 10,
        "subscription_active": True,
    }
    assert (await api.call("credits", key="k2")).json == {"credits": 40, "extra_credits": 0}
    accounts = (await api.control("GET", "/accounts")).json
    assert set(accounts) == {"test-key", "k2"}
    assert (await api.control("POST", "/accounts", {"api_key": "k3", "gold": 1})).status == 400


async def test_webhook_log_over_http(api: Client) -> None:
    """``/_emulator/webhooks`` shows delivery counts and records."""
    await api.create({**SONG, "webhook_url": "https://example.com/hook"})
    log = (await api.control("GET", "/webhooks")).json
    assert log["counts"] == {"refused": 1}
    assert log["deliveries"][0]["url"] == "https://example.com/hook"
