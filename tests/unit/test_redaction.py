"""The API key never leaves in an error, a log record or a traceback, even when echoed."""

from __future__ import annotations

import logging
import traceback

import pytest

from musicapi_async import (
    AuthenticationError,
    InvalidRequest,
    SubmissionOutcomeUnknown,
)
from musicapi_async._log import logger

from .support import SECRET, FakeServer, raises, reply

ECHOES = [
    (401, "/api/v1/get-credits", "GET", AuthenticationError),
    (400, "/api/v1/get-credits", "GET", InvalidRequest),
]


def _everything(exc: BaseException) -> str:
    """Every text an exception shows: str, repr, attributes and its formatted traceback."""
    texts = ["".join(traceback.format_exception(exc))]
    current: BaseException | None = exc
    while current is not None:
        texts += [str(current), repr(current), repr(vars(current))]
        current = current.__cause__ or current.__context__
    return "\n".join(texts)


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "path", "method", "kind"), ECHOES)
async def test_a_key_echoed_in_an_error_answer_is_redacted(
    server: FakeServer, status: int, path: str, method: str, kind: type[Exception]
) -> None:
    """A server quoting the key in its error text: message, api_message, raw_body scrubbed."""
    server.on(method, path, reply({"message": f"Invalid API key: {SECRET}"}, status))
    with raises(kind) as info:
        await server.api.get_credits()
    error = info.value
    assert SECRET not in _everything(error)
    assert SECRET.encode() not in (error.raw_body or b"")  # type: ignore[attr-defined]
    assert "Invalid API key: [redacted]" in error.api_message  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_a_key_echoed_by_a_500_on_a_create_is_redacted(server: FakeServer) -> None:
    """A 500 quoting the key on a paid POST: SubmissionOutcomeUnknown and its cause scrubbed."""
    echo = {"message": f"upstream said: bad token Bearer {SECRET}"}
    server.on("POST", "/api/v1/sonic/create", reply(echo, 500))
    with raises(SubmissionOutcomeUnknown) as info:
        await server.api.sonic.create(custom_mode=False, mv="sonic-v5",
                                      gpt_description_prompt="x")  # fmt: skip
    assert SECRET not in _everything(info.value)


@pytest.mark.anyio
async def test_logger_exception_redacts_the_traceback(
    server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """logger.exception through our logger: the rendered traceback has no key either."""
    caplog.set_level(logging.ERROR, logger="musicapi_async")
    try:
        raise RuntimeError(f"something mentioned {SECRET}")
    except RuntimeError:
        logger.exception("failed with %s", SECRET)
    assert caplog.records
    assert SECRET not in caplog.text
    handler = logging.StreamHandler()
    for record in caplog.records:
        assert SECRET not in handler.format(record)
    assert "[redacted]" in caplog.text
