"""Sans-I/O MusicAPI protocol: build requests, parse answers, read task snapshots.

Nothing here touches the network. ``build_request`` turns a request model into an
``HttpRequest``; ``parse_response`` turns ``(status, headers, body)`` into a result model
or raises the right ``MusicAPIError``. Transports only move bytes.

How an answer is judged, in order:

1. ``status >= 400``, or a 2xx JSON object whose integer ``code`` is >= 400: an error,
   classified by status and the API's message (``error_for``).
2. A body that is not JSON, or JSON of the wrong shape: ``ResponseDecodeError``.
3. Otherwise the family's envelope is opened (sonic: ``task_id`` / ``data: [clips]`` /
   ``type: not_ready``; nuro: a flat object; studio: string ``code`` and ``data``).
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Final, TypeVar, cast

import cattrs

from ._convert import to_wire
from ._endpoints import ENDPOINTS, Endpoint
from ._errors import (
    AuthenticationError,
    CallerError,
    ContentRejected,
    EndpointGone,
    InsufficientCredits,
    InvalidRequest,
    MusicAPIError,
    RateLimited,
    ResponseDecodeError,
    ServerError,
    SourcePurged,
    TaskFailed,
    TaskNotFound,
)
from ._http import HttpRequest, HttpResponse
from ._models import Family, TaskSnapshot
from ._validation import check_task_id, validate_body

Req = TypeVar("Req")
Res = TypeVar("Res")

__all__ = [
    "HttpRequest",
    "HttpResponse",
    "SnapshotMemo",
    "build_request",
    "decode_json",
    "error_for",
    "parse_response",
    "parse_retry_after",
]


def build_request(
    endpoint: Endpoint[Any, Any] | str, model: object = None, *, task_id: str | None = None
) -> HttpRequest:
    """Validate ``model`` and encode it as a request to ``endpoint``.

    Raises:
        InvalidRequest: the request breaks a documented rule; nothing was sent.
    """
    ep = ENDPOINTS[endpoint] if isinstance(endpoint, str) else endpoint
    if task_id is not None or "{task_id}" in ep.path:
        task_id = check_task_id(task_id)
    body: bytes | None = None
    if ep.request_types:
        if not isinstance(model, ep.request_types):
            names = ", ".join(t.__name__ for t in ep.request_types)
            raise InvalidRequest(f"{ep.name} takes {names}, not {type(model).__name__}.")
        wire = to_wire(model)
        validate_body(ep.name, wire)
        try:
            # allow_nan=False: NaN and Infinity are not JSON and never leave the client,
            # whatever slipped past the rules (a value in a free-form mapping, say).
            text = json.dumps(wire, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            body = text.encode()
        except (ValueError, TypeError) as exc:  # NaN, a lone surrogate, an odd object
            raise InvalidRequest(f"{ep.name}: the request cannot be sent as JSON ({exc}).") from exc
    return HttpRequest(ep, ep.method, ep.url_path(task_id), body, model, task_id)


# ------------------------------------------------------------------------------ errors

_CREDITS_MARKERS: Final = ("credits are not enough", "active subscription")
_THROTTLE_MARKERS: Final = ("qps limit", "queue is full", "usage limit", "rate limit",
                            "too many requests")  # fmt: skip
_CONTENT_MARKERS: Final = ("lyrics", "moderation", "copyright", "inappropriate",
                           "artist name", "producer tag", "song description")  # fmt: skip
_TASK_FAILED_MARKER: Final = "task failed"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


# Limits on JSON read from the network (answers here, request bodies in the emulator).
# MusicAPI's answers nest a few levels and weigh a few KB; the limits are far above that
# and far below what exhausts the stack (~1,000 levels) or the memory.
MAX_JSON_DEPTH: Final = 64
MAX_JSON_BYTES: Final = 16 * 2**20


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)


def _depth(data: Any) -> int:
    """How deeply ``data`` nests lists and objects (iterative: any depth is safe)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_JSON_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def decode_json(raw: bytes) -> Any:
    """Parse ``raw`` as strict JSON within ``MAX_JSON_DEPTH`` and ``MAX_JSON_BYTES``.

    Raises:
        ValueError: not UTF-8 JSON, ``NaN``/``Infinity``, too deeply nested or too large
            (never ``RecursionError``, whatever the input).
    """
    if len(raw) > MAX_JSON_BYTES:
        raise ValueError(f"JSON body of {len(raw)} bytes, more than {MAX_JSON_BYTES}")
    try:
        # The C parser guards its own recursion; what it accepts is measured below. One
        # decoder for every answer: ``json.loads`` with an option builds one per call.
        if isinstance(raw, bytes | bytearray):
            # An object's usual first two bytes, ``{"``, rule out every BOM and the zero
            # bytes of UTF-16/32: UTF-8, as ``detect_encoding`` would say, without its call.
            encoding = "utf-8" if raw.startswith(b'{"') else json.detect_encoding(raw)
            data = _DECODER.decode(raw.decode(encoding, "surrogatepass"))
        else:
            data = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    # Only a body with many brackets can be deep: count them first (cheap, in C).
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _depth(data) > MAX_JSON_DEPTH:
        raise ValueError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
    return data


def _decode_json(body: bytes) -> Any:
    try:
        return decode_json(body)
    except ValueError:  # UnicodeDecodeError included
        return None


def _api_message(data: Any) -> str | None:
    if isinstance(data, Mapping):
        for key in ("message", "error", "detail", "msg", "fail_reason"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, Mapping):
                nested = _api_message(value)
                if nested:
                    return nested
    return None


# What the docs say replaces a retired family (MUSICAPI.md §7.3: nuro answers 410 Gone,
# "migrate vocals to sonic, BGM to producer"). Retired producer task types have no
# documented replacement.
_INSTEAD: Final[Mapping[str, str]] = {
    "nuro": "use sonic for vocals (api.sonic.create) and producer for background music "
    "(api.producer.create)",
}


def _gone(shown: str, endpoint: str | None, operation: str | None, **kwargs: Any) -> EndpointGone:
    what = endpoint or "this endpoint"
    if operation:
        what = f"task type {operation!r} of {what}"
    instead = _INSTEAD.get((endpoint or "").partition(".")[0])
    message = f"Gone: {what} is retired ({shown})" + (f"; {instead}" if instead else "")
    return EndpointGone(message, endpoint=endpoint, operation=operation, instead=instead, **kwargs)


def error_for(
    response: HttpResponse,
    *,
    task_id: str | None = None,
    endpoint: str | None = None,
    operation: str | None = None,
) -> MusicAPIError:
    """The exception for an error answer (``status >= 400`` or an error ``code`` in 2xx).

    ``endpoint`` (a row's name) and ``operation`` (the request's ``task_type``) only
    word a 410's ``EndpointGone``: what is retired and what replaces it.
    """
    data = _decode_json(response.body)
    status = response.status
    if 200 <= status < 300 and isinstance(data, Mapping):
        code = data.get("code")
        if isinstance(code, int) and not isinstance(code, bool):
            status = code
    api_message = _api_message(data)
    text = (api_message or "").lower()
    kwargs: dict[str, Any] = {
        "status": status,
        "api_message": api_message,
        "raw_body": response.body,
    }
    shown = api_message or f"HTTP {status} with no message"
    if status == 410:  # retired: sending again cannot help, and nothing was billed
        return _gone(shown, endpoint, operation, **kwargs)
    if status == 401:
        return AuthenticationError(f"Authentication failed: {shown}", **kwargs)
    # Status decides before wording: a 5xx is a failure that may follow a billed create,
    # never a refusal, whatever its text says ("Upstream rate limit error" included).
    if status == 429 or (status < 500 and any(m in text for m in _THROTTLE_MARKERS)):
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return RateLimited(f"Rate limited: {shown}", retry_after=retry_after, **kwargs)
    if status == 403:
        if any(m in text for m in _CREDITS_MARKERS):
            return InsufficientCredits(f"Not enough credits: {shown}", **kwargs)
        if any(m in text for m in _CONTENT_MARKERS):
            return ContentRejected(f"Content rejected: {shown}", **kwargs)
        return CallerError(f"Forbidden: {shown}", **kwargs)
    if "task not found" in text or (status == 404 and task_id is not None):
        return TaskNotFound(f"Task not found: {task_id or shown}", task_id=task_id, **kwargs)
    if status == 404 and "purged" in text:  # /sonic/download: nothing left to prepare
        return SourcePurged(f"Source purged: {shown}", **kwargs)
    if task_id is not None and _TASK_FAILED_MARKER in text:
        return TaskFailed(f"Task {task_id} failed: {shown}", task_id=task_id, **kwargs)
    if status >= 500:
        if data is None and response.body.lstrip()[:1] == b"<":
            shown = "the gateway answered with an HTML page"
        return ServerError(f"Server error: {shown}", **kwargs)
    return InvalidRequest(f"Invalid request: {shown}", **kwargs)


# --------------------------------------------------------------------------- results


def _decode_error(message: str, response: HttpResponse) -> ResponseDecodeError:
    return ResponseDecodeError(message, status=response.status, raw_body=response.body)


def _is_error(response: HttpResponse, data: Any) -> bool:
    if response.status >= 400:
        return True
    if isinstance(data, Mapping):
        code = data.get("code")
        return isinstance(code, int) and not isinstance(code, bool) and code >= 400
    return False


class SnapshotMemo:
    """The last answer of each task in flight and its snapshot, by (family, task id).

    Most polls of a task repeat the previous answer byte for byte: the snapshot
    (immutable) is reused instead of decoded and structured again. Only a digest of the
    answer is kept, not its bytes, and a finished task's entry is dropped (the poller does
    not ask again): 10,000 tasks in flight cost a few hundred bytes each here. Each client
    (and so each poller) owns one; the module itself keeps no state.
    """

    def __init__(self, size: int = 16384) -> None:
        self._size = size
        self._items: OrderedDict[tuple[Family, str], tuple[bytes, object]] = OrderedDict()
        # The last body digested and its digest: a changed answer is looked up (``get``)
        # and then remembered (``put``), and is digested once for both.
        self._last: tuple[bytes | None, bytes] = (None, b"")

    def _digest(self, body: bytes) -> bytes:
        last = self._last
        if last[0] is body:
            return last[1]
        digest = hashlib.blake2b(body, digest_size=16).digest()
        self._last = (body, digest)
        return digest

    def get(self, key: tuple[Family, str, bytes]) -> object | None:
        """The result remembered for ``key``, if any (and mark it recently used)."""
        task: tuple[Family, str] = (key[0], key[1])
        found = self._items.get(task)
        if found is None or found[0] != self._digest(key[2]):
            return None
        self._items.move_to_end(task)
        return found[1]

    def put(self, key: tuple[Family, str, bytes], value: object) -> None:
        """Remember ``value`` for ``key`` (forget the task once it is done), forgetting the
        least recently used past the size."""
        task: tuple[Family, str] = (key[0], key[1])
        if getattr(value, "done", False):
            self._items.pop(task, None)
            return
        self._items[task] = (self._digest(key[2]), value)
        self._items.move_to_end(task)
        if len(self._items) > self._size:
            self._items.popitem(last=False)


def parse_response(
    ep: Endpoint[Any, Res],
    response: HttpResponse,
    *,
    task_id: str | None = None,
    memo: SnapshotMemo | None = None,
    operation: str | None = None,
) -> Res:
    """The result model for an answer from ``ep``, or the error it stands for.

    Args:
        ep: the row the request was sent to; its ``parse`` reads the answer.
        response: the answer.
        task_id: the task asked about, for task endpoints.
        memo: where identical answers of a task endpoint are remembered.
        operation: the request's ``task_type``, named by a 410's ``EndpointGone``.

    Raises:
        MusicAPIError: the subclass the answer stands for.
    """
    key = (ep.family, task_id or "", response.body)
    remember = memo is not None and ep.result is TaskSnapshot and 200 <= response.status < 300
    if remember:
        assert memo is not None
        cached = memo.get(key)
        if cached is not None:
            return cast(Res, cached)  # only this row's parser put it there
    data = _decode_json(response.body)
    if _is_error(response, data):
        raise error_for(response, task_id=task_id, endpoint=ep.name, operation=operation)
    if not isinstance(data, Mapping):
        raise _decode_error(
            f"{ep.name}: expected a JSON object (within {MAX_JSON_DEPTH} "
            f"levels and {MAX_JSON_BYTES} bytes)",
            response,
        )
    try:
        parsed = ep.parse(data, task_id or "")
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        raise _decode_error(f"{ep.name}: unexpected answer shape ({exc})", response) from exc
    if remember:
        assert memo is not None
        memo.put(key, parsed)
    return parsed
