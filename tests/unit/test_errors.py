"""Every documented error answer maps to the right exception, with its context kept.

Rows are MUSICAPI.md §13 (sonic error page) and §7.3 (nuro error table), word for word.
Errors are served through the fake transport and raised by the public client methods.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from musicapi_async import (
    AuthenticationError,
    ContentRejected,
    InsufficientCredits,
    InvalidRequest,
    MusicAPI,
    MusicAPIError,
    NetworkError,
    RateLimited,
    ResponseDecodeError,
    ServerError,
    SonicRequest,
    SubmissionOutcomeUnknown,
    TaskFailed,
    TaskNotFound,
    TransportFailure,
)

from .support import FakeServer, golden_bytes, raises, reply, sent_json

TASK = "468d0e42-f7a6-40ce-9a4c-37db56b13b99"
SONIC_TASK = f"/api/v1/sonic/task/{TASK}"
NURO_TASK = f"/api/v1/nuro/task/{TASK}"

Call = Callable[[MusicAPI], Awaitable[object]]


def create(api: MusicAPI) -> Awaitable[object]:
    """A valid sonic create, the call most answers come back to."""
    return api.sonic.create(custom_mode=True, mv="sonic-v5", prompt="[Verse]\nla la")


def poll(api: MusicAPI) -> Awaitable[object]:
    """One poll of a sonic task."""
    return api.sonic.get(TASK)


def nuro_create(api: MusicAPI) -> Awaitable[object]:
    """A valid nuro vocal create."""
    return api.nuro.create_vocal(lyrics="[verse]\nla la")


def nuro_poll(api: MusicAPI) -> Awaitable[object]:
    """One poll of a nuro task."""
    return api.nuro.get(TASK)


ROUTES: dict[Call, tuple[str, str]] = {
    create: ("POST", "/api/v1/sonic/create"),
    poll: ("GET", SONIC_TASK),
    nuro_create: ("POST", "/api/v1/nuro/create"),
    nuro_poll: ("GET", NURO_TASK),
}

# MUSICAPI.md §13, every row: (HTTP status, exact message, exception, call that gets it).
SONIC_ERROR_TABLE: list[tuple[int, str, type[MusicAPIError], Call]] = [
    (400, "The 'mv' field is invalid. The model should be 'sonic-v3-5' or 'sonic-v4'.",
     InvalidRequest, create),
    (400, "The 'persona_id' field is required when task_type = persona_music.",
     InvalidRequest, create),
    (400, "The 'make_instrumental' field should be boolean.", InvalidRequest, create),
    (400, "The 'custom_mode' field should be boolean.", InvalidRequest, create),
    (400, "The prompt character length should be less than 3000.", InvalidRequest, create),
    (400, "The 'gpt_description_prompt' character length should be less than 200.",
     InvalidRequest, create),
    (400, "The tags character length should be less than 200.", InvalidRequest, create),
    (400, "The title character length should be less than 80.", InvalidRequest, create),
    (400, "description is required.", InvalidRequest, create),
    (400, "The description character length should be less than 120.", InvalidRequest, create),
    (400, "name and continue_clip_id are required fields.", InvalidRequest, create),
    (400, "The name character length should be less than 80.", InvalidRequest, create),
    (400, "The description character length should be less than 200.", InvalidRequest, create),
    (400, "task not found.", TaskNotFound, poll),
    (400, "missing task id.", InvalidRequest, poll),
    (401, "Authorization header is missing.", AuthenticationError, create),
    (401, "Invalid authorization format.", AuthenticationError, poll),
    (403, "The remaining credits are not enough. You can buy more one-time credit packs or "
          "subscribe.", InsufficientCredits, create),
    (403, "You do not have an active subscription. Please check whether your renewal was "
          "successful.", InsufficientCredits, create),
    (403, "The lyrics format is invalid. Please check and try again.", ContentRejected, create),
    (403, "The lyrics contain copyrighted content: 'specificError'. Please use original lyrics.",
     ContentRejected, create),
    (403, "The lyrics contain inappropriate content: 'specificError'.", ContentRejected, create),
    (403, "The song description needs moderation review.", ContentRejected, create),
    (403, "The song description contains artist names: 'specificError' which is not allowed.",
     ContentRejected, create),
    (403, "The song description contains producer tags: 'specificError' which is not allowed.",
     ContentRejected, create),
    (504, "Task failed due to timeout. Credits were previously refunded.", TaskFailed, poll),
    (500, "Internal Server Error.", ServerError, create),
]  # fmt: skip

# MUSICAPI.md §7.3, every row: (HTTP status, type, description, exception, call).
NURO_ERROR_TABLE: list[tuple[int, str, str, type[MusicAPIError], Call]] = [
    (500, "api_error", "API system error, please contact administrator", ServerError,
     nuro_create),
    (401, "unauthorized", "Invalid signature", AuthenticationError, nuro_create),
    (401, "unauthorized", "Authorization expired", AuthenticationError, nuro_poll),
    (403, "forbidden", "API usage limit exceeded", RateLimited, nuro_create),
    (403, "forbidden", "API QPS limit exceeded", RateLimited, nuro_create),
    (500, "api_error", "Algorithm error", ServerError, nuro_poll),
    (404, "not_found", "Task not found", TaskNotFound, nuro_poll),
    (400, "bad_request", "Input language not supported", InvalidRequest, nuro_create),
    (500, "api_error", "Semantic error, please try again", ServerError, nuro_poll),
    (403, "forbidden", "Queue is full", RateLimited, nuro_create),
]  # fmt: skip


async def raised_by(server: FakeServer, call: Call, answer: Any, kind: type[Exception]) -> Any:
    """Route ``call`` to ``answer``, make it, and return the ``kind`` error it raises."""
    method, path = ROUTES[call]
    server.on(method, path, answer)
    with raises(kind) as info:
        await call(server.api)
    assert len(server.requests) == 1
    return info.value


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "message", "kind", "call"), SONIC_ERROR_TABLE,
                         ids=[row[1][:48] for row in SONIC_ERROR_TABLE])  # fmt: skip
async def test_sonic_error_table(
    server: FakeServer, status: int, message: str, kind: type[MusicAPIError], call: Call
) -> None:
    """Each §13 row raises its exception with status, the API message and the raw body."""
    body = json.dumps({"code": status, "message": message}).encode()

    error = await raised_by(server, call, reply(body, status), MusicAPIError)

    # A 5xx on a paid create may follow a billed task: it is an unknown outcome, caused
    # by the server error the table names.
    mapped = error.__cause__ if isinstance(error, SubmissionOutcomeUnknown) else error
    assert type(mapped) is kind
    assert isinstance(error, SubmissionOutcomeUnknown) == (kind is ServerError and call is create)
    assert error.status == status
    assert error.api_message == message
    assert error.raw_body == body
    assert f"HTTP {status}" in str(error)


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "kind_name", "message", "kind", "call"), NURO_ERROR_TABLE,
                         ids=[row[2] for row in NURO_ERROR_TABLE])  # fmt: skip
async def test_nuro_error_table(
    server: FakeServer,
    status: int,
    kind_name: str,
    message: str,
    kind: type[MusicAPIError],
    call: Call,
) -> None:
    """Each §7.3 row (typed nuro error body) raises its exception with its context."""
    body = json.dumps({"type": kind_name, "message": message}).encode()

    error = await raised_by(server, call, reply(body, status), MusicAPIError)

    mapped = error.__cause__ if isinstance(error, SubmissionOutcomeUnknown) else error
    assert type(mapped) is kind
    assert isinstance(error, SubmissionOutcomeUnknown) == (
        kind is ServerError and call is nuro_create
    )
    assert (error.status, error.api_message, error.raw_body) == (status, message, body)


GOLDEN_ERRORS: list[tuple[str, int, Call, type[MusicAPIError]]] = [
    ("error_400_task_not_found.json", 400, poll, TaskNotFound),
    ("error_403_credits.json", 403, create, InsufficientCredits),
    ("error_504_task_timeout.json", 504, poll, TaskFailed),
    ("error_429_rate_limited.json", 429, create, RateLimited),
    ("error_nuro_403_queue_full.json", 403, nuro_create, RateLimited),
    ("error_nuro_404_not_found.json", 404, nuro_poll, TaskNotFound),
    ("error_502_gateway.html", 502, poll, ServerError),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "status", "call", "kind"), GOLDEN_ERRORS,
                         ids=[row[0] for row in GOLDEN_ERRORS])  # fmt: skip
async def test_golden_error_bodies(
    server: FakeServer, name: str, status: int, call: Call, kind: type[MusicAPIError]
) -> None:
    """Each golden error body raises its exception and keeps the body byte for byte."""
    body = golden_bytes(name)

    error = await raised_by(server, call, reply(body, status), MusicAPIError)

    # A 5xx on a paid create may follow a billed task: it is an unknown outcome, caused
    # by the server error the table names.
    mapped = error.__cause__ if isinstance(error, SubmissionOutcomeUnknown) else error
    assert type(mapped) is kind
    assert isinstance(error, SubmissionOutcomeUnknown) == (kind is ServerError and call is create)
    assert error.status == status
    assert error.raw_body == body
    if name.endswith(".json"):
        assert error.api_message == json.loads(body)["message"]


@pytest.mark.anyio
async def test_task_not_found_carries_task_id(server: FakeServer) -> None:
    """A poll answered "task not found." raises TaskNotFound naming the polled task."""
    error = await raised_by(server, poll, reply("error_400_task_not_found.json", 400),
                            TaskNotFound)  # fmt: skip

    assert error.task_id == TASK
    assert isinstance(error, InvalidRequest)


@pytest.mark.anyio
async def test_504_on_a_poll_is_task_failed(server: FakeServer) -> None:
    """The 504 "Task failed due to timeout" on a poll is TaskFailed for that task."""
    error = await raised_by(server, poll, reply("error_504_task_timeout.json", 504), TaskFailed)

    assert error.task_id == TASK
    assert error.status == 504
    assert error.raw_body == golden_bytes("error_504_task_timeout.json")


@pytest.mark.anyio
async def test_504_on_a_submit_is_an_unknown_outcome(server: FakeServer) -> None:
    """The same 504 answering a paid submit is SubmissionOutcomeUnknown from a ServerError."""
    error = await raised_by(server, create, reply("error_504_task_timeout.json", 504),
                            SubmissionOutcomeUnknown)  # fmt: skip

    assert error.status == 504
    assert isinstance(error.__cause__, ServerError)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "call", "kind"),
    [
        ("error_403_credits.json", create, InsufficientCredits),
        ("error_400_task_not_found.json", poll, TaskNotFound),
        ({"code": 500, "message": "Internal Server Error."}, create, ServerError),
        ({"code": 401, "message": "Invalid authorization format."}, poll, AuthenticationError),
        ({"code": 429, "message": "slow down"}, create, RateLimited),
    ],
    ids=["credits", "task-not-found", "server", "auth", "rate-limited"],
)
async def test_http_200_with_error_code_is_an_error(
    server: FakeServer, body: str | dict[str, Any], call: Call, kind: type[MusicAPIError]
) -> None:
    """An HTTP 200 whose JSON ``code`` is >= 400 raises as if that code were the status."""
    response = reply(body, 200)
    code = json.loads(response.body)["code"]

    error = await raised_by(server, call, response, MusicAPIError)

    mapped = error.__cause__ if isinstance(error, SubmissionOutcomeUnknown) else error
    assert type(mapped) is kind
    assert error.status == code
    assert error.raw_body == response.body


@pytest.mark.anyio
async def test_html_gateway_page_is_a_server_error(server: FakeServer) -> None:
    """A 502 HTML gateway page is a ServerError that keeps the page and says it was HTML."""
    page = golden_bytes("error_502_gateway.html")

    error = await raised_by(server, poll, reply(page, 502), ServerError)

    assert error.status == 502
    assert error.raw_body == page
    assert error.api_message is None
    assert "HTML" in str(error)


# ----------------------------------------------------------------------- throttling


@pytest.mark.anyio
async def test_retry_after_in_seconds(server: FakeServer) -> None:
    """A 429 with ``Retry-After: 7`` is RateLimited with retry_after 7 seconds."""
    answer = reply("error_429_rate_limited.json", 429, {"retry-after": "7"})

    error = await raised_by(server, create, answer, RateLimited)

    assert error.retry_after == 7.0
    assert error.status == 429
    assert error.api_message == "Too Many Requests"


@pytest.mark.anyio
async def test_retry_after_as_http_date(server: FakeServer) -> None:
    """A ``Retry-After`` HTTP-date two minutes ahead gives about 120 seconds."""
    when = email.utils.formatdate(time.time() + 120, usegmt=True)
    answer = reply("error_429_rate_limited.json", 429, {"retry-after": when})

    error = await raised_by(server, poll, answer, RateLimited)

    assert error.retry_after is not None
    assert 115 <= error.retry_after <= 120


@pytest.mark.anyio
async def test_retry_after_in_the_past_is_zero(server: FakeServer) -> None:
    """A ``Retry-After`` HTTP-date already past means no wait, not a negative one."""
    answer = reply({"message": "slow down"}, 429,
                   {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})  # fmt: skip

    error = await raised_by(server, create, answer, RateLimited)

    assert error.retry_after == 0.0


@pytest.mark.anyio
async def test_rate_limited_without_header(server: FakeServer) -> None:
    """A 429 without ``Retry-After`` (or the nuro 403 throttles) leaves retry_after None."""
    error = await raised_by(server, nuro_create, reply("error_nuro_403_queue_full.json", 403),
                            RateLimited)  # fmt: skip

    assert error.retry_after is None
    assert error.api_message == "Queue is full"


# --------------------------------------------------------------- undecodable answers


MALFORMED: list[tuple[str, Call, bytes]] = [
    ("truncated JSON on submit", create, b'{"message": "success", "task_id": "468d'),
    ("HTML with status 200", poll, b"<html><body>maintenance</body></html>"),
    ("empty body", poll, b""),
    ("JSON array", create, b'["468d0e42-f7a6-40ce-9a4c-37db56b13b99"]'),
    ("submit without task_id", create, b'{"message": "success"}'),
    ("task_id not a string", create, b'{"message": "success", "task_id": 42}'),
    ("task data not a list", poll, b'{"code": 200, "data": {"clip_id": "x"}, "message": "ok"}'),
    ("task without data or type", poll, b'{"code": 200, "message": "success"}'),
    ("clip without clip_id", poll, b'{"code": 200, "data": [{"state": "running"}]}'),
    ("clip without state", poll, b'{"code": 200, "data": [{"clip_id": "c1"}]}'),
    ("clip not an object", poll, b'{"code": 200, "data": ["c1"]}'),
    ("nuro task without status", nuro_poll, b'{"task_id": "t", "progress": 3}'),
]  # fmt: skip


@pytest.mark.anyio
@pytest.mark.parametrize(("call", "body"), [(c, b) for _, c, b in MALFORMED],
                         ids=[name for name, _, _ in MALFORMED])  # fmt: skip
async def test_undecodable_answer(server: FakeServer, call: Call, body: bytes) -> None:
    """Malformed 2xx answers keep the raw body: a poll's is ResponseDecodeError, and a paid
    create's is SubmissionOutcomeUnknown (it was billed; only its task id is lost)."""
    expected: type[MusicAPIError] = (
        SubmissionOutcomeUnknown if call is create else ResponseDecodeError
    )
    error = await raised_by(server, call, reply(body), expected)

    assert error.raw_body == body
    assert error.status == 200
    if call is create:
        assert isinstance(error.__cause__, ResponseDecodeError)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/sonic/lyrics", b'{"code": 200, "results": "two songs"}'),
        ("POST", "/api/v1/sonic/lyrics", b'{"code": 200, "results": [{"title": "only"}]}'),
        ("GET", "/api/v1/get-credits", b'{"credits": "lots", "extra_credits": 0}'),
        ("GET", "/api/v1/get-credits", b'{"extra_credits": 0}'),
        ("POST", "/api/v1/sonic/upload", b'{"code": 200, "message": "success"}'),
        ("POST", "/api/v1/sonic/persona", b'{"code": 200, "message": "success"}'),
        ("GET", f"/api/v1/studio/task/{TASK}", b'{"code": "success", "data": "oops"}'),
        ("GET", f"/api/v1/studio/task/{TASK}",
         b'{"code": "success", "data": {"status": "SUCCESS", "data": {"songs": [{}]}}}'),
    ],
    ids=["lyrics-not-list", "lyrics-no-text", "credits-not-int", "credits-missing",
         "upload-no-clip", "persona-no-id", "studio-data-not-object", "studio-song-no-id"],
)  # fmt: skip
async def test_wrong_shape_of_synchronous_answers(
    server: FakeServer, method: str, path: str, body: bytes
) -> None:
    """Wrong shapes on free calls are ResponseDecodeError; on paid ones (lyrics, upload,
    persona) SubmissionOutcomeUnknown caused by it, since the call was billed."""
    server.on(method, path, reply(body))
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "/api/v1/sonic/lyrics": lambda: server.api.lyrics.generate(description="sky"),
        "/api/v1/get-credits": server.api.get_credits,
        "/api/v1/sonic/upload": lambda: server.api.sonic.upload(url="https://e.com/a.mp3"),
        "/api/v1/sonic/persona": lambda: server.api.sonic.create_persona(
            name="n", continue_clip_id="c"
        ),
        f"/api/v1/studio/task/{TASK}": lambda: server.api.studio.get(TASK),
    }

    paid = method == "POST"
    with raises(SubmissionOutcomeUnknown if paid else ResponseDecodeError) as info:
        await calls[path]()

    decode_error = info.value.__cause__ if paid else info.value
    assert isinstance(decode_error, ResponseDecodeError)
    assert info.value.raw_body == body
    assert repr(body[:20])[2:-1] in str(decode_error)


# ---------------------------------------------------------------- transport failures

PAID_CALLS: dict[str, tuple[Call, str, str]] = {
    "sonic.create": (create, "/api/v1/sonic/create", "sonic.create"),
    "nuro.create": (nuro_create, "/api/v1/nuro/create", "nuro.create"),
    "studio.create": (lambda api: api.studio.create(prompt="jazz"), "/api/v1/studio/create",
                      "studio.create"),
    "sonic.persona": (lambda api: api.sonic.create_persona(name="n", continue_clip_id="c"),
                      "/api/v1/sonic/persona", "sonic.persona"),
    "sonic.upload": (lambda api: api.sonic.upload(url="https://e.com/a.mp3"),
                     "/api/v1/sonic/upload", "sonic.upload"),
    "lyrics.create": (lambda api: api.lyrics.generate(description="sky"),
                      "/api/v1/sonic/lyrics", "lyrics.create"),
}  # fmt: skip


@pytest.mark.anyio
@pytest.mark.parametrize(("call", "path", "endpoint"), PAID_CALLS.values(), ids=PAID_CALLS.keys())
async def test_paid_post_sent_then_lost_is_outcome_unknown(
    server: FakeServer, call: Call, path: str, endpoint: str
) -> None:
    """A paid POST whose answer was lost after sending is SubmissionOutcomeUnknown, once."""
    cause = ConnectionResetError("reset by peer")
    server.on("POST", path, TransportFailure("connection reset", sent=True, cause=cause))

    with raises(SubmissionOutcomeUnknown) as info:
        await call(server.api)

    error = info.value
    assert error.endpoint == endpoint
    assert error.request is server.requests[0].model
    assert error.__cause__ is cause
    assert len(server.requests) == 1  # never re-sent behind the caller's back


@pytest.mark.anyio
async def test_outcome_unknown_keeps_the_request_model(server: FakeServer) -> None:
    """SubmissionOutcomeUnknown.request is the model submitted, ready to reconcile."""
    request = SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt="lofi",
                           webhook_secret="whsec-keep-me-private")  # fmt: skip
    server.on("POST", "/api/v1/sonic/create", TransportFailure("read timeout", sent=True))

    with raises(SubmissionOutcomeUnknown) as info:
        await server.api.submit(request)

    assert info.value.request is request
    assert sent_json(server.requests[0])["webhook_secret"] == "whsec-keep-me-private"
    assert "whsec-keep-me-private" not in repr(info.value.request)
    assert "whsec-keep-me-private" not in str(info.value)


@pytest.mark.anyio
@pytest.mark.parametrize(("call", "path", "endpoint"), PAID_CALLS.values(), ids=PAID_CALLS.keys())
async def test_paid_post_never_sent_is_network_error(
    server: FakeServer, call: Call, path: str, endpoint: str
) -> None:
    """A paid POST that provably never left (sent=False) is a plain NetworkError."""
    cause = ConnectionRefusedError("refused")
    server.on("POST", path, TransportFailure("could not connect", sent=False, cause=cause))

    with raises(NetworkError) as info:
        await call(server.api)

    assert not isinstance(info.value, SubmissionOutcomeUnknown)
    assert endpoint in str(info.value)
    assert info.value.__cause__ is cause


GET_CALLS: dict[str, tuple[Call, str]] = {
    "sonic.get": (poll, SONIC_TASK),
    "nuro.get": (nuro_poll, NURO_TASK),
    "studio.get": (lambda api: api.studio.get(TASK), f"/api/v1/studio/task/{TASK}"),
    "get_credits": (lambda api: api.get_credits(), "/api/v1/get-credits"),
}


@pytest.mark.anyio
@pytest.mark.parametrize("sent", [True, False])
@pytest.mark.parametrize(("call", "path"), GET_CALLS.values(), ids=GET_CALLS.keys())
async def test_lost_get_is_network_error(
    server: FakeServer, call: Call, path: str, sent: bool
) -> None:
    """A free GET that lost its answer is NetworkError whether or not it was sent."""
    server.on("GET", path, TransportFailure("timed out waiting for the answer", sent=sent))

    with raises(NetworkError):
        await call(server.api)


def test_the_readme_and_the_module_draw_the_same_error_tree() -> None:
    """README's Errors section names every error class, in the tree _errors.py draws."""
    import re
    from pathlib import Path

    from musicapi_async import _errors

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Errors\n", 1)[1].split("```")[1]
    assert _errors.__doc__ is not None
    drawing = _errors.__doc__.split("::\n", 1)[1].strip("\n").split("\n\n")[0]

    def shape(tree: str) -> list[str]:
        # Class names (capitalised), not the lowercase continuation lines of a comment.
        return re.findall(r"^[│ ]*(?:[├└]── )?([A-Z]\w+)", tree, flags=re.M)

    # Which classes belong in the drawing is test_error_tree's job; here the two agree.
    assert "MusicAPIError" in shape(section)
    assert shape(section) == shape(drawing)
