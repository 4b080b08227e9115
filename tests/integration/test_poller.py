"""The shared poller against the emulator: concurrency, events, throttling, cancellation."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import pytest

from musicapi_async import (
    AnyRequest,
    ClipPlayable,
    ClipSucceeded,
    Governor,
    Job,
    JobEvent,
    LyricsCandidate,
    LyricsRequest,
    MusicAPI,
    NuroInstrumentalRequest,
    NuroVocalRequest,
    Persona,
    PersonaRequest,
    PollPolicy,
    SonicRequest,
    StudioRequest,
    TaskDone,
    TaskTimeout,
)
from musicapi_async.emulator import Emulator, Fault, FaultKind

from .support import LONG, until

SPEED = 600.0


def song(i: int) -> SonicRequest:
    return SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt=f"song {i}")


def polls(emu: Emulator) -> int:
    return emu.stats.requests.get("sonic.task", 0)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """A fast emulator: a 3-minute song takes 0.3 s."""
    async with Emulator(speed=SPEED, credits=100_000) as emulator:
        yield emulator


@pytest.fixture
async def api(emu: Emulator) -> AsyncIterator[MusicAPI]:
    """A client whose poll schedule runs as fast as the emulator's clock."""
    policy = PollPolicy().scaled(SPEED)
    async with MusicAPI(emu.api_key, base_url=emu.url, poll=policy) as client:
        yield client


@pytest.mark.anyio
async def test_as_completed_delivers_500_jobs_once_each(emu: Emulator, api: MusicAPI) -> None:
    """500 concurrent jobs through as_completed are all delivered, each exactly once."""
    jobs = [await api.submit(song(i)) for i in range(500)]
    seen = Counter[str]()
    async for job in api.as_completed(jobs, timeout=60):
        assert job.done
        assert len(job.result()) == 2
        seen[job.task_id] += 1
    assert set(seen) == {j.task_id for j in jobs}
    assert max(seen.values()) == 1
    assert emu.stats.billed.get("sonic.create", 0) == 500


@pytest.mark.anyio
async def test_generate_many_delivers_500_outcomes_once_each(emu: Emulator, api: MusicAPI) -> None:
    """500 requests through generate_many yield 500 successful outcomes, one per request."""
    indexes: list[int] = []
    async for outcome in api.generate_many((song(i) for i in range(500)), concurrency=100):
        assert outcome.ok, outcome.error
        assert outcome.task_id is not None
        assert len(outcome.clips) == 2
        indexes.append(outcome.index)
    assert sorted(indexes) == list(range(500))
    assert emu.stats.billed.get("sonic.create", 0) == 500


@pytest.mark.anyio
async def test_generate_many_bounds_jobs_in_flight(emu: Emulator, api: MusicAPI) -> None:
    """generate_many never has more than `concurrency` tasks submitted and unfinished."""
    finished = 0
    peak = 0
    async for _ in api.generate_many((song(i) for i in range(40)), concurrency=5):
        finished += 1
        peak = max(peak, emu.stats.billed.get("sonic.create", 0) - finished)
    assert finished == 40
    assert peak <= 5


@pytest.mark.anyio
async def test_failures_are_values_not_exceptions(emu: Emulator, api: MusicAPI) -> None:
    """A bad request and a failed task arrive as outcomes carrying request and task id."""
    emu.fail_next(1)
    bad = SonicRequest(custom_mode=True, mv="sonic-v5")  # no prompt: refused locally
    outcomes = [o async for o in api.generate_many([song(0), bad, song(1)], concurrency=1)]
    by_index = {o.index: o for o in outcomes}
    assert by_index[1].error is not None
    assert by_index[1].task_id is None
    assert by_index[1].request is bad
    failed = [o for o in outcomes if o.index != 1 and not o.ok]
    assert len(failed) == 1
    assert failed[0].task_id is not None
    assert [o.ok for o in outcomes].count(True) == 1


@pytest.mark.anyio
async def test_streaming_event_comes_before_done() -> None:
    """updates() reports a playable stream URL before the clip succeeds and the task ends."""
    # The emulator's clock is moved by hand: it stands in the stream until the poller has
    # seen it, however late its polls come (at 600x a loaded machine could miss it).
    async with (
        Emulator(speed=0) as emu,
        MusicAPI(emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(SPEED)) as api,
    ):
        job = await api.submit(song(0))
        while emu.task_status(job.task_id) != "streaming":
            emu.advance(1)
        events: list[JobEvent] = []
        with anyio.fail_after(30):
            async for event in job.updates():
                events.append(event)
                if isinstance(event, ClipPlayable):
                    emu.advance(LONG)
    first_playable = next(i for i, e in enumerate(events) if isinstance(e, ClipPlayable))
    first_success = next(i for i, e in enumerate(events) if isinstance(e, ClipSucceeded))
    assert first_playable < first_success
    assert isinstance(events[-1], TaskDone)
    playable = events[first_playable]
    assert isinstance(playable, ClipPlayable)
    assert playable.clip.state == "streaming"
    assert playable.clip.audio_url


@pytest.mark.anyio
async def test_waiters_on_one_task_share_its_polls(emu: Emulator, api: MusicAPI) -> None:
    """Ten waiters on one task share one watch: each poll the server sees is that watch's."""
    # Counted, not timed: comparing with another task's poll count depended on how the
    # two timelines and the machine's load fell, and failed now and then under load.
    shared = await api.submit(song(1))
    before, sent_before = polls(emu), api.poller.stats.polls
    watched_before = api.poller.stats.watched
    results: list[int] = []

    async def waiter() -> None:
        results.append(len(await shared.wait(timeout=30)))

    async with anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(waiter)
    assert results == [2] * 10
    assert api.poller.stats.watched - watched_before == 1
    assert polls(emu) - before == api.poller.stats.polls - sent_before >= 1


@pytest.mark.anyio
async def test_throttling_pauses_the_whole_poller(emu: Emulator, api: MusicAPI) -> None:
    """One 429 with Retry-After stops every task's polls for that long, then all finish."""
    jobs = [await api.submit(song(i)) for i in range(20)]
    # Retry-After is in the emulator's seconds: 300 of them are half a wall second at 600x.
    emu.faults.add(Fault(FaultKind.RATE_LIMIT_429, endpoint="sonic.task", retry_after=300))
    polls_at_429 = -1
    start = anyio.current_time()
    async for _ in api.as_completed(jobs, timeout=30):
        if polls_at_429 < 0 and api.poller.stats.throttled:
            polls_at_429 = polls(emu)
    assert api.poller.stats.throttled == 1
    assert anyio.current_time() - start >= 0.5
    assert emu.stats.requests.get("sonic.task", 0) > polls_at_429


class ManualClock:
    """Time that stands still until the test moves it, then (``release``) runs freely."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeping = 0
        self._freed_at: float | None = None
        self._moved = anyio.Event()

    def __call__(self) -> float:
        if self._freed_at is None:
            return self.now
        return self.now + anyio.current_time() - self._freed_at

    async def sleep(self, seconds: float) -> None:
        end = self() + seconds
        self.sleeping += 1
        try:
            while self._freed_at is None and self() < end:
                await self._moved.wait()
            await anyio.sleep(max(0.0, end - self()))
        finally:
            self.sleeping -= 1

    def release(self, seconds: float) -> None:
        """Jump ``seconds`` ahead, and from then on follow the event loop's clock."""
        self.now += seconds
        self._freed_at = anyio.current_time()
        self._moved.set()


@pytest.mark.anyio
async def test_polls_pause_during_retry_after() -> None:
    """While a Retry-After pause runs, the poller sends no poll at all."""
    # The governor's pause runs on a clock only the test moves: the pause cannot end
    # early (or late) whatever the load, so "no poll during it" is exact. The emulator's
    # clock is stopped too: no task can finish before the pause, however late it starts.
    clock = ManualClock()
    governor = Governor.unlimited(clock=clock, sleep=clock.sleep)
    policy = PollPolicy().scaled(SPEED)
    # No create pace on either side: the creates need no clock, only the pause does.
    async with (
        Emulator(speed=0, credits=100_000, create_interval=None) as emu,
        MusicAPI(emu.api_key, base_url=emu.url, poll=policy, governor=governor) as api,
    ):
        jobs = [await api.submit(song(i)) for i in range(10)]
        emu.faults.add(Fault(FaultKind.RATE_LIMIT_429, endpoint="sonic.task", retry_after=300))
        finished: list[str] = []

        async def consume() -> None:
            async for job in api.as_completed(jobs, timeout=30):
                finished.append(job.task_id)

        def paused() -> bool:  # refused, and every poll already granted has been answered
            return bool(api.poller.stats.throttled and clock.sleeping) and not in_flight()

        def in_flight() -> int:
            return governor.state("poll").in_flight

        def held() -> int:  # polls the poller has started that the server has not seen
            return api.poller.stats.polls - polls(emu)

        async with anyio.create_task_group() as group:
            group.start_soon(consume)
            await until(paused)
            during = polls(emu)
            # Every task's next poll comes due meanwhile (the schedule runs in real time):
            # each is held, none reaches the server.
            await until(lambda: held() == len(jobs))
            assert clock.sleeping
            assert polls(emu) == during
            assert not in_flight()
            assert not finished
            emu.advance(LONG)
            clock.release(300)  # the pause ends: every task is polled and finishes
        assert sorted(finished) == sorted(j.task_id for j in jobs)
        assert polls(emu) > during


@pytest.mark.anyio
async def test_cancelling_one_waiter_leaves_the_others(emu: Emulator, api: MusicAPI) -> None:
    """A cancelled waiter ends alone: another waiter on the same task still gets the clips."""
    job = await api.submit(song(0))
    cancelled = anyio.Event()

    async def impatient() -> None:
        with anyio.move_on_after(0.05):
            await api.job(job.task_id).wait()
        cancelled.set()

    async with anyio.create_task_group() as group:
        group.start_soon(impatient)
        clips = await job.wait(timeout=30)
    assert cancelled.is_set()
    assert len(clips) == 2
    assert api.poller.running


@pytest.mark.anyio
async def test_abandoned_task_is_no_longer_polled(emu: Emulator, api: MusicAPI) -> None:
    """When the only waiter gives up, the task drops out of the schedule."""
    job = await api.submit(song(0))
    with anyio.move_on_after(0.01):
        await job.wait()
    assert not api.poller.watching(job.task_id)  # off the schedule: never polled again
    assert api.poller.stats.watched == 1


@pytest.mark.anyio
async def test_timeout_carries_the_task_id_and_resume_works() -> None:
    """TaskTimeout names the task and its last snapshot; a fresh Job for that id resumes."""
    # The emulator's clock stands still until the wait has timed out: at 600x a song can
    # end inside the 0.25 s wait, and then nothing times out.
    async with (
        Emulator(speed=0) as emu,
        MusicAPI(emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(SPEED)) as api,
    ):
        job = await api.submit(song(0))
        with pytest.raises(TaskTimeout) as caught:
            await job.wait(timeout=0.25)
        emu.advance(LONG)
        assert caught.value.task_id == job.task_id
        assert isinstance(caught.value, TimeoutError)
        assert caught.value.snapshot is job.snapshot
        resumed = api.job(caught.value.task_id)
        clips = await resumed.wait(timeout=30)
        assert len(clips) == 2
        assert all(c.state == "succeeded" for c in clips)
        assert emu.task_status(job.task_id) == "succeeded"
        assert clips == list((await api.sonic.get(job.task_id)).clips)


@pytest.mark.anyio
async def test_closing_the_client_leaves_no_task_behind(emu: Emulator) -> None:
    """Closing the client with jobs outstanding cancels the poller and every waiter's work."""
    before = set(asyncio.all_tasks())
    policy = PollPolicy().scaled(SPEED)
    async with MusicAPI(emu.api_key, base_url=emu.url, poll=policy) as api:
        jobs = [await api.submit(song(i)) for i in range(20)]
        stream = api.generate_many((song(i) for i in range(20, 40)), concurrency=10)
        first = await stream.__anext__()
        assert first.index >= 0
        assert not all(j.done for j in jobs)
    await stream.aclose()
    await anyio.lowlevel.checkpoint()
    leftover = {t for t in asyncio.all_tasks() - before if not t.done()}
    assert leftover == set()
    assert not api.poller.running


@pytest.mark.anyio
async def test_generate_many_runs_every_kind_and_personas(api: MusicAPI) -> None:
    """One batch mixes sonic, nuro, studio, persona and lyrics requests; each gets its result."""
    source = (await (await api.submit(song(0))).wait(timeout=30))[0]
    batch: list[AnyRequest] = [
        song(1),
        NuroVocalRequest(lyrics="[verse]\nhello", genre="Pop"),
        NuroInstrumentalRequest(description="calm", genre=("ambient",)),
        StudioRequest(prompt="jazz trio at night"),
        PersonaRequest(name="Ana", continue_clip_id=source.clip_id, description="warm alto"),
        LyricsRequest(description="a song about rain"),
    ]
    outcomes = {o.index: o async for o in api.generate_many(batch, concurrency=6)}
    assert all(o.ok for o in outcomes.values()), [o.error for o in outcomes.values()]
    assert len(outcomes[0].clips) == 2
    assert len(outcomes[1].clips) == 1
    assert len(outcomes[2].clips) == 1
    assert outcomes[3].clips
    assert isinstance(outcomes[4].result, Persona)
    assert outcomes[4].result.persona_id
    assert len(outcomes[5].result) == 2
    assert all(isinstance(c, LyricsCandidate) for c in outcomes[5].result)


@pytest.mark.anyio
async def test_on_accepted_reports_each_task_before_its_outcome(api: MusicAPI) -> None:
    """on_accepted names each request's job (by index) before that request's outcome."""
    accepted: dict[int, str] = {}

    def seen(index: int, job: Job, resumed: bool) -> None:
        assert not resumed
        accepted[index] = job.task_id

    async for outcome in api.generate_many([song(i) for i in range(5)], on_accepted=seen):
        assert accepted[outcome.index] == outcome.task_id
    assert sorted(accepted) == list(range(5))
