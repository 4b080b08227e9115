"""Property: any valid clip the API could send parses into a ``Clip`` that loses nothing."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musicapi_async import Clip, ClipState, HttpResponse, MockTransport, MusicAPI

TASK = "0d7e4c2a-1b3f-4e5d-9a8c-7b6d5e4f3a2b"
CLIP_FIELDS = frozenset(a.name for a in attrs.fields(Clip)) - {"extra"}

json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)  # fmt: skip
optional_text = st.none() | st.text(max_size=40)
durations = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=0, max_value=10**6, places=2).map(str),
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False).map(repr),
)
# The documented synonyms of each known state (ClipState's docstring).
SYNONYMS = {
    ClipState.SUCCEEDED: {"success", "succeed", "successful", "complete", "completed", "done",
                          "finished"},
    ClipState.FAILED: {"fail", "failure", "error", "errored", "cancelled", "canceled"},
    ClipState.PENDING: {"queued", "submitted", "not_start", "not_started", "waiting"},
    ClipState.RUNNING: {"in_progress", "processing", "generating"},
    ClipState.STREAMING: set(),
}  # fmt: skip
states = (
    st.sampled_from([s.value for s in ClipState])
    | st.sampled_from(sorted(set().union(*SYNONYMS.values())))
    | st.sampled_from(["SUCCEEDED", "Complete", "ERROR", "In-Progress"])
    | st.text(min_size=1, max_size=12)
)


@st.composite
def clip_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A clip as the API sends it: id, state, some named fields, random extra keys."""
    wire: dict[str, Any] = {
        "clip_id": draw(st.text(min_size=1, max_size=36)),
        "state": draw(states),
        "duration": draw(durations),
    }
    for name in ("title", "tags", "lyrics", "audio_url", "image_url", "video_url", "mv",
                 "created_at", "gpt_description_prompt"):  # fmt: skip
        if draw(st.booleans()):
            wire[name] = draw(optional_text)
    extra_keys = st.text(min_size=1, max_size=16).filter(lambda k: k not in CLIP_FIELDS)
    wire.update(draw(st.dictionaries(extra_keys, json_values, max_size=5)))
    return wire


@pytest.mark.anyio
@settings(max_examples=150, deadline=None)
@given(wire=clip_dicts())
async def test_clip_wire_dicts_parse_losslessly(wire: dict[str, Any]) -> None:
    """A clip keeps its extras, its state (known ones in any spelling), and its duration."""
    body = json.dumps({"code": 200, "data": [wire], "message": "success"}).encode()
    transport = MockTransport(lambda request: HttpResponse(200, {}, body))

    async with MusicAPI(api_key="k", transport=transport, max_concurrent_polls=1) as api:
        snapshot = await api.sonic.get(TASK)

    [clip] = snapshot.clips
    assert clip.clip_id == wire["clip_id"]
    assert isinstance(clip.state, ClipState)
    folded = wire["state"].strip().casefold().replace("-", "_").replace(" ", "_")
    if clip.state.is_known:  # a known state in any case, or one of its synonyms
        assert folded == clip.state.value or folded in SYNONYMS[clip.state]
    else:  # anything else is kept exactly as sent
        assert clip.state == wire["state"]
        assert folded not in {s.value for s in ClipState}
    assert clip.duration == float(wire["duration"])
    assert isinstance(clip.duration, float)
    for name in CLIP_FIELDS - {"clip_id", "state", "duration"}:
        assert getattr(clip, name) == wire.get(name)
    assert clip.extra == {k: v for k, v in wire.items() if k not in CLIP_FIELDS}
