"""The documented error answers (§13, nuro's §7.3), their typed errors, and the CLI flags."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest

from musicapi_async import MusicAPI
from musicapi_async._errors import (
    AuthenticationError,
    ContentRejected,
    InvalidRequest,
    MusicAPIError,
    RateLimited,
    ServerError,
)
from musicapi_async.emulator import Emulator, Fault, FaultKind
from musicapi_async.emulator.__main__ import _fault_kwargs, build_parser
from musicapi_async.emulator._faults import parse_fault

from .support import NURO_VOCAL, SONG, Client, serve

pytestmark = pytest.mark.anyio

DOCUMENTED: list[tuple[FaultKind, str, int, str, type[MusicAPIError]]] = [
    (FaultKind.LYRICS_FORMAT_403, "sonic.create", 403,
     "The lyrics format is invalid. Please check and try again.", ContentRejected),
    (FaultKind.COPYRIGHT_403, "sonic.create", 403,
     "The lyrics contain copyrighted content: 'emulated fault'. Please use original lyrics.",
     ContentRejected),
    (FaultKind.MODERATION_REVIEW_403, "sonic.create", 403,
     "The song description needs moderation review.", ContentRejected),
    (FaultKind.PRODUCER_TAGS_403, "sonic.create", 403,
     "The song description contains producer tags: 'emulated fault' which is not allowed.",
     ContentRejected),
    (FaultKind.INVALID_SIGNATURE_401, "nuro.create", 401, "Invalid signature",
     AuthenticationError),
    (FaultKind.AUTH_EXPIRED_401, "nuro.create", 401, "Authorization expired",
     AuthenticationError),
    (FaultKind.USAGE_LIMIT_403, "nuro.create", 403, "API usage limit exceeded", RateLimited),
    (FaultKind.LANGUAGE_400, "nuro.create", 400, "Input language not supported",
     InvalidRequest),
    (FaultKind.ALGORITHM_ERROR_500, "nuro.create", 500, "Algorithm error", ServerError),
    (FaultKind.SEMANTIC_ERROR_500, "nuro.create", 500, "Semantic error, please try again",
     ServerError),
    (FaultKind.SYSTEM_ERROR_500, "nuro.create", 500,
     "API system error, please contact administrator", ServerError),
]  # fmt: skip
BODIES = {"sonic.create": SONG, "nuro.create": NURO_VOCAL}
NURO_TYPES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 500: "api_error"}


@pytest.mark.parametrize(("kind", "endpoint", "status", "message", "error"), DOCUMENTED)
async def test_documented_answer_and_its_typed_error(
    api: Client, kind: FaultKind, endpoint: str, status: int, message: str,
    error: type[MusicAPIError],
) -> None:  # fmt: skip
    """Each fault answers its documented status and text, unbilled, and maps to its error."""
    api.emulator.faults.add(Fault(kind, endpoint=endpoint))
    answer = await api.call(endpoint, dict(BODIES[endpoint]))
    assert (answer.status, answer.message) == (status, message)
    if endpoint.startswith("nuro"):
        assert answer.json["type"] == NURO_TYPES[status]
    with pytest.raises(error) as caught:
        answer.parsed(endpoint)
    assert type(caught.value) is error
    assert caught.value.api_message == message
    assert api.emulator.stats.billed == {}


async def test_the_sdk_client_raises_the_typed_error() -> None:
    """Through the public client, a copyright refusal is ``ContentRejected``, never retried."""
    async with Emulator(faults=[Fault(FaultKind.COPYRIGHT_403)]) as emu:
        async with MusicAPI(emu.api_key, base_url=emu.url) as client:
            with pytest.raises(ContentRejected, match="copyrighted content"):
                await client.sonic.create(custom_mode=True, mv="sonic-v5", prompt="la")
        assert emu.stats.requests["sonic.create"] == 1


@pytest.mark.parametrize(
    ("rules", "body", "message"),
    [
        ({"copyrighted": ["yesterday all my troubles"]},
         {**SONG, "prompt": "[Verse]\nYesterday all my troubles seemed so far"},
         "The lyrics contain copyrighted content: 'Yesterday all my troubles'. "
         "Please use original lyrics."),
        ({"producer_tags": ["metro boomin"]}, {**SONG, "tags": "trap, Metro Boomin"},
         "The song description contains producer tags: 'Metro Boomin' which is not allowed."),
        ({"review_words": ["war"]}, {**SONG, "title": "Songs of war"},
         "The song description needs moderation review."),
    ],
)  # fmt: skip
async def test_content_rules(rules: dict[str, Any], body: dict[str, Any], message: str) -> None:
    """Content rules refuse matching lyrics or descriptions with the documented 403."""
    async with serve(**rules) as api:
        answer = await api.call("sonic.create", body)
        assert (answer.status, answer.message) == (403, message)
        with pytest.raises(ContentRejected):
            answer.parsed("sonic.create")
        assert (await api.call("sonic.create", dict(SONG))).status == 200


def test_parse_fault() -> None:
    """``KIND,key=value`` parses to the same rule as the Python form; bad specs are refused."""
    assert parse_fault("server_500,endpoint=sonic.*,count=3,probability=0.5") == Fault(
        "server_500", endpoint="sonic.*", count=3, probability=0.5
    )
    assert parse_fault("qps_403,count=none").count is None
    bad = {
        "nope": "unknown fault kind",
        "server_500,count": "not key=value",
        "server_500,colour=red": "unknown fault field",
        "slow,endpoint=x": "matches no",
    }
    for spec, reason in bad.items():
        with pytest.raises(ValueError, match=reason):
            parse_fault(spec)


def test_every_fault_kind_and_option_is_reachable_from_the_command_line() -> None:
    """Every ``FaultKind`` is named in ``--help`` and parses; the flags build an Emulator."""
    parser = build_parser()
    text = parser.format_help()
    assert all(kind.value in text for kind in FaultKind)
    argv = [arg for kind in FaultKind for arg in ("--fault", kind.value)]
    args = parser.parse_args([*argv, "--banned-words", "a,b", "--copyrighted", "c",
                              "--producer-tags", "d", "--review-words", "e",
                              "--failure-style", "http_504", "--rate-limit-status", "403",
                              "--not-ready-status", "200", "--webhook-duplicates"])  # fmt: skip
    kwargs = _fault_kwargs(args)
    assert [f.kind for f in kwargs["faults"]] == list(FaultKind)
    emulator = Emulator(**kwargs)
    config = emulator._state.config
    assert (config.banned_words, config.copyrighted, config.failure_style) == (
        ("a", "b"), ("c",), "http_504")  # fmt: skip
    assert (config.rate_limit_status, config.not_ready_status) == (403, 200)
    assert config.webhook_duplicates


def test_server_flags_take_effect() -> None:
    """``--fault`` and ``--banned-words`` change what a running server answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "musicapi_async.emulator", "--port", "0",
         "--fault", "auth_expired_401,endpoint=credits", "--banned-words", "forbidden"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().rsplit(" ", 1)[-1].strip()
        headers = {"Authorization": "Bearer test-key", "Content-Type": "application/json"}

        def call(path: str, body: Any = None) -> tuple[int, Any]:
            data = json.dumps(body).encode() if body is not None else None
            request = urllib.request.Request(url + path, data=data, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    return answer.status, json.load(answer)
            except urllib.error.HTTPError as exc:
                return exc.code, json.load(exc)

        status, body = call("/api/v1/get-credits")
        assert (status, body["message"]) == (401, "Authorization expired")
        status, body = call("/api/v1/sonic/create", {**SONG, "title": "forbidden love"})
        assert status == 403
        assert "artist names: 'forbidden'" in body["message"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)


async def test_ids_are_random_per_emulator_unless_seeded() -> None:
    """Two default emulators never hand out the same task id; the same seed repeats them."""

    async def first_id(**kwargs: Any) -> str:
        async with serve(**kwargs) as api:
            return await api.create()

    assert await first_id() != await first_id()
    assert await first_id(seed=5) == await first_id(seed=5)
