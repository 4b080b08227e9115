"""The CLI never prints or stores the key, whatever the server echoes back."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from musicapi_async import MusicAPI, NetworkError, RetryPolicy
from musicapi_async.cli._main import _shown_command

from .support import run_in_thread, write

KEY = "SKEY-7f3a9c1e5b2d4f6a8c0e2b4d6f8a"


class Echo:
    """A hostile server that quotes the caller's Authorization header in its errors."""

    def __init__(self) -> None:
        self.url = ""
        self.credits_status = 200

    async def credits(self, request: web.Request) -> web.Response:
        if self.credits_status != 200:
            text = f"Invalid API key: {request.headers['Authorization'].removeprefix('Bearer ')}"
            return web.json_response({"message": text}, status=self.credits_status)
        return web.json_response({"credits": 1000, "extra_credits": 0})

    async def create(self, request: web.Request) -> web.Response:
        text = f"upstream rejected {request.headers['Authorization']}"
        return web.json_response({"message": text}, status=500)

    async def loop(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(request.path)


@pytest.fixture
async def echo() -> AsyncIterator[Echo]:
    """An Echo server on a free loopback port."""
    server = Echo()
    app = web.Application()
    app.router.add_get("/api/v1/get-credits", server.credits)
    app.router.add_post("/api/v1/sonic/create", server.create)
    app.router.add_get("/api/v1/sonic/task/{task}", server.loop)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.mark.anyio
async def test_error_line_never_shows_an_echoed_key(
    capsys: pytest.CaptureFixture[str], echo: Echo
) -> None:
    """``musicapi: error: AuthenticationError: …`` carries [redacted], not the key."""
    echo.credits_status = 401
    for extra in ([], ["--json"]):
        code, out, err = await run_in_thread(capsys, "credits", "--base-url", echo.url,
                                             "--api-key", KEY, *extra)  # fmt: skip
        assert code == 2
        assert "AuthenticationError" in out + err
        assert "[redacted]" in out + err
        assert KEY not in out + err


@pytest.mark.anyio
async def test_journal_and_manifest_never_store_an_echoed_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, echo: Echo
) -> None:
    """A 500 quoting the key: the journal's error column, the manifest and --json omit it."""
    songs = write(tmp_path / "songs.txt", ["a song"])
    journal = tmp_path / "journal.sqlite3"
    code, out, err = await run_in_thread(capsys, "bulk", str(songs), "--base-url", echo.url,
                                         "--api-key", KEY, "--journal", str(journal),
                                         "--out", str(tmp_path / "out"), "--json")  # fmt: skip
    assert code == 1
    assert KEY not in out + err
    manifest = (tmp_path / "out" / "manifest.jsonl").read_text()
    assert "SubmissionOutcomeUnknown" in manifest
    assert KEY not in manifest
    with sqlite3.connect(journal) as db:
        errors = [row[0] for row in db.execute("SELECT error FROM jobs")]
    assert errors
    assert all(e and "[redacted]" in e and KEY not in e for e in errors)


@pytest.mark.parametrize(
    "argv",
    [
        ["bulk", "f.txt", "--api-key", KEY],
        ["bulk", "f.txt", f"--api-key={KEY}"],
        ["bulk", "f.txt", "--api", KEY],
        ["bulk", "f.txt", f"--api-k={KEY}"],
        ["--a", KEY, "bulk", "f.txt"],
        ["bulk", "f.txt", "--api-", KEY],
    ],
)
def test_resume_command_hides_every_spelling_of_the_key(argv: list[str]) -> None:
    """argparse's prefix forms (--api, --api-k=) are replaced by $MUSICAPI_API_KEY too."""
    shown = _shown_command(argv, KEY)
    assert KEY not in shown
    assert '"$MUSICAPI_API_KEY"' in shown


@pytest.mark.anyio
async def test_too_many_redirects_does_not_carry_the_authorization_header(echo: Echo) -> None:
    """A redirect loop: the error, its cause and context show no Authorization header."""
    async with MusicAPI(KEY, base_url=echo.url, retry=RetryPolicy(attempts=1)) as api:
        with pytest.raises(NetworkError) as info:
            await api.get_task("468d0e42-f7a6-40ce-9a4c-37db56b13b99")
    seen: list[str] = []
    current: BaseException | None = info.value
    while current is not None:
        seen += [str(current), repr(current), repr(vars(current))]
        current = current.__cause__ or current.__context__
    assert "TooManyRedirects" in "\n".join(seen)
    assert KEY not in "\n".join(seen)
