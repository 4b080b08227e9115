"""``-v`` logs each request; ``-vv`` adds the bodies, with keys and secrets redacted."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from .support import run


@pytest.fixture(autouse=True)
def _restore_logger() -> Iterator[None]:
    """The CLI configures the package logger; put it back as it was after each test."""
    logger = logging.getLogger("musicapi_async")
    level, handlers = logger.level, list(logger.handlers)
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers


def test_v_logs_each_request_with_status_and_time(capsys: pytest.CaptureFixture[str]) -> None:
    """``-v``: one line per request (method, path, status, milliseconds), no bodies."""
    code, out, err = run(capsys, "credits", "--emulator", "-v")
    assert code == 0
    assert "credits" in out
    assert re.search(r"GET /api/v1/get-credits -> 200 in \d+ ms", err), err
    assert "answer {" not in err


def test_vv_logs_bodies_without_key_or_secret(capsys: pytest.CaptureFixture[str]) -> None:
    """``-vv``: request and answer bodies, the webhook secret redacted, the key never shown."""
    code, _, err = run(capsys, "generate", "--emulator", "--speed", "600", "-vv",
                       "--gpt-description-prompt", "a sea shanty", "--no-download",
                       "--webhook-url", "http://127.0.0.1:9/hook",
                       "--webhook-secret", "hush-hush-value")  # fmt: skip
    assert code == 0, err
    assert re.search(r"POST /api/v1/sonic/create -> 200 in \d+ ms", err), err
    assert '"gpt_description_prompt": "a sea shanty"' in err
    assert '"webhook_secret": "[redacted]"' in err
    assert '"task_id": "' in err
    assert "hush-hush-value" not in err
    assert "test-key" not in err
    assert "Bearer" not in err
