"""When to poll: the poll schedule of a task, as pure policy and a learned model.

MusicAPI asks for 15-25 s between polls of one task. A sonic task takes 2-4 minutes, so
a fixed 20 s loop spends most of its polls on tasks that cannot be done yet. The
schedule here polls where completions actually happen:

1. The first poll lands at the low edge of the family's completion window, or, for a
   waiter that wants the first playable stream, at the low edge of the streaming window.
   An explicit ``initial_delay`` overrides both. Without history the low edge comes from
   the documented timings, read as evenly spread over their range: a sonic task is done
   when both of its clips are, each at 2-4 minutes, so 5 % of tasks are done by 2 min 27 s
   (nuro 22 s, studio 66 s).
2. Inside the window the gap is 18 s (a little under the middle of the vendor's range),
   so the delay between a completion and its delivery is no worse than a fixed 20 s
   loop's.
3. Past the window the gap backs off towards ``max_interval``.
4. The windows are learned from the tasks this client has seen finish (5th and 95th
   percentile of observed completion times), per family and task type (a concat or a
   stem split is done long before a new song), starting from the family's documented
   prior (for a task type with no documented time, from one shortest gap after the
   submission), or
   from what an earlier process learned (``learned()`` / ``seed()``: a journal keeps
   them), so that a restarted backend or a second bulk run starts warm.
5. A first poll placed at submission is looked at again when it comes due: a new client
   learns while its first tasks wait, and a task whose window has since moved later
   waits for it instead of polling early.

Every duration is divided by ``time_scale`` (see ``PollPolicy.scaled``), and every wait is
jittered so that tasks submitted together drift apart instead of polling in lock-step.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Final

import attrs

from ._models import Family
from ._poll_samples import MAX_SAMPLES, Prior, Samples

__all__ = ["CompletionModel", "LearnedWindows", "PollPolicy"]

# What a model learned, portable between processes and speeds: "done:sonic" (or
# "playable:sonic"; "done:sonic/concat_music" for a task type other than a new song) ->
# observed offsets from submission, in the server's seconds.
LearnedWindows = dict[str, list[float]]
# A window's key: the family, and the task type (None: a new song, or the family's only
# kind of task).
_Key = tuple[Family, str | None]

# Documented generation times (MUSICAPI.md §4.3, §7.2, §15): (low, high) seconds from
# submission for completion, and for the first playable stream.
_DONE_WINDOW: Final[Mapping[Family, tuple[float, float]]] = {
    Family.SONIC: (120.0, 240.0),
    Family.NURO: (20.0, 60.0),
    Family.STUDIO: (60.0, 180.0),
    Family.PRODUCER: (20.0, 60.0),  # "~30 s average" (§14)
    Family.RIFFUSION: (60.0, 180.0),  # undocumented: studio's
}
_PLAYABLE_WINDOW: Final[Mapping[Family, tuple[float, float]]] = {
    Family.SONIC: (30.0, 90.0),
    Family.NURO: (20.0, 60.0),
    Family.STUDIO: (60.0, 180.0),
    Family.PRODUCER: (20.0, 60.0),
    Family.RIFFUSION: (60.0, 180.0),
}
# How many clips a task waits for, each finishing on its own (MUSICAPI.md §4.3: a sonic
# task is done when every clip is terminal, and one may succeed minutes before the other).
_CLIPS: Final[Mapping[Family, int]] = {Family.SONIC: 2}
_FAMILIES: Final = {family.value: family for family in Family}
# A task type as stored: what a journal or Redis hands back is outside input.
_TASK_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
_NEW_SONG: Final = "create_music"
# Task types that make no new song, whose time the docs do not give: joining clips,
# splitting stems, cloning a voice. Their prior spreads completions from one shortest
# poll gap (the vendor's 15 s) to the family's end, so that a task done in seconds is
# first polled after 26 s, not at a song's two and a half minutes; their own samples
# then take over.
_UNTIMED: Final = frozenset({"concat_music", "stems_basic", "stems_full", "create_voice"})
_UNTIMED_LOW: Final = 15.0
# The window's edges, as quantiles of completion times: the first poll waits for the
# fastest 5 %, whose extra delay stays out of the 95th percentile of latency.
_LOW: Final = 0.05
_HIGH: Final = 0.95


def _prior(key: _Key, playable: bool) -> Prior:
    """The documented timings of a kind of task, in the server's seconds."""
    family, task = key
    if playable:  # the first stream of either clip: spread evenly, not the later-of-two shape
        return Prior(*_PLAYABLE_WINDOW[family])
    if task in _UNTIMED:
        return Prior(_UNTIMED_LOW, _DONE_WINDOW[family][1])
    return Prior(*_DONE_WINDOW[family], clips=_CLIPS.get(family, 1))


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, not {value!r}")


@attrs.frozen(kw_only=True)
class PollPolicy:
    """How often to poll a task.

    Args:
        initial_delay: seconds from submission to the first poll; ``None`` (default)
            picks it from the family's completion window, learned as tasks finish.
        min_interval: the shortest gap between two polls of one task (vendor: >= 15 s).
        max_interval: the longest gap.
        backoff: factor the gap grows by once a task runs past its expected window.
        jitter: the fraction by which each wait is randomly shortened or lengthened.
        learn: learn the completion windows from finished tasks.
        time_scale: every duration is divided by this (``scaled()`` sets it), so a policy
            runs as much faster as the emulator does.
    """

    initial_delay: float | None = None
    min_interval: float = attrs.field(default=15.0, validator=_positive)
    max_interval: float = attrs.field(default=25.0, validator=_positive)
    backoff: float = attrs.field(default=1.25, validator=_positive)
    jitter: float = 0.1
    learn: bool = True
    time_scale: float = attrs.field(default=1.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.max_interval < self.min_interval:
            raise ValueError("max_interval must be at least min_interval")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if self.initial_delay is not None and self.initial_delay < 0:
            raise ValueError("initial_delay must not be negative")
        if self.backoff < 1:
            raise ValueError("backoff must be at least 1")

    def scaled(self, factor: float) -> PollPolicy:
        """The same policy running ``factor`` times faster (for the emulator's speed)."""
        if factor <= 0:
            raise ValueError("factor must be positive")
        return attrs.evolve(self, time_scale=self.time_scale * factor)

    def jittered(self, seconds: float) -> float:
        """``seconds`` spread by ``jitter`` so that tasks submitted together drift apart."""
        if not self.jitter or seconds <= 0:
            return seconds
        # Jitter spreads load; it is not security-sensitive.
        return seconds * random.uniform(1 - self.jitter, 1 + self.jitter)

    @property
    def steady_interval(self) -> float:
        """The gap inside the completion window (wall seconds).

        18 s with the defaults: a little under the middle of the vendor's range, so that
        even with jitter a completion waits no longer for its poll than under a fixed
        20 s loop.
        """
        return (self.min_interval + 0.3 * (self.max_interval - self.min_interval)) / self.time_scale


def _key(family: Family, task: str | None) -> _Key:
    return family, None if task == _NEW_SONG else task


class CompletionModel:
    """Completion and first-playable times per family and task type, learned from
    finished tasks (``task``: the task type, or the endpoint of a task without one; a new
    song and ``None`` share the family's window).

    Times are offsets in wall seconds from submission. An observation is the midpoint
    between the last poll that saw the task unfinished and the first that saw it
    finished: the true moment lies between the two. A task already finished at its first
    poll is taken as if polled one gap before, as the others were (see ``_first_look``).
    """

    def __init__(self, policy: PollPolicy, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._policy = policy
        self._clock = clock  # the poller's: a sample ripens on it (see _poll_samples)
        self._done: dict[_Key, Samples] = {}
        self._playable: dict[_Key, Samples] = {}
        # window() per (key, playable), until the next sample: it is asked on every poll.
        self._windows: dict[tuple[_Key, bool], tuple[float, float]] = {}
        self._priors: dict[tuple[_Key, bool], Prior] = {}

    def observe_done(
        self, family: Family, before: float | None, after: float, *, task: str | None = None
    ) -> None:
        """Record that a ``family`` task finished between offsets ``before`` and ``after``
        (``before`` is ``None`` when it was finished at its first poll)."""
        if before is None:
            before = self._first_look(after, self._policy.steady_interval)
        self._add(self._done, _key(family, task), before, after)

    def observe_playable(
        self, family: Family, before: float | None, after: float, *, task: str | None = None
    ) -> None:
        """Record that a ``family`` task first streamed between ``before`` and ``after``
        (``before`` is ``None`` when it streamed at its first poll)."""
        if before is None:
            before = self._first_look(after, self._policy.min_interval / self._policy.time_scale)
        self._add(self._playable, _key(family, task), before, after)

    @staticmethod
    def _first_look(after: float, gap: float) -> float:
        # Finished at the first poll: nothing bounds it from below but the submission.
        # These are the fastest tasks, the very ones the low edge (5 %) is made of, so
        # how they are recorded decides where the first poll settles. Halfway from the
        # submission drags it a minute early; at the poll itself (an upper bound) it
        # creeps later with every run, ten seconds past the true 5th percentile, and the
        # fastest tasks wait for it. Taken as if polled one gap before, as the others
        # were, it holds at the true 5th percentile (simulated over 5,000 tasks).
        return max(0.0, after - gap)

    def _add(self, table: dict[_Key, Samples], key: _Key, lo: float, hi: float) -> None:
        if self._policy.learn and 0 <= lo <= hi:
            samples = table.get(key)
            if samples is None:
                samples = table[key] = Samples()
            playable = table is self._playable
            # It counts once every task submitted with it would be done (survivorship).
            submitted = self._clock() - hi
            samples.add((lo + hi) / 2, submitted + self._prior(key, playable).high)

    def learned(self) -> LearnedWindows:
        """The observations so far, in the server's seconds (for ``seed`` in a later run)."""
        scale = self._policy.time_scale
        return {
            f"{kind}:{family.value}{'' if task is None else '/' + task}": [
                offset * scale for offset in samples.values()
            ]
            for kind, table in (("done", self._done), ("playable", self._playable))
            for (family, task), samples in table.items()
        }

    def seed(self, windows: Mapping[str, Sequence[float]], *, fresh: bool = False) -> int:
        """Start from what an earlier run learned (``learned()``); returns the samples taken.

        A stored file is outside input: unknown keys and values that are not finite,
        non-negative numbers are skipped, and at most the newest ``MAX_SAMPLES`` count.
        Seeded samples count at once (their tasks are long done), unless ``fresh``: then
        they were observed just now (by another process of a fleet) and wait for their
        cohort as this model's own samples do.
        """
        if not self._policy.learn:
            return 0
        scale, taken = self._policy.time_scale, 0
        now = self._clock() if fresh else 0.0
        for name, samples in windows.items():
            kind, _, where = str(name).partition(":")
            family_name, slash, task = where.partition("/")
            table = {"done": self._done, "playable": self._playable}.get(kind)
            if (
                table is None
                or family_name not in _FAMILIES
                or (slash and not _TASK_NAME.fullmatch(task))
                or not isinstance(samples, list)
            ):
                continue
            key = _key(_FAMILIES[family_name], task or None)
            known = table.get(key)
            if known is None:
                known = table[key] = Samples()
            # Fresh: taken as if observed now, so submitted ``value`` ago.
            high = self._prior(key, kind == "playable").high if fresh else None
            for value in samples[-MAX_SAMPLES:]:
                if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
                    offset = float(value) / scale
                    known.add(offset, None if high is None else now - offset + high)
                    taken += 1
        self._windows.clear()
        return taken

    def window(
        self, family: Family, *, playable: bool = False, task: str | None = None
    ) -> tuple[float, float]:
        """The (low, high) offsets where a ``family`` task finishes (or first streams)."""
        key = _key(family, task)
        samples = (self._playable if playable else self._done).get(key)
        if samples is not None and samples.pending and samples.ripen(self._clock()):
            self._windows.pop((key, playable), None)
        window = self._windows.get((key, playable))
        if window is None:
            prior = self._prior(key, playable)
            if samples is None:
                window = prior.quantile(_LOW), prior.high
            else:
                # The back-off starts no earlier than the documented window ends, so a
                # sample biased towards the fast tasks cannot starve the slow ones.
                high = max(prior.high, samples.quantile(_HIGH, prior))
                window = samples.quantile(_LOW, prior), high
            self._windows[(key, playable)] = window
        return window

    def _prior(self, key: _Key, playable: bool) -> Prior:
        prior = self._priors.get((key, playable))
        if prior is None:
            prior = _prior(key, playable).scaled(self._policy.time_scale)
            self._priors[(key, playable)] = prior
        return prior

    def first_poll(self, family: Family, *, playable: bool, task: str | None = None) -> float:
        """Offset of the first poll of a new task (wall seconds after submission)."""
        policy = self._policy
        if policy.initial_delay is not None:
            return policy.jittered(policy.initial_delay / policy.time_scale)
        low, _ = self.window(family, playable=playable, task=task)
        return policy.jittered(low)

    def first_poll_due(self, family: Family, offset: float, *, task: str | None = None) -> float:
        """For a first poll coming due ``offset`` seconds after submission: how much longer
        to wait (0: poll now).

        It was placed at submission from what was known then. A new client learns while
        its first tasks wait: when the window's low edge has since moved later by more than
        the shortest gap, the task waits for the new edge rather than spend a poll early.
        """
        policy = self._policy
        if policy.initial_delay is not None:
            return 0.0
        low, _ = self.window(family, task=task)
        if offset >= low - policy.min_interval / policy.time_scale:
            return 0.0
        return max(0.0, policy.jittered(low) - offset)

    def safety_net_delay(self, family: Family, *, task: str | None = None) -> float:
        """With webhooks: the first poll, well after the task should have finished."""
        # Half the window again, and at least two long gaps: a webhook that is late
        # (retried, queued) must not be overtaken by the poll meant to catch lost ones.
        _, high = self.window(family, task=task)
        margin = max(high / 2, 2 * self._policy.max_interval / self._policy.time_scale)
        return self._policy.jittered(high + margin)

    def safety_net_next(self, previous_gap: float | None) -> tuple[float, float]:
        """With webhooks: the gaps after that, backing off to four times ``max_interval``."""
        policy = self._policy
        ceiling = 4 * policy.max_interval / policy.time_scale
        gap = min(ceiling, (previous_gap or policy.max_interval / policy.time_scale) * 2)
        return policy.jittered(gap), gap

    def next_poll(
        self,
        family: Family,
        offset: float,
        previous_gap: float | None,
        *,
        playable: bool,
        task: str | None = None,
    ) -> tuple[float, float]:
        """When to poll next, for a task polled just now at ``offset``.

        Args:
            family: the task's family.
            offset: seconds since submission now (``inf`` when the submission time is
                unknown, e.g. a resumed task: then the window is ignored).
            previous_gap: the un-jittered gap used last time, if any.
            playable: the waiters still want the first playable stream.
            task: the task type (see the class).

        Returns:
            ``(delay, gap)``: seconds to wait from now (jittered) and the un-jittered gap
            to pass back next time.
        """
        policy = self._policy
        floor = policy.min_interval / policy.time_scale
        ceiling = policy.max_interval / policy.time_scale
        if playable:
            gap = floor
        else:
            low, high = self.window(family, task=task)
            if offset < low - floor:
                # Polled early (for a stream that is now playable): skip towards the
                # window, but never by more than the longest gap the policy allows.
                return policy.jittered(min(low - offset, ceiling)), policy.steady_interval
            if offset <= high:
                gap = policy.steady_interval
            else:
                gap = min(ceiling, max(floor, (previous_gap or floor) * policy.backoff))
        return policy.jittered(gap), gap
