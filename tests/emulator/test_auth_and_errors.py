"""The HTTP contract of authentication and request errors (MUSICAPI.md §1, §13)."""

from __future__ import annotations

import pytest

from musicapi_async._endpoints import ENDPOINTS
from musicapi_async._errors import AuthenticationError, InvalidRequest, TaskNotFound

from .support import NURO_VOCAL, SONG, Client

pytestmark = pytest.mark.anyio

_PATHS = [
    (ep.name, ep.method, ep.url_path("some-id") if "{task_id}" in ep.path else ep.path)
    for ep in ENDPOINTS.values()
]


@pytest.mark.parametrize(("name", "method", "path"), _PATHS)
async def test_every_endpoint_needs_the_authorization_header(
    api: Client, name: str, method: str, path: str
) -> None:
    """Every endpoint answers 401 "Authorization header is missing." without a header."""
    answer = await api.request(method, path, body={} if method == "POST" else None, key=None)
    assert answer.status == 401
    assert answer.message == "Authorization header is missing."
    assert answer.json["code"] == 401
    with pytest.raises(AuthenticationError):
        answer.parsed(name)


@pytest.mark.parametrize("header", ["Token abc", "Bearer", "Bearer ", "bearer a b", "test-key"])
async def test_a_malformed_header_is_an_invalid_format(api: Client, header: str) -> None:
    """A header that is not ``Bearer <token>`` answers 401 "Invalid authorization format."."""
    answer = await api.request(
        "GET", "/api/v1/get-credits", key=None, headers={"Authorization": header}
    )
    assert (answer.status, answer.message) == (401, "Invalid authorization format.")


async def test_an_unknown_key_is_refused(api: Client) -> None:
    """A well-formed bearer token that is not a known key answers 401."""
    answer = await api.call("credits", key="not-the-key")
    assert (answer.status, answer.message) == (401, "Invalid API key.")


async def test_nuro_errors_carry_a_type(api: Client) -> None:
    """Nuro errors add the documented ``type`` (§7.3) to ``{code, message}``."""
    answer = await api.call("nuro.create", dict(NURO_VOCAL), key=None)
    assert answer.json == {
        "code": 401,
        "type": "unauthorized",
        "message": "Authorization header is missing.",
    }
    missing = await api.poll("nope", "nuro.task")
    assert (missing.status, missing.json["type"], missing.message) == (
        404,
        "not_found",
        "Task not found",
    )
    with pytest.raises(TaskNotFound):
        missing.parsed("nuro.task", task_id="nope")


async def test_unknown_task_is_task_not_found(api: Client) -> None:
    """Polling an unknown sonic or studio id answers 400 "task not found."."""
    for endpoint in ("sonic.task", "studio.task"):
        answer = await api.poll("0b7d3c1e-0000-4000-8000-000000000000", endpoint)
        assert (answer.status, answer.message) == (400, "task not found.")
        with pytest.raises(TaskNotFound):
            answer.parsed(endpoint, task_id="x")


async def test_a_missing_task_id_is_its_own_400(api: Client) -> None:
    """``GET /api/v1/sonic/task/`` answers 400 "missing task id."."""
    for path in ("/api/v1/sonic/task/", "/api/v1/sonic/task"):
        answer = await api.request("GET", path)
        assert (answer.status, answer.message) == (400, "missing task id.")


async def test_a_task_of_another_key_is_not_found(api: Client) -> None:
    """Tasks are private to the key that created them."""
    task_id = await api.create()
    api.emulator.add_account("other-key", credits=10)
    answer = await api.call("sonic.task", task_id=task_id, key="other-key")
    assert (answer.status, answer.message) == (400, "task not found.")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "The request body should be valid JSON."),
        (b"", "The request body should be valid JSON."),
        (b"[1, 2]", "The request body should be a JSON object."),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_400(
    api: Client, data: bytes, message: str
) -> None:
    """POST bodies must be JSON objects; anything else answers 400 and bills nothing."""
    answer = await api.request("POST", "/api/v1/sonic/create", data=data)
    assert (answer.status, answer.message) == (400, message)
    with pytest.raises(InvalidRequest):
        answer.parsed("sonic.create")
    assert api.emulator.balance().credits == 1000


async def test_unknown_paths_answer_json_404(api: Client) -> None:
    """A path MusicAPI does not have answers a JSON 404."""
    answer = await api.request("GET", "/api/v1/nothing-here")
    assert answer.status == 404
    assert answer.json == {"code": 404, "message": "Not Found"}


async def test_create_answers_the_live_shape_without_code(api: Client) -> None:
    """Sonic submits answer ``{"message": "success", "task_id": ...}`` as seen live."""
    answer = await api.call("sonic.create", dict(SONG))
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert set(answer.json) == {"message", "task_id"}
    assert answer.json["message"] == "success"
