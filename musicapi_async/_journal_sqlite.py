"""``SQLiteJournal``: the ``Journal`` kept in one SQLite file, every statement in a thread.

The store itself (claims, state moves, batches, learned windows), on the format that
``_journal_schema`` defines and the records of ``_journal_records``; ``_journal`` is the
import path for all of it (and holds the rules, in its docstring).
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import anyio
import anyio.to_thread

from ._errors import JournalStateError
from ._journal_records import _MOVES, Entry, JobState, canonical_body
from ._journal_schema import _COLUMNS, _entry, _Immediate, _prepare
from ._log import redact
from ._polling import LearnedWindows

if TYPE_CHECKING:
    import sqlite3

__all__ = ["SQLiteJournal"]


T = TypeVar("T")


def _describe(error: str | BaseException) -> str:
    # Stored for good: never with a key a server echoed into its error text.
    return redact(error if isinstance(error, str) else f"{type(error).__name__}: {error}")


class SQLiteJournal:
    """A ``Journal`` in one SQLite file; use as ``async with SQLiteJournal(path) as j:``.

    One connection, used by one worker thread at a time; WAL with ``synchronous=FULL``, so
    each change is on disk (not only in the OS cache) before its method returns.

    Args:
        path: the database file, or ``":memory:"`` (lost on close; for tests).

    Attributes:
        session: a random id of this open journal, stored with each entry it begins.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = os.fspath(path)
        self._conn: sqlite3.Connection | None = None
        # One thread at a time: the connection is shared between anyio's worker threads.
        self._limiter = anyio.CapacityLimiter(1)
        self._lock = threading.Lock()
        self.session = uuid.uuid4().hex

    def __repr__(self) -> str:
        return f"SQLiteJournal({self._path!r})"

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Open (and create or upgrade) the database.

        Raises:
            RuntimeError: the file was written by a newer version of this package.
            sqlite3.Error: the file is not a usable SQLite database.
        """
        if self._conn is None:
            self._conn = await anyio.to_thread.run_sync(self._connect, limiter=self._limiter)

    def _connect(self) -> sqlite3.Connection:
        import sqlite3  # here, not at the top: importing the SDK must stay cheap

        # isolation_level=None: no implicit transactions; _Immediate makes them explicit.
        # timeout: how long to wait for another process's write lock.
        conn = sqlite3.connect(
            self._path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        try:
            _prepare(conn, self._path)
        except BaseException:
            conn.close()
            raise
        return conn

    async def aclose(self) -> None:
        """Close the database; later calls raise ``RuntimeError``. Safe to call twice."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await anyio.to_thread.run_sync(conn.close, limiter=self._limiter)

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        if conn is None:
            raise RuntimeError("the journal is not open: `async with SQLiteJournal(path)`")

        def locked() -> T:
            with self._lock:
                return work(conn)

        # Not abandoned on cancellation: a change that was started is finished (and
        # durable) before the cancelled caller sees its cancellation.
        return await anyio.to_thread.run_sync(locked, limiter=self._limiter)

    # -------------------------------------------------------------------------- reads

    async def get(self, fingerprint: str) -> Entry | None:
        """The entry for ``fingerprint``, or ``None``."""

        def work(conn: sqlite3.Connection) -> Entry | None:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE fingerprint = ?", (fingerprint,)
            ).fetchone()
            return None if row is None else _entry(row)

        return await self._run(work)

    async def _in_states(self, *states: JobState) -> list[Entry]:
        marks = ", ".join("?" * len(states))

        def work(conn: sqlite3.Connection) -> list[Entry]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE state IN ({marks}) ORDER BY created_at, rowid",
                [s.value for s in states],
            ).fetchall()
            return [_entry(row) for row in rows]

        return await self._run(work)

    async def pending_tasks(self) -> list[Entry]:
        """``submitted`` entries, oldest first: tasks to resume waiting on."""
        return await self._in_states(JobState.SUBMITTED)

    async def unresolved(self) -> list[Entry]:
        """``pending`` and ``unknown`` entries, oldest first: reconcile them, never re-send."""
        return await self._in_states(JobState.PENDING, JobState.UNKNOWN)

    # ------------------------------------------------------------------------ changes

    async def begin(
        self, fingerprint: str, endpoint: str, body: Mapping[str, Any], *, key: str | None = None
    ) -> Entry | None:
        """Journal a request as ``pending``; call it BEFORE sending.

        Args:
            fingerprint: ``fingerprint(endpoint, body, key=key)``, or an id of your own.
            endpoint: the ``ENDPOINTS`` key.
            body: the wire body; stored without ``webhook_secret``.
            key: the caller's key, kept for display.

        Returns:
            ``None`` when the request is new and now ``pending`` (send it), or the
            existing entry, unchanged (do not send; act on its state).
        """
        text = canonical_body(body)

        def work(conn: sqlite3.Connection) -> Entry | None:
            now = time.time()
            with _Immediate(conn):
                inserted = conn.execute(
                    "INSERT OR IGNORE INTO jobs (fingerprint, endpoint, body, key, state, "
                    "session, created_at, updated_at, sending) "
                    "VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, 0)",
                    (fingerprint, endpoint, text, key, self.session, now, now),
                ).rowcount
                if inserted:
                    return None
                row = conn.execute(
                    f"SELECT {_COLUMNS} FROM jobs WHERE fingerprint = ?", (fingerprint,)
                ).fetchone()
                return _entry(row)

        return await self._run(work)

    async def sending(self, fingerprint: str) -> None:
        """Mark a ``pending`` request as (maybe) sent; call it right BEFORE the POST.

        From here on a crash leaves it possibly billed; before, provably not (rule 2).
        """

        def work(conn: sqlite3.Connection) -> None:
            with _Immediate(conn):
                conn.execute(
                    "UPDATE jobs SET sending = 1, updated_at = ? "
                    "WHERE fingerprint = ? AND state = 'pending'",
                    (time.time(), fingerprint),
                )

        await self._run(work)

    async def _move(self, fingerprint: str, target: JobState, **values: str | None) -> None:
        def work(conn: sqlite3.Connection) -> None:
            with _Immediate(conn):
                row = conn.execute(
                    "SELECT state, task_id FROM jobs WHERE fingerprint = ?", (fingerprint,)
                ).fetchone()
                if row is None:
                    raise JournalStateError(f"no journal entry {fingerprint}: begin() first")
                current, task_id = JobState(row[0]), row[1]
                if current is target is JobState.SUBMITTED and values["task_id"] == task_id:
                    return  # the same acceptance recorded twice: nothing changes
                if target not in _MOVES[current]:
                    # Among others: a second, different task id for one request, which
                    # would mean it was billed twice. Refuse rather than overwrite.
                    raise JournalStateError(
                        f"{fingerprint}: cannot go from {current.value} to {target.value}"
                    )
                sets = "".join(f", {name} = ?" for name in values)
                conn.execute(
                    f"UPDATE jobs SET state = ?, updated_at = ?{sets} WHERE fingerprint = ?",
                    (target.value, time.time(), *values.values(), fingerprint),
                )

        await self._run(work)

    async def submitted(self, fingerprint: str, task_id: str) -> None:
        """Record that the request was accepted as task ``task_id``.

        Raises:
            ValueError: ``task_id`` is empty.
            JournalStateError: no such entry, it is finished, or it has another task id.
        """
        if not task_id:
            raise ValueError("task_id must not be empty")
        await self._move(fingerprint, JobState.SUBMITTED, task_id=task_id)

    async def unknown(self, fingerprint: str, error: str | BaseException) -> None:
        """Record that the answer was lost (the request may have been billed).

        Raises:
            JournalStateError: no such entry, or it is already submitted or finished.
        """
        await self._move(fingerprint, JobState.UNKNOWN, error=_describe(error))

    async def finished(self, fingerprint: str, result_json: str) -> None:
        """Record the result, as JSON text.

        Raises:
            ValueError: ``result_json`` is not JSON.
            JournalStateError: no such entry, or it is already finished.
        """
        json.loads(result_json)  # what is journaled must be readable on the way back
        await self._move(fingerprint, JobState.DONE, result=result_json, error=None)

    async def failed(self, fingerprint: str, error: str | BaseException) -> None:
        """Record a final error.

        Raises:
            JournalStateError: no such entry, or it is already finished.
        """
        await self._move(fingerprint, JobState.FAILED, error=_describe(error))

    async def batch_submitted(self, batch_id: str, accepted: Mapping[str, str]) -> None:
        """Record a sonic batch's answer in one transaction (see ``BatchJournal``).

        Raises:
            JournalStateError: an entry is missing, finished, or has another task id;
                nothing is recorded then.
        """
        if not batch_id or not all(accepted.values()):
            raise ValueError("batch and task ids must not be empty")

        def work(conn: sqlite3.Connection) -> None:
            now = time.time()
            with _Immediate(conn):
                for fp, task_id in accepted.items():
                    row = conn.execute(
                        "SELECT state, task_id FROM jobs WHERE fingerprint = ?", (fp,)
                    ).fetchone()
                    if row is None:
                        raise JournalStateError(f"no journal entry {fp}: begin() first")
                    state = JobState(row[0])
                    if state is JobState.SUBMITTED and row[1] == task_id:
                        continue  # recorded already
                    if JobState.SUBMITTED not in _MOVES[state]:
                        raise JournalStateError(f"{fp}: cannot go from {state.value} to submitted")
                    conn.execute(
                        "UPDATE jobs SET state = 'submitted', task_id = ?, updated_at = ? "
                        "WHERE fingerprint = ?",
                        (task_id, now, fp),
                    )
                conn.executemany(
                    "INSERT OR IGNORE INTO batches VALUES (?, ?, ?)",  # a task keeps its batch
                    [(task_id, batch_id, now) for task_id in accepted.values()],
                )

        await self._run(work)

    async def batch_of(self, task_id: str) -> tuple[str, list[str]] | None:
        """The batch ``task_id`` was accepted in, with its task ids (see ``BatchJournal``)."""

        def work(conn: sqlite3.Connection) -> tuple[str, list[str]] | None:
            row: tuple[str] | None = conn.execute(
                "SELECT batch_id FROM batches WHERE task_id = ?", (task_id,)
            ).fetchone()
            if row is None:
                return None
            rows = conn.execute(
                "SELECT task_id FROM batches WHERE batch_id = ? ORDER BY rowid", (row[0],)
            ).fetchall()
            return row[0], [r[0] for r in rows]

        return await self._run(work)

    async def load_windows(self) -> LearnedWindows:
        """What earlier runs learned about completion times (see ``WindowStore``)."""

        def work(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            return conn.execute("SELECT name, samples FROM windows").fetchall()

        windows: LearnedWindows = {}
        for name, text in await self._run(work):
            try:
                samples = json.loads(text)
            except ValueError:  # a damaged row is skipped, never fatal
                continue
            if isinstance(samples, list):
                windows[name] = samples
        return windows

    async def save_windows(self, windows: LearnedWindows) -> None:
        """Keep ``windows`` for the next run (see ``WindowStore``)."""
        rows = [(name, json.dumps([round(v, 3) for v in samples]), time.time())
                for name, samples in windows.items()]  # fmt: skip

        def work(conn: sqlite3.Connection) -> None:
            with _Immediate(conn):
                conn.executemany("INSERT OR REPLACE INTO windows VALUES (?, ?, ?)", rows)

        await self._run(work)

    async def forget(self, fingerprint: str) -> None:
        """Delete the entry, so that ``begin`` takes the request as new again."""

        def work(conn: sqlite3.Connection) -> None:
            with _Immediate(conn):
                conn.execute("DELETE FROM jobs WHERE fingerprint = ?", (fingerprint,))

        await self._run(work)
