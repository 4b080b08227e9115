"""The job journal: fingerprints, the state table, durability and resuming after kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from musicapi_async._errors import SubmissionOutcomeUnknown
from musicapi_async._journal import (
    JobState,
    Journal,
    JournalStateError,
    SQLiteJournal,
    canonical_body,
    fingerprint,
    match_unresolved,
    settle,
)
from musicapi_async._log import register_secret, unregister_secret

BODY = {"custom_mode": True, "mv": "sonic-v5", "prompt": "[Verse]\nla la", "title": "Ana"}
SECRET = "whsec-never-on-disk-4f1c"


def secret_on_disk(directory: Path) -> bool:
    """Whether the webhook secret appears in any file of ``directory`` (WAL included)."""
    return any(SECRET.encode() in f.read_bytes() for f in directory.iterdir())


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[SQLiteJournal]:
    """An open journal in a fresh file."""
    async with SQLiteJournal(tmp_path / "jobs.sqlite") as j:
        yield j


async def begun(journal: SQLiteJournal, body: dict[str, object] = BODY) -> str:
    """Begin a sonic create and return its fingerprint."""
    fp = fingerprint("sonic.create", body)
    assert await journal.begin(fp, "sonic.create", body) is None
    return fp


# ------------------------------------------------------------------------- fingerprints


def test_fingerprint_ignores_key_order_and_webhook_secret() -> None:
    """The same request hashes the same whatever its key order or webhook secret."""
    shuffled = dict(reversed(list(BODY.items())))
    with_secret = {**BODY, "webhook_secret": SECRET}
    assert fingerprint("sonic.create", BODY) == fingerprint("sonic.create", shuffled)
    assert fingerprint("sonic.create", BODY) == fingerprint("sonic.create", with_secret)
    assert SECRET not in canonical_body(with_secret)


def test_fingerprint_tells_apart_endpoint_body_and_caller_key() -> None:
    """A different endpoint, field value or caller key gives a different fingerprint."""
    base = fingerprint("sonic.create", BODY)
    others = {
        fingerprint("studio.create", BODY),
        fingerprint("sonic.create", {**BODY, "title": "Bo"}),
        fingerprint("sonic.create", BODY, key="line 12 of songs.jsonl"),
        fingerprint("sonic.create", BODY, key="line 13 of songs.jsonl"),
    }
    assert base not in others
    assert len(others) == 4
    assert len(base) == 64


# --------------------------------------------------------------------------- the table


@pytest.mark.anyio
async def test_begin_records_pending_and_never_overwrites(journal: SQLiteJournal) -> None:
    """A second ``begin`` of the same request returns the existing entry untouched."""
    fp = fingerprint("sonic.create", BODY, key="line 1")
    assert await journal.begin(fp, "sonic.create", BODY, key="line 1") is None
    await journal.submitted(fp, "task-1")
    existing = await journal.begin(fp, "sonic.create", BODY, key="line 1")
    assert existing is not None
    assert (existing.state, existing.task_id, existing.key) == (
        JobState.SUBMITTED, "task-1", "line 1"
    )  # fmt: skip


@pytest.mark.anyio
async def test_full_life_of_a_request(journal: SQLiteJournal) -> None:
    """pending -> submitted -> done keeps the task id and the result JSON."""
    fp = await begun(journal)
    entry = await journal.get(fp)
    assert entry is not None
    assert (entry.state, entry.session, dict(entry.body)) == (
        JobState.PENDING, journal.session, BODY
    )  # fmt: skip
    await journal.submitted(fp, "task-1")
    assert [e.fingerprint for e in await journal.pending_tasks()] == [fp]
    clips = json.dumps([{"clip_id": "c1", "state": "succeeded"}])
    await journal.finished(fp, clips)
    entry = await journal.get(fp)
    assert entry is not None
    assert (entry.state, entry.task_id, entry.result) == (JobState.DONE, "task-1", clips)
    assert await journal.pending_tasks() == []


@pytest.mark.anyio
async def test_lost_answer_is_unresolved_until_reconciled(journal: SQLiteJournal) -> None:
    """``unknown`` keeps the error, is listed as unresolved, and reconciles to submitted."""
    fp = await begun(journal)
    error = SubmissionOutcomeUnknown("answer lost", endpoint="sonic.create", request=None)
    await journal.unknown(fp, error)
    [entry] = await journal.unresolved()
    assert entry.state is JobState.UNKNOWN
    assert entry.error == "SubmissionOutcomeUnknown: answer lost"
    await journal.submitted(fp, "task-found-in-dashboard")
    assert await journal.unresolved() == []


Move = Callable[[SQLiteJournal, str], Awaitable[None]]


async def resubmit(journal: SQLiteJournal, fp: str) -> None:
    """Record a second acceptance, with a new task id."""
    await journal.submitted(fp, "task-2")


async def finish(journal: SQLiteJournal, fp: str) -> None:
    """Record a result."""
    await journal.finished(fp, "[]")


async def lose(journal: SQLiteJournal, fp: str) -> None:
    """Record a lost answer."""
    await journal.unknown(fp, "lost")


async def fail(journal: SQLiteJournal, fp: str) -> None:
    """Record a final error."""
    await journal.failed(fp, "400 bad mv")


async def accept(journal: SQLiteJournal, fp: str) -> None:
    """Record the first acceptance."""
    await journal.submitted(fp, "task-1")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("setup", "move"),
    [
        (finish, resubmit),  # a finished request cannot be accepted again
        (fail, finish),
        (accept, lose),  # an accepted request's outcome is known
        (accept, resubmit),  # a second task id would mean a double bill
    ],
)
async def test_forbidden_moves_are_refused(journal: SQLiteJournal, setup: Move, move: Move) -> None:
    """Moves outside the state table raise ``JournalStateError`` and change nothing."""
    fp = await begun(journal)
    await setup(journal, fp)
    before = await journal.get(fp)
    with pytest.raises(JournalStateError):
        await move(journal, fp)
    assert await journal.get(fp) == before


@pytest.mark.anyio
async def test_same_task_id_twice_is_a_no_op(journal: SQLiteJournal) -> None:
    """Recording the same acceptance twice is allowed and changes nothing."""
    fp = await begun(journal)
    await journal.submitted(fp, "task-1")
    await journal.submitted(fp, "task-1")
    entry = await journal.get(fp)
    assert entry is not None
    assert (entry.state, entry.task_id) == (JobState.SUBMITTED, "task-1")


@pytest.mark.anyio
async def test_changes_need_a_begun_entry_and_json_results(journal: SQLiteJournal) -> None:
    """A change for an unknown fingerprint, or a result that is not JSON, is refused."""
    with pytest.raises(JournalStateError, match="begin"):
        await journal.submitted("f" * 64, "task-1")
    fp = await begun(journal)
    with pytest.raises(ValueError, match="Expecting value"):
        await journal.finished(fp, "not json")


@pytest.mark.anyio
async def test_forget_lets_a_request_begin_again(journal: SQLiteJournal) -> None:
    """After ``forget`` the same fingerprint is new again (the caller's explicit choice)."""
    fp = await begun(journal)
    await journal.failed(fp, "429 after every retry")
    await journal.forget(fp)
    assert await journal.get(fp) is None
    assert await journal.begin(fp, "sonic.create", BODY) is None


# ------------------------------------------------------------------------ durability


@pytest.mark.anyio
async def test_state_survives_reopening_and_secret_never_reaches_disk(tmp_path: Path) -> None:
    """Entries written by one journal are read back by the next; the secret is not stored."""
    path = tmp_path / "jobs.sqlite"
    body = {**BODY, "webhook_secret": SECRET}
    async with SQLiteJournal(path) as first:
        fp = fingerprint("sonic.create", body)
        await first.begin(fp, "sonic.create", body)
        await first.submitted(fp, "task-1")
    async with SQLiteJournal(path) as second:
        [entry] = await second.pending_tasks()
        assert (entry.task_id, entry.session) == ("task-1", first.session)
        assert "webhook_secret" not in entry.body
    assert not secret_on_disk(tmp_path)


@pytest.mark.anyio
async def test_journal_uses_wal_and_worker_threads(journal: SQLiteJournal) -> None:
    """The file is in WAL mode and statements never run on the event loop's thread."""
    loop_thread = threading.get_ident()
    fp = await begun(journal)

    def probe(conn: sqlite3.Connection) -> tuple[int, str]:
        return threading.get_ident(), conn.execute("PRAGMA journal_mode").fetchone()[0]

    thread, mode = await journal._run(probe)
    assert (mode, thread != loop_thread) == ("wal", True)
    assert await journal.get(fp) is not None


@pytest.mark.anyio
async def test_sqlite_journal_is_a_journal_and_refuses_use_when_closed(tmp_path: Path) -> None:
    """``SQLiteJournal`` satisfies ``Journal``; after ``aclose`` calls raise ``RuntimeError``."""
    store: Journal = SQLiteJournal(":memory:")
    assert isinstance(store, SQLiteJournal)
    await store.open()
    await store.aclose()
    await store.aclose()
    with pytest.raises(RuntimeError, match="not open"):
        await store.get("x")


# -------------------------------------------------------------------------- kill -9

CHILD = textwrap.dedent(
    """
    import sys
    import anyio
    from musicapi_async._journal import SQLiteJournal, fingerprint

    async def main(path: str, hang_at: int) -> None:
        async with SQLiteJournal(path) as journal:
            i = 0
            while True:
                body = {"prompt": f"song {i}", "mv": "sonic-v5", "webhook_secret": "SECRET"}
                fp = fingerprint("sonic.create", body, key=f"line {i}")
                await journal.begin(fp, "sonic.create", body, key=f"line {i}")
                print("pending", i, fp, flush=True)
                if i == hang_at:
                    await anyio.sleep(3600)  # the POST is in flight when the process dies
                await journal.submitted(fp, f"task-{i}")
                print("submitted", i, fp, flush=True)
                i += 1

    anyio.run(main, sys.argv[1], int(sys.argv[2]))
    """
).replace("SECRET", SECRET)


def run_and_kill(path: Path, hang_at: int, kill_after: str) -> list[tuple[str, int, str]]:
    """Run the journaling child, SIGKILL it once it prints ``kill_after``; its report lines."""
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(hang_at)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None
        assert proc.stderr is not None
        watchdog = threading.Timer(30, proc.kill)  # a stuck child fails the test, not CI
        watchdog.start()
        try:
            for line in proc.stdout:
                lines.append(line.strip())
                if line.startswith(kill_after):
                    proc.send_signal(signal.SIGKILL)
                    break
        finally:
            watchdog.cancel()
            proc.kill()
            lines.extend(proc.stdout.read().splitlines())  # printed before the kill landed
            errors = proc.stderr.read()
            proc.wait(timeout=10)
    assert any(line.startswith(kill_after) for line in lines), errors
    assert proc.returncode == -signal.SIGKILL, errors
    return [(w, int(i), fp) for w, i, fp in (line.split() for line in lines)]


def integrity(path: Path) -> str:
    """SQLite's own verdict on the file (``"ok"`` when consistent)."""
    with sqlite3.connect(path) as conn:
        result: str = conn.execute("PRAGMA integrity_check").fetchone()[0]
    conn.close()
    return result


posix_only = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")


@posix_only
@pytest.mark.anyio
async def test_killed_mid_stream_every_reported_change_is_kept(tmp_path: Path) -> None:
    """After kill -9 during a stream of writes the file is consistent and loses nothing."""
    path = tmp_path / "jobs.sqlite"
    reports = await anyio.to_thread.run_sync(run_and_kill, path, -1, "submitted 40 ")
    assert integrity(path) == "ok"
    async with SQLiteJournal(path) as journal:
        for what, i, fp in reports:
            entry = await journal.get(fp)
            assert entry is not None, (what, i)
            assert entry.key == f"line {i}"
            if what == "submitted":
                assert (entry.state, entry.task_id) == (JobState.SUBMITTED, f"task-{i}")
        submitted = await journal.pending_tasks()
        unresolved = await journal.unresolved()
        # The child stops between two commits: at most the request it had begun is open.
        assert len(unresolved) <= 1
        assert all(e.state is JobState.PENDING for e in unresolved)
        assert len(submitted) >= 41
        # Resuming: an accepted request is recognised, not sent again.
        again = await journal.begin(submitted[0].fingerprint, "sonic.create", {})
        assert again is not None
        assert again.state is JobState.SUBMITTED
    assert not secret_on_disk(tmp_path)


@posix_only
@pytest.mark.anyio
async def test_killed_while_a_post_is_in_flight_leaves_a_pending_entry(tmp_path: Path) -> None:
    """A process killed between begin and the answer leaves a pending entry, reported as such."""
    path = tmp_path / "jobs.sqlite"
    reports = await anyio.to_thread.run_sync(run_and_kill, path, 3, "pending 3 ")
    in_flight_fp = reports[-1][2]
    async with SQLiteJournal(path) as journal:
        [entry] = await journal.unresolved()
        assert (entry.fingerprint, entry.state) == (in_flight_fp, JobState.PENDING)
        assert entry.session != journal.session  # left by a dead process: treat as unknown
        assert [e.task_id for e in await journal.pending_tasks()] == [f"task-{i}" for i in range(3)]
        # The restarted run must not resend it: begin hands back the evidence instead.
        again = await journal.begin(in_flight_fp, "sonic.create", {"prompt": "song 3"})
        assert again is not None
        assert again.state is JobState.PENDING
        await journal.unknown(in_flight_fp, "process died with the POST in flight")
    assert integrity(path) == "ok"


@pytest.mark.anyio
async def test_concurrent_begins_of_one_request_let_exactly_one_send(
    journal: SQLiteJournal,
) -> None:
    """Of many coroutines beginning the same request at once, exactly one may send it."""
    fp = fingerprint("sonic.create", BODY)
    winners = []

    async def one() -> None:
        if await journal.begin(fp, "sonic.create", BODY) is None:
            winners.append(1)

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(one)
    assert winners == [1]


@pytest.mark.anyio
async def test_settle_records_each_verdict_on_an_unknown_outcome(journal: SQLiteJournal) -> None:
    """settle: billed as a task -> submitted; not billed -> forgotten; abandoned -> failed."""
    prints = [fingerprint("sonic.create", {**BODY, "title": t}) for t in ("a", "b", "c")]
    for fp in prints:
        assert await journal.begin(fp, "sonic.create", BODY) is None
        await journal.unknown(fp, "read timeout")
    billed, unbilled, abandoned = [await match_unresolved(journal, fp[:10]) for fp in prints]
    await settle(journal, billed, task_id="task-9", billed=True)
    await settle(journal, unbilled, billed=False)
    await settle(journal, abandoned, billed=True, note="never sent again")
    entry = await journal.get(prints[0])
    assert entry is not None
    assert (entry.state, entry.task_id) == (JobState.SUBMITTED, "task-9")
    assert await journal.get(prints[1]) is None
    entry = await journal.get(prints[2])
    assert entry is not None
    assert entry.state is JobState.FAILED
    assert "abandoned" in (entry.error or "")
    assert await journal.unresolved() == []
    with pytest.raises(JournalStateError):
        await settle(journal, billed, billed=False)  # a stale Entry: already settled
    with pytest.raises(LookupError):
        await match_unresolved(journal, prints[0][:10])


@pytest.mark.anyio
async def test_error_column_never_stores_a_registered_key(journal: SQLiteJournal) -> None:
    """An error text echoing an open client's key is stored with [redacted] instead."""
    key = "SKEY-journal-test-0123456789"
    register_secret(key)
    try:
        fp = fingerprint("sonic.create", BODY)
        await journal.begin(fp, "sonic.create", BODY)
        await journal.unknown(fp, RuntimeError(f"server said: bad key {key}"))
        entry = await journal.get(fp)
    finally:
        unregister_secret(key)
    assert entry is not None
    assert key not in (entry.error or "")
    assert "[redacted]" in (entry.error or "")


# ----------------------------------------------------------------- claimed versus sent


@pytest.mark.anyio
async def test_a_claim_is_not_sent_until_marked_sending(journal: SQLiteJournal) -> None:
    """begin() claims a request as not yet sent; sending() marks it maybe-sent, durably."""
    fp = await begun(journal)
    entry = await journal.get(fp)
    assert entry is not None
    assert (entry.state, entry.sending) == (JobState.PENDING, False)
    await journal.sending(fp)
    entry = await journal.get(fp)
    assert entry is not None
    assert (entry.state, entry.sending) == (JobState.PENDING, True)


@pytest.mark.anyio
async def test_pending_rows_of_a_schema_1_journal_count_as_maybe_sent(tmp_path: Path) -> None:
    """Upgrading a journal written before ``sending`` existed keeps its pending rows unsafe."""
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE jobs (fingerprint TEXT PRIMARY KEY, endpoint TEXT NOT NULL, "
        "body TEXT NOT NULL, key TEXT, state TEXT NOT NULL, task_id TEXT, result TEXT, "
        "error TEXT, session TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL);"
        "INSERT INTO jobs VALUES ('fp', 'sonic.create', '{}', NULL, 'pending', NULL, NULL, "
        "NULL, 'dead', 0, 0);"
        "PRAGMA user_version=1;"
    )
    conn.close()
    async with SQLiteJournal(path) as journal:
        entry = await journal.get("fp")
        fresh = await begun(journal)
        new = await journal.get(fresh)
    assert entry is not None
    assert entry.sending
    assert new is not None
    assert not new.sending
