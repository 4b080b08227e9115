"""The aiohttp.web application: MusicAPI's routes, built from ``ENDPOINTS``.

Every API request goes through one handler per endpoint, in this order:

1. count it; apply refunds that fell due;
2. a fault that acts before processing (429, 403s, 5xx, reset, slow) fires here;
3. auth: ``Authorization: Bearer <key>`` for a key with an account (401 otherwise);
   then a retired endpoint answers 410 Gone (nuro with ``retire_nuro``);
4. the JSON body (400 if it is not a JSON object);
5. creates only: the per-key create interval, 3 emulated seconds by default (429 with a
   ``Retry-After`` in emulated seconds, or 403 QPS);
6. ``validate_body`` (strict by default): the documented 400 messages;
7. references (clips, personas) and moderation (403 with the documented texts);
8. payment (403 when credits run out), then the work;
9. a fault that acts after processing (malformed JSON, accept-then-drop) fires here.

Errors answer ``{"code": <status>, "message": <text>}``; nuro's also carry ``"type"``.
Every API answer carries ``X-Emulator-Speed``: the speed of the virtual clock, so a client
can run its schedule (and read every ``Retry-After``) in emulated seconds. The real API
never sends it.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import struct
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from aiohttp import web

from .._endpoints import CREATE_ENDPOINTS, ENDPOINTS, ROWS, Endpoint, cost_of
from .._errors import InvalidRequest
from .._models import Family
from .._protocol import decode_json
from .._validation import validate_body
from ._control import add_control_routes
from ._faults import ANSWERS, Fault, FaultKind
from ._generate import Rejected
from ._ledger import Charge, PaymentRefused
from ._media import AUDIO_TYPES, audio_for, midi_for, png_for, wav_for
from ._state import EmulatorState

__all__ = ["build_app"]

_NURO_TYPES: Final = {400: "bad_request", 401: "unauthorized", 403: "forbidden",
                      404: "not_found", 429: "forbidden", 500: "api_error", 502: "api_error",
                      504: "timeout"}  # fmt: skip
_GATEWAY_PAGE: Final = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
SPEED_HEADER: Final = "X-Emulator-Speed"
# The sister site's answer once nuro was retired (MUSICAPI.md §7.3).
NURO_GONE: Final = (
    "Nuro has been deprecated and is no longer available. Please use sonic for vocals "
    "and producer for background music."
)

Body = Mapping[str, Any]
Action = Callable[[EmulatorState, str, Body, str, float], tuple[int, bytes]]
# The emulator's behaviour of each row, by the name the row gives (``Endpoint.emulate``).
_BEHAVIOURS: dict[str, Action] = {}


def behaviour(name: str) -> Callable[[Action], Action]:
    """Register ``name``'s behaviour: what the emulator does for the row that names it."""

    def register(action: Action) -> Action:
        _BEHAVIOURS[name] = action
        return action

    return register


class Answer(Exception):
    """An error answer: raised anywhere in a handler, rendered by ``_error_body``."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def _dump(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def _error_body(ep: Endpoint[Any, Any], status: int, message: str) -> bytes:
    if ep.family is Family.NURO:
        kind = _NURO_TYPES.get(status, "api_error")
        return _dump({"code": status, "type": kind, "message": message})
    return _dump({"code": status, "message": message})


def _authenticate(st: EmulatorState, header: str | None, missing_id: bool = False) -> str:
    if not header:
        raise Answer(401, "Authorization header is missing.")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Answer(401, "Invalid authorization format.")
    if not st.ledger.knows(token):
        raise Answer(401, "Invalid API key.")
    if missing_id:  # the id is checked after the key, as for any other request
        raise Answer(400, "missing task id.")
    return token


async def _json_body(request: web.Request) -> Body:
    raw = await request.read()
    try:
        # The client's own limits: deep nesting, NaN or a huge body is a 400, not a 500.
        body = decode_json(raw)
    except ValueError:  # UnicodeDecodeError included
        raise Answer(400, "The request body should be valid JSON.") from None
    if not isinstance(body, dict):
        raise Answer(400, "The request body should be a JSON object.")
    return body


def _refuse_retired(st: EmulatorState, ep: Endpoint[Any, Any]) -> None:
    if st.config.retire_nuro and ep.family is Family.NURO:
        raise Answer(410, NURO_GONE)


def _validate(st: EmulatorState, name: str, body: Body) -> None:
    try:
        validate_body(name, body, strict=st.config.strict)
    except InvalidRequest as exc:
        raise Answer(400, exc.message) from None


def _turns(name: str, body: Body) -> int:
    """Create turns a request takes: one, or one per item of a batch (``emulator._batch``)."""
    items = body.get("items") if name == "sonic.batch" else None
    return max(1, len(items)) if isinstance(items, list) else 1


def _throttle(st: EmulatorState, key: str, now: float, turns: int = 1) -> None:
    interval = st.config.create_interval
    if interval is None:
        return
    last = st.last_create.get(key)
    if last is not None and now - last < interval:
        if st.config.rate_limit_status == 403:
            raise Answer(403, "API QPS limit exceeded")
        # Whole seconds, as HTTP says, of emulated time: the speed header tells a client
        # how long that is on its clock (one that ignores it just waits longer).
        wait = max(1, math.ceil(interval - (now - last)))
        raise Answer(429, "Too many requests.", {"Retry-After": str(wait)})
    # A batch of n counts as n creates in a row: the next create waits n intervals.
    st.last_create[key] = now + (turns - 1) * interval


def _moderate(st: EmulatorState, lyrics: object, *descriptions: object) -> None:
    refusal = st.moderation.check(lyrics, *descriptions)
    if refusal is not None:
        raise Answer(403, refusal)


def _pay(st: EmulatorState, key: str, name: str, body: Body) -> Charge:
    amount, pool = cost_of(name, body)
    try:
        charge = st.ledger.charge(key, amount, pool)
    except PaymentRefused as exc:
        raise Answer(403, exc.message) from None
    if amount:
        st.billed[name] += 1
    return charge


# ------------------------------------------------------------------------ endpoints


@behaviour("sonic_create")
def _sonic_create(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    try:
        source = st.generator.check_sonic(key, body, now)
    except Rejected as exc:
        raise Answer(400, exc.message) from None
    lyrics = body.get("prompt") if body.get("custom_mode") else None
    _moderate(st, lyrics, body.get("gpt_description_prompt"), body.get("tags"), body.get("title"))
    task = st.generator.sonic(key, body, source, now, _pay(st, key, "sonic.create", body))
    st.webhooks.schedule(task)
    return 200, _dump({"message": "success", "task_id": task.task_id})


@behaviour("persona")
def _persona(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    clip_id = str(body.get("continue_clip_id") or body.get("clip_id"))
    try:
        st.generator.source(key, clip_id, now)  # checked before paying
    except Rejected as exc:
        raise Answer(400, exc.message) from None
    _pay(st, key, "sonic.persona", body)
    persona_id = st.generator.persona(key, clip_id)
    return 200, _dump({"code": 200, "persona_id": persona_id, "message": "success"})


@behaviour("bpm")
def _bpm(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    clip_id = str(body["clip_id"])
    try:
        record = st.generator.source(key, clip_id, now)  # checked before paying
    except Rejected as exc:
        raise Answer(400, exc.message) from None
    if now - record.succeeded_at > 24 * 3600:  # the documented age limit
        raise Answer(400, "The clip should be created within 24 hours.")
    _pay(st, key, "sonic.bpm", body)
    # A stable tempo per clip: the same clip always answers the same figures.
    avg = 70 + int.from_bytes(clip_id.encode()[-2:], "big") % 90
    data = {"avg_bpm": float(avg), "max_bpm": avg + 2.5, "min_bpm": avg - 2.5}
    return 200, _dump({"code": 200, "data": data, "message": "success"})


@behaviour("upload")
def _upload(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    _pay(st, key, "sonic.upload", body)
    record = st.generator.upload(key, str(body["url"]), now)
    return 200, _dump({"code": 200, "message": "success", "clip_id": record.clip_id})


@behaviour("lyrics")
def _lyrics(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    _moderate(st, None, body.get("description"))
    _pay(st, key, "lyrics.create", body)
    results = st.generator.lyrics(str(body["description"]))
    return 200, _dump({"code": 200, "results": results, "message": "success"})


@behaviour("nuro_create")
def _nuro_create(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    _moderate(st, body.get("lyrics"), body.get("description"))
    task = st.generator.nuro(key, body, now, _pay(st, key, "nuro.create", body))
    st.webhooks.schedule(task)
    return 200, _dump({"message": "success", "task_id": task.task_id})


@behaviour("studio_create")
def _studio_create(
    st: EmulatorState, key: str, body: Body, _: str, now: float
) -> tuple[int, bytes]:
    _moderate(st, body.get("lyrics"), body.get("prompt"))
    task = st.generator.studio(key, body, now, _pay(st, key, "studio.create", body))
    return 200, _dump({"code": "success", "message": "", "data": task.task_id})


def _task_action(family: Family) -> Action:
    def poll(st: EmulatorState, key: str, _: Body, task_id: str, now: float) -> tuple[int, bytes]:
        task = st.store.lookup(task_id, key, family)
        if task is None:
            if family is Family.NURO:  # nuro's own error table (§7.3)
                raise Answer(404, "Task not found")
            raise Answer(400, "task not found.")
        return st.store.render(task, now)

    return poll


@behaviour("credits")
def _credits(st: EmulatorState, key: str, _: Body, __: str, now: float) -> tuple[int, bytes]:
    balance = st.ledger.balance(key)
    return 200, _dump({"credits": balance.credits, "extra_credits": balance.extra_credits})


_sonic_task = behaviour("sonic_task")(_task_action(Family.SONIC))
_nuro_task = behaviour("nuro_task")(_task_action(Family.NURO))
_studio_task = behaviour("studio_task")(_task_action(Family.STUDIO))
_producer_task = behaviour("producer_task")(_task_action(Family.PRODUCER))
_riffusion_task = behaviour("riffusion_task")(_task_action(Family.RIFFUSION))

# Producer and riffusion behaviours live in their own module, which registers them here.
from . import _producer as _producer  # noqa: E402

# The sonic utilities' behaviours (issue 13) register themselves on import, as do those
# of the task-starting sonic endpoints that take audio (``_sonic_tasks``).
from . import _sonic_extra, _sonic_tasks  # noqa: E402, F401

# isort: split
# The sonic batch's behaviours (issue 13) register themselves on import.
from . import _batch as _batch  # noqa: E402

# Derived from the table: each row names its behaviour (a missing one fails at import).
_ACTIONS: Final[Mapping[str, Action]] = {ep.name: _BEHAVIOURS[ep.emulate] for ep in ROWS}


# --------------------------------------------------------------------------- faults


def _drop(request: web.Request, *, reset: bool) -> None:
    transport = request.transport
    if transport is None:
        return
    if reset:
        # SO_LINGER 0 turns the close into a TCP RST: "connection reset by peer".
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


def _early_fault(fault: Fault) -> Answer | None:
    if fault.kind is FaultKind.RATE_LIMIT_429:
        return Answer(429, "Too many requests.", {"Retry-After": f"{fault.retry_after:g}"})
    answer = ANSWERS.get(fault.kind)
    return Answer(*answer) if answer is not None else None


# -------------------------------------------------------------------------- handlers

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _api_handler(st: EmulatorState, ep: Endpoint[Any, Any], *, missing_id: bool = False) -> Handler:
    name = ep.name
    action = _ACTIONS[name]
    is_post = ep.method == "POST"
    is_create = name in CREATE_ENDPOINTS
    statuses = st.statuses[name]
    speed = f"{st.clock.speed:g}"

    async def handle(request: web.Request) -> web.StreamResponse:
        st.requests[name] += 1
        now = st.settle()
        fault = st.faults.pick(name) if st.faults else None
        kind = fault.kind if fault is not None else None
        if kind is FaultKind.SLOW and fault is not None:
            # The request has arrived: take its body before the delay, so a client that
            # gives up waiting does not stop it being processed (and billed) - a slow
            # server still does the work. The clock is read again once the delay is over.
            if is_post:
                await request.read()
            await asyncio.sleep(fault.delay)
            now = st.settle()
        elif kind is FaultKind.RESET:
            _drop(request, reset=True)
            st.dropped[name] += 1
            statuses["dropped"] += 1
            return web.Response(status=500)  # never reaches the client
        elif kind is FaultKind.GATEWAY_HTML_502:
            statuses["502"] += 1
            return web.Response(status=502, body=_GATEWAY_PAGE, content_type="text/html")
        headers: dict[str, str] = {SPEED_HEADER: speed}
        try:
            answer = _early_fault(fault) if fault is not None else None
            if answer is not None:
                raise answer
            key = _authenticate(st, request.headers.get("Authorization"), missing_id)
            _refuse_retired(st, ep)  # before any work: a 410 is never billed
            body = await _json_body(request) if is_post else {}
            if is_create:
                _throttle(st, key, now, _turns(name, body))
            if is_post:
                _validate(st, name, body)
            # The one id of a row: in the path, or in the query (a batch's ``batch_id``).
            ident = request.match_info.get("task_id") or request.query.get("batch_id", "")
            status, payload = action(st, key, body, ident, now)
        except Answer as exc:
            status, headers = exc.status, {**headers, **exc.headers}
            payload = _error_body(ep, exc.status, exc.message)
        if kind is FaultKind.ACCEPT_THEN_DROP:
            _drop(request, reset=False)
            st.dropped[name] += 1
            statuses["dropped"] += 1
            return web.Response(status=500)  # never reaches the client
        if kind is FaultKind.MALFORMED_JSON:
            payload = payload[: max(1, len(payload) // 2)]  # cut mid-object: never valid
        statuses[str(status)] += 1
        return web.Response(status=status, body=payload, headers=headers,
                            content_type="application/json")  # fmt: skip

    return handle


def _media_handler(st: EmulatorState, kind: str) -> Handler:
    counter = f"media.{kind}"

    async def handle(request: web.Request) -> web.StreamResponse:
        st.requests[counter] += 1
        clip_id = request.match_info["clip_id"]
        if clip_id not in st.store.clips:
            st.statuses[counter]["404"] += 1
            raise web.HTTPNotFound(text="not found")
        st.statuses[counter]["200"] += 1
        if kind == "image":
            return web.Response(body=png_for(clip_id), content_type="image/png")
        if kind == "midi":  # ``/sonic/midi``'s file
            return web.Response(body=midi_for(clip_id), content_type="audio/midi")
        record = st.store.clips[clip_id]
        if kind == "audio":  # in the format its extension names (``/sonic/download``)
            fmt = request.match_info["ext"]
            body = audio_for(fmt, clip_id, record.duration, record.title)
            return web.Response(body=body, content_type=AUDIO_TYPES[fmt])
        audio = wav_for(clip_id, record.duration, record.title)  # as long as it says
        # The stream URL of a clip in ``streaming``: the same audio, sent chunked.
        response = web.StreamResponse(headers={"Content-Type": "audio/wav"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(audio), 16384):
            await response.write(audio[start : start + 16384])
        await response.write_eof()
        return response

    return handle


async def _not_found(request: web.Request) -> web.StreamResponse:
    return web.Response(status=404, body=_dump({"code": 404, "message": "Not Found"}),
                        content_type="application/json")  # fmt: skip


def build_app(st: EmulatorState) -> web.Application:
    """The emulator's application: API routes from ``ENDPOINTS``, media and control."""
    app = web.Application(client_max_size=1024 * 1024)
    for ep in ENDPOINTS.values():
        path = ep.path.partition("?")[0]  # a query parameter is read by the handler
        app.router.add_route(ep.method, path, _api_handler(st, ep))
        if "{task_id}" in path:  # the same path without an id: "missing task id."
            bare = path.replace("/{task_id}", "")
            missing = _api_handler(st, ep, missing_id=True)
            app.router.add_route(ep.method, bare, missing)
            app.router.add_route(ep.method, bare + "/", missing)
    formats = "|".join(AUDIO_TYPES)
    app.router.add_get(f"/media/audio/{{clip_id}}.{{ext:{formats}}}", _media_handler(st, "audio"))
    app.router.add_get("/media/image/{clip_id}.png", _media_handler(st, "image"))
    app.router.add_get("/media/midi/{clip_id}.mid", _media_handler(st, "midi"))
    app.router.add_get("/media/stream/{clip_id}", _media_handler(st, "stream"))
    add_control_routes(app, st)
    app.router.add_route("*", "/{tail:.*}", _not_found)
    return app
