"""Arbitrary JSON bodies never crash the emulator: every answer is a documented status."""

from __future__ import annotations

from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicapi_async._nuro_validation import _NURO_BGM_FIELDS, _NURO_VOCAL_FIELDS
from musicapi_async._validation import _PERSONA_FIELDS, _SONIC_FIELDS, _STUDIO_FIELDS

from .support import serve

_FIELDS = sorted(
    _SONIC_FIELDS | _PERSONA_FIELDS | _NURO_VOCAL_FIELDS | _NURO_BGM_FIELDS | _STUDIO_FIELDS
    | {"url", "description", "type", "surprise"}
)  # fmt: skip
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-5, 500)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
    | st.sampled_from(["create_music", "extend_music", "concat_music", "remaster", "vocal",
                       "bgm", "user", "sonic-v4", "sonic-v5", "regular", "precede"])
)  # fmt: skip
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=4,
)  # fmt: skip
_BODIES = st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=8)
_POSTS = ["sonic.create", "sonic.persona", "sonic.upload", "lyrics.create", "nuro.create",
          "studio.create"]  # fmt: skip


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    bodies=st.lists(st.tuples(st.sampled_from(_POSTS), _BODIES), min_size=30, max_size=30),
    strict=st.booleans(),
)
def test_any_body_gets_a_documented_status(
    bodies: list[tuple[str, dict[str, Any]]], strict: bool
) -> None:
    """Random bodies to every POST endpoint get 200, 400 or 403, never a 500 or a hang."""

    async def run() -> None:
        async with serve(strict=strict, credits=10_000) as api:
            for endpoint, body in bodies:
                answer = await api.call(endpoint, body)
                assert answer.status in (200, 400, 403), (endpoint, body, answer.body)
            for task_id in api.emulator.task_ids():
                api.emulator.advance(60)
                for family in ("sonic", "nuro", "studio"):
                    polled = await api.call(f"{family}.task", task_id=task_id)
                    assert polled.status in (200, 202, 400, 404)

    anyio.run(run)
