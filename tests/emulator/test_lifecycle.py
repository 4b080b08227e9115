"""The task lifecycle on the virtual clock (§4.3): not_ready, states, durations, shapes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import anyio
import pytest

from musicapi_async._errors import TaskFailed
from musicapi_async._models import ClipState, TaskSnapshot

from .support import DESCRIBED, LONG, SONG, Client, serve

pytestmark = pytest.mark.anyio

GOLDEN = Path(__file__).resolve().parent.parent / "data"
_ORDER = ["pending", "running", "streaming", "succeeded"]


async def test_first_polls_are_not_ready(api: Client) -> None:
    """A new sonic task answers 202 ``{"type": "not_ready"}`` before it has clips."""
    task_id = await api.create()
    answer = await api.poll(task_id)
    assert (answer.status, answer.json) == (202, {"type": "not_ready"})
    snapshot = answer.parsed("sonic.task", task_id)
    assert isinstance(snapshot, TaskSnapshot)
    assert not snapshot.ready
    assert not snapshot.done
    api.emulator.advance(20)
    assert (await api.poll(task_id)).status == 200


async def test_not_ready_can_be_a_plain_200() -> None:
    """``not_ready_status=200`` serves the not_ready body with status 200."""
    async with serve(not_ready_status=200) as api:
        answer = await api.poll(await api.create())
        assert (answer.status, answer.json) == (200, {"type": "not_ready"})


async def test_states_only_move_forward_and_stream_before_succeeding(api: Client) -> None:
    """Each clip goes pending→running→streaming→succeeded, never backwards or skipping."""
    task_id = await api.create()
    seen: dict[str, list[str]] = {}
    for _ in range(300):
        api.emulator.advance(1.0)
        answer = await api.poll(task_id)
        for clip in answer.json.get("data", []):
            states = seen.setdefault(clip["clip_id"], [])
            if not states or states[-1] != clip["state"]:
                states.append(clip["state"])
            if clip["state"] == "streaming":
                assert clip["audio_url"].endswith(f"/media/stream/{clip['clip_id']}")
                assert clip["duration"] is None
    assert len(seen) == 2
    for states in seen.values():
        assert states == _ORDER, states


async def test_clips_finish_independently_within_minutes() -> None:
    """The two clips end at different times, 2-4 emulated minutes after the create."""
    # Seeded: with a fresh seed per run the two ends fell into the same one-second step
    # now and then (independent draws can be that close), and the test failed.
    async with serve(seed=7) as api:
        task_id = await api.create()
        ends: dict[str, float] = {}
        for second in range(1, 300):
            api.emulator.advance(1.0)
            answer = await api.poll(task_id)
            for clip in answer.json.get("data", []):
                if clip["state"] == "succeeded":
                    ends.setdefault(clip["clip_id"], second)
    assert len(ends) == 2
    first, last = sorted(ends.values())
    assert first != last
    assert first >= 60
    assert last <= 250


async def test_a_finished_clip_has_the_live_shape(api: Client) -> None:
    """Succeeded clips have the 15 live fields, a decimal-string duration and our media."""
    task_id = await api.create({**SONG, "negative_tags": "country", "style_weight": 0.6})
    clips = await api.finished_clips(task_id)
    golden = json.loads((GOLDEN / "sonic_task_live_v55.json").read_text())["data"][0]
    for clip in clips:
        assert set(clip) == set(golden)
        assert clip["state"] == "succeeded"
        assert re.fullmatch(r"\d+\.\d{2}", clip["duration"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", clip["created_at"])
        assert clip["audio_url"] == f"{api.emulator.url}/media/audio/{clip['clip_id']}.wav"
        assert clip["image_url"] == f"{api.emulator.url}/media/image/{clip['clip_id']}.png"
        assert clip["video_url"] is None
        assert (clip["title"], clip["tags"], clip["mv"]) == ("Stars", "pop", "sonic-v4")
        assert clip["lyrics"] == SONG["prompt"]
        assert (clip["negative_tags"], clip["style_weight"]) == ("country", 0.6)
        assert clip["gpt_description_prompt"] is None
    snapshot = (await api.poll(task_id)).parsed("sonic.task", task_id)
    assert snapshot.done
    assert all(c.state is ClipState.SUCCEEDED for c in snapshot.clips)
    assert all(c.duration and c.duration > 0 for c in snapshot.clips)


async def test_description_mode_writes_title_and_lyrics(api: Client) -> None:
    """Without custom mode the emulator writes title, tags and lyrics, and echoes the prompt."""
    clips = await api.finished_clips(await api.create(DESCRIBED))
    for clip in clips:
        assert clip["gpt_description_prompt"] == DESCRIBED["gpt_description_prompt"]
        assert clip["title"]
        assert clip["tags"]
        assert clip["lyrics"].startswith("[Verse]")


async def test_instrumentals_carry_a_bracket_marker(api: Client) -> None:
    """``make_instrumental`` clips carry a bracket-only lyrics marker, not an empty string."""
    clips = await api.finished_clips(await api.create({**DESCRIBED, "make_instrumental": True}))
    assert {c["lyrics"] for c in clips} == {"[Instrumental]"}


async def test_failed_task_clips_and_sdk_parse(api: Client) -> None:
    """A failing task ends with ``failed`` clips carrying a message, which the SDK reads."""
    api.emulator.fail_next()
    task_id = await api.create()
    clips = await api.finished_clips(task_id)
    assert [c["state"] for c in clips] == ["failed", "failed"]
    assert all(c["message"].startswith("Task failed") for c in clips)
    snapshot = (await api.poll(task_id)).parsed("sonic.task", task_id)
    assert snapshot.done
    assert len(snapshot.failed_clips) == 2


async def test_partial_failure_fails_one_clip(api: Client) -> None:
    """``fail_next(partial=True)`` fails only the last clip; the other succeeds."""
    api.emulator.fail_next(partial=True)
    clips = await api.finished_clips(await api.create())
    assert [c["state"] for c in clips] == ["succeeded", "failed"]


async def test_failure_rate_fails_some_tasks_reproducibly() -> None:
    """``failure_rate`` fails about that share of tasks, the same ones for the same seed."""
    outcomes: list[list[str]] = []
    for _ in range(2):
        async with serve(failure_rate=0.5, seed=7) as api:
            ids = [await api.create() for _ in range(20)]
            api.emulator.advance(LONG)
            outcomes.append([api.emulator.task_status(i) for i in ids])
    assert outcomes[0] == outcomes[1]
    assert 3 <= outcomes[0].count("failed") <= 17


async def test_http_504_failure_style() -> None:
    """With ``failure_style="http_504"`` a failed task's poll answers the documented 504."""
    async with serve(failure_style="http_504") as api:
        api.emulator.fail_next()
        task_id = await api.create()
        api.emulator.advance(LONG)
        answer = await api.poll(task_id)
        assert answer.status == 504
        assert answer.message == "Task failed due to timeout. Credits were previously refunded."
        with pytest.raises(TaskFailed):
            answer.parsed("sonic.task", task_id)


async def test_real_speed_moves_time_without_advance() -> None:
    """At ``speed=600`` a task leaves ``not_ready`` within a fraction of a wall second."""
    async with serve(speed=600) as api:
        task_id = await api.create()
        for _ in range(100):
            if "data" in (await api.poll(task_id)).json:
                break
            await anyio.sleep(0.01)
        assert "data" in (await api.poll(task_id)).json
