"""Resource methods take MusicAPI's wire field names; a wrong one is an InvalidRequest."""

from __future__ import annotations

from typing import Any

import pytest

from musicapi_async import InvalidRequest

from .support import FakeServer, reply, sent_json

CLIP = "a533515b-56c9-4eb2-8cb8-7f3dfa165eb8"
SOURCE = "6b021760-2c3d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.mark.anyio
async def test_studio_create_takes_the_wire_config(server: FakeServer) -> None:
    """studio.create(config={...}) sends that config object as the API documents it."""
    server.on("POST", "/api/v1/studio/create", reply("studio_submit.json"))
    config = {"mode": "continuation", "source": {"song_id": SOURCE}, "context_length": 12}

    await server.api.studio.create(prompt="neon rain", config=config)

    assert sent_json(server.requests[0])["config"] == config


@pytest.mark.anyio
async def test_studio_create_rejects_config_and_mode_together(server: FakeServer) -> None:
    """Giving config= and mode= at once is refused before anything is sent."""
    with pytest.raises(InvalidRequest) as caught:
        await server.api.studio.create(prompt="x", mode="precede", config={"mode": "regular"})
    assert caught.value.field == "config"
    assert server.requests == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "spelling",
    [{"continue_clip_id": CLIP, "description": "warm"}, {"clip_id": CLIP, "describe": "warm"}],
)
async def test_persona_accepts_both_documented_spellings(
    server: FakeServer, spelling: dict[str, Any]
) -> None:
    """create_persona takes clip_id/describe as well as continue_clip_id/description."""
    server.on("POST", "/api/v1/sonic/persona", reply("persona_seed.json"))

    await server.api.sonic.create_persona(name="Nova", **spelling)

    assert sent_json(server.requests[0]) == {
        "name": "Nova",
        "continue_clip_id": CLIP,
        "description": "warm",
    }


@pytest.mark.anyio
async def test_persona_spelled_twice_is_refused(server: FakeServer) -> None:
    """The same persona field in both spellings is an InvalidRequest naming it."""
    with pytest.raises(InvalidRequest, match="clip_id"):
        await server.api.sonic.create_persona(name="N", continue_clip_id=CLIP, clip_id=CLIP)
    assert server.requests == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "call",
    [
        lambda api: api.sonic.create(custom_mode=False, mv="sonic-v5", gpt_prompt="x"),
        lambda api: api.studio.create(prompt="x", lyric="words"),
        lambda api: api.studio.create(prompt="x", config={"mode": "regular", "sauce": 1}),
        lambda api: api.sonic.create_persona(name="N", clip="x"),
    ],
    ids=["sonic", "studio", "studio-config", "persona"],
)
async def test_unknown_keyword_is_an_invalid_request(server: FakeServer, call: Any) -> None:
    """An unknown keyword is an InvalidRequest naming it, never a TypeError; nothing is sent."""
    with pytest.raises(InvalidRequest) as caught:
        await call(server.api)
    assert caught.value.field is not None
    assert server.requests == []
