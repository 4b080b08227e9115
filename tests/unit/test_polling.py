"""The poll schedule: ``PollPolicy`` and the learned ``CompletionModel``."""

from __future__ import annotations

from typing import Any

import pytest

from musicapi_async import (
    CreateVoiceRequest,
    Family,
    NuroVocalRequest,
    PollPolicy,
    SonicRequest,
    SonicTaskType,
)
from musicapi_async._jobs import window_task
from musicapi_async._polling import CompletionModel


def test_policy_rejects_nonsense() -> None:
    """A policy with max below min, negative delays or jitter >= 1 is refused."""
    with pytest.raises(ValueError, match="max_interval"):
        PollPolicy(min_interval=20, max_interval=10)
    with pytest.raises(ValueError, match="initial_delay"):
        PollPolicy(initial_delay=-1)
    with pytest.raises(ValueError, match="jitter"):
        PollPolicy(jitter=1.0)


SONIC_PRIOR = 120.0 + 120.0 * 0.05**0.5  # 5 % of the later of two clips at 2-4 min
LATER = 1e6  # on a model's clock: every sample has ripened


class Clock:
    """A model's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def learning(**policy: Any) -> tuple[CompletionModel, Clock]:
    """A model without jitter, and the clock its samples ripen on."""
    clock = Clock()
    return CompletionModel(PollPolicy(jitter=0, **policy), clock=clock), clock


def test_first_poll_lands_where_the_documented_timings_put_5_percent() -> None:
    """Without history, a sonic wait first polls where 5 % of tasks whose two clips each
    take 2-4 min are done (2 min 27 s), a stream waiter at 33 s (5 % into 30-90 s), a
    nuro wait at 22 s."""
    model = CompletionModel(PollPolicy(jitter=0))
    assert model.first_poll(Family.SONIC, playable=False) == pytest.approx(SONIC_PRIOR)
    assert model.first_poll(Family.SONIC, playable=True) == pytest.approx(33.0)
    assert model.first_poll(Family.NURO, playable=False) == pytest.approx(22.0)
    assert model.window(Family.SONIC) == pytest.approx((146.83, 240.0), abs=0.01)


def test_explicit_initial_delay_wins_and_scales() -> None:
    """initial_delay overrides the window, and scaled() divides it by the factor."""
    policy = PollPolicy(initial_delay=10, jitter=0).scaled(10)
    assert CompletionModel(policy).first_poll(Family.SONIC, playable=False) == 1.0


def test_window_is_learned_from_finished_tasks() -> None:
    """After enough observations the window follows them, not the documented prior."""
    model, clock = learning()
    for i in range(100):
        model.observe_done(Family.SONIC, 150 + i, 152 + i)
    clock.now = LATER
    low, high = model.window(Family.SONIC)
    assert 151 <= low < 158
    assert 240 <= high <= 250
    assert model.first_poll(Family.SONIC, playable=False) == low


def test_learned_window_never_ends_before_the_documented_one() -> None:
    """Fast early samples move the first poll earlier but not the start of the back-off."""
    model, clock = learning()
    for _ in range(50):
        model.observe_done(Family.SONIC, 60, 62)
    clock.now = LATER
    assert model.window(Family.SONIC) == (61.0, 240.0)


def test_learning_can_be_switched_off() -> None:
    """With learn=False observations are ignored and the prior stays."""
    model = CompletionModel(PollPolicy(jitter=0, learn=False))
    for _ in range(50):
        model.observe_done(Family.SONIC, 10, 11)
    assert model.window(Family.SONIC) == pytest.approx((SONIC_PRIOR, 240.0))


def test_gaps_are_steady_in_the_window_and_back_off_after() -> None:
    """Inside the window the gap is 18 s; past it, it grows to the max."""
    model = CompletionModel(PollPolicy(jitter=0))
    delay, gap = model.next_poll(Family.SONIC, 150, None, playable=False)
    assert delay == gap == 18.0
    gaps = []
    previous = None
    for offset in (250, 275, 300, 330):
        _, previous = model.next_poll(Family.SONIC, offset, previous, playable=False)
        gaps.append(previous)
    assert gaps == sorted(gaps)
    assert gaps[-1] == 25.0


def test_stream_waiters_poll_at_the_minimum_gap() -> None:
    """While a waiter wants the first stream, the gap is min_interval."""
    model = CompletionModel(PollPolicy(jitter=0))
    assert model.next_poll(Family.SONIC, 35, None, playable=True) == (15.0, 15.0)


def test_early_poll_skips_ahead_to_the_window() -> None:
    """A task polled early for its stream skips towards the window, at most max_interval."""
    model = CompletionModel(PollPolicy(jitter=0))
    assert model.next_poll(Family.SONIC, 40, 15.0, playable=False)[0] == 25.0
    delay, _ = model.next_poll(Family.SONIC, 130, 15.0, playable=False)
    assert delay == pytest.approx(SONIC_PRIOR - 130)


def test_no_gap_exceeds_max_interval() -> None:
    """Even with unscaled windows, a tiny max_interval bounds every gap between polls."""
    model = CompletionModel(PollPolicy(initial_delay=0, min_interval=0.02, max_interval=0.05))
    for offset in (0.0, 1.0, 50.0, 500.0):
        assert model.next_poll(Family.SONIC, offset, 0.02, playable=False)[0] <= 0.05 * 1.1


def test_jitter_stays_within_bounds() -> None:
    """Every jittered wait stays within +-jitter of the base."""
    policy = PollPolicy(jitter=0.2)
    waits = [policy.jittered(10.0) for _ in range(500)]
    assert min(waits) >= 8.0
    assert max(waits) <= 12.0
    assert len(set(waits)) > 1


def test_learned_windows_round_trip_across_speeds() -> None:
    """What one model learned seeds another in server seconds, whatever either's speed."""
    fast = CompletionModel(PollPolicy(jitter=0).scaled(10))
    for i in range(40):
        fast.observe_done(Family.SONIC, 15.0 + i / 10, 15.0 + i / 10)
    learned = fast.learned()
    assert min(learned["done:sonic"]) == pytest.approx(150.0)
    slow = CompletionModel(PollPolicy(jitter=0))
    assert slow.seed(learned) == 40
    assert slow.window(Family.SONIC)[0] == pytest.approx(150.0, abs=1.0)
    assert slow.first_poll(Family.SONIC, playable=False) == pytest.approx(150.0, abs=1.0)


def test_seed_skips_what_is_not_a_sample() -> None:
    """Unknown keys, families and values that are not finite non-negative numbers are skipped."""
    model = CompletionModel(PollPolicy(jitter=0))
    stored = {
        "done:sonic": [130.0, float("nan"), -1, "x", True and 140],
        "done:jazz": [1.0],
        "later:sonic": [1.0],
        "playable:nuro": "not a list",
    }
    assert model.seed(stored) == 2  # type: ignore[arg-type]
    assert model.learned() == {"done:sonic": [130.0, 140.0]}
    assert CompletionModel(PollPolicy(learn=False)).seed({"done:sonic": [130.0]}) == 0


def test_learned_edges_follow_the_newest_samples_only() -> None:
    """Past MAX_SAMPLES the oldest observations drop out of the window's edges."""
    model, clock = learning()
    for _ in range(512):
        model.observe_done(Family.SONIC, 100, 100)
    clock.now = LATER
    assert model.window(Family.SONIC)[0] == 100.0
    for _ in range(512):
        model.observe_done(Family.SONIC, 170, 170)
    clock.now = 2 * LATER
    assert model.window(Family.SONIC) == (170.0, 240.0)
    assert model.learned()["done:sonic"] == [170.0] * 512


def test_a_first_poll_due_before_the_learned_edge_waits_for_it() -> None:
    """A first poll placed early (before the model learned) is put off to the new edge,
    unless it is within one shortest gap of it or the policy fixes the first poll."""
    model, clock = learning()
    assert model.first_poll_due(Family.SONIC, 120.0) == pytest.approx(SONIC_PRIOR - 120)
    assert model.first_poll_due(Family.SONIC, 135.0) == 0.0
    for i in range(40):
        model.observe_done(Family.SONIC, 180 + i, 182 + i)
    clock.now = LATER
    assert model.first_poll_due(Family.SONIC, 150.0) == pytest.approx(181.0 + 1 - 150.0, abs=1)
    fixed = CompletionModel(PollPolicy(jitter=0, initial_delay=5))
    assert fixed.first_poll_due(Family.SONIC, 5.0) == 0.0


def test_a_first_look_is_taken_as_if_polled_one_gap_before() -> None:
    """A task finished (or streaming) at its first poll is recorded half a gap before it:
    the steady gap for completion, the shortest gap for the stream, never below zero."""
    model = CompletionModel(PollPolicy(jitter=0))
    model.observe_done(Family.SONIC, None, 150.0)
    model.observe_playable(Family.SONIC, None, 40.0)
    model.observe_done(Family.NURO, None, 4.0)
    assert model.learned() == {
        "done:sonic": [141.0],
        "done:nuro": [2.0],
        "playable:sonic": [32.5],
    }


def test_each_task_type_has_its_own_window_from_the_family_prior() -> None:
    """Samples of one task type move only its window; every type starts from the family's
    prior, and a new song shares the family's own window."""
    model, clock = learning()
    for _ in range(40):
        model.observe_done(Family.SONIC, 20, 22, task="concat_music")
    clock.now = LATER
    assert model.window(Family.SONIC, task="concat_music") == (21.0, 240.0)
    assert model.window(Family.SONIC) == pytest.approx((SONIC_PRIOR, 240.0))
    assert model.window(Family.SONIC, task="extend_music") == model.window(Family.SONIC)
    model.observe_done(Family.SONIC, 150, 152, task="create_music")
    assert model.learned() == {"done:sonic/concat_music": [21.0] * 40, "done:sonic": [151.0]}
    assert model.first_poll(Family.SONIC, playable=False, task="concat_music") == 21.0


def test_task_windows_round_trip_and_bad_task_names_are_skipped() -> None:
    """A task type's samples seed a new model under the same type; a stored name that is
    not a plain task type is outside input and skipped."""
    model = CompletionModel(PollPolicy(jitter=0))
    stored = {
        "done:sonic/stems_basic": [30.0] * 32,
        "done:sonic/../x": [1.0],
        "done:sonic/": [1.0],
        "done:sonic/Stems": [1.0],
        "done:jazz/stems_basic": [1.0],
    }
    assert model.seed(stored) == 32
    assert model.learned() == {"done:sonic/stems_basic": [30.0] * 32}
    assert model.window(Family.SONIC, task="stems_basic")[0] == 30.0


def test_task_types_without_a_documented_time_are_first_polled_within_half_a_minute() -> None:
    """Concat, stems and voice tasks (no documented time, done in seconds) first poll 5 %
    into 15 s - 4 min (26 s), not at a song's 2 min 27 s; a cover or an extension is a
    song."""
    model = CompletionModel(PollPolicy(jitter=0))
    for task in ("concat_music", "stems_basic", "stems_full", "create_voice"):
        assert model.first_poll(Family.SONIC, playable=False, task=task) == 26.25
        assert model.window(Family.SONIC, task=task) == (26.25, 240.0)
    for task in ("cover_music", "extend_music", "upload_extend"):
        first = model.first_poll(Family.SONIC, playable=False, task=task)
        assert first == pytest.approx(SONIC_PRIOR)


def test_a_jobs_task_type_comes_from_its_request() -> None:
    """The schedule's task type is the request's task_type, else its endpoint's name; a
    family's plain create and an unknown request share the family's window."""
    song = SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt="a song")
    concat = SonicRequest(task_type=SonicTaskType.CONCAT_MUSIC, continue_clip_id="c" * 36)
    assert window_task(song) == "create_music"
    assert window_task(concat) == "concat_music"
    assert window_task(CreateVoiceRequest(audio_url="https://x.test/a.mp3")) == "create_voice"
    assert window_task(NuroVocalRequest(lyrics="[verse]\nhello", genre="Pop")) is None
    assert window_task(None) is None
    assert window_task(object()) is None


def test_a_sample_counts_once_its_cohort_could_all_be_done() -> None:
    """A task finished early says nothing yet of those submitted with it that are still
    running: its sample counts only once the prior's whole window has passed since its
    submission, and the schedule meanwhile stays on the prior."""
    model, clock = learning()
    clock.now = 1000.0
    for _ in range(40):
        model.observe_done(Family.SONIC, 125, 127)  # seen at 127: submitted at 873
    assert model.window(Family.SONIC)[0] == pytest.approx(SONIC_PRIOR)
    assert model.learned() == {"done:sonic": [126.0] * 40}  # handed on all the same
    clock.now = 1112.5
    assert model.window(Family.SONIC)[0] == pytest.approx(SONIC_PRIOR)
    clock.now = 1113.0  # 873 + the prior's 240 s
    assert model.window(Family.SONIC) == (126.0, 240.0)


def test_the_prior_stands_in_for_samples_not_yet_seen() -> None:
    """One fast task among the first samples does not set the first poll: until 32
    samples, the documented timings count for the missing ones."""
    model, clock = learning()
    model.observe_done(Family.SONIC, 100, 102)  # a lone fast one
    for _ in range(15):
        model.observe_done(Family.SONIC, 179, 181)
    clock.now = LATER
    low, _ = model.window(Family.SONIC)
    assert 101.0 < low < SONIC_PRIOR  # a 5th percentile of 16 would be the fast one
    for _ in range(16):
        model.observe_done(Family.SONIC, 179, 181)
    clock.now = 2 * LATER
    assert model.window(Family.SONIC)[0] == 180.0  # 32 seen: theirs alone


def test_fresh_samples_from_elsewhere_wait_for_their_cohort() -> None:
    """Samples another process observed just now (fresh) count once their cohort could be
    done, as this model's own do; stored ones (an earlier run's) count at once."""
    model, clock = learning()
    clock.now = 1000.0
    assert model.seed({"done:sonic": [130.0] * 40}, fresh=True) == 40
    assert model.window(Family.SONIC)[0] == pytest.approx(SONIC_PRIOR)
    clock.now = 1000.0 - 130.0 + 240.0  # submitted 130 s ago, the prior ends at 240 s
    assert model.window(Family.SONIC)[0] == 130.0
    stored, _ = learning()
    stored.seed({"done:sonic": [130.0] * 40})
    assert stored.window(Family.SONIC)[0] == 130.0
