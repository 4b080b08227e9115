"""The front door: ``__all__`` stays honest, and secrets never show in a repr or message."""

from __future__ import annotations

import importlib
import re
import types

import pytest

import musicapi_async
from musicapi_async import (
    AuthenticationError,
    MusicAPI,
    NuroInstrumentalRequest,
    NuroVocalRequest,
    SonicRequest,
)

from .support import SECRET, FakeServer, raises, reply

HOOK_SECRET = "whsec-0a1b2c3d4e5f-do-not-print"


def _isort_key(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then Classes, then everything else."""
    if name.isupper():
        return 0, name
    if name[:1].isupper():
        return 1, name
    return 2, name


def _public_names() -> set[str]:
    """Names bound in the package that are not private, submodules or ``__future__`` flags,
    plus the names it loads on first use (``_LAZY``)."""
    names = {
        name
        for name, value in vars(musicapi_async).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and type(value).__module__ != "__future__"
    }
    return names | {"__version__"} | set(musicapi_async._LAZY)


def test_all_is_sorted() -> None:
    """``__all__`` is kept in ruff's isort-style order (constants, classes, the rest)."""
    assert musicapi_async.__all__ == sorted(musicapi_async.__all__, key=_isort_key)


def test_all_matches_the_public_names() -> None:
    """``__all__`` lists exactly the public names ``__init__`` defines or re-exports."""
    assert len(set(musicapi_async.__all__)) == len(musicapi_async.__all__)
    assert set(musicapi_async.__all__) == _public_names()


def test_lazy_names_load_on_first_use() -> None:
    """The journal is not imported with the package, and is there when asked for."""
    import subprocess
    import sys

    code = ("import sys, musicapi_async as m; assert 'musicapi_async._journal' not in "
            "sys.modules; assert m.SQLiteJournal.__name__ == 'SQLiteJournal'")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)


def test_redis_is_not_imported_with_the_package() -> None:
    """``import musicapi_async`` loads neither redis-py nor the Redis coordination."""
    import subprocess
    import sys

    code = ("import sys, musicapi_async as m; assert 'redis' not in sys.modules; "
            "assert 'musicapi_async._redis' not in sys.modules; "
            "assert m.RedisCoordination.__name__ == 'RedisCoordination'")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)


def test_rarely_needed_modules_load_on_first_use() -> None:
    """``import musicapi_async`` loads no batch, bulk, producer, file or webhook-server
    module; each name they export is there when asked for. (The models of rarely used
    endpoints: ``tests/unit/test_deferred_models.py``.)"""
    import subprocess
    import sys

    code = ("import sys, musicapi_async as m; lazy = ['_batch', '_batch_polling', "
            "'_bulk', '_bulk_batch', '_resources_fuzz', '_files', '_download', "
            "'_webhook_server', '_webhook_feed', '_webhooks', '_signing']; loaded = [n for n "
            "in lazy if 'musicapi_async.' + n in sys.modules]; assert not loaded, loaded; "
            "assert m.SonicBatch and m.BatchRefusal and m.Outcome and m.atomic_write_bytes; "
            "assert m.verify_webhook and m.WebhookEvent and m.WebhookDeduplicator; "
            "from musicapi_async import Outcome")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", musicapi_async.__all__)
def test_every_exported_name_imports(name: str) -> None:
    """Every name in ``__all__`` can be imported from the package."""
    module = importlib.import_module("musicapi_async")
    assert getattr(module, name) is not None


def test_version_is_a_string() -> None:
    """``__version__`` is a non-empty version string."""
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?\S*", musicapi_async.__version__)


# -------------------------------------------------------------------------- secrets


def test_client_repr_hides_the_key() -> None:
    """Neither the client's repr nor those of its attributes show the API key."""
    api = MusicAPI(api_key=SECRET)

    assert SECRET not in repr(api)
    assert SECRET not in str(api)
    assert all(SECRET not in repr(value) for value in vars(api).values())


def test_missing_key_says_how_to_provide_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """``MusicAPI()`` without a key or MUSICAPI_API_KEY explains both ways to give one."""
    monkeypatch.delenv("MUSICAPI_API_KEY", raising=False)

    with raises(AuthenticationError) as info:
        MusicAPI()

    assert "api_key" in str(info.value)
    assert "MUSICAPI_API_KEY" in str(info.value)


def test_empty_key_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty MUSICAPI_API_KEY counts as no key at all."""
    monkeypatch.setenv("MUSICAPI_API_KEY", "")

    with raises(AuthenticationError):
        MusicAPI()


def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """MUSICAPI_API_KEY is enough to build a client, and its repr stays clean."""
    monkeypatch.setenv("MUSICAPI_API_KEY", SECRET)

    api = MusicAPI()

    assert SECRET not in repr(api)


@pytest.mark.parametrize(
    "request_model",
    [
        SonicRequest(custom_mode=True, mv="sonic-v5", prompt="la", webhook_secret=HOOK_SECRET),
        NuroVocalRequest(lyrics="la", webhook_secret=HOOK_SECRET),
        NuroInstrumentalRequest(description="calm", webhook_secret=HOOK_SECRET),
    ],
    ids=["sonic", "nuro-vocal", "nuro-bgm"],
)
def test_request_repr_hides_webhook_secret(request_model: object) -> None:
    """A request's repr says a webhook secret is set without showing it."""
    text = repr(request_model)

    assert HOOK_SECRET not in text
    assert "webhook_secret='***'" in text


def test_request_repr_without_webhook_secret() -> None:
    """An unset webhook secret shows as None, so the repr does not claim one."""
    assert "webhook_secret=None" in repr(SonicRequest(mv="sonic-v5"))


@pytest.mark.anyio
async def test_requests_carry_no_credentials(server: FakeServer) -> None:
    """What the client hands its transport never contains the API key."""
    server.on("POST", "/api/v1/sonic/create", reply("sonic_submit_with_code.json"))
    server.on("GET", "/api/v1/get-credits", reply("credits.json"))

    await server.api.sonic.create(custom_mode=False, mv="sonic-v5",
                                  gpt_description_prompt="lofi")  # fmt: skip
    await server.api.get_credits()

    assert len(server.requests) == 2
    for request in server.requests:
        assert SECRET not in repr(request)
        assert SECRET.encode() not in (request.body or b"")
