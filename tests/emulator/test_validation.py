"""The documented 400 messages, word for word, with per-model limits (§3.2, §11, §13)."""

from __future__ import annotations

from typing import Any

import pytest

from musicapi_async._errors import InvalidRequest

from .support import DESCRIBED, SONG, Client, serve

pytestmark = pytest.mark.anyio


def _with(base: dict[str, Any] | Any, **changes: Any) -> dict[str, Any]:
    body = dict(base)
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


SONIC_CASES = [
    (
        _with(SONG, mv="sonic-v9-turbo"),
        "The 'mv' field is invalid. The model should be 'sonic-v3-5' or 'sonic-v4'.",
    ),
    (
        _with(SONG, mv="sonic-v4-5-all"),
        "The 'mv' field is invalid. The model should be 'sonic-v3-5' or 'sonic-v4'.",
    ),
    (
        _with(SONG, task_type="persona_music"),
        "The 'persona_id' field is required when task_type = persona_music.",
    ),
    (_with(SONG, make_instrumental="false"), "The 'make_instrumental' field should be boolean."),
    (_with(SONG, custom_mode="true"), "The 'custom_mode' field should be boolean."),
    (_with(SONG, custom_mode=None), "The 'custom_mode' field should be boolean."),
    (_with(SONG, prompt="x" * 3001), "The prompt character length should be less than 3000."),
    (
        _with(SONG, mv="sonic-v5", prompt="x" * 5001),
        "The prompt character length should be less than 5000.",
    ),
    (_with(SONG, tags="x" * 201), "The tags character length should be less than 200."),
    (
        _with(SONG, mv="sonic-v5-5", tags="x" * 1001),
        "The tags character length should be less than 1000.",
    ),
    (_with(SONG, title="x" * 81), "The title character length should be less than 80."),
    (
        _with(DESCRIBED, gpt_description_prompt="x" * 401),
        "The 'gpt_description_prompt' character length should be less than 400.",
    ),
    (_with(SONG, style_weight=1.01), "The 'style_weight' field must be between 0 and 1."),
    (
        _with(SONG, weirdness_constraint=-0.01),
        "The 'weirdness_constraint' field must be between 0 and 1.",
    ),
    (_with(SONG, use_suno_cdn="false"), "The 'use_suno_cdn' field must be boolean."),
    (_with(SONG, prompt_text="typo"), "Unknown field(s): prompt_text."),
    (_with(SONG, task_type={"not": "hashable"}), "The 'task_type' field is invalid."),
]


@pytest.mark.parametrize(("body", "message"), SONIC_CASES)
async def test_sonic_create_validation_messages(
    api: Client, body: dict[str, Any], message: str
) -> None:
    """Each invalid sonic body answers 400 with the documented text, and bills nothing."""
    answer = await api.call("sonic.create", body)
    assert (answer.status, answer.message) == (400, message)
    with pytest.raises(InvalidRequest):
        answer.parsed("sonic.create")
    assert api.emulator.stats.billed == {}


@pytest.mark.parametrize(
    ("body", "ok"),
    [
        (_with(SONG, prompt="x" * 3000), True),
        (_with(SONG, mv="sonic-v5", prompt="x" * 5000, tags="x" * 1000), True),
        (_with(SONG, title="x" * 80), True),
        (_with(DESCRIBED, gpt_description_prompt="x" * 400), True),
        (_with(SONG, style_weight=1, weirdness_constraint=0), True),
        (_with(SONG, mv="chirp-v4"), True),
        (_with(SONG, task_type=None), True),
    ],
)
async def test_sonic_limits_are_inclusive(api: Client, body: dict[str, Any], ok: bool) -> None:
    """Values at a model's limits are accepted (live rejected only the next character)."""
    answer = await api.call("sonic.create", body)
    assert (answer.status == 200) is ok, answer.body


OTHER_CASES = [
    ("lyrics.create", {}, "description is required."),
    (
        "lyrics.create",
        {"description": "x" * 121},
        "The description character length should be less than 120.",
    ),
    ("sonic.persona", {"name": "Nova"}, "name and continue_clip_id are required fields."),
    ("sonic.persona", {"continue_clip_id": "c"}, "name and continue_clip_id are required fields."),
    (
        "sonic.persona",
        {"name": "x" * 81, "continue_clip_id": "c"},
        "The name character length should be less than 80.",
    ),
    (
        "sonic.persona",
        {"name": "Nova", "continue_clip_id": "c", "description": "x" * 201},
        "The description character length should be less than 200.",
    ),
    (
        "sonic.upload",
        {"url": "not a url"},
        "Audio URL is not accessible. Please provide a public direct audio file URL.",
    ),
    ("nuro.create", {"type": "vocal"}, "The 'lyrics' field is required when type = vocal."),
    ("nuro.create", {"type": "jazz"}, "The 'type' field should be 'vocal' or 'bgm'."),
    ("studio.create", {"lyrics_type": "user"}, "The 'prompt' field is required."),
]


@pytest.mark.parametrize(("endpoint", "body", "message"), OTHER_CASES)
async def test_other_endpoint_validation_messages(
    api: Client, endpoint: str, body: dict[str, Any], message: str
) -> None:
    """Persona, upload, lyrics, nuro and studio answer their documented 400 texts."""
    answer = await api.call(endpoint, body)
    assert (answer.status, answer.message) == (400, message)


async def test_lenient_mode_lets_unknown_keys_through() -> None:
    """With ``strict=False`` unknown keys are accepted; an unknown model still is not."""
    async with serve(strict=False) as api:
        answer = await api.call("sonic.create", _with(SONG, shiny=True))
        assert answer.status == 200, answer.body
        answer = await api.call("sonic.create", _with(SONG, mv="sonic-v7"))
        assert answer.status == 400, answer.body
