"""``musicapi reconcile``: settle the requests a journal marks as sent with no answer.

A bulk run killed between a POST and its journal write, or whose answer was lost, leaves
``pending``/``unknown`` entries: the request may have been billed, so no run sends it
again, and each rerun reports it as "outcome unknown". MusicAPI has no endpoint that lists
an account's tasks, so the command settles automatically only what the server can tell:
an entry that knows its task id is looked up (``get_task``). For the others, the caller
decides, explicitly, per entry (a fingerprint prefix names it):

* ``--resolve REF=TASK_ID``: it was billed as that task (from the dashboard, a webhook
  delivery, the credits history); the id is checked with the API, and the next run waits
  on the task instead of sending anything.
* ``--forget REF``: it was not billed (the credits did not move); the next run sends it.
* ``--abandon REF``: it may have been billed, but never send it; it ends ``failed``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

import anyio

from musicapi_async import (
    Entry,
    Family,
    MusicAPI,
    MusicAPIError,
    SQLiteJournal,
    TaskNotFound,
    match_unresolved,
    settle,
    task_family,
)

__all__ = ["add_reconcile_parser", "reconcile_command", "reconcile_hint"]

OpenClient = Callable[[type[MusicAPI]], AbstractAsyncContextManager[MusicAPI]]

_SHOWN = ("title", "name", "gpt_description_prompt", "description", "prompt", "url")


def add_reconcile_parser(sub: argparse.ArgumentParser) -> None:
    """The options of ``musicapi reconcile``."""
    sub.add_argument(
        "--journal",
        required=True,
        metavar="PATH",
        help="the journal of the bulk run (its --journal)",
    )
    sub.add_argument(
        "--resolve",
        action="append",
        default=[],
        metavar="REF=TASK_ID",
        help="REF was billed as task TASK_ID: the next run waits on it",
    )
    sub.add_argument(
        "--forget",
        action="append",
        default=[],
        metavar="REF",
        help="REF was not billed: the next run sends it again",
    )
    sub.add_argument(
        "--abandon",
        action="append",
        default=[],
        metavar="REF",
        help="never send REF again (it may have been billed)",
    )
    sub.add_argument(
        "--no-check", action="store_true", help="do not look --resolve's task ids up with the API"
    )


def _summary(entry: Entry) -> str:
    for key in _SHOWN:
        value = entry.body.get(key)
        if isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            return text if len(text) <= 40 else text[:39] + "…"
    return ""


def _row(entry: Entry) -> dict[str, Any]:
    return {
        "ref": entry.fingerprint[:12],
        "fingerprint": entry.fingerprint,
        "endpoint": entry.endpoint,
        "state": entry.state.value,
        "task_id": entry.task_id,
        "summary": _summary(entry),
        "error": entry.error,
        "sent_at": datetime.fromtimestamp(entry.created_at, UTC).isoformat(timespec="seconds"),
    }


def reconcile_hint(journal: str) -> str:
    """The command that lists and settles ``journal``'s unknown outcomes."""
    return shlex.join(["musicapi", "reconcile", "--journal", journal])


async def reconcile_command(args: argparse.Namespace, open_client: OpenClient) -> int:
    """Settle what can be settled; list the rest with the commands that settle each.

    Args:
        args: the parsed command line.
        open_client: opens the client (only needed to look task ids up).

    Returns:
        0 when nothing is left unsettled, 1 when some is, 2 for a bad REF or task id.
    """
    if not await anyio.Path(args.journal).exists():  # never create an empty journal
        return _fail(args, f"no journal at {args.journal}")
    settled: list[dict[str, Any]] = []
    try:
        actions = _actions(args)
        async with SQLiteJournal(args.journal) as journal:
            plan = await _match(journal, actions)
            lookups = [(e, t) for a, e, t in plan if a == "resolve" and not args.no_check]
            keyed = args.emulator or args.api_key or os.environ.get("MUSICAPI_API_KEY")
            automatic = [e for e in await journal.unresolved() if e.task_id] if keyed else []
            if lookups or automatic:
                async with open_client(MusicAPI) as api:
                    await _check(api, lookups)
                    settled += await _settle_found(api, journal, automatic)
            settled += await _apply(journal, plan)
            left = await journal.unresolved()
    except (_Refused, LookupError) as exc:
        return _fail(args, str(exc))
    _report(args, reconcile_hint(args.journal), settled, left)
    return 1 if left else 0


class _Refused(Exception):
    """A bad REF or task id: nothing is changed."""


_Action = tuple[str, str, "str | None"]


def _actions(args: argparse.Namespace) -> list[_Action]:
    """What ``--resolve``, ``--forget`` and ``--abandon`` ask for, as (action, ref, task)."""
    actions: list[_Action] = []
    for text in args.resolve:
        ref, sep, task_id = text.partition("=")
        if not sep or not task_id.strip():
            raise _Refused(f"--resolve {text}: write REF=TASK_ID")
        actions.append(("resolve", ref, task_id.strip()))
    actions += [("forget", ref, None) for ref in args.forget]
    actions += [("abandon", ref, None) for ref in args.abandon]
    return actions


async def _match(
    journal: SQLiteJournal, actions: list[_Action]
) -> list[tuple[str, Entry, str | None]]:
    """The journal entry each action names (``LookupError`` when one names none)."""
    plan = [
        (action, await match_unresolved(journal, ref), task_id) for action, ref, task_id in actions
    ]
    if any(task_family(e.endpoint) is None for a, e, _ in plan if a == "resolve"):
        raise _Refused(
            "--resolve takes generation requests only (a task id); "
            "use --forget or --abandon for the others"
        )
    return plan


async def _check(api: MusicAPI, lookups: list[tuple[Entry, str | None]]) -> None:
    """Refuse a ``--resolve`` whose task id the API does not know."""
    for entry, task_id in lookups:
        assert task_id is not None
        try:
            await api.get_task(task_id, task_family(entry.endpoint) or Family.SONIC)
        except TaskNotFound:
            raise _Refused(f"the API knows no task {task_id}; nothing was changed") from None


async def _settle_found(
    api: MusicAPI, journal: SQLiteJournal, automatic: list[Entry]
) -> list[dict[str, Any]]:
    """Settle as billed the entries whose recorded task id the API knows."""
    settled = []
    for entry in automatic:
        assert entry.task_id is not None
        try:
            await api.get_task(entry.task_id, task_family(entry.endpoint) or Family.SONIC)
        except MusicAPIError:
            continue  # the server cannot tell: the caller decides
        await settle(journal, entry, task_id=entry.task_id, billed=True)
        settled.append({**_row(entry), "settled": "billed (task found)"})
    return settled


async def _apply(
    journal: SQLiteJournal, plan: list[tuple[str, Entry, str | None]]
) -> list[dict[str, Any]]:
    """Record what the user found for each entry of ``plan``."""
    settled = []
    for action, entry, task_id in plan:
        if action == "resolve":
            await settle(journal, entry, task_id=task_id, billed=True)
            verdict = f"billed as task {task_id}: the next run waits on it"
        elif action == "forget":
            await settle(journal, entry, billed=False)
            verdict = "not billed: the next run sends it again"
        else:
            await settle(journal, entry, billed=True, note="never sent again")
            verdict = "abandoned: never sent again"
        settled.append({**_row(entry), "settled": verdict})
    return settled


def _report(
    args: argparse.Namespace, shown: str, settled: list[dict[str, Any]], left: list[Entry]
) -> None:
    if args.json:
        print(
            json.dumps(
                {
                    "ok": not left,
                    "exit_code": 1 if left else 0,
                    "journal": args.journal,
                    "settled": settled,
                    "unsettled": [_row(e) for e in left],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for row in settled:
        print(f"{row['ref']}  {row['endpoint']}  {row['summary']!r}: {row['settled']}")
    if not left:
        print(f"Nothing left to settle in {args.journal}.")
        return
    print(
        f"{len(left)} request(s) in {args.journal} were sent and their answer was lost: "
        "each may have been billed, so no run sends it again until you settle it."
    )
    for entry in left:
        row = _row(entry)
        print(
            f"  {row['ref']}  {row['endpoint']:<13} sent {row['sent_at']}  "
            f"{row['summary']!r}" + (f"  ({row['error']})" if row["error"] else "")
        )
    ref = left[0].fingerprint[:12]
    print(
        "Check the dashboard's task list or the credits history (or your webhook "
        "receiver), then settle each one:"
    )
    print(f"  {shown} --resolve {ref}=TASK_ID   it was billed as TASK_ID; the next run waits on it")
    print(f"  {shown} --forget {ref}            it was not billed; the next run sends it")
    print(f"  {shown} --abandon {ref}           never send it (it may have been billed)")


def _fail(args: argparse.Namespace, message: str) -> int:
    if args.json:
        print(json.dumps({"ok": False, "exit_code": 2, "error": message}, indent=2))
    else:
        print(f"musicapi: error: {message}", file=sys.stderr)
    return 2
