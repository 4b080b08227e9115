"""A durable journal of paid requests, so a restarted process re-sends nothing accepted.

Each request is journaled under a stable fingerprint (``fingerprint``: the endpoint and
the canonical JSON of its wire body, ``webhook_secret`` left out, plus an optional key of
the caller's such as ``"line 12 of songs.jsonl"``). Its entry moves through this table;
every change is committed to disk before the method returns:

=============  =================================================  =====================
state          meaning                                            may move to
=============  =================================================  =====================
(none)         never seen                                         pending (``begin``)
``pending``    claimed; ``sending`` is set just BEFORE the POST   submitted, unknown,
               goes out (a create may wait its turn in between)   done, failed
``unknown``    the answer was lost (``SubmissionOutcomeUnknown``)  unknown, submitted,
                                                                  done, failed
``submitted``  accepted: the task id is known                     done, failed
``done``       finished; the result (clips) is kept as JSON       (terminal)
``failed``     finished with an error                             (terminal)
=============  =================================================  =====================

Rules:

1. ``begin`` is the only way in, and it never overwrites: for a fingerprint already
   journaled it returns the existing entry and the caller must not send.
2. A ``pending`` entry left by another process (``entry.session != journal.session``)
   with ``sending`` set is evidence of a crash between sending and hearing back: treat it
   like ``unknown`` and reconcile (credits, the dashboard, a webhook) before anything is
   sent again. Without ``sending`` it was provably never sent (the process died while the
   request waited for its turn): ``forget`` it and send it. Nothing that may have been
   sent is ever re-sent silently; ``forget`` is the caller's explicit way to allow it.
3. ``done`` may follow ``pending`` directly: synchronous endpoints answer with the result.
4. ``unknown`` may be resolved by the caller's reconciliation into any later state:
   ``settle`` records the caller's verdict (billed as task X, not billed, abandoned);
   ``musicapi reconcile`` is its command line.

``Journal`` is the interface, so a store shared by many processes can be added later;
``SQLiteJournal`` keeps it in one SQLite file (WAL, ``synchronous=FULL``) and runs every
statement in a worker thread so the event loop never waits on the disk.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Protocol, Self, TypeVar, runtime_checkable

import anyio
import anyio.to_thread
import attrs

from ._errors import JournalStateError
from ._log import redact
from ._polling import LearnedWindows

if TYPE_CHECKING:
    import sqlite3

__all__ = [
    "BatchJournal",
    "Entry",
    "JobState",
    "Journal",
    "JournalStateError",
    "SQLiteJournal",
    "WindowStore",
    "canonical_body",
    "fingerprint",
    "match_unresolved",
    "settle",
]

T = TypeVar("T")

# Never written to disk nor hashed: a secret, and changing it does not change the song.
_SECRET_FIELDS: Final = frozenset({"webhook_secret"})
_SCHEMA_VERSION: Final = 2


class JobState(enum.Enum):
    """Where a journaled request stands (see the table in the module docstring)."""

    PENDING = "pending"
    SUBMITTED = "submitted"
    UNKNOWN = "unknown"
    DONE = "done"
    FAILED = "failed"


_P, _S, _U, _D, _F = JobState
_MOVES: Final[Mapping[JobState, frozenset[JobState]]] = {
    _P: frozenset({_S, _U, _D, _F}),
    _U: frozenset({_U, _S, _D, _F}),
    _S: frozenset({_D, _F}),
    _D: frozenset(),
    _F: frozenset(),
}


@attrs.frozen(kw_only=True)
class Entry:
    """One journaled request.

    Attributes:
        fingerprint: the stable id of the request.
        endpoint: the ``ENDPOINTS`` key it was sent to.
        body: the wire body, without ``webhook_secret``.
        key: the caller's key, when one was given.
        state: where it stands.
        task_id: the accepted task's id (``submitted`` and later).
        result: the result as JSON text (``done``).
        error: what went wrong (``unknown``, ``failed``).
        session: the ``SQLiteJournal.session`` that began it.
        sending: whether the request may have gone out (set right before the POST);
            ``True`` unless the journal knows it was not, so unsure means "maybe sent".
        created_at: when it was begun (Unix time).
        updated_at: when it last changed (Unix time).
    """

    fingerprint: str
    endpoint: str
    body: Mapping[str, Any]
    key: str | None
    state: JobState
    task_id: str | None
    result: str | None
    error: str | None
    session: str
    created_at: float
    updated_at: float
    sending: bool = True


def canonical_body(body: Mapping[str, Any]) -> str:
    """``body`` as canonical JSON (sorted keys, no spaces), ``webhook_secret`` left out."""
    kept = {k: v for k, v in body.items() if k not in _SECRET_FIELDS}
    return json.dumps(
        kept, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def fingerprint(endpoint: str, body: Mapping[str, Any], *, key: str | None = None) -> str:
    """The stable id of a request: sha256 of the endpoint, the canonical body and ``key``.

    Args:
        endpoint: the ``ENDPOINTS`` key.
        body: the wire body (``webhook_secret`` is ignored).
        key: an optional caller key, e.g. ``"line 12 of songs.jsonl"``, to tell apart
            identical requests that are meant to be sent twice.

    Returns:
        64 lower-case hex digits.
    """
    text = json.dumps(
        [endpoint, canonical_body(body), key], separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode()).hexdigest()


class Journal(Protocol):
    """What the client needs from a journal; every change is durable when it returns."""

    async def get(self, fingerprint: str) -> Entry | None:
        """The entry for ``fingerprint``, or ``None``."""
        ...

    async def begin(
        self, fingerprint: str, endpoint: str, body: Mapping[str, Any], *, key: str | None = None
    ) -> Entry | None:
        """Journal a request as ``pending`` before it is sent.

        Returns:
            ``None`` when the fingerprint was new (it is now ``pending``: send it), or the
            existing entry, unchanged, when it was already journaled (do not send).
        """
        ...

    async def sending(self, fingerprint: str) -> None:
        """Record, right before the POST, that the ``pending`` request may now go out."""
        ...

    async def submitted(self, fingerprint: str, task_id: str) -> None:
        """Record that the request was accepted as task ``task_id``."""
        ...

    async def unknown(self, fingerprint: str, error: str | BaseException) -> None:
        """Record that the answer was lost: the request may have been billed."""
        ...

    async def finished(self, fingerprint: str, result_json: str) -> None:
        """Record the final result (JSON text, e.g. the clips)."""
        ...

    async def failed(self, fingerprint: str, error: str | BaseException) -> None:
        """Record a final error."""
        ...

    async def forget(self, fingerprint: str) -> None:
        """Delete the entry, so that ``begin`` accepts the request again."""
        ...

    async def pending_tasks(self) -> list[Entry]:
        """``submitted`` entries, oldest first: tasks to resume waiting on."""
        ...

    async def unresolved(self) -> list[Entry]:
        """``pending`` and ``unknown`` entries, oldest first: to reconcile, never re-send."""
        ...

    async def aclose(self) -> None:
        """Release the store."""
        ...


@runtime_checkable
class WindowStore(Protocol):
    """A journal that also keeps the poll schedule's learned completion windows.

    ``generate_many`` seeds the client's poll model from it before the first create and
    saves what the run learned at the end, so a second run (or a restarted backend)
    polls as a warm client does from its first task. Optional: a ``Journal`` without
    these methods just starts from the documented windows.
    """

    async def load_windows(self) -> LearnedWindows:
        """What earlier runs learned (``CompletionModel.learned()``); empty if nothing."""
        ...

    async def save_windows(self, windows: LearnedWindows) -> None:
        """Keep ``windows`` for the next run (each key replaces the stored one)."""
        ...


@runtime_checkable
class BatchJournal(Protocol):
    """A journal that also records sonic batches (``generate_many(batch=True)``).

    Each item of a batch is journaled as its own request (``begin``, then ``sending``
    before the one POST); the answer is recorded in one step, so that a crash can never
    leave some accepted items recorded and others not. A ``Journal`` without these
    methods records the items one by one (``submitted``) and forgets the batch id.
    """

    async def batch_submitted(self, batch_id: str, accepted: Mapping[str, str]) -> None:
        """Record batch ``batch_id``: each fingerprint of ``accepted`` became its task."""
        ...

    async def batch_of(self, task_id: str) -> tuple[str, list[str]] | None:
        """The batch ``task_id`` was accepted in, and the batch's task ids; or ``None``."""
        ...


def _describe(error: str | BaseException) -> str:
    # Stored for good: never with a key a server echoed into its error text.
    return redact(error if isinstance(error, str) else f"{type(error).__name__}: {error}")


_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS jobs (
    fingerprint TEXT PRIMARY KEY,
    endpoint    TEXT NOT NULL,
    body        TEXT NOT NULL,
    key         TEXT,
    state       TEXT NOT NULL
                CHECK (state IN ('pending', 'submitted', 'unknown', 'done', 'failed')),
    task_id     TEXT,
    result      TEXT,
    error       TEXT,
    session     TEXT NOT NULL,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    -- 1 from just before the POST (rows of schema 1 count as sent: the safe side)
    sending     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, created_at);
-- sonic batches: which accepted tasks were sent together (added without a version bump:
-- a table an older package does not read changes nothing for it)
CREATE TABLE IF NOT EXISTS batches (
    task_id    TEXT PRIMARY KEY,
    batch_id   TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_by_id ON batches (batch_id);
CREATE TABLE IF NOT EXISTS windows (
    name       TEXT PRIMARY KEY,
    samples    TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""
_COLUMNS: Final = (
    "fingerprint, endpoint, body, key, state, task_id, result, error, session, "
    "created_at, updated_at, sending"
)


def _entry(row: tuple[Any, ...]) -> Entry:
    fp, endpoint, body, key, state, task_id, result, error, session, created, updated, sent = row
    return Entry(
        fingerprint=fp,
        endpoint=endpoint,
        body=json.loads(body),
        key=key,
        state=JobState(state),
        task_id=task_id,
        result=result,
        error=error,
        session=session,
        created_at=created,
        updated_at=updated,
        sending=bool(sent),
    )


class _Immediate:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``: takes the write lock up front, across processes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self._conn.execute("BEGIN IMMEDIATE")
        return self._conn

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _prepare(conn: sqlite3.Connection, path: str) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: each commit is fsynced, so it survives a power cut and not only a kill -9.
    conn.execute("PRAGMA synchronous=FULL")
    with _Immediate(conn):
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version > _SCHEMA_VERSION:
            raise RuntimeError(
                f"{path}: journal schema {version} is newer than this package's {_SCHEMA_VERSION}"
            )
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        if version == 1:  # schema 1 had no ``sending``: its pending rows may have been sent
            conn.execute("ALTER TABLE jobs ADD COLUMN sending INTEGER NOT NULL DEFAULT 1")
        conn.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")


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


# ------------------------------------------------------------------------- reconciling


async def match_unresolved(journal: Journal, ref: str) -> Entry:
    """The one ``pending`` or ``unknown`` entry whose fingerprint starts with ``ref``.

    Raises:
        LookupError: no such entry, or ``ref`` is too short to tell two apart.
    """
    ref = ref.strip().lower()
    if len(ref) < 6:
        raise LookupError(f"{ref!r}: give at least 6 characters of the fingerprint")
    found = [e for e in await journal.unresolved() if e.fingerprint.startswith(ref)]
    if not found:
        raise LookupError(f"{ref}: no unsettled request in the journal starts with this")
    if len(found) > 1:
        raise LookupError(f"{ref}: {len(found)} unsettled requests start with this; give more")
    return found[0]


async def settle(
    journal: Journal,
    entry: Entry,
    *,
    task_id: str | None = None,
    billed: bool,
    note: str = "",
) -> None:
    """Record the caller's verdict on a request whose outcome was unknown.

    Args:
        journal: the journal holding ``entry``.
        entry: a ``pending`` or ``unknown`` entry (``match_unresolved``).
        task_id: the task it was accepted as (billed): the next run waits on it.
        billed: with no ``task_id``: ``True`` abandons it (it may have been billed and is
            never sent again; it ends ``failed``), ``False`` forgets it (it was not billed:
            the next run sends it again).
        note: why, kept in the entry's ``error`` when it is abandoned.

    Raises:
        JournalStateError: the entry was settled meanwhile (another process).
    """
    # Read again: ``entry`` may be stale, and forgetting a request that was settled
    # meanwhile (as billed) would let it be sent, and billed, twice.
    current = await journal.get(entry.fingerprint)
    if current is None or current.state not in (JobState.PENDING, JobState.UNKNOWN):
        state = "forgotten" if current is None else current.state.value
        raise JournalStateError(f"{entry.fingerprint}: already settled ({state})")
    if task_id is not None:
        await journal.submitted(entry.fingerprint, task_id)
    elif billed:
        await journal.failed(entry.fingerprint, f"abandoned by hand; {note}".rstrip("; "))
    else:
        await journal.forget(entry.fingerprint)
