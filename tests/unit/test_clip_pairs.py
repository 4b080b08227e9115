"""Upload-extend ``{extended, full}`` pairs: parsed, kept, and never finished early."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musicapi_async import ClipPair, ClipState, Family
from musicapi_async._convert import clip_to_wire
from musicapi_async._models import Clip
from musicapi_async._parse import parse_snapshot
from musicapi_async._redis._store import snapshot_from_json, snapshot_to_json

from .support import FakeServer, golden, reply
from .test_model_roundtrip import models

TASK = "0d7e4c2a-1b3f-4e5d-9a8c-7b6d5e4f3a2b"
# Clips as the API sends them: an id, a known state, any named or extra fields.
clips = models(Clip).filter(lambda c: bool(c.clip_id) and c.state.is_known)


def _answer(pairs: list[ClipPair]) -> dict[str, Any]:
    data = [{**p.extra, "extended": clip_to_wire(p.extended),
             "full": None if p.full is None else clip_to_wire(p.full)} for p in pairs]  # fmt: skip
    return {"code": 200, "message": "success", "data": data}


def _clip(clip_id: str, state: str) -> dict[str, Any]:
    return {"clip_id": clip_id, "state": state, "duration": "61.50", "title": "Rust"}


@settings(max_examples=80, deadline=None)
@given(pairs=st.lists(st.builds(ClipPair, extended=clips, full=st.none() | clips,
                                extra=st.dictionaries(st.sampled_from(["index", "x_note"]),
                                                      st.integers() | st.text(max_size=8))),
                      min_size=1, max_size=3))  # fmt: skip
def test_pairs_round_trip_through_the_parser_and_the_redis_store(pairs: list[ClipPair]) -> None:
    """Any pairs answer (extra keys too) parses back the same; the fleet's JSON keeps it."""
    snapshot = parse_snapshot(Family.SONIC, _answer(pairs), task_id=TASK)
    assert list(snapshot.pairs) == pairs
    assert snapshot.clips == tuple(c for p in pairs for c in (p.extended, p.full) if c)
    stored = snapshot_from_json(snapshot_to_json(snapshot))
    assert stored == snapshot
    assert stored.done == snapshot.done


def test_a_pair_without_its_full_song_is_not_done() -> None:
    """Succeeded extensions with ``full: null`` are not a finished task; the fulls finish it."""
    waiting = {"code": 200, "data": [{"extended": _clip(e, "succeeded"), "full": None}
                                     for e in ("e1", "e2")]}  # fmt: skip
    snapshot = parse_snapshot(Family.SONIC, waiting, task_id=TASK)
    assert all(c.is_terminal for c in snapshot.clips)
    assert not snapshot.done
    assert [p.complete for p in snapshot.pairs] == [False, False]
    one = {"code": 200, "data": [{"extended": _clip("e1", "succeeded"),
                                  "full": _clip("f1", "succeeded")},
                                 {"extended": _clip("e2", "succeeded"), "full": None}]}  # fmt: skip
    assert not parse_snapshot(Family.SONIC, one, task_id=TASK).done
    both = {"code": 200, "data": [{"extended": _clip(e, "succeeded"), "full": _clip(f, "succeeded")}
                                  for e, f in (("e1", "f1"), ("e2", "f2"))]}  # fmt: skip
    done = parse_snapshot(Family.SONIC, both, task_id=TASK)
    assert done.done
    assert [c.clip_id for c in done.clips] == ["e1", "f1", "e2", "f2"]


def test_a_failed_extension_completes_its_pair() -> None:
    """A failed extension will get no concat: its pair is complete with ``full`` null."""
    answer = {"code": 200, "data": [{"extended": _clip("e1", "failed"), "full": None}]}
    snapshot = parse_snapshot(Family.SONIC, answer, task_id=TASK)
    assert snapshot.done
    assert snapshot.failed_clips[0].state is ClipState.FAILED


def test_a_voice_clip_carries_its_persona_id() -> None:
    """create-voice's succeeded clip names its persona in ``Clip.persona_id``."""
    answer = {"code": 200, "data": [{**_clip("v1", "succeeded"), "persona_id": "p-1"}]}
    (clip,) = parse_snapshot(Family.SONIC, answer, task_id=TASK).clips
    assert clip.persona_id == "p-1"
    assert "persona_id" not in clip.extra


@pytest.mark.anyio
async def test_the_golden_pairs_answer_is_read_through_the_client(server: FakeServer) -> None:
    """A polled pairs answer keeps both pairs, typed, and is not done while a full is null."""
    name = "sonic_task_upload_extend_pairs.json"
    server.on("GET", f"/api/v1/sonic/task/{TASK}", reply(name))
    snapshot = await server.api.sonic.get(TASK)
    wire = golden(name)["data"]
    assert [p.extended.clip_id for p in snapshot.pairs] == [w["extended"]["clip_id"] for w in wire]
    assert snapshot.pairs[0].full is None
    assert snapshot.pairs[1].full is not None
    assert snapshot.pairs[1].full.duration == 88.7
    assert len(snapshot.clips) == 3
    assert not snapshot.done
