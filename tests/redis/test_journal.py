"""``RedisJournal`` keeps the promises of ``SQLiteJournal``, for every process at once."""

from __future__ import annotations

import pytest

from musicapi_async import CoordinationError, JobState, RedisJournal, SubmissionOutcomeUnknown
from musicapi_async._journal import JournalStateError, fingerprint

pytestmark = pytest.mark.anyio

BODY = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "a calm piano"}
FP = fingerprint("sonic.create", BODY)


async def test_only_one_of_two_sessions_wins_the_claim(redis_url: str, namespace: str) -> None:
    """Two journals (two processes) begin one request: one is told to send, one is not."""
    async with RedisJournal(redis_url, namespace=namespace) as one, \
            RedisJournal(redis_url, namespace=namespace) as two:  # fmt: skip
        assert await one.begin(FP, "sonic.create", BODY) is None
        existing = await two.begin(FP, "sonic.create", BODY)

        assert existing is not None
        assert existing.state is JobState.PENDING
        assert existing.session == one.session
        assert existing.body == BODY


async def test_entries_move_through_the_table(redis_url: str, namespace: str) -> None:
    """pending → submitted → done, listed by state, with the result kept as JSON."""
    async with RedisJournal(redis_url, namespace=namespace) as journal:
        await journal.begin(FP, "sonic.create", {**BODY, "webhook_secret": "s3cret"}, key="k")
        assert [e.fingerprint for e in await journal.unresolved()] == [FP]
        await journal.submitted(FP, "task-1")
        await journal.submitted(FP, "task-1")  # the same acceptance twice: no change
        assert [e.task_id for e in await journal.pending_tasks()] == ["task-1"]
        await journal.finished(FP, '{"clips": []}')
        entry = await journal.get(FP)

        assert entry is not None
        assert entry.state is JobState.DONE
        assert (entry.task_id, entry.result, entry.key) == ("task-1", '{"clips": []}', "k")
        assert "webhook_secret" not in entry.body
        assert await journal.pending_tasks() == []
        assert await journal.unresolved() == []


async def test_a_second_task_id_is_refused(redis_url: str, namespace: str) -> None:
    """A request recorded as task A cannot become task B (it would be billed twice)."""
    async with RedisJournal(redis_url, namespace=namespace) as journal:
        await journal.begin(FP, "sonic.create", BODY)
        await journal.submitted(FP, "task-a")

        with pytest.raises(JournalStateError, match="cannot go from submitted"):
            await journal.submitted(FP, "task-b")
        with pytest.raises(JournalStateError, match="begin"):
            await journal.failed("0" * 64, "boom")


async def test_forget_allows_a_new_claim(redis_url: str, namespace: str) -> None:
    """``forget`` removes the entry from every index, and ``begin`` accepts it again."""
    async with RedisJournal(redis_url, namespace=namespace) as journal:
        await journal.begin(FP, "sonic.create", BODY)
        await journal.forget(FP)

        assert await journal.get(FP) is None
        assert await journal.unresolved() == []
        assert await journal.begin(FP, "sonic.create", BODY) is None


async def test_waiting_for_a_live_senders_task_id(redis_url: str, namespace: str) -> None:
    """Another live session's pending claim resolves to its task id once recorded."""
    async with RedisJournal(redis_url, namespace=namespace) as one, \
            RedisJournal(redis_url, namespace=namespace) as two:  # fmt: skip
        await one.begin(FP, "sonic.create", BODY)
        await one.submitted(FP, "task-9")

        assert await two.wait_task_id(FP, timeout=5) == "task-9"


async def test_a_dead_claimers_unsent_claim_is_taken_over(redis_url: str, namespace: str) -> None:
    """A claim whose process died before it started sending is handed to a waiter: it
    becomes the waiter's (``None``: send it), and only one waiter gets it."""
    async with RedisJournal(redis_url, namespace=namespace) as dead, \
            RedisJournal(redis_url, namespace=namespace) as one, \
            RedisJournal(redis_url, namespace=namespace) as two:  # fmt: skip
        await dead.begin(FP, "sonic.create", BODY)
        # The session marker lapses: as if the process had been killed after claiming.
        await one._client().delete(dead.session_key(dead.session))

        assert await one.wait_task_id(FP, timeout=5) is None
        entry = await two.get(FP)
        assert entry is not None
        assert entry.session == one.session
        await one.submitted(FP, "task-7")
        assert await two.wait_task_id(FP, timeout=5) == "task-7"


async def test_a_dead_senders_claim_is_unknown_not_resent(redis_url: str, namespace: str) -> None:
    """A claim marked as being sent whose process died is reported, never re-sent."""
    async with RedisJournal(redis_url, namespace=namespace) as dead, \
            RedisJournal(redis_url, namespace=namespace) as two:  # fmt: skip
        await dead.begin(FP, "sonic.create", BODY)
        await dead.sending(FP)
        await two._client().delete(dead.session_key(dead.session))

        with pytest.raises(SubmissionOutcomeUnknown, match="another process"):
            await two.wait_task_id(FP, timeout=5)
        assert await two.begin(FP, "sonic.create", BODY) is not None


async def test_a_claim_taken_over_is_not_sent_by_its_first_owner(
    redis_url: str, namespace: str
) -> None:
    """A process that stalled past its session's life finds its claim taken: ``sending``
    refuses, so the request is sent once."""
    async with RedisJournal(redis_url, namespace=namespace) as slow, \
            RedisJournal(redis_url, namespace=namespace) as other:  # fmt: skip
        await slow.begin(FP, "sonic.create", BODY)
        await other._client().delete(slow.session_key(slow.session))
        assert await other.wait_task_id(FP, timeout=5) is None

        with pytest.raises(CoordinationError, match="taken over"):
            await slow.sending(FP)
        await other.sending(FP)


async def test_redis_down_fails_closed(namespace: str) -> None:
    """With nothing listening, ``begin`` raises ``CoordinationError``: nothing may be sent."""
    from .support import free_port

    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    async with RedisJournal(url, namespace=namespace, timeout=0.5) as journal:
        with pytest.raises(CoordinationError, match="nothing was sent") as info:
            await journal.begin(FP, "sonic.create", BODY)

    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(journal)
