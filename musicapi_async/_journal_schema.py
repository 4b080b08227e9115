"""The SQLite journal's file format: schema, migrations, the write lock and row mapping.

Kept apart from ``SQLiteJournal`` (``_journal_sqlite``) because the on-disk format is a
contract with every older and newer package that opens the same file: a change here
needs a ``_SCHEMA_VERSION`` bump and a migration in ``_prepare``, and is reviewed as such.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from ._journal_records import Entry, JobState

if TYPE_CHECKING:
    import sqlite3

_SCHEMA_VERSION: Final = 2

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
