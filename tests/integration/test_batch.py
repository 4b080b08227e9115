"""The sonic batch end to end: ``api.sonic.batch`` and ``generate_many(batch=True)``.

Requests are counted by the emulator (``emu.stats``): what was sent, what was billed,
which endpoint polled. Every test's client learns the emulator's speed first
(``get_credits``) where the create pace matters, so no wait runs at real-time pace.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from musicapi_async import (
    BatchRefusal,
    ContentRejected,
    Governor,
    InsufficientCredits,
    InvalidRequest,
    Job,
    MusicAPI,
    RetryPolicy,
    SonicBatchRequest,
    SonicRequest,
    SonicTaskType,
    SQLiteJournal,
    SubmissionOutcomeUnknown,
)
from musicapi_async.emulator import Emulator, Fault, FaultKind

from .support import DESCRIPTION, FAST_POLL, LONG, WAIT, until, wait_succeeded

pytestmark = pytest.mark.anyio


def spec(n: int, **fields: Any) -> SonicRequest:
    """A description-mode create spec, told apart by ``n``."""
    body: dict[str, Any] = {"gpt_description_prompt": f"{DESCRIPTION} {n}", **fields}
    return SonicRequest(custom_mode=False, mv="sonic-v5", **body)


def requests(emu: Emulator, name: str) -> int:
    """Requests the emulator received on ``name``."""
    return emu.stats.requests.get(name, 0)


def billed(emu: Emulator) -> int:
    """Sonic creates the emulator charged for (single or in a batch)."""
    return emu.stats.billed.get("sonic.create", 0)


@pytest.fixture
async def one_try(emu: Emulator) -> AsyncIterator[MusicAPI]:
    """A client that sends each call once: what one answer maps to."""
    async with MusicAPI(
        emu.api_key, base_url=emu.url, poll=FAST_POLL, retry=RetryPolicy(attempts=1)
    ) as client:
        yield client


# ------------------------------------------------------------------------ round trip


async def test_a_batch_makes_one_job_per_item_billed_as_single_creates(
    emu: Emulator, api: MusicAPI
) -> None:
    """Three specs: one POST, three jobs that end with their clips, 3 x 15 credits."""
    as_fields = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "a third"}
    batch = await api.sonic.batch([spec(1), spec(2), as_fields])
    assert batch.batch_id
    assert len(batch.jobs) == 3
    assert not batch.refused
    assert [job.request for job in batch.jobs][:2] == [spec(1), spec(2)]
    for job in batch.jobs:
        await wait_succeeded(job)
    assert requests(emu, "sonic.batch") == 1
    assert requests(emu, "sonic.create") == 0
    assert billed(emu) == 3
    assert (await api.get_credits()).credits == 1000 - 45


@pytest.mark.musicapi_emulator(banned_words=("forbiddenword",))
async def test_refused_items_are_reported_alone_typed_as_a_create_would_be(
    emu: Emulator, api: MusicAPI
) -> None:
    """An unknown clip and banned words are refused per item; the others are accepted."""
    unknown_clip = SonicRequest(
        task_type=SonicTaskType.EXTEND_MUSIC, custom_mode=False, mv="sonic-v5",
        continue_clip_id="no-such-clip", continue_at=10,
    )  # fmt: skip
    banned = spec(2, gpt_description_prompt="a forbiddenword song")
    batch = await api.sonic.batch([spec(1), unknown_clip, banned, spec(4)])
    kinds = [type(item) for item in batch.items]
    assert kinds == [Job, BatchRefusal, BatchRefusal, Job]
    first, second = batch.refused
    assert (first.index, first.request) == (1, unknown_clip)
    assert isinstance(first.error, InvalidRequest)
    assert first.error.status == 400
    assert (second.index, second.request) == (2, banned)
    assert isinstance(second.error, ContentRejected)
    assert billed(emu) == 2


@pytest.mark.musicapi_emulator(credits=20)
async def test_an_item_the_account_cannot_pay_is_refused_alone(
    emu: Emulator, api: MusicAPI
) -> None:
    """With 20 credits the first item is accepted and the second refused for credits."""
    batch = await api.sonic.batch([spec(1), spec(2)])
    assert len(batch.jobs) == 1
    (refusal,) = batch.refused
    assert refusal.index == 1
    assert isinstance(refusal.error, InsufficientCredits)
    assert billed(emu) == 1


async def test_more_than_ten_or_an_invalid_spec_is_refused_before_sending(
    emu: Emulator, api: MusicAPI
) -> None:
    """Eleven specs, none, or one a create would refuse: InvalidRequest, nothing sent."""
    with pytest.raises(InvalidRequest, match="1 to 10"):
        await api.sonic.batch([spec(n) for n in range(11)])
    with pytest.raises(InvalidRequest, match="1 to 10"):
        await api.sonic.batch([])
    with pytest.raises(InvalidRequest, match=r"items\[1\]"):
        await api.sonic.batch([spec(1), spec(2, style_weight=1.5)])
    assert requests(emu, "sonic.batch") == 0


# ---------------------------------------------------------------------- money rules


async def test_a_lost_answer_is_an_unknown_outcome_carrying_every_item(
    emu: Emulator, one_try: MusicAPI
) -> None:
    """Processed then dropped: SubmissionOutcomeUnknown holding the items, never re-sent."""
    emu.faults.add(Fault(FaultKind.ACCEPT_THEN_DROP, endpoint="sonic.batch"))
    items = [spec(1), spec(2)]
    with pytest.raises(SubmissionOutcomeUnknown) as caught:
        await one_try.sonic.batch(items)
    assert caught.value.endpoint == "sonic.batch"
    assert caught.value.request == SonicBatchRequest(items=tuple(items))
    assert requests(emu, "sonic.batch") == 1
    assert billed(emu) == 2


async def test_an_unreadable_answer_is_an_unknown_outcome(emu: Emulator, api: MusicAPI) -> None:
    """A 200 cut short: the batch was processed (billed) but its ids are lost: unknown."""
    emu.faults.add(Fault(FaultKind.MALFORMED_JSON, endpoint="sonic.batch"))
    with pytest.raises(SubmissionOutcomeUnknown):
        await api.sonic.batch([spec(1), spec(2)])
    assert requests(emu, "sonic.batch") == 1
    assert billed(emu) == 2


async def test_a_5xx_is_an_unknown_outcome_and_is_not_re_sent(emu: Emulator, api: MusicAPI) -> None:
    """A 500 on the batch POST may follow billing: unknown, sent once, even when retrying."""
    emu.faults.add(Fault(FaultKind.SERVER_500, endpoint="sonic.batch"))
    with pytest.raises(SubmissionOutcomeUnknown):
        await api.sonic.batch([spec(1), spec(2)])
    assert requests(emu, "sonic.batch") == 1


async def test_an_explicit_refusal_is_re_sent(emu: Emulator, api: MusicAPI) -> None:
    """A 429 on the batch POST billed nothing: the client sends it again, and it goes."""
    emu.faults.add(Fault(FaultKind.RATE_LIMIT_429, endpoint="sonic.batch", retry_after=0.2))
    batch = await api.sonic.batch([spec(1), spec(2)])
    assert len(batch.jobs) == 2
    assert requests(emu, "sonic.batch") == 2
    assert billed(emu) == 2


# The pace runs on the emulator's clock, stopped: only the governor's waits move it, so
# the create reaches the emulator exactly as much later as the pace says. (On the running
# clock at 2000x, a batch POST that a loaded machine delivered late could be followed
# too closely by a create sent on time, and the emulator answered 429.)
@pytest.mark.musicapi_emulator(speed=0)
async def test_a_batch_counts_as_n_creates_for_the_pace(emu: Emulator) -> None:
    """After a batch of 3, the next create waits 3 turns: paced, never refused."""

    async def wait(seconds: float) -> None:
        emu.advance(seconds)
        await anyio.lowlevel.checkpoint()

    governor = Governor(clock=lambda: emu.now, sleep=wait)
    async with MusicAPI(emu.api_key, base_url=emu.url, poll=FAST_POLL,
                        governor=governor) as api:  # fmt: skip
        await api.sonic.batch([spec(1), spec(2), spec(3)])
        await api.submit(spec(4))
    assert "429" not in emu.stats.statuses.get("sonic.create", {})
    assert "429" not in emu.stats.statuses.get("sonic.batch", {})


# ------------------------------------------------------------------------- polling


# The emulator's clock stands still while the polls are counted, and moves only once
# the five jobs have been polled three times: how many polls a job needs no longer
# depends on how late a loaded machine polls it (at 2000x a late first poll found the
# singles done, one poll each, and the comparison failed).
@pytest.mark.musicapi_emulator(speed=0, create_interval=None)
async def test_a_batch_is_watched_with_one_batch_get_per_tick(emu: Emulator) -> None:
    """Five jobs end through GET /sonic/batch, in fewer polls than five single creates."""

    async def count_gets(jobs: list[Job], endpoint: str, gets: int) -> int:
        """Run ``jobs`` with time stopped until ``gets`` GETs of ``endpoint`` went out, then
        to their end; the GETs of ``endpoint`` that took."""
        before = requests(emu, endpoint)
        async with anyio.create_task_group() as group:
            group.start_soon(until_done, jobs)
            await until(lambda: requests(emu, endpoint) - before >= gets)
            emu.advance(LONG)
        return requests(emu, endpoint) - before

    async def until_done(jobs: list[Job]) -> None:
        done = [job async for job in api.as_completed(jobs, timeout=WAIT)]
        assert all(len(job.result()) == 2 for job in done)

    async with MusicAPI(emu.api_key, base_url=emu.url, poll=FAST_POLL,
                        governor=Governor.unlimited()) as api:  # fmt: skip
        batch = await api.sonic.batch([spec(n) for n in range(5)])
        # Three ticks of five jobs: three batch GETs, and no job polled alone.
        batched = await count_gets(list(batch.jobs), "sonic.batch_status", 3)
        assert requests(emu, "sonic.task") <= 1  # at most a last straggler, polled alone
        batched += requests(emu, "sonic.task")
        singles = [await api.submit(spec(n)) for n in range(5, 10)]
        # The same three ticks of five single jobs: one GET per job and tick.
        per_task = await count_gets(singles, "sonic.task", 3 * 5)
    assert 2 * batched < per_task  # the same workload polled task by task


# ------------------------------------------------------------------ generate_many


async def test_generate_many_groups_sonic_creates_by_ten(emu: Emulator, api: MusicAPI) -> None:
    """Twelve creates go as two batch POSTs (10 + 2), each with its own outcome."""
    outcomes = [o async for o in api.generate_many([spec(n) for n in range(12)],
                                                   batch=True, concurrency=12)]  # fmt: skip
    assert sorted(o.index for o in outcomes) == list(range(12))
    assert all(o.ok and len(o.clips) == 2 and o.cost == 15 for o in outcomes)
    assert requests(emu, "sonic.batch") == 2
    assert requests(emu, "sonic.create") == 0
    assert billed(emu) == 12


async def test_a_resumed_run_re_sends_no_batched_request(
    emu: Emulator, api: MusicAPI, tmp_path: Path
) -> None:
    """A run left after its first outcome; the next one waits on the rest, sending none."""
    wanted = [spec(n) for n in range(6)]
    path = tmp_path / "journal.db"
    async with SQLiteJournal(path) as journal:
        async for _ in api.generate_many(wanted, batch=True, journal=journal, concurrency=6):
            break
        assert await journal.batch_of((await journal.pending_tasks())[0].task_id or "")
    sent = requests(emu, "sonic.batch")
    async with SQLiteJournal(path) as journal:
        outcomes = [o async for o in api.generate_many(wanted, batch=True, journal=journal)]
    assert sorted(o.index for o in outcomes) == list(range(6))
    assert all(o.ok for o in outcomes)
    assert requests(emu, "sonic.batch") == sent == 1
    assert billed(emu) == 6


async def test_a_batch_whose_answer_was_lost_is_never_re_sent_by_a_later_run(
    emu: Emulator, one_try: MusicAPI, tmp_path: Path
) -> None:
    """Dropped answer: every item is unknown in the journal; a second run sends nothing."""
    emu.faults.add(Fault(FaultKind.ACCEPT_THEN_DROP, endpoint="sonic.batch"))
    wanted = [spec(n) for n in range(3)]
    async with SQLiteJournal(tmp_path / "journal.db") as journal:
        first = [o async for o in one_try.generate_many(wanted, batch=True, journal=journal)]
        assert all(isinstance(o.error, SubmissionOutcomeUnknown) for o in first)
        assert len(await journal.unresolved()) == 3
        again = [o async for o in one_try.generate_many(wanted, batch=True, journal=journal)]
    assert all(isinstance(o.error, SubmissionOutcomeUnknown) and o.resumed for o in again)
    assert requests(emu, "sonic.batch") == 1
    assert billed(emu) == 3


async def test_batch_refuses_a_journal_shared_by_processes(api: MusicAPI, tmp_path: Path) -> None:
    """A shared journal (one that waits for others' task ids) is refused, nothing sent."""

    class Shared(SQLiteJournal):
        async def wait_task_id(self, fingerprint: str) -> str | None:
            return None

    async with Shared(tmp_path / "journal.db") as journal:
        with pytest.raises(InvalidRequest, match="shared"):
            async for _ in api.generate_many([spec(1)], batch=True, journal=journal):
                pass
