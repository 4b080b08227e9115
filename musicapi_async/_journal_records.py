"""The journal's records and interfaces: ``JobState``, ``Entry``, fingerprints, protocols.

What every journal shares, whatever stores it (``SQLiteJournal``, the Redis one): the
states and the moves allowed between them (the table in ``_journal``'s docstring), one
journaled request, the fingerprint that names it, and the ``Journal``, ``WindowStore``
and ``BatchJournal`` protocols. A leaf module, kept apart from the SQLite store so that
a store can be written (or read) without it.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final, Protocol, runtime_checkable

import attrs

from ._polling import LearnedWindows

__all__ = [
    "BatchJournal",
    "Entry",
    "JobState",
    "Journal",
    "WindowStore",
    "canonical_body",
    "fingerprint",
]


# Never written to disk nor hashed: a secret, and changing it does not change the song.
_SECRET_FIELDS: Final = frozenset({"webhook_secret"})


class JobState(enum.Enum):
    """Where a journaled request stands (see the table in ``_journal``'s docstring)."""

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
