"""A 410 Gone from any endpoint is one typed error: EndpointGone, never retried."""

from __future__ import annotations

import pytest

from musicapi_async import CallerError, EndpointGone, MusicAPI
from musicapi_async._governor import Governor
from musicapi_async._http import HttpRequest, HttpResponse
from musicapi_async._mock import MockTransport

from .support import SECRET, assert_no_secret, reply

pytestmark = pytest.mark.anyio

GONE = {"code": 410, "message": "This endpoint has been retired."}


def _client(answer: HttpResponse) -> tuple[MusicAPI, MockTransport]:
    def handle(_: HttpRequest) -> HttpResponse:
        return answer

    transport = MockTransport(handle)
    api = MusicAPI(api_key=SECRET, transport=transport, governor=Governor.unlimited())
    return api, transport


async def test_a_410_on_a_get_is_endpoint_gone_sent_once() -> None:
    """A free GET answered 410 raises EndpointGone after one request (never retried)."""
    api, transport = _client(reply(GONE, 410))
    async with api:
        with pytest.raises(EndpointGone) as gone:
            await api.get_credits()
    assert len(transport.requests) == 1
    assert isinstance(gone.value, CallerError)
    assert gone.value.status == 410
    assert gone.value.endpoint == "credits"
    assert "retired" in str(gone.value)
    assert_no_secret(gone.value)


async def test_a_410_on_nuro_says_what_to_use_instead() -> None:
    """Nuro's 410 names sonic for vocals and producer for background music."""
    api, transport = _client(reply(GONE, 410))
    async with api:
        with pytest.raises(EndpointGone) as gone:
            await api.nuro.create_vocal(lyrics="[verse]\nla la")
    assert len(transport.requests) == 1  # a paid create: sent once, not retried
    assert gone.value.endpoint == "nuro.create"
    assert gone.value.instead is not None
    assert "sonic" in str(gone.value)
    assert "producer" in str(gone.value)


async def test_a_410_on_a_task_type_names_the_operation() -> None:
    """A 410 for a create names the retired task type it was sent with."""
    api, transport = _client(reply(GONE, 410))
    async with api:
        with pytest.raises(EndpointGone) as gone:
            await api.sonic.create(
                custom_mode=False, mv="sonic-v5", gpt_description_prompt="rain on a roof"
            )
    assert len(transport.requests) == 1
    assert gone.value.operation == "create_music"
    assert "'create_music'" in str(gone.value)
    assert gone.value.instead is None  # the docs name no replacement for sonic
