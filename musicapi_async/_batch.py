"""``api.sonic.batch``: up to 10 sonic creates in one ``POST /api/v1/sonic/batch``.

What a batch returns is one entry per spec, in input order: a ``Job`` (the item was
accepted as a task; wait on it like any other) or a ``BatchRefusal`` (the server refused
that item alone, its error typed as a single create's would be).

Money rules, as for a single create:

- every spec is checked before anything is sent (the single create's validators), and
  more than ``MAX_BATCH_ITEMS`` is an ``InvalidRequest``;
- the POST is re-sent only when it provably never left or was explicitly refused (429,
  the QPS 403): ``MusicAPI.call`` decides, as for any paid call;
- a lost or unreadable answer, or a 5xx, is a ``SubmissionOutcomeUnknown`` whose
  ``request`` is the ``SonicBatchRequest``, holding every item to reconcile;
- an item the answer does not account for is a ``SubmissionOutcomeUnknown`` of its own.

Pace: MUSICAPI.md §14 reads "one create request every three seconds" and says nothing of
batches. Counting a batch as one request could send ten tasks' worth of creates every 3 s
if the limit is really per task; counting it as n creates keeps the documented pace under
either reading. So a batch of n counts as n creates: it goes with one create turn and
owes the other n - 1 (``Governor.lease(turns=n)``; with a fleet, the shared budget's
turns are taken in the background): the next create waits as if n had gone in a row.
The emulator enforces the same reading (``emulator._batch``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._batch_models import MAX_BATCH_ITEMS, BatchItemAccepted, BatchItemRefused, SonicBatchRequest
from ._convert import request_from_wire, to_wire
from ._endpoints import SONIC_BATCH, SONIC_CREATE
from ._errors import InvalidRequest, MusicAPIError, SubmissionOutcomeUnknown
from ._http import HttpResponse
from ._jobs import Job
from ._models import Family, SonicRequest
from ._protocol import error_for
from ._validation import validate_body

if TYPE_CHECKING:
    from ._client import MusicAPI

__all__ = ["BatchRefusal", "SonicBatch", "submit_batch"]


@attrs.frozen
class BatchRefusal:
    """One item of a batch that was not accepted.

    Attributes:
        index: the item's position in the batch.
        request: the item's create spec.
        error: why: the server's refusal, typed as a single create's would be
            (``InvalidRequest``, ``ContentRejected``, ``InsufficientCredits``, ...), or
            ``SubmissionOutcomeUnknown`` when the answer did not account for the item.
    """

    index: int
    request: SonicRequest
    error: MusicAPIError


@attrs.frozen
class SonicBatch:
    """What ``api.sonic.batch`` returns.

    Attributes:
        batch_id: the server's id of the batch (``GET /sonic/batch?batch_id=``).
        items: one entry per spec, in order: its ``Job``, or its ``BatchRefusal``.
    """

    batch_id: str
    items: tuple[Job | BatchRefusal, ...]

    @property
    def jobs(self) -> tuple[Job, ...]:
        """The accepted items' jobs, in input order."""
        return tuple(i for i in self.items if isinstance(i, Job))

    @property
    def refused(self) -> tuple[BatchRefusal, ...]:
        """The items that were not accepted, in input order."""
        return tuple(i for i in self.items if isinstance(i, BatchRefusal))


def batch_specs(specs: Sequence[SonicRequest | Mapping[str, Any]]) -> list[SonicRequest]:
    """``specs`` as checked ``SonicRequest``s: each valid as a single create, 1 to 10.

    Raises:
        InvalidRequest: none, more than 10, or one that a single create would refuse
            (the message names its index); nothing is sent.
    """
    if isinstance(specs, str | bytes | Mapping):
        raise InvalidRequest("batch() takes a list of create specs.", field="items")
    items = list(specs)
    if not 1 <= len(items) <= MAX_BATCH_ITEMS:
        raise InvalidRequest(
            f"A sonic batch holds 1 to {MAX_BATCH_ITEMS} create specs, not {len(items)}.",
            field="items",
        )
    checked: list[SonicRequest] = []
    for index, spec in enumerate(items):
        if isinstance(spec, Mapping):
            spec = request_from_wire(SonicRequest, spec)
        if not isinstance(spec, SonicRequest):
            raise InvalidRequest(
                f"items[{index}]: a batch takes SonicRequest specs, not {type(spec).__name__}.",
                field="items",
            )
        try:
            validate_body(SONIC_CREATE, to_wire(spec))
        except InvalidRequest as exc:
            raise InvalidRequest(f"items[{index}]: {exc.message}", field=exc.field) from exc
        checked.append(spec)
    return checked


def _refusal_error(entry: BatchItemRefused, spec: SonicRequest) -> MusicAPIError:
    """The single create's error for a refused item, from its status and words."""
    status = entry.status if entry.status is not None and entry.status >= 400 else 400
    body = json.dumps(entry.raw or {"message": entry.message}).encode()
    return error_for(
        HttpResponse(status, {}, body), endpoint=SONIC_CREATE.name, operation=str(spec.task_type)
    )


def _owe_fleet_turns(client: MusicAPI, turns: int) -> None:
    """[redis hook] Spend a batch's other create turns of the fleet's shared budget.

    Taken in the background, after the POST: the fleet's next creates wait them off,
    as the local governor's do (``Governor.lease(turns=n)``).
    """
    coordination = client.coordination
    if coordination is None or turns <= 0:
        return

    async def owe() -> None:
        for _ in range(turns):
            await coordination.rates.acquire("create")

    client.start_soon(owe)


async def submit_batch(
    client: MusicAPI, specs: Sequence[SonicRequest | Mapping[str, Any]]
) -> SonicBatch:
    """Send ``specs`` as one batch; see ``SonicAPI.batch``."""
    items = batch_specs(specs)
    if client.webhook_url is not None:  # the client's webhook, as ``submit`` adds it
        items = [
            i if i.webhook_url is not None else attrs.evolve(
                i, webhook_url=client.webhook_url, webhook_secret=client._webhook_secret)
            for i in items
        ]  # fmt: skip
    request = SonicBatchRequest(items=tuple(items))
    accepted = await client.call(SONIC_BATCH, request)  # counts as len(items) creates
    _owe_fleet_turns(client, len(items) - 1)
    now = client._clock()
    by_index: dict[int, BatchItemAccepted | BatchItemRefused] = {}
    for entry in accepted.items:
        by_index.setdefault(entry.index, entry)
    results: list[Job | BatchRefusal] = []
    for index, spec in enumerate(items):
        found = by_index.get(index)
        if isinstance(found, BatchItemAccepted):
            results.append(Job(client, found.task_id, Family.SONIC, request=spec,
                               submitted_at=now))  # fmt: skip
        elif isinstance(found, BatchItemRefused):
            results.append(BatchRefusal(index, spec, _refusal_error(found, spec)))
        else:
            lost = SubmissionOutcomeUnknown(
                f"sonic.batch {accepted.batch_id}: the answer does not account for "
                f"items[{index}]; it may have been billed. Reconcile before sending it again.",
                endpoint=SONIC_BATCH.name,
                request=spec,
            )
            results.append(BatchRefusal(index, spec, lost))
    batch = SonicBatch(accepted.batch_id, tuple(results))
    client._watch_batches().register(batch.batch_id, [job.task_id for job in batch.jobs])
    return batch
