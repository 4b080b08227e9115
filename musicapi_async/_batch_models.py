"""The sonic batch endpoint's wire: its request, its two answers and how they are read.

``POST /api/v1/sonic/batch`` takes ``{"items": [...up to 10 create specs...]}`` and
answers ``{"message": "success", "batch_id": "...", "submitted": 2, "tasks": [...]}``;
``GET /api/v1/sonic/batch?batch_id=...`` reports the batch's tasks (MUSICAPI.md §2.2, §10).
Only those keys are documented. What the entries of ``tasks`` hold is INFERRED, and read
leniently:

- an accepted item is an object with a ``task_id`` (or a bare id string); a refused one
  carries an error ``code`` (or ``status``) and a ``message`` (or ``error``/``detail``);
- an item's ``index`` (its position in ``items``) is used when present, else its place
  in the list;
- in the GET answer each entry is what ``GET /sonic/task/{id}`` answers for that task
  (``{"code": 200, "data": [clips]}`` or ``{"type": "not_ready"}``) plus its
  ``task_id``; an entry holding an error ``code`` is kept aside, so its task is polled
  on its own and its error typed as usual;
- the envelope may sit under ``data``; keys nobody names are kept in ``extra``.

Nothing here does I/O; ``_batch`` sends, ``_batch_polling`` watches.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs
import cattrs

from ._convert import converter, request_from_wire, to_wire
from ._errors import InvalidRequest
from ._models import Family, SonicRequest, TaskSnapshot
from ._parse import parse_snapshot

__all__ = [
    "MAX_BATCH_ITEMS",
    "BatchAccepted",
    "BatchItemAccepted",
    "BatchItemRefused",
    "BatchStatus",
    "SonicBatchRequest",
    "parse_batch_accepted",
    "parse_batch_status",
    "validate_sonic_batch",
]

# "{items:[…up to 10 create specs…]}" (MUSICAPI.md §10).
MAX_BATCH_ITEMS: Final = 10
_ERROR_TEXT_KEYS: Final = ("message", "error", "detail", "msg")


def _specs(items: object) -> tuple[SonicRequest, ...]:
    """Items as ``SonicRequest``s: a spec given as wire fields (a mapping) is read as one."""
    if not isinstance(items, list | tuple):
        raise InvalidRequest("The 'items' field should be a list of create specs.", field="items")
    return tuple(
        request_from_wire(SonicRequest, item) if isinstance(item, Mapping) else item
        for item in items
    )


@attrs.frozen(kw_only=True)
class SonicBatchRequest:
    """Body of ``POST /api/v1/sonic/batch``: 1 to 10 sonic create specs."""

    items: tuple[SonicRequest, ...] = attrs.field(converter=_specs)


converter.register_unstructure_hook(
    SonicBatchRequest, lambda r: {"items": [to_wire(item) for item in r.items]}
)


@attrs.frozen(kw_only=True)
class BatchItemAccepted:
    """An item of a batch that the server accepted as a task."""

    index: int
    task_id: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class BatchItemRefused:
    """An item of a batch that the server refused (nothing was created for it).

    Attributes:
        status: the item's error code (an HTTP status), when the answer gives one.
        message: the server's words.
        raw: the item's entry as received, for the error mapping and for the caller.
    """

    index: int
    status: int | None = None
    message: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class BatchAccepted:
    """The answer to a batch POST: the batch id and each item's fate, in answer order."""

    batch_id: str
    submitted: int | None = None
    items: tuple[BatchItemAccepted | BatchItemRefused, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class BatchStatus:
    """One poll of a batch: a snapshot per task it could read.

    Attributes:
        snapshots: the tasks' snapshots, as ``GET /sonic/task`` would have given them.
        unresolved: entries (by task id) that hold an error or an unreadable shape; their
            tasks are polled on their own.
    """

    batch_id: str | None
    snapshots: tuple[TaskSnapshot, ...] = ()
    unresolved: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict, repr=False)
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


# ---------------------------------------------------------------------------- checks


def validate_sonic_batch(body: Mapping[str, Any], *, strict: bool) -> None:
    """The batch envelope: ``items`` holds 1 to 10 objects.

    Each item is a create spec, checked by the single create's validator: the client does
    it before sending (``api.sonic.batch``); the emulator does it per item, so that one
    bad item is refused alone, as the documented "per-item failures" say.
    """
    if strict:
        unknown = sorted(set(body) - {"items"})
        if unknown:
            raise InvalidRequest(f"Unknown field '{unknown[0]}'.", field=unknown[0])
    items = body.get("items")
    if not isinstance(items, list):
        raise InvalidRequest("The 'items' field should be a list of create specs.", field="items")
    if not 1 <= len(items) <= MAX_BATCH_ITEMS:
        raise InvalidRequest(
            f"The 'items' field should hold 1 to {MAX_BATCH_ITEMS} create specs, not {len(items)}.",
            field="items",
        )
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InvalidRequest(f"items[{index}] should be an object.", field="items")


# ---------------------------------------------------------------------------- parsers


def _envelope(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The payload, flat or under ``data`` (as the newer sonic utilities answer)."""
    inner = data.get("data")
    if isinstance(inner, Mapping):
        return {**data, **inner}
    return data


def _error_code(entry: Mapping[str, Any]) -> int | None:
    for key in ("code", "status"):
        value = entry.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _text(entry: Mapping[str, Any]) -> str | None:
    for key in _ERROR_TEXT_KEYS:
        value = entry.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _item(position: int, entry: object) -> BatchItemAccepted | BatchItemRefused:
    if isinstance(entry, str) and entry:  # a bare task id
        return BatchItemAccepted(index=position, task_id=entry)
    if not isinstance(entry, Mapping):
        raise TypeError(f"tasks[{position}] is neither an object nor a task id")
    raw_index = entry.get("index")
    index = (
        raw_index if isinstance(raw_index, int) and not isinstance(raw_index, bool) else position
    )
    task_id = entry.get("task_id")
    code = _error_code(entry)
    failed = code is not None and code >= 400
    if isinstance(task_id, str) and task_id and not failed:
        extra = {k: v for k, v in entry.items() if k not in ("index", "task_id")}
        return BatchItemAccepted(index=index, task_id=task_id, extra=extra)
    return BatchItemRefused(index=index, status=code, message=_text(entry), raw=dict(entry))


def parse_batch_accepted(data: Mapping[str, Any], _task_id: str) -> BatchAccepted:
    """The batch id and each item's fate from a batch POST's answer.

    Raises:
        ValueError: no batch id, or no list of items.
    """
    payload = _envelope(data)
    batch_id = payload.get("batch_id")
    if not isinstance(batch_id, str) or not batch_id:
        raise ValueError("no batch id in the answer")
    entries = payload.get("tasks", payload.get("task_ids"))
    if not isinstance(entries, list):
        raise TypeError("no list of tasks in the answer")
    submitted = payload.get("submitted")
    known = ("batch_id", "tasks", "task_ids", "submitted", "code", "message", "data")
    return BatchAccepted(
        batch_id=batch_id,
        submitted=submitted if isinstance(submitted, int) and not isinstance(submitted, bool)
        else None,
        items=tuple(_item(i, e) for i, e in enumerate(entries)),
        extra={k: v for k, v in data.items() if k not in known},
    )  # fmt: skip


def parse_batch_status(data: Mapping[str, Any], batch_id: str) -> BatchStatus:
    """Each task's snapshot from a batch GET's answer.

    Raises:
        TypeError: no list of tasks.
    """
    payload = _envelope(data)
    entries = payload.get("tasks")
    if entries is None and isinstance(data.get("data"), list):
        entries = data["data"]
    if not isinstance(entries, list):
        raise TypeError("no list of tasks in the batch answer")
    snapshots: list[TaskSnapshot] = []
    unresolved: dict[str, Mapping[str, Any]] = {}
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue  # nothing to tell whose it is: its task is polled on its own
        task_id = entry.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            continue
        code = _error_code(entry)
        body = {k: v for k, v in entry.items() if k not in ("task_id", "index")}
        if code is not None and code >= 400:
            unresolved[task_id] = dict(entry)
            continue
        try:
            snapshots.append(parse_snapshot(Family.SONIC, body, task_id=task_id))
        except (cattrs.BaseValidationError, ValueError, TypeError, KeyError):
            unresolved[task_id] = dict(entry)
    found = payload.get("batch_id")
    known = ("batch_id", "tasks", "code", "message", "data")
    return BatchStatus(
        batch_id=found if isinstance(found, str) else batch_id or None,
        snapshots=tuple(snapshots),
        unresolved=unresolved,
        extra={k: v for k, v in data.items() if k not in known},
    )
