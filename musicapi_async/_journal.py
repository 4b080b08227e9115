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

This module is the import path for all of the journal and holds the reconciliation helpers
(``match_unresolved``, ``settle``); the records and protocols live in ``_journal_records``,
the SQLite file format in ``_journal_schema`` and the store in ``_journal_sqlite``.
"""

from __future__ import annotations

from ._errors import JournalStateError
from ._journal_records import (
    BatchJournal,
    Entry,
    JobState,
    Journal,
    WindowStore,
    canonical_body,
    fingerprint,
)
from ._journal_sqlite import SQLiteJournal

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
