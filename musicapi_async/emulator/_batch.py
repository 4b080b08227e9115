"""The emulator's sonic batch: ``POST /sonic/batch`` and ``GET /sonic/batch?batch_id=``.

Only the envelope is documented (MUSICAPI.md §10): ``{"message": "success", "batch_id":
..., "submitted": 2, "tasks": [...]}``, per-item failures reported, each item billed as a
single create. The rest is INFERRED, and chosen to be no kinder than a single create:

- each item goes through exactly what ``POST /sonic/create`` does (validation with the
  documented 400 messages, references, moderation, payment), one after the other; an
  item that fails is answered in its place as ``{"index": i, "code": <status>,
  "message": <the single create's text>}`` and costs nothing; an accepted one is
  ``{"index": i, "task_id": ...}`` and is billed like a single create;
- the batch answers 200 even when every item failed (``submitted`` says how many were
  accepted); only the envelope (not a list, more than 10 items) is a 400 for the whole;
- the create pace counts a batch of n items as n creates (``_app._turns``), the
  conservative reading of "one create per 3 s" (§14);
- ``GET`` answers ``{"code": 200, "message": "success", "batch_id": ..., "tasks":
  [...]}`` where each entry is what ``GET /sonic/task/{id}`` would answer for that task
  (a clip list, ``{"type": "not_ready"}`` or an error ``code``) plus its ``task_id``;
  an unknown batch id (or another key's) is 400 ``batch not found.``, like a task's.

Faults, auth and the pace apply to both routes as to any other: the handler is shared.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from .._models import Family
from ._app import Answer, Body, _dump, _moderate, _pay, _validate, behaviour
from ._generate import Rejected
from ._state import EmulatorState

__all__: list[str] = []


def _create_one(st: EmulatorState, key: str, item: Body, now: float) -> str:
    """One item as ``POST /sonic/create`` would take it; its task id, or ``Answer``."""
    _validate(st, "sonic.create", item)
    try:
        source = st.generator.check_sonic(key, item, now)
    except Rejected as exc:
        raise Answer(400, exc.message) from None
    lyrics = item.get("prompt") if item.get("custom_mode") else None
    _moderate(st, lyrics, item.get("gpt_description_prompt"), item.get("tags"), item.get("title"))
    task = st.generator.sonic(key, item, source, now, _pay(st, key, "sonic.create", item))
    st.webhooks.schedule(task)
    return task.task_id


@behaviour("sonic.batch")
def _sonic_batch(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    entries: list[dict[str, Any]] = []
    task_ids: list[str] = []
    for index, item in enumerate(body["items"]):  # the row's validator checked the list
        try:
            task_id = _create_one(st, key, item, now)
        except Answer as exc:
            entries.append({"index": index, "code": exc.status, "message": exc.message})
            continue
        task_ids.append(task_id)
        entries.append({"index": index, "task_id": task_id})
    batch_id = str(uuid.uuid4())
    st.batches[batch_id] = (key, tuple(task_ids))
    answer = {"message": "success", "batch_id": batch_id, "submitted": len(task_ids),
              "tasks": entries}  # fmt: skip
    return 200, _dump(answer)


@behaviour("sonic.batch_status")
def _batch_status(
    st: EmulatorState, key: str, _: Body, batch_id: str, now: float
) -> tuple[int, bytes]:
    if not batch_id:
        raise Answer(400, "missing batch id.")
    found = st.batches.get(batch_id)
    if found is None or found[0] != key:
        raise Answer(400, "batch not found.")
    tasks: list[dict[str, Any]] = []
    for task_id in found[1]:
        task = st.store.lookup(task_id, key, Family.SONIC)
        if task is None:
            tasks.append({"task_id": task_id, "code": 400, "message": "task not found."})
            continue
        status, raw = st.store.render(task, now)
        entry = json.loads(raw)
        if status >= 400:
            entry.setdefault("code", status)
        tasks.append({"task_id": task_id, **entry})
    answer = {"code": 200, "message": "success", "batch_id": batch_id, "tasks": tasks}
    return 200, _dump(answer)
