"""Local validation: bad input is refused before any request is sent, good input is not.

Limits follow MUSICAPI.md §3.2, §5, §6, §7.1 and §11; the messages the docs quote (§13)
are matched word for word. Every refusal asserts the transport received nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from musicapi_async import (
    AuthenticationError,
    InvalidRequest,
    MusicAPI,
    NuroInstrumentalRequest,
    SonicRequest,
    SonicTaskType,
)

from .support import FakeServer, raises, reply, sent_json

Call = Callable[[MusicAPI], Awaitable[object]]

CLIP = "a533515b-56c9-4eb2-8cb8-7f3dfa165eb8"
MV_MESSAGE = "The 'mv' field is invalid. The model should be 'sonic-v3-5' or 'sonic-v4'."
PERSONA_MESSAGE = "The 'persona_id' field is required when task_type = persona_music."
UPLOAD_MESSAGE = "Audio URL is not accessible. Please provide a public direct audio file URL."
BGM_GENRES = ["ambient", "cinematic", "epic", "pop", "rock", "jazz"]

# Values of the wrong type, sent through a request model the way untyped code would.
NOT_A_BOOL: Any = "true"
NOT_A_BOOL_EITHER: Any = "false"
NUMBER_ID: Any = 123


def custom(mv: str = "sonic-v5", **options: Any) -> Call:
    """A custom-mode sonic create with ``options``."""
    fields: dict[str, Any] = {"prompt": "[Verse]\nla la", **options}
    return lambda api: api.sonic.create(custom_mode=True, mv=mv, **fields)


def described(mv: str = "sonic-v5", **options: Any) -> Call:
    """A description-mode sonic create with ``options``."""
    fields: dict[str, Any] = {"gpt_description_prompt": "a calm piano piece", **options}
    return lambda api: api.sonic.create(custom_mode=False, mv=mv, **fields)


def submit(**fields: Any) -> Call:
    """``api.submit`` of a ``SonicRequest`` built from ``fields``."""
    return lambda api: api.submit(SonicRequest(**fields))


def vocal(**fields: Any) -> Call:
    """A nuro vocal create with ``fields`` over valid defaults."""
    args: dict[str, Any] = {"lyrics": "[verse]\nla la", **fields}
    return lambda api: api.nuro.create_vocal(**args)


def bgm(**fields: Any) -> Call:
    """A nuro instrumental create with ``fields`` over valid defaults."""
    args: dict[str, Any] = {"description": "calm background", **fields}
    return lambda api: api.nuro.create_instrumental(**args)


def studio(**fields: Any) -> Call:
    """A studio create with ``fields`` over valid defaults."""
    args: dict[str, Any] = {"prompt": "jazz, bossa nova", **fields}
    return lambda api: api.studio.create(**args)


def persona(**fields: Any) -> Call:
    """A persona create with ``fields`` over valid defaults."""
    args: dict[str, Any] = {"name": "Nova", "continue_clip_id": CLIP, **fields}
    return lambda api: api.sonic.create_persona(**args)


@dataclass(frozen=True)
class Refused:
    """A call that must be refused locally, the field at fault and (if documented) why."""

    call: Call
    field: str
    message: str | None = None


REFUSED: dict[str, Refused] = {
    # sonic lengths, per model (§3.2, §11)
    "prompt 3001 on sonic-v4": Refused(custom("sonic-v4", prompt="x" * 3001), "prompt",
                                       "The prompt character length should be less than 3000."),
    "prompt 3001 on sonic-v3-5": Refused(custom("sonic-v3-5", prompt="x" * 3001), "prompt",
                                         "The prompt character length should be less than "
                                         "3000."),
    "prompt 5001 on sonic-v5": Refused(custom("sonic-v5", prompt="x" * 5001), "prompt",
                                       "The prompt character length should be less than 5000."),
    "prompt 5001 on sonic-v4-5": Refused(custom("sonic-v4-5", prompt="x" * 5001), "prompt"),
    "tags 201 on sonic-v4": Refused(custom("sonic-v4", tags="t" * 201), "tags",
                                    "The tags character length should be less than 200."),
    "tags 1001 on sonic-v5-5": Refused(custom("sonic-v5-5", tags="t" * 1001), "tags",
                                       "The tags character length should be less than 1000."),
    "title 81": Refused(custom(title="T" * 81), "title",
                        "The title character length should be less than 80."),
    "description prompt 401": Refused(described(gpt_description_prompt="d" * 401),
                                      "gpt_description_prompt",
                                      "The 'gpt_description_prompt' character length should be "
                                      "less than 400."),
    # required fields
    "custom mode without prompt": Refused(
        lambda api: api.sonic.create(custom_mode=True, mv="sonic-v5", title="Stars"), "prompt"),
    "description mode without description": Refused(
        lambda api: api.sonic.create(custom_mode=False, mv="sonic-v5"),
        "gpt_description_prompt"),
    "persona_music without persona_id": Refused(
        submit(task_type=SonicTaskType.PERSONA_MUSIC, custom_mode=True, mv="sonic-v5",
               prompt="la"), "persona_id", PERSONA_MESSAGE),
    "create_with_persona empty persona_id": Refused(
        lambda api: api.sonic.create_with_persona(persona_id="", custom_mode=True,
                                                  mv="sonic-v5", prompt="la"),
        "persona_id", PERSONA_MESSAGE),
    "extend without continue_at": Refused(
        submit(task_type=SonicTaskType.EXTEND_MUSIC, continue_clip_id=CLIP, custom_mode=True,
               mv="sonic-v5", prompt="la"), "continue_at",
        "The 'continue_at' field is required when task_type = extend_music."),
    "extend upload without continue_at": Refused(
        submit(task_type=SonicTaskType.EXTEND_UPLOAD_MUSIC, continue_clip_id=CLIP,
               custom_mode=True, mv="sonic-v5", prompt="la"), "continue_at"),
    "extend without continue_clip_id": Refused(
        submit(task_type=SonicTaskType.EXTEND_MUSIC, continue_at=30, custom_mode=True,
               mv="sonic-v5", prompt="la"), "continue_clip_id"),
    "concat without clip": Refused(lambda api: api.sonic.concat(continue_clip_id=""),
                                   "continue_clip_id"),
    "remaster without clip": Refused(lambda api: api.sonic.remaster(continue_clip_id="",
                                                                    mv="sonic-v5"),
                                     "continue_clip_id"),
    "add_vocals without lyrics": Refused(
        submit(task_type=SonicTaskType.ADD_VOCALS, continue_clip_id=CLIP, mv="sonic-v5"),
        "prompt"),
    # types
    "custom_mode not boolean": Refused(
        submit(custom_mode=NOT_A_BOOL, mv="sonic-v5", prompt="la"), "custom_mode",
        "The 'custom_mode' field should be boolean."),
    "custom_mode missing": Refused(
        submit(mv="sonic-v5", gpt_description_prompt="lofi"), "custom_mode",
        "The 'custom_mode' field should be boolean."),
    "make_instrumental not boolean": Refused(
        submit(custom_mode=True, mv="sonic-v5", prompt="la", make_instrumental=NOT_A_BOOL_EITHER),
        "make_instrumental", "The 'make_instrumental' field should be boolean."),
    # ranges and choices
    "style_weight 1.01": Refused(custom(style_weight=1.01), "style_weight"),
    "weirdness_constraint -0.01": Refused(custom(weirdness_constraint=-0.01),
                                          "weirdness_constraint"),
    "audio_weight 1.5": Refused(
        lambda api: api.sonic.cover(continue_clip_id=CLIP, custom_mode=True, mv="sonic-v5",
                                    prompt="la", audio_weight=1.5), "audio_weight"),
    "vocal_gender female": Refused(custom(vocal_gender="female"), "vocal_gender"),
    "vocal_gender on sonic-v4": Refused(custom("sonic-v4", vocal_gender="f"), "vocal_gender"),
    "variation_category extreme": Refused(
        lambda api: api.sonic.remaster(continue_clip_id=CLIP, mv="sonic-v5",
                                       variation_category="extreme"), "variation_category"),
    "duration 5": Refused(custom(duration=5), "duration"),
    "webhook_url not a URL": Refused(custom(webhook_url="hooks.example.com"), "webhook_url"),
    # models (§11): the documented message; -all only for sample/mashup
    "mv suno-v5": Refused(custom("suno-v5"), "mv", MV_MESSAGE),
    "mv sonic-v4-5-all": Refused(custom("sonic-v4-5-all"), "mv", MV_MESSAGE),
    "mv empty": Refused(custom(""), "mv", MV_MESSAGE),
    "mv upper case": Refused(custom("SONIC-V5"), "mv", MV_MESSAGE),
    "mv studio model": Refused(described("studio130-v1.5"), "mv", MV_MESSAGE),
    "mv on extend": Refused(
        lambda api: api.sonic.extend(continue_clip_id=CLIP, continue_at=30, custom_mode=True,
                                     mv="v5", prompt="la"), "mv", MV_MESSAGE),
    # nuro (§7.1)
    "nuro lyrics 2001": Refused(vocal(lyrics="l" * 2001), "lyrics",
                                "The lyrics character length should be less than 2000."),
    "nuro lyrics empty": Refused(vocal(lyrics=""), "lyrics"),
    "nuro gender lower case": Refused(vocal(gender="female"), "gender"),
    "nuro genre unknown": Refused(vocal(genre="Polka"), "genre"),
    "nuro mood unknown": Refused(vocal(mood="Angry"), "mood"),
    "nuro timbre unknown": Refused(vocal(timbre="Raspy"), "timbre"),
    "nuro vocal duration 29": Refused(vocal(duration=29), "duration"),
    "nuro vocal duration 241": Refused(vocal(duration=241), "duration"),
    "nuro bgm 6 genres": Refused(bgm(genre=BGM_GENRES), "genre"),
    "nuro bgm 6 moods": Refused(
        bgm(mood=["calm", "happy", "dreamy", "soft", "light", "cool"]), "mood"),
    "nuro bgm genre unknown": Refused(bgm(genre=["polka"]), "genre"),
    "nuro bgm mood unknown": Refused(bgm(mood=["angry"]), "mood"),
    "nuro bgm instrument unknown": Refused(bgm(instrument=["kazoo"]), "instrument"),
    "nuro bgm theme unknown": Refused(bgm(theme=["war"]), "theme"),
    "nuro bgm duration 61 on v1.0": Refused(bgm(duration=61), "duration"),
    "nuro bgm version unknown": Refused(bgm(version="v3.0"), "version"),
    "nuro bgm no description": Refused(bgm(description=""), "description"),
    "nuro bgm genres joined in one string": Refused(
        lambda api: api.submit(NuroInstrumentalRequest(description="x", genre=("rock pop",))),
        "genre"),
    # studio (§6)
    "studio user mode without lyrics": Refused(studio(lyrics_type="user"), "lyrics",
                                               "The 'lyrics' field is required when "
                                               "lyrics_type = user."),
    "studio lyrics_type unknown": Refused(studio(lyrics_type="auto"), "lyrics_type"),
    "studio model unknown": Refused(studio(model_type="studio64-v1.5"), "model_type"),
    "studio extend without source": Refused(studio(mode="continuation"), "config"),
    "studio precede without source": Refused(studio(mode="precede"), "config"),
    "studio mode unknown": Refused(studio(mode="sideways"), "mode"),
    "studio prompt_strength 1.5": Refused(studio(prompt_strength=1.5), "prompt_strength"),
    "studio empty prompt": Refused(studio(prompt=""), "prompt"),
    # persona (§5.1)
    "persona name 81": Refused(persona(name="n" * 81), "name",
                               "The name character length should be less than 80."),
    "persona name empty": Refused(persona(name=""), "name",
                                  "name and continue_clip_id are required fields."),
    "persona clip empty": Refused(persona(continue_clip_id=""), "name",
                                  "name and continue_clip_id are required fields."),
    "persona description 201": Refused(persona(description="d" * 201), "description",
                                       "The description character length should be less "
                                       "than 200."),
    # lyrics (§5.3)
    "lyrics description 121": Refused(
        lambda api: api.lyrics.generate(description="d" * 121), "description",
        "The description character length should be less than 120."),
    "lyrics description empty": Refused(
        lambda api: api.lyrics.generate(description=""), "description",
        "description is required."),
    # upload (§5.2)
    "upload not a URL": Refused(lambda api: api.sonic.upload(url="my song.mp3"), "url",
                                UPLOAD_MESSAGE),
    "upload ftp URL": Refused(lambda api: api.sonic.upload(url="ftp://example.com/a.mp3"),
                              "url", UPLOAD_MESSAGE),
    "upload bare host": Refused(lambda api: api.sonic.upload(url="example.com/a.mp3"), "url",
                                UPLOAD_MESSAGE),
    "upload empty": Refused(lambda api: api.sonic.upload(url=""), "url", UPLOAD_MESSAGE),
    # task ids (§4.3 "missing task id.")
    "sonic.get empty id": Refused(lambda api: api.sonic.get(""), "task_id", "missing task id."),
    "nuro.get blank id": Refused(lambda api: api.nuro.get("  "), "task_id", "missing task id."),
    "get_task traversal": Refused(lambda api: api.get_task("../../get-credits"), "task_id"),
    "get_task dot-dot": Refused(lambda api: api.get_task(".."), "task_id"),
    "get_task CRLF": Refused(lambda api: api.sonic.get("abc\r\nX-Evil: 1"), "task_id"),
    "get_task not a string": Refused(lambda api: api.get_task(NUMBER_ID), "task_id",
                                     "The task id should be a string, not int."),
    # every field's type, whatever the task type reads (issue 11)
    "continue_at a string": Refused(custom(continue_at="aaa"), "continue_at",
                                    "The 'continue_at' field should be a number."),
    "persona_id an object": Refused(custom(persona_id={}), "persona_id",
                                    "The 'persona_id' field should be a string."),
    "continue_clip_id a list": Refused(custom(continue_clip_id=[1]), "continue_clip_id"),
    "title a number": Refused(custom(title=7), "title"),
    "duration a float": Refused(custom(duration=30.5), "duration"),
    "studio seed NaN": Refused(studio(seed=float("nan")), "seed",
                               "The 'seed' field should be a finite number."),
    "studio seed a float": Refused(studio(seed=1.5), "seed"),
    "style_weight infinite": Refused(custom(style_weight=float("inf")), "style_weight"),
    "continue_at NaN on extend": Refused(
        lambda api: api.sonic.extend(continue_clip_id=CLIP, continue_at=float("nan"),
                                     custom_mode=True, mv="sonic-v5", prompt="la"),
        "continue_at"),
    "title with a lone surrogate": Refused(custom(title="night \ud800"), "title"),
    # rules between fields (issue 16, MUSICAPI.md §3.2)
    "auto_lyrics without custom mode": Refused(described(auto_lyrics=True), "auto_lyrics"),
    "variation_category on a create": Refused(custom(variation_category="subtle"),
                                              "variation_category"),
    "variation_category on sonic-v4": Refused(
        lambda api: api.sonic.remaster(continue_clip_id=CLIP, mv="sonic-v4",
                                       variation_category="subtle"), "variation_category"),
    "overpainting end before start": Refused(
        submit(task_type=SonicTaskType.ADD_INSTRUMENTAL, continue_clip_id=CLIP, mv="sonic-v5",
               overpainting_start_s=10.0, overpainting_end_s=5.0), "overpainting_start_s"),
    "overpainting on a create": Refused(custom(overpainting_start_s=1.0),
                                        "overpainting_start_s"),
    "webhook_url plain http": Refused(custom(webhook_url="http://hooks.example.com/x"),
                                      "webhook_url"),
    "use_suno_cdn a string": Refused(custom(use_suno_cdn=NOT_A_BOOL_EITHER), "use_suno_cdn",
                                     "The 'use_suno_cdn' field must be boolean."),
    "mv sonic-v7 (unknown to the table)": Refused(custom("sonic-v7"), "mv", MV_MESSAGE),
    "upload callback_url plain http": Refused(
        lambda api: api.sonic.upload(url="https://cdn.example.com/a.mp3",
                                     callback_url="http://example.com/cb"), "callback_url"),
    "upload URL too long": Refused(
        lambda api: api.sonic.upload(url="https://cdn.example.com/" + "a" * 2048), "url"),
}  # fmt: skip


@pytest.mark.anyio
@pytest.mark.parametrize("case", REFUSED.values(), ids=REFUSED.keys())
async def test_refused_before_sending(server: FakeServer, case: Refused) -> None:
    """Invalid input raises InvalidRequest naming the field, and nothing is sent."""
    with raises(InvalidRequest) as info:
        await case.call(server.api)

    assert server.requests == []
    error = info.value
    assert error.field == case.field
    assert error.status is None
    assert error.raw_body is None
    if case.message is not None:
        assert error.message == case.message
        assert str(error) == case.message


@dataclass(frozen=True)
class Accepted:
    """A call at the edge of a rule that must be sent, and a field it must carry as given."""

    call: Call
    path: str
    field: str
    value: Any


SONIC = "/api/v1/sonic/create"
NURO = "/api/v1/nuro/create"

ACCEPTED: dict[str, Accepted] = {
    "prompt 3000 on sonic-v4": Accepted(custom("sonic-v4", prompt="x" * 3000), SONIC, "prompt",
                                        "x" * 3000),
    "prompt 3000 on sonic-v3-5": Accepted(custom("sonic-v3-5", prompt="x" * 3000), SONIC,
                                          "prompt", "x" * 3000),
    "prompt 5000 on sonic-v5": Accepted(custom("sonic-v5", prompt="x" * 5000), SONIC, "prompt",
                                        "x" * 5000),
    "prompt 3001 on sonic-v4-5": Accepted(custom("sonic-v4-5", prompt="x" * 3001), SONIC,
                                          "prompt", "x" * 3001),
    "tags 200 on sonic-v4": Accepted(custom("sonic-v4", tags="t" * 200), SONIC, "tags",
                                     "t" * 200),
    "tags 1000 on sonic-v5": Accepted(custom("sonic-v5", tags="t" * 1000), SONIC, "tags",
                                      "t" * 1000),
    "title 80": Accepted(custom(title="T" * 80), SONIC, "title", "T" * 80),
    "description prompt 400": Accepted(described(gpt_description_prompt="d" * 400), SONIC,
                                       "gpt_description_prompt", "d" * 400),
    "style_weight 1": Accepted(custom(style_weight=1.0), SONIC, "style_weight", 1.0),
    "style_weight 0": Accepted(custom(style_weight=0.0), SONIC, "style_weight", 0.0),
    "weirdness_constraint 0": Accepted(custom(weirdness_constraint=0.0), SONIC,
                                       "weirdness_constraint", 0.0),
    "vocal_gender m on sonic-v4-5": Accepted(custom("sonic-v4-5", vocal_gender="m"), SONIC,
                                             "vocal_gender", "m"),
    "webhook_url http on loopback": Accepted(
        custom(webhook_url="http://127.0.0.1:8080/hook", webhook_secret="s"), SONIC,
        "webhook_url", "http://127.0.0.1:8080/hook"),
    "webhook_url https": Accepted(
        custom(webhook_url="https://hooks.example.com/x", webhook_secret="s"), SONIC,
        "webhook_url", "https://hooks.example.com/x"),
    "auto_lyrics in custom mode": Accepted(custom(auto_lyrics=True), SONIC, "auto_lyrics",
                                           True),
    "variation_category on remaster sonic-v5": Accepted(
        lambda api: api.sonic.remaster(continue_clip_id=CLIP, mv="sonic-v5",
                                       variation_category="subtle"), SONIC,
        "variation_category", "subtle"),
    "overpainting window on add_instrumental": Accepted(
        submit(task_type=SonicTaskType.ADD_INSTRUMENTAL, continue_clip_id=CLIP, mv="sonic-v5",
               overpainting_start_s=5.0, overpainting_end_s=10.0), SONIC,
        "overpainting_end_s", 10.0),
    "upload with callback_url": Accepted(
        lambda api: api.sonic.upload(url="https://cdn.example.com/a.mp3",
                                     callback_url="https://example.com/cb"),
        "/api/v1/sonic/upload", "callback_url", "https://example.com/cb"),
    "sonic-v6-wild": Accepted(custom("sonic-v6-wild"), SONIC, "mv", "sonic-v6-wild"),
    "chirp alias": Accepted(custom("chirp-v4-5"), SONIC, "mv", "chirp-v4-5"),
    "instrumental needs no prompt": Accepted(
        lambda api: api.sonic.create(custom_mode=True, mv="sonic-v5", make_instrumental=True,
                                     title="Calm"), SONIC, "make_instrumental", True),
    "remaster needs only clip and model": Accepted(
        lambda api: api.sonic.remaster(continue_clip_id=CLIP, mv="sonic-v5"), SONIC,
        "task_type", "remaster"),
    "extend at 0": Accepted(
        lambda api: api.sonic.extend(continue_clip_id=CLIP, continue_at=0, custom_mode=False,
                                     mv="sonic-v5"), SONIC, "continue_at", 0),
    "nuro lyrics 2000": Accepted(vocal(lyrics="l" * 2000), NURO, "lyrics", "l" * 2000),
    "nuro vocal duration 240": Accepted(vocal(duration=240), NURO, "duration", 240),
    "nuro bgm 5 genres": Accepted(bgm(genre=BGM_GENRES[:5]), NURO, "genre", BGM_GENRES[:5]),
    "nuro bgm v2.0 long": Accepted(bgm(version="v2.0", duration=90), NURO, "duration", 90),
    "persona name 80": Accepted(persona(name="n" * 80), "/api/v1/sonic/persona", "name",
                                "n" * 80),
    "lyrics description 120": Accepted(
        lambda api: api.lyrics.generate(description="d" * 120), "/api/v1/sonic/lyrics",
        "description", "d" * 120),
    "upload https URL with query": Accepted(
        lambda api: api.sonic.upload(url="https://cdn.example.com/a.mp3?sig=1"),
        "/api/v1/sonic/upload", "url", "https://cdn.example.com/a.mp3?sig=1"),
}  # fmt: skip

ANSWERS = {
    SONIC: "sonic_submit_live_no_code.json",
    NURO: "nuro_submit.json",
    "/api/v1/sonic/persona": "persona_seed.json",
    "/api/v1/sonic/lyrics": "lyrics.json",
    "/api/v1/sonic/upload": "upload.json",
}


@pytest.mark.anyio
@pytest.mark.parametrize("case", ACCEPTED.values(), ids=ACCEPTED.keys())
async def test_accepted_at_the_edge(server: FakeServer, case: Accepted) -> None:
    """Input exactly at a documented limit (or a future model) is sent unchanged."""
    server.on("POST", case.path, reply(ANSWERS[case.path]))

    await case.call(server.api)

    [request] = server.requests
    assert request.path == case.path
    assert sent_json(request)[case.field] == case.value


@pytest.mark.anyio
async def test_task_ids_are_escaped_into_one_path_segment(server: FakeServer) -> None:
    """Characters with a meaning in a URL stay inside the task id's path segment."""
    server.on("GET", "/api/v1/sonic/task/a%3Fb%23c%25d", reply("sonic_task_not_ready.json"))

    snapshot = await server.api.get_task("a?b#c%d")

    assert not snapshot.ready
    assert [r.path for r in server.requests] == ["/api/v1/sonic/task/a%3Fb%23c%25d"]


@pytest.mark.anyio
async def test_submit_of_something_else_is_a_clear_error(server: FakeServer) -> None:
    """``submit("x")`` raises InvalidRequest naming what it takes; nothing is sent."""
    not_a_request: Any = "x"
    with raises(InvalidRequest, match="SonicRequest.*not str"):
        await server.api.submit(not_a_request)
    with raises(InvalidRequest, match="not int"):
        server.api.job(NUMBER_ID)
    assert server.requests == []


@pytest.mark.parametrize("key", ["sk-abc\n", " sk-abc", "sk-a bc", "sk-\x00abc", "sk-ключ"])
def test_malformed_api_key_is_refused_at_construction(key: str) -> None:
    """A key with a newline, spaces, control or non-ASCII characters fails at once, unshown."""
    with pytest.raises(AuthenticationError) as info:
        MusicAPI(api_key=key)
    assert key.strip() not in str(info.value)
    assert key.strip() not in repr(info.value)


@pytest.mark.parametrize(
    "url", ["http://hooks.example.com/musicapi", "hooks.example.com", "ftp://example.com/h"]
)
def test_client_webhook_url_must_be_https(url: str) -> None:
    """A client-wide webhook_url that is not HTTPS (or loopback http) fails at construction."""
    with pytest.raises(InvalidRequest) as info:
        MusicAPI(api_key="k", webhook_url=url, webhook_secret="s")
    assert info.value.field == "webhook_url"
    assert "localhost" in str(info.value)


def test_client_webhook_url_may_be_loopback_http() -> None:
    """Plain http to localhost is allowed, for testing a receiver locally."""
    for url in ("http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]:9/h"):
        assert MusicAPI(api_key="k", webhook_url=url, webhook_secret="s").webhook_url == url
