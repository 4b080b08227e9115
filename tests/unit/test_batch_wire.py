"""The sonic batch's wire: its parsers (lenient), cost rule, envelope check and pace."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musicapi_async import InvalidRequest, ResponseDecodeError, SonicRequest, cost_of, to_wire
from musicapi_async._batch_models import (
    BatchAccepted,
    BatchItemAccepted,
    BatchItemRefused,
    SonicBatchRequest,
    parse_batch_accepted,
    parse_batch_status,
)
from musicapi_async._endpoints import SONIC_BATCH, SONIC_BATCH_STATUS, SONIC_TASK
from musicapi_async._governor import API_CREATE_BUDGET, Budget, Governor
from musicapi_async._models import ClipState
from musicapi_async._protocol import HttpResponse, build_request, parse_response
from musicapi_async._validation import validate_body

from .support import FakeTime

SPEC = SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt="rain on a roof")
CLIP = {"clip_id": "c1", "state": "succeeded", "title": "Rain", "audio_url": "https://x/a.mp3"}


def answer(data: dict[str, Any], status: int = 200) -> HttpResponse:
    """An HTTP answer holding ``data`` as JSON."""
    return HttpResponse(status, {}, json.dumps(data).encode())


# --------------------------------------------------------------------------- the POST


def test_the_documented_answer_reads_into_ids_and_refusals() -> None:
    """``{message, batch_id, submitted, tasks}``: accepted ids and per-item errors."""
    data = {"message": "success", "batch_id": "b1", "submitted": 1, "region": "eu",
            "tasks": [{"index": 0, "task_id": "t0"},
                      {"index": 1, "code": 400, "message": "clip not found."}]}  # fmt: skip
    parsed = parse_response(SONIC_BATCH, answer(data))
    assert parsed.batch_id == "b1"
    assert parsed.submitted == 1
    assert parsed.extra == {"region": "eu"}
    accepted, refused = parsed.items
    assert accepted == BatchItemAccepted(index=0, task_id="t0")
    assert isinstance(refused, BatchItemRefused)
    assert (refused.index, refused.status, refused.message) == (1, 400, "clip not found.")


def test_an_answer_is_read_leniently() -> None:
    """Under ``data``, bare ids, no indices, ``status``/``error`` spellings: all read."""
    tasks = ["t0", {"task_id": "t1", "eta": 30}, {"status": 403, "error": "Queue is full"}]
    data = {"code": 200, "data": {"batch_id": "b2", "tasks": tasks}}
    parsed = parse_batch_accepted(data, "")
    first, second, third = parsed.items
    assert first == BatchItemAccepted(index=0, task_id="t0")
    assert second == BatchItemAccepted(index=1, task_id="t1", extra={"eta": 30})
    assert isinstance(third, BatchItemRefused)
    assert (third.index, third.status, third.message) == (2, 403, "Queue is full")


def test_an_answer_without_a_batch_id_is_a_decode_error() -> None:
    """No batch id, or no list of tasks: ResponseDecodeError, never a silent empty batch."""
    with pytest.raises(ResponseDecodeError):
        parse_response(SONIC_BATCH, answer({"message": "success", "tasks": []}))
    with pytest.raises(ResponseDecodeError):
        parse_response(SONIC_BATCH, answer({"message": "success", "batch_id": "b"}))


ids = st.text("abcdef0123456789-", min_size=1, max_size=12)
extras = st.dictionaries(st.text(max_size=6).map(lambda k: "x_" + k),
                         st.none() | st.integers() | st.text(max_size=8), max_size=3)  # fmt: skip


@st.composite
def accepted_answers(draw: st.DrawFn) -> BatchAccepted:
    """Batch answers as the parser builds them, with accepted and refused items."""
    items: list[BatchItemAccepted | BatchItemRefused] = []
    for index in range(draw(st.integers(0, 10))):
        if draw(st.booleans()):
            items.append(BatchItemAccepted(index=index, task_id=draw(ids), extra=draw(extras)))
        else:
            status, text = draw(st.integers(400, 599)), draw(st.text(min_size=1, max_size=20))
            raw = {"index": index, "code": status, "message": text}
            items.append(BatchItemRefused(index=index, status=status, message=text, raw=raw))
    submitted = draw(st.none() | st.integers(0, 10))
    return BatchAccepted(batch_id=draw(ids), submitted=submitted, items=tuple(items),
                         extra=draw(extras))  # fmt: skip


def to_answer(model: BatchAccepted) -> dict[str, Any]:
    """The wire answer that stands for ``model`` (the emulator's shape)."""
    tasks = [{"index": i.index, "task_id": i.task_id, **i.extra}
             if isinstance(i, BatchItemAccepted) else dict(i.raw) for i in model.items]  # fmt: skip
    data: dict[str, Any] = {"message": "success", "batch_id": model.batch_id, "tasks": tasks}
    if model.submitted is not None:
        data["submitted"] = model.submitted
    return {**model.extra, **data}


@settings(max_examples=80, deadline=None)
@given(model=accepted_answers())
def test_batch_answers_round_trip(model: BatchAccepted) -> None:
    """Any batch answer, written as JSON and read back, gives the same model."""
    assert parse_batch_accepted(json.loads(json.dumps(to_answer(model))), "") == model


# ---------------------------------------------------------------------------- the GET


def test_a_status_gives_each_task_its_snapshot_and_keeps_errors_aside() -> None:
    """Clips, not_ready and an error entry: two snapshots, one task left to poll alone."""
    data = {"code": 200, "message": "success", "batch_id": "b1", "page": 1, "tasks": [
        {"task_id": "t0", "code": 200, "data": [CLIP]},
        {"task_id": "t1", "type": "not_ready"},
        {"task_id": "t2", "code": 504, "message": "Task failed due to timeout."},
        {"task_id": "t3", "data": [{"state": "succeeded"}]},  # no clip id: unreadable
        "junk"]}  # fmt: skip
    status = parse_response(SONIC_BATCH_STATUS, answer(data), task_id="b1")
    done, pending = status.snapshots
    assert (done.task_id, done.done, done.clips[0].state) == ("t0", True, ClipState.SUCCEEDED)
    assert (pending.task_id, pending.ready) == ("t1", False)
    assert set(status.unresolved) == {"t2", "t3"}
    assert status.extra == {"page": 1}


def test_the_status_path_carries_the_batch_id_as_a_query_parameter() -> None:
    """``GET /api/v1/sonic/batch?batch_id=...``, the id escaped."""
    request = build_request(SONIC_BATCH_STATUS, None, task_id="b1&x=#")
    assert request.method == "GET"
    assert request.path == "/api/v1/sonic/batch?batch_id=b1%26x%3D%23"
    assert parse_batch_status({"tasks": []}, "b1").batch_id == "b1"


# ------------------------------------------------------------------- cost, envelope


def test_a_batch_costs_the_sum_of_its_items() -> None:
    """Two creates and a concat: 15 + 15 + 2; no list of items costs nothing."""
    concat = {"task_type": "concat_music", "continue_clip_id": "c"}
    body = {"items": [to_wire(SPEC), to_wire(SPEC), concat]}
    assert cost_of("sonic.batch", body) == (32, "credits")
    assert cost_of("sonic.batch", {"items": "no"}) == (0, "credits")


def test_the_envelope_holds_one_to_ten_objects() -> None:
    """Eleven items, none, a non-object item or (strict) an unknown key: InvalidRequest."""
    one = to_wire(SPEC)
    validate_body("sonic.batch", {"items": [one] * 10})
    bodies: list[dict[str, Any]] = [{"items": [one] * 11}, {"items": []}, {"items": [one, 3]},
                                    {"items": one}]  # fmt: skip
    for body in bodies:
        with pytest.raises(InvalidRequest):
            validate_body("sonic.batch", body)
    with pytest.raises(InvalidRequest, match="Unknown field"):
        validate_body("sonic.batch", {"items": [one], "extra": 1}, strict=True)


def test_a_batch_request_takes_specs_as_wire_fields() -> None:
    """Mappings become SonicRequests; the wire body is the items' own bodies."""
    request = SonicBatchRequest(items=[to_wire(SPEC)])
    assert request.items == (SPEC,)
    assert to_wire(request) == {"items": [to_wire(SPEC)]}


# ------------------------------------------------------------------------------ pace


@pytest.mark.anyio
async def test_a_lease_of_n_turns_makes_the_next_create_wait_n_turns() -> None:
    """A batch of 4 goes at once; the create after it waits 4 x 3 s, not 3 s."""
    t = FakeTime()
    gov = Governor(API_CREATE_BUDGET, Budget(), clock=t.clock, sleep=t.sleep)
    async with gov.create(turns=4):
        assert t.now == 0
    async with gov.create():
        assert round(t.now, 6) == 12


states = st.sampled_from(["pending", "running", "streaming", "succeeded", "failed", "new?"])
clips = st.fixed_dictionaries(
    {"clip_id": ids, "state": states},
    optional={"title": st.text(max_size=8), "duration": st.floats(0, 600) | st.just("12.5")},
)
entries = st.one_of(
    st.fixed_dictionaries({"type": st.just("not_ready")}),
    st.fixed_dictionaries({"code": st.just(200), "data": st.lists(clips, min_size=1, max_size=3)}),
    st.fixed_dictionaries({"code": st.integers(400, 599), "message": st.text(max_size=10)}),
)


@settings(max_examples=80, deadline=None)
@given(tasks=st.dictionaries(ids, entries, max_size=6))
def test_a_status_reads_each_entry_as_the_task_endpoint_would(tasks: dict[str, Any]) -> None:
    """Each entry's snapshot is what GET /sonic/task's parser makes of it; errors aside."""
    data = {"code": 200, "batch_id": "b", "tasks": [{"task_id": t, **e} for t, e in tasks.items()]}
    status = parse_batch_status(json.loads(json.dumps(data)), "b")
    alone = {t: parse_response(SONIC_TASK, answer(e), task_id=t) for t, e in tasks.items()
             if e.get("code", 200) < 400}  # fmt: skip
    assert {s.task_id: s for s in status.snapshots} == alone
    assert set(status.unresolved) == set(tasks) - set(alone)
