"""Hostile request bodies get a 400 before anything is billed, and the clock stays sane."""

from __future__ import annotations

import json
import math

import pytest

from .support import SONG, Client

NESTED = b"[" * 1000 + b"]" * 1000


@pytest.mark.anyio
@pytest.mark.parametrize(
    "raw",
    [NESTED, b'{"a": ' + NESTED + b"}", b'{"custom_mode": true, "style_weight": NaN}',
     b'{"custom_mode": true, "style_weight": 1e400}'],
    ids=["nested-array", "nested-in-object", "nan", "overflowing-number"],
)  # fmt: skip
async def test_hostile_json_bodies_answer_400_not_500(api: Client, raw: bytes) -> None:
    """Deep nesting, NaN or an infinite number in a body is a 400, and nothing is billed."""
    answer = await api.request("POST", "/api/v1/sonic/create", data=raw,
                               headers={"Content-Type": "application/json"})  # fmt: skip
    assert answer.status == 400, answer.body
    assert api.emulator.stats.credits_spent == 0


@pytest.mark.anyio
async def test_lone_surrogate_title_is_refused_before_billing(api: Client) -> None:
    """A title holding a lone surrogate is a 400; no task is created or billed."""
    body = json.dumps({**SONG, "title": "night \ud800"}).encode()  # ASCII: "\\ud800"
    answer = await api.request("POST", "/api/v1/sonic/create", data=body,
                               headers={"Content-Type": "application/json"})  # fmt: skip
    assert answer.status == 400, answer.body
    assert "title" in answer.message
    assert api.emulator.stats.credits_spent == 0
    assert (await api.control("GET", "/tasks")).json["count"] == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    "raw", [b'{"seconds": NaN}', b'{"seconds": Infinity}', b'{"seconds": 1e400}',
            b'{"seconds": -5}', b'{"seconds": "10"}'],
    ids=["nan", "infinity", "overflow", "negative", "string"],
)  # fmt: skip
async def test_advance_refuses_values_that_would_corrupt_the_clock(api: Client, raw: bytes) -> None:
    """/_emulator/advance answers 400 to a non-finite or negative jump; tasks still finish."""
    task_id = await api.create()
    answer = await api.request("POST", "/_emulator/advance", data=raw, key=None)
    assert answer.status == 400, answer.body
    assert math.isfinite(api.emulator.stats.virtual_time)
    clips = await api.finished_clips(task_id)
    assert {c["state"] for c in clips} == {"succeeded"}


@pytest.mark.anyio
async def test_advance_from_python_refuses_nan(api: Client) -> None:
    """``Emulator.advance(nan)`` raises instead of poisoning the virtual clock."""
    with pytest.raises(ValueError, match="finite"):
        api.emulator.advance(math.nan)
    assert api.emulator.stats.virtual_time == 0.0
