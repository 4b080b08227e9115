"""The control and inspection surface, under ``/_emulator/`` (JSON, no auth).

=======  ===========================  ==================================================
method   path                         what
=======  ===========================  ==================================================
GET      /_emulator/stats             the numbers of ``Emulator.stats``
POST     /_emulator/stats/reset       zero request/status/billing/drop counters
GET      /_emulator/tasks             every task (``?status=failed`` filters)
GET      /_emulator/tasks/{task_id}   one task
GET      /_emulator/faults            active fault rules, and faults fired per kind
POST     /_emulator/faults            add a rule (a ``Fault`` as JSON) or ``{"faults": [...]}``
DELETE   /_emulator/faults            remove every rule
POST     /_emulator/advance           ``{"seconds": N}``: jump the virtual clock
POST     /_emulator/fail-next         ``{"count": N, "partial": false}``
GET      /_emulator/accounts          balances per API key
POST     /_emulator/accounts          ``{"api_key", "credits", "extra_credits",
                                      "lyrics_credits", "subscription_active"}``
GET      /_emulator/webhooks          delivery counts and the last 1000 deliveries
=======  ===========================  ==================================================

These requests are not counted in the stats. The surface is for tests and benchmarks on
loopback; it has no authentication.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import attrs
from aiohttp import web

from .._protocol import decode_json
from ._faults import Fault
from ._state import EmulatorState
from ._tasks import Task

__all__ = ["PREFIX", "add_control_routes", "task_summary"]

PREFIX: Final = "/_emulator"


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(data).encode(), content_type="application/json"
    )


class _BadRequest(Exception):
    pass


async def _body(request: web.Request) -> Mapping[str, Any]:
    try:
        data = decode_json(await request.read() or b"{}")
    except ValueError:  # UnicodeDecodeError, NaN, too deep: never a 500
        raise _BadRequest("the body should be a JSON object") from None
    if not isinstance(data, dict):
        raise _BadRequest("the body should be a JSON object")
    return data


def task_summary(st: EmulatorState, task: Task, now: float) -> dict[str, Any]:
    """A task as the control surface shows it."""
    return {
        "task_id": task.task_id,
        "family": task.family.value,
        "task_type": task.task_type,
        "status": task.status(now),
        "created_at": task.created_at,
        "ready_at": task.ready_at,
        "ends_at": task.end,
        "cost": task.charge.total,
        "refunded": st.store.refunded(task.task_id),
        "webhook_url": task.webhook.url if task.webhook else None,
        # The title the clips carry (custom mode echoes the request's): lets a test match
        # billed tasks to the requests that made them.
        "title": task.timelines[0].views[-1].get("title") if task.timelines else None,
        "clips": [
            {
                "clip_id": t.clip_id,
                "state": t.state(now).value if now >= task.ready_at else "not_ready",
            }
            for t in task.timelines
        ],
    }


Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_control_routes(app: web.Application, st: EmulatorState) -> None:
    """Add the ``/_emulator/`` routes to ``app``."""

    def guarded(route: Callable[[web.Request], Awaitable[Any]]) -> Route:
        async def handle(request: web.Request) -> web.StreamResponse:
            try:
                return _json(await route(request))
            except (_BadRequest, ValueError, TypeError) as exc:
                return _json({"code": 400, "message": str(exc)}, 400)
            except KeyError as exc:
                return _json({"code": 404, "message": f"not found: {exc}"}, 404)

        return handle

    async def stats(_: web.Request) -> Any:
        return st.stats().to_json()

    async def reset(_: web.Request) -> Any:
        st.reset_counters()
        return st.stats().to_json()

    async def tasks(request: web.Request) -> Any:
        now = st.settle()
        wanted = request.query.get("status")
        listed = [task_summary(st, t, now) for t in st.store.iter_tasks()]
        if wanted:
            listed = [t for t in listed if t["status"] == wanted]
        return {"count": len(listed), "tasks": listed}

    async def one_task(request: web.Request) -> Any:
        return task_summary(st, st.store.tasks[request.match_info["task_id"]], st.settle())

    async def faults(_: web.Request) -> Any:
        return st.faults.to_json()

    async def add_faults(request: web.Request) -> Any:
        body = await _body(request)
        items = body.get("faults", [body])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise _BadRequest("'faults' should be a list of objects")
        st.faults.add(*(Fault.from_json(item) for item in items))
        return st.faults.to_json()

    async def clear_faults(_: web.Request) -> Any:
        st.faults.clear()
        return st.faults.to_json()

    async def advance(request: web.Request) -> Any:
        seconds = (await _body(request)).get("seconds")
        # 1e400 parses as infinity: a clock moved by it (or by NaN) never recovers.
        if (
            not isinstance(seconds, int | float)
            or isinstance(seconds, bool)
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            raise _BadRequest("'seconds' should be a finite number >= 0")
        return {"virtual_time": st.advance(float(seconds))}

    async def fail_next(request: web.Request) -> Any:
        body = await _body(request)
        count, partial = body.get("count", 1), body.get("partial", False)
        if not isinstance(count, int) or not isinstance(partial, bool) or count < 0:
            raise _BadRequest("'count' should be an integer >= 0, 'partial' a boolean")
        st.generator.fail_next(count, partial=partial)
        return {"count": count, "partial": partial}

    async def accounts(_: web.Request) -> Any:
        st.settle()
        return {key: attrs.asdict(st.ledger.balance(key)) for key in st.ledger.keys()}  # noqa: SIM118 - not a dict

    async def open_account(request: web.Request) -> Any:
        body = dict(await _body(request))
        key = body.pop("api_key", None)
        if not isinstance(key, str) or not key:
            raise _BadRequest("'api_key' should be a non-empty string")
        st.ledger.open(key, **body)
        return attrs.asdict(st.ledger.balance(key))

    async def webhooks(_: web.Request) -> Any:
        return {
            "counts": dict(st.webhooks.counts),
            "deliveries": [d.to_json() for d in st.webhooks.deliveries],
        }

    routes: list[tuple[str, str, Callable[[web.Request], Awaitable[Any]]]] = [
        ("GET", "/stats", stats),
        ("POST", "/stats/reset", reset),
        ("GET", "/tasks", tasks),
        ("GET", "/tasks/{task_id}", one_task),
        ("GET", "/faults", faults),
        ("POST", "/faults", add_faults),
        ("DELETE", "/faults", clear_faults),
        ("POST", "/advance", advance),
        ("POST", "/fail-next", fail_next),
        ("GET", "/accounts", accounts),
        ("POST", "/accounts", open_account),
        ("GET", "/webhooks", webhooks),
    ]
    for method, path, route in routes:
        app.router.add_route(method, PREFIX + path, guarded(route))
