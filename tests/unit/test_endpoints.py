"""Every public endpoint method round-trips through the fake transport.

Each case pins the exact method, path and JSON body the client sends (fields the caller
left unset are absent; ``task_type``/``type`` right for each call) and what the answer
parses into. Expected bodies follow the examples of MUSICAPI.md §3.3, §5, §6, §7.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from musicapi_async import (
    Clip,
    ClipState,
    Credits,
    Family,
    Job,
    LyricsCandidate,
    MusicAPI,
    NuroInstrumentalRequest,
    NuroVocalRequest,
    Persona,
    SonicRequest,
    SonicTaskType,
    StudioConfig,
    StudioRequest,
    TaskSnapshot,
    UploadedClip,
)

from .support import FakeServer, golden, reply, sent_json

SONIC_CREATE = "/api/v1/sonic/create"
NURO_CREATE = "/api/v1/nuro/create"
STUDIO_CREATE = "/api/v1/studio/create"

CLIP = "a533515b-56c9-4eb2-8cb8-7f3dfa165eb8"
PERSONA = "c08806c1-34fa-4290-a78d-0c623eb1dd1c"
LYRICS = "[Verse]\nStars they shine above me\n..."
STUDIO_SONG = "6b021760-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
STUDIO_DEFAULTS: dict[str, Any] = {
    "model_type": "studio130-v1.5",
    "prompt_strength": 0.5,
    "clarity_strength": 0.25,
    "lyrics_strength": 0.5,
    "generation_quality": 0.75,
}

Call = Callable[[MusicAPI], Awaitable[Job]]


@dataclass(frozen=True)
class SubmitCase:
    """One generation call, the body it must send and where that body goes."""

    call: Call
    body: dict[str, Any]
    path: str = SONIC_CREATE
    answer: str = "sonic_submit_live_no_code.json"
    family: Family = Family.SONIC


SUBMIT_CASES = {
    "sonic.create custom": SubmitCase(
        lambda api: api.sonic.create(
            custom_mode=True, mv="sonic-v3-5", title="Starts", tags="pop", prompt=LYRICS,
            make_instrumental=False,
        ),
        {"task_type": "create_music", "custom_mode": True, "mv": "sonic-v3-5",
         "title": "Starts", "tags": "pop", "prompt": LYRICS, "make_instrumental": False},
    ),
    "sonic.create description": SubmitCase(
        lambda api: api.sonic.create(
            custom_mode=False, mv="sonic-v4",
            gpt_description_prompt="A calm and relaxing instrumental track.",
            make_instrumental=True,
        ),
        {"task_type": "create_music", "custom_mode": False, "mv": "sonic-v4",
         "gpt_description_prompt": "A calm and relaxing instrumental track.",
         "make_instrumental": True},
        answer="sonic_submit_with_code.json",
    ),
    "sonic.create newer options": SubmitCase(
        lambda api: api.sonic.create(
            custom_mode=True, mv="sonic-v5-5", prompt="a song about rain", auto_lyrics=True,
            vocal_gender="f", style_weight=0.65, weirdness_constraint=0.3,
            negative_tags="country", duration=120, use_suno_cdn=False,
            webhook_url="https://example.com/hooks/musicapi", webhook_secret="whsec-1",
        ),
        {"task_type": "create_music", "custom_mode": True, "mv": "sonic-v5-5",
         "prompt": "a song about rain", "auto_lyrics": True, "vocal_gender": "f",
         "style_weight": 0.65, "weirdness_constraint": 0.3, "negative_tags": "country",
         "duration": 120, "use_suno_cdn": False,
         "webhook_url": "https://example.com/hooks/musicapi", "webhook_secret": "whsec-1"},
    ),
    "sonic.extend": SubmitCase(
        lambda api: api.sonic.extend(
            continue_clip_id=CLIP, continue_at=30, custom_mode=True, mv="sonic-v3-5",
            prompt="[Verse]...", title="Stars Extended", tags="pop",
        ),
        {"task_type": "extend_music", "custom_mode": True, "prompt": "[Verse]...",
         "title": "Stars Extended", "tags": "pop", "continue_clip_id": CLIP,
         "continue_at": 30, "mv": "sonic-v3-5"},
    ),
    "sonic.extend upload": SubmitCase(
        lambda api: api.sonic.extend(
            continue_clip_id=CLIP, continue_at=0.1, custom_mode=False, mv="sonic-v5",
            upload=True,
        ),
        {"task_type": "extend_upload_music", "custom_mode": False, "mv": "sonic-v5",
         "continue_clip_id": CLIP, "continue_at": 0.1},
    ),
    "sonic.concat": SubmitCase(
        lambda api: api.sonic.concat(continue_clip_id=CLIP),
        {"task_type": "concat_music", "continue_clip_id": CLIP},
    ),
    "sonic.cover": SubmitCase(
        lambda api: api.sonic.cover(
            continue_clip_id=CLIP, custom_mode=True, prompt="[Verse]...", mv="sonic-v3-5"
        ),
        {"task_type": "cover_music", "custom_mode": True, "continue_clip_id": CLIP,
         "prompt": "[Verse]...", "mv": "sonic-v3-5"},
    ),
    "sonic.cover upload": SubmitCase(
        lambda api: api.sonic.cover(
            continue_clip_id=CLIP, custom_mode=True, prompt="[Verse]...", mv="sonic-v5",
            upload=True, audio_weight=0.7,
        ),
        {"task_type": "cover_upload_music", "custom_mode": True, "continue_clip_id": CLIP,
         "prompt": "[Verse]...", "mv": "sonic-v5", "audio_weight": 0.7},
    ),
    "sonic.create_with_persona": SubmitCase(
        lambda api: api.sonic.create_with_persona(
            persona_id=PERSONA, custom_mode=True, prompt="[Verse]...", title="Starts",
            tags="pop", mv="sonic-v3-5",
        ),
        {"task_type": "persona_music", "custom_mode": True, "prompt": "[Verse]...",
         "title": "Starts", "tags": "pop", "persona_id": PERSONA, "mv": "sonic-v3-5"},
    ),
    "sonic.remaster": SubmitCase(
        lambda api: api.sonic.remaster(
            continue_clip_id=CLIP, mv="sonic-v5", variation_category="subtle"
        ),
        {"task_type": "remaster", "continue_clip_id": CLIP, "mv": "sonic-v5",
         "variation_category": "subtle"},
    ),
    "submit add_vocals": SubmitCase(
        lambda api: api.submit(SonicRequest(
            task_type=SonicTaskType.ADD_VOCALS, continue_clip_id=CLIP, mv="sonic-v5",
            prompt=LYRICS, overpainting_start_s=5.0, overpainting_end_s=40.5,
        )),
        {"task_type": "add_vocals", "continue_clip_id": CLIP, "mv": "sonic-v5",
         "prompt": LYRICS, "overpainting_start_s": 5.0, "overpainting_end_s": 40.5},
    ),
    "submit add_instrumental": SubmitCase(
        lambda api: api.submit(SonicRequest(
            task_type=SonicTaskType.ADD_INSTRUMENTAL, continue_clip_id=CLIP, mv="sonic-v5",
        )),
        {"task_type": "add_instrumental", "continue_clip_id": CLIP, "mv": "sonic-v5"},
    ),
    "submit default task_type": SubmitCase(
        lambda api: api.submit(SonicRequest(
            custom_mode=False, mv="sonic-v5", gpt_description_prompt="lofi beats"
        )),
        {"task_type": "create_music", "custom_mode": False, "mv": "sonic-v5",
         "gpt_description_prompt": "lofi beats"},
    ),
    "nuro.create_vocal minimal": SubmitCase(
        lambda api: api.nuro.create_vocal(lyrics="[verse]\nhello"),
        {"type": "vocal", "lyrics": "[verse]\nhello"},
        path=NURO_CREATE, answer="nuro_submit.json", family=Family.NURO,
    ),
    "nuro.create_vocal full": SubmitCase(
        lambda api: api.nuro.create_vocal(
            lyrics="[verse]\nhello", gender="Female", genre="Hip Hop/Rap",
            mood="Dreamy/Ethereal", timbre="Sweet_AUDIO_TIMBRE", duration=120,
        ),
        {"type": "vocal", "lyrics": "[verse]\nhello", "gender": "Female",
         "genre": "Hip Hop/Rap", "mood": "Dreamy/Ethereal", "timbre": "Sweet_AUDIO_TIMBRE",
         "duration": 120},
        path=NURO_CREATE, answer="nuro_submit.json", family=Family.NURO,
    ),
    "nuro.create_instrumental v1": SubmitCase(
        lambda api: api.nuro.create_instrumental(
            description="calm background for a tutorial", genre=["ambient", "chill out"],
            mood=["calm"], instrument=["piano", "strings"], theme=["meditation"], duration=60,
        ),
        {"type": "bgm", "description": "calm background for a tutorial",
         "genre": ["ambient", "chill out"], "mood": ["calm"],
         "instrument": ["piano", "strings"], "theme": ["meditation"], "duration": 60},
        path=NURO_CREATE, answer="nuro_submit.json", family=Family.NURO,
    ),
    "nuro.create_instrumental v2 segments": SubmitCase(
        lambda api: api.nuro.create_instrumental(
            description="epic trailer", version="v2.0", duration=90,
            segments=[{"name": "intro", "duration": 20}, {"name": "verse", "duration": 25}],
        ),
        {"type": "bgm", "description": "epic trailer", "version": "v2.0", "duration": 90,
         "segments": [{"name": "intro", "duration": 20}, {"name": "verse", "duration": 25}]},
        path=NURO_CREATE, answer="nuro_submit.json", family=Family.NURO,
    ),
    "submit NuroVocalRequest": SubmitCase(
        lambda api: api.submit(NuroVocalRequest(lyrics="la la", gender="Male")),
        {"type": "vocal", "lyrics": "la la", "gender": "Male"},
        path=NURO_CREATE, answer="nuro_submit.json", family=Family.NURO,
    ),
    "submit NuroInstrumentalRequest": SubmitCase(
        lambda api: api.submit(NuroInstrumentalRequest(description="rain", mood=("calm",))),
        {"type": "bgm", "description": "rain", "mood": ["calm"]},
        path=NURO_CREATE, answer="nuro_submit.json", family=Family.NURO,
    ),
    "studio description mode": SubmitCase(
        lambda api: api.studio.create(prompt="a bossa nova song about a moonlit caper"),
        {"prompt": "a bossa nova song about a moonlit caper", "lyrics_type": "generate",
         **STUDIO_DEFAULTS, "config": {"mode": "regular"}},
        path=STUDIO_CREATE, answer="studio_submit.json", family=Family.STUDIO,
    ),
    "studio extend precede": SubmitCase(
        lambda api: api.studio.create(
            prompt="jazz, bossa nova", mode="precede", source_song_id=STUDIO_SONG,
            song_section_start=0.0,
        ),
        {"prompt": "jazz, bossa nova", "lyrics_type": "generate", **STUDIO_DEFAULTS,
         "song_section_start": 0.0,
         "config": {"mode": "precede", "source": {"song_id": STUDIO_SONG}}},
        path=STUDIO_CREATE, answer="studio_submit.json", family=Family.STUDIO,
    ),
    "studio extend continuation": SubmitCase(
        lambda api: api.studio.create(
            prompt="jazz, bossa nova", mode="continuation", source_song_id=STUDIO_SONG,
            context_length=130, song_section_start=0.4,
        ),
        {"prompt": "jazz, bossa nova", "lyrics_type": "generate", **STUDIO_DEFAULTS,
         "song_section_start": 0.4,
         "config": {"mode": "continuation", "source": {"song_id": STUDIO_SONG},
                    "context_length": 130}},
        path=STUDIO_CREATE, answer="studio_submit.json", family=Family.STUDIO,
    ),
    "studio custom mode": SubmitCase(
        lambda api: api.studio.create(
            prompt="rock, pop soul, electronic, ", lyrics_type="user", lyrics=LYRICS,
            model_type="studio32-v1.5", seed=-1, bypass_prompt_optimization=False,
            lyrics_placement_start=0, lyrics_placement_end=0.95, negative_prompt="",
        ),
        {"prompt": "rock, pop soul, electronic, ", "lyrics_type": "user", "lyrics": LYRICS,
         **STUDIO_DEFAULTS, "model_type": "studio32-v1.5", "seed": -1,
         "bypass_prompt_optimization": False, "lyrics_placement_start": 0,
         "lyrics_placement_end": 0.95, "negative_prompt": "", "config": {"mode": "regular"}},
        path=STUDIO_CREATE, answer="studio_submit.json", family=Family.STUDIO,
    ),
    "studio instrumental mode": SubmitCase(
        lambda api: api.studio.create(prompt="piano, strings, cinematic",
                                      lyrics_type="instrumental"),
        {"prompt": "piano, strings, cinematic", "lyrics_type": "instrumental",
         **STUDIO_DEFAULTS, "config": {"mode": "regular"}},
        path=STUDIO_CREATE, answer="studio_submit.json", family=Family.STUDIO,
    ),
    "submit StudioRequest": SubmitCase(
        lambda api: api.submit(StudioRequest(
            prompt="jazz", config=StudioConfig(mode="continuation", source_song_id=STUDIO_SONG)
        )),
        {"prompt": "jazz", "lyrics_type": "generate", **STUDIO_DEFAULTS,
         "config": {"mode": "continuation", "source": {"song_id": STUDIO_SONG}}},
        path=STUDIO_CREATE, answer="studio_submit.json", family=Family.STUDIO,
    ),
}  # fmt: skip


def _accepted_task_id(answer: str) -> str:
    data = golden(answer)
    task_id = data.get("task_id", data.get("data"))
    assert isinstance(task_id, str)
    return task_id


@pytest.mark.anyio
@pytest.mark.parametrize("case", SUBMIT_CASES.values(), ids=SUBMIT_CASES.keys())
async def test_generation_call_sends_exact_body(server: FakeServer, case: SubmitCase) -> None:
    """A generation call POSTs exactly the documented body and returns the task's Job."""
    server.on("POST", case.path, reply(case.answer))

    job = await case.call(server.api)

    [request] = server.requests
    assert (request.method, request.path) == ("POST", case.path)
    assert sent_json(request) == case.body
    assert isinstance(job, Job)
    assert job.task_id == _accepted_task_id(case.answer)
    assert job.family is case.family
    assert job.snapshot is None


@pytest.mark.anyio
async def test_submitted_job_keeps_its_request(server: FakeServer) -> None:
    """The Job of a submission keeps the request model that created it."""
    server.on("POST", SONIC_CREATE, reply("sonic_submit_with_code.json"))
    request = SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt="lofi")

    job = await server.api.submit(request)

    assert job.request is request


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("create", "create_path", "answer", "task_path", "poll_answer"),
    [
        (lambda api: api.sonic.concat(continue_clip_id=CLIP), SONIC_CREATE,
         "sonic_submit_with_code.json",
         "/api/v1/sonic/task/468d0e42-f7a6-40ce-9a4c-37db56b13b99", "sonic_task_live_v55.json"),
        (lambda api: api.nuro.create_vocal(lyrics="la"), NURO_CREATE, "nuro_submit.json",
         "/api/v1/nuro/task/b1eac403-06cb-4e58-971d-835d3b321508", "nuro_task_succeeded.json"),
        (lambda api: api.studio.create(prompt="jazz"), STUDIO_CREATE, "studio_submit.json",
         "/api/v1/studio/task/1938c07e-5b2a-4f1d-9c3e-7a8b6d5e4f30",
         "studio_task_success.json"),
    ],
    ids=["sonic", "nuro", "studio"],
)  # fmt: skip
async def test_wait_polls_the_family_task_endpoint(
    server: FakeServer,
    create: Call,
    create_path: str,
    answer: str,
    task_path: str,
    poll_answer: str,
) -> None:
    """Waiting on a submitted Job GETs its own family's task path with the returned id."""
    server.on("POST", create_path, reply(answer))
    server.on("GET", task_path, reply(poll_answer))

    job = await create(server.api)
    clips = await job.wait(timeout=5)

    polls = server.requests[1:]
    assert polls
    assert all((r.method, r.path, r.body) == ("GET", task_path, None) for r in polls)
    assert clips
    assert all(c.state is ClipState.SUCCEEDED for c in clips)
    assert job.done


# ------------------------------------------------------------------- synchronous calls


@pytest.mark.anyio
async def test_create_persona_seed_body(server: FakeServer) -> None:
    """create_persona POSTs name/continue_clip_id/description and returns the Persona."""
    server.on("POST", "/api/v1/sonic/persona", reply("persona_seed.json"))

    persona = await server.api.sonic.create_persona(
        name="Midnight Crooner", continue_clip_id=CLIP, description="warm baritone, jazz"
    )

    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/api/v1/sonic/persona")
    assert sent_json(request) == {
        "name": "Midnight Crooner",
        "continue_clip_id": CLIP,
        "description": "warm baritone, jazz",
    }
    assert isinstance(persona, Persona)
    assert persona.persona_id == golden("persona_seed.json")["persona_id"]


@pytest.mark.anyio
async def test_create_persona_newer_fields_and_unset_description(server: FakeServer) -> None:
    """create_persona sends the newer optional fields given and omits description."""
    server.on("POST", "/api/v1/sonic/persona", reply("persona_newer.json"))

    persona = await server.api.sonic.create_persona(
        name="Nova", continue_clip_id=CLIP, styles="synthwave", vocal_start_s=3.5,
        vocal_end_s=28.0,
    )  # fmt: skip

    assert sent_json(server.requests[0]) == {
        "name": "Nova",
        "continue_clip_id": CLIP,
        "styles": "synthwave",
        "vocal_start_s": 3.5,
        "vocal_end_s": 28.0,
    }
    assert persona.persona_id == "persona-a1b2c3d4e5"


@pytest.mark.anyio
async def test_upload_body_and_result(server: FakeServer) -> None:
    """upload POSTs {"url"} to /sonic/upload and returns the uploaded clip id."""
    server.on("POST", "/api/v1/sonic/upload", reply("upload.json"))

    uploaded = await server.api.sonic.upload(url="https://example.com/audio/demo.mp3")

    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/api/v1/sonic/upload")
    assert sent_json(request) == {"url": "https://example.com/audio/demo.mp3"}
    assert isinstance(uploaded, UploadedClip)
    assert uploaded.clip_id == golden("upload.json")["clip_id"]


@pytest.mark.anyio
async def test_lyrics_generate_body_and_result(server: FakeServer) -> None:
    """lyrics.generate POSTs {"description"} to /sonic/lyrics and returns the candidates."""
    server.on("POST", "/api/v1/sonic/lyrics", reply("lyrics.json"))

    candidates = await server.api.lyrics.generate(description="a song about sky")

    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/api/v1/sonic/lyrics")
    assert sent_json(request) == {"description": "a song about sky"}
    assert all(isinstance(c, LyricsCandidate) for c in candidates)
    assert [(c.title, c.lyrics) for c in candidates] == [
        (r["title"], r["lyrics"]) for r in golden("lyrics.json")["results"]
    ]


@pytest.mark.anyio
async def test_get_credits_request_and_result(server: FakeServer) -> None:
    """get_credits GETs /api/v1/get-credits without a body and returns Credits."""
    server.on("GET", "/api/v1/get-credits", reply({"credits": 120, "extra_credits": 30}))

    credits = await server.api.get_credits()

    [request] = server.requests
    assert (request.method, request.path, request.body) == ("GET", "/api/v1/get-credits", None)
    assert isinstance(credits, Credits)
    assert (credits.credits, credits.extra_credits, credits.total) == (120, 30, 150)


GetCall = Callable[[MusicAPI, str], Awaitable[TaskSnapshot]]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("get", "prefix", "answer", "family"),
    [
        (lambda api, t: api.sonic.get(t), "/api/v1/sonic/task/", "sonic_task_live_v55.json",
         Family.SONIC),
        (lambda api, t: api.nuro.get(t), "/api/v1/nuro/task/", "nuro_task_succeeded.json",
         Family.NURO),
        (lambda api, t: api.studio.get(t), "/api/v1/studio/task/", "studio_task_success.json",
         Family.STUDIO),
        (lambda api, t: api.get_task(t, Family.NURO), "/api/v1/nuro/task/",
         "nuro_task_succeeded.json", Family.NURO),
    ],
    ids=["sonic.get", "nuro.get", "studio.get", "get_task"],
)  # fmt: skip
async def test_get_task_request(
    server: FakeServer, get: GetCall, prefix: str, answer: str, family: Family
) -> None:
    """Polling a task GETs <family>/task/<id> with no body and returns a done snapshot."""
    task_id = "4c35433b-1649-433d-b513-8422af70fbaa"
    server.on("GET", prefix + task_id, reply(answer))

    snapshot = await get(server.api, task_id)

    [request] = server.requests
    assert (request.method, request.path, request.body) == ("GET", prefix + task_id, None)
    assert request.task_id == task_id
    assert snapshot.family is family
    assert snapshot.done


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("family", "path", "answer"),
    [
        (None, "/api/v1/sonic/task/", "sonic_task_live_v55.json"),
        ("sonic", "/api/v1/sonic/task/", "sonic_task_doc_v1.json"),
        ("nuro", "/api/v1/nuro/task/", "nuro_task_succeeded.json"),
        (Family.STUDIO, "/api/v1/studio/task/", "studio_task_success.json"),
    ],
)
async def test_job_by_id_wait(
    server: FakeServer, family: Family | str | None, path: str, answer: str
) -> None:
    """api.job(task_id).wait() polls the family's task endpoint and returns its clips."""
    task_id = "9f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
    server.on("GET", path + task_id, reply(answer))

    job = server.api.job(task_id) if family is None else server.api.job(task_id, family)
    clips = await job.wait(timeout=5)

    assert all((r.method, r.path, r.body) == ("GET", path + task_id, None)
               for r in server.requests)  # fmt: skip
    assert all(isinstance(c, Clip) for c in clips)
    assert clips == list(job.snapshot.clips if job.snapshot else ())
    assert len(clips) == (1 if family == "nuro" else 2)
