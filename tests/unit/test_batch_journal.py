"""The SQLite journal's batches: recorded in one step, found again by any task id."""

from __future__ import annotations

from pathlib import Path

import pytest

from musicapi_async import BatchJournal, JobState, SQLiteJournal
from musicapi_async._errors import JournalStateError

pytestmark = pytest.mark.anyio

BODY = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "rain"}


async def test_a_batch_answer_is_recorded_with_its_id(tmp_path: Path) -> None:
    """Every accepted item becomes submitted, and each task id leads back to its batch."""
    async with SQLiteJournal(tmp_path / "j.sqlite3") as journal:
        assert isinstance(journal, BatchJournal)
        for fp in ("a", "b"):
            assert await journal.begin(fp, "sonic.create", BODY) is None
            await journal.sending(fp)
        await journal.batch_submitted("batch-1", {"a": "t-a", "b": "t-b"})
        await journal.batch_submitted("batch-1", {"a": "t-a"})  # recorded twice: no change
        entry = await journal.get("b")
        assert entry is not None
        assert (entry.state, entry.task_id) == (JobState.SUBMITTED, "t-b")
        assert await journal.batch_of("t-a") == ("batch-1", ["t-a", "t-b"])
        assert await journal.batch_of("t-x") is None


async def test_a_batch_answer_is_all_or_nothing(tmp_path: Path) -> None:
    """One entry that cannot take its task id refuses the whole record: none is changed."""
    async with SQLiteJournal(tmp_path / "j.sqlite3") as journal:
        for fp in ("a", "b"):
            await journal.begin(fp, "sonic.create", BODY)
        await journal.failed("b", "refused earlier")
        with pytest.raises(JournalStateError):
            await journal.batch_submitted("batch-1", {"a": "t-a", "b": "t-b"})
        entry = await journal.get("a")
        assert entry is not None
        assert entry.state is JobState.PENDING
        assert await journal.batch_of("t-a") is None
