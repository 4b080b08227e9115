"""The emulator's producer and riffusion families (MUSICAPI.md §15).

Producer: one song per task in ~30 s; the task answer has its own envelope
(``{"code", "status": PENDING|RUNNING|SUCCESS|FAILED, "message", "data": [song]}``), the
song appears once the task succeeds, and a failed task is refunded and says so.
``upload`` and ``download`` are tasks too. The retired task types answer 410 Gone,
before anything is paid.

Riffusion: sonic's envelope with two songs per task; a song is listed once it has
started, so a poll may see one song ("if you only receive one song, continue to poll").

Imported by ``_app`` (which registers these behaviours by name), and importing ``_app``
back: only names defined before that import are used here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any, Final

from .._models import ClipState, Family
from .._validation_fuzz import PRODUCER_RETIRED
from ._app import Answer, Body, _dump, _pay, behaviour
from ._content import INSTRUMENTAL_LYRICS, make_lyrics, make_title
from ._generate import Rejected, _iso, _webhook
from ._ledger import Charge
from ._state import EmulatorState
from ._tasks import RENDERERS, ClipKind, ClipRecord, Task, Timeline

__all__ = ["PRODUCER_FAILED", "PRODUCER_GONE"]

P, R, S, OK, F = (
    ClipState.PENDING,
    ClipState.RUNNING,
    ClipState.STREAMING,
    ClipState.SUCCEEDED,
    ClipState.FAILED,
)
PRODUCER_FAILED: Final = "Task failed. Credits have been refunded."
PRODUCER_GONE: Final = "The '{}' task type has been retired and is no longer available."
_STATUS: Final = {P: "PENDING", R: "RUNNING", OK: "SUCCESS", F: "FAILED"}
_UPLOAD_TYPES: Final = frozenset({"extend_upload_music", "replace_upload_music"})


def _source(st: EmulatorState, key: str, clip_id: object, now: float, upload: bool) -> ClipRecord:
    try:
        record = st.generator.source(key, str(clip_id), now)
    except Rejected as exc:
        raise Answer(400, exc.message) from None
    if upload != (record.kind is ClipKind.UPLOAD):
        raise Answer(
            400,
            "The clip was uploaded: use an *_upload_music task type."
            if record.kind is ClipKind.UPLOAD
            else "The clip was not uploaded: use a task type without upload.",
        )
    return record


def _one_song(
    st: EmulatorState,
    key: str,
    body: Body,
    task_type: str,
    now: float,
    charge: Charge,
    song: Mapping[str, Any],
    kind: ClipKind | None,
) -> Task:
    """A producer task of one song (``song``'s fields once it succeeds)."""
    gen = st.generator
    task_id = gen.new_id()
    fail = gen._failure() is not None
    times, states = gen._timeline(now, now, (5.0, 20.0, 35.0), fail, streams=False)
    clip_id = str(song["clip_id"])
    views = tuple(
        {**song, "state": s.value} if s is OK else {"clip_id": clip_id, "state": s.value}
        for s in states
    )
    timeline = Timeline(clip_id, times, states, views)
    task = Task(
        task_id,
        Family.PRODUCER,
        key,
        task_type,
        now,
        now,
        time.time(),
        (timeline,),
        charge,
        _webhook(body),
    )
    records = []
    if kind is not None:
        records.append(
            ClipRecord(
                clip_id,
                key,
                kind,
                float(song.get("duration") or 0),
                math.inf if fail else times[-1],
                task_id=task_id,
                title=str(song.get("title") or ""),
                mv=song.get("mv"),
            )
        )
    st.store.add(task, records)
    st.webhooks.schedule(task)
    return task


def _render_producer(task: Task, indices: tuple[int, ...]) -> bytes:
    timeline = task.timelines[0]
    state = timeline.states[indices[0]]
    data = [timeline.views[indices[0]]] if state is OK else []
    message = PRODUCER_FAILED if state is F else "success"
    return _dump({"code": 200, "status": _STATUS[state], "message": message, "data": data})


def _render_riffusion(task: Task, indices: tuple[int, ...]) -> bytes:
    songs = [
        t.views[i] for t, i in zip(task.timelines, indices, strict=True) if t.states[i] is not P
    ]
    return _dump({"code": 200, "data": songs, "message": "success"})


RENDERERS[Family.PRODUCER] = _render_producer
RENDERERS[Family.RIFFUSION] = _render_riffusion


# ------------------------------------------------------------------------ producer


@behaviour("producer_create")
def _producer_create(
    st: EmulatorState, key: str, body: Body, _: str, now: float
) -> tuple[int, bytes]:
    task_type = str(body.get("task_type") or "create_music")
    if task_type in PRODUCER_RETIRED:
        raise Answer(410, PRODUCER_GONE.format(task_type))  # refused: nothing is paid
    source = None
    if task_type != "create_music":
        source = _source(st, key, body.get("clip_id"), now, task_type in _UPLOAD_TYPES)
    lyrics = body.get("lyrics") or body.get("lyrics_text")
    refusal = st.moderation.check(lyrics, body.get("sound"), body.get("title"))
    if refusal is not None:
        raise Answer(403, refusal)
    charge = _pay(st, key, "producer.create", body)
    rng = st.generator._rng
    clip_id = st.generator.new_id()
    audio, image, _ = st.generator.media(clip_id)
    if source is None:
        duration = rng.uniform(120, 240)
    elif task_type.startswith("extend"):
        starts = body.get("starts_at", body.get("starts"))
        duration = float(starts if starts is not None else source.duration) + float(
            body.get("length") or 60
        )
    else:
        duration = source.duration
    title = body.get("title") or (source.title if source else make_title(rng, body.get("sound")))
    song = {
        "clip_id": clip_id,
        "title": title,
        "sound": body.get("sound") or "",
        "lyrics": lyrics or (INSTRUMENTAL_LYRICS if source is None else make_lyrics(rng)),
        "image_url": image,
        "audio_url": audio,
        "wav_url": audio,
        "video_url": None,
        "created_at": _iso(time.time()),
        "mv": body.get("mv") or "FUZZ-2.0",
        "seed": body.get("seed") if isinstance(body.get("seed"), int) else None,
        "duration": round(min(duration, 480.0), 2),
    }
    task = _one_song(st, key, body, task_type, now, charge, song, ClipKind.SONG)
    return 200, _dump({"message": "success", "task_id": task.task_id})


@behaviour("producer_upload")
def _producer_upload(
    st: EmulatorState, key: str, body: Body, _: str, now: float
) -> tuple[int, bytes]:
    charge = _pay(st, key, "producer.upload", body)
    url = str(body.get("audio_url") or body.get("url"))
    name = url.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "Upload"
    clip_id = st.generator.new_id()
    audio, image, _ = st.generator.media(clip_id)
    song = {
        "clip_id": clip_id,
        "title": name[:80],
        "audio_url": audio,
        "image_url": image,
        "duration": round(st.generator._rng.uniform(6, 60), 2),
    }
    task = _one_song(st, key, body, "upload", now, charge, song, ClipKind.UPLOAD)
    return 200, _dump({"message": "success", "task_id": task.task_id})


@behaviour("producer_download")
def _producer_download(
    st: EmulatorState, key: str, body: Body, _: str, now: float
) -> tuple[int, bytes]:
    try:
        source = st.generator.source(key, str(body["clip_id"]), now)
    except Rejected as exc:
        raise Answer(400, exc.message) from None
    charge = _pay(st, key, "producer.download", body)
    audio, _, _ = st.generator.media(source.clip_id)
    song = {
        "clip_id": source.clip_id,
        "title": source.title,
        "audio_url": audio,
        "format": body.get("format") or "mp3",
        "duration": round(source.duration, 2),
    }
    task = _one_song(st, key, body, "download", now, charge, song, None)
    return 200, _dump({"message": "success", "task_id": task.task_id})


# ----------------------------------------------------------------------- riffusion


@behaviour("riffusion_create")
def _riffusion_create(
    st: EmulatorState, key: str, body: Body, _: str, now: float
) -> tuple[int, bytes]:
    task_type = str(body.get("task_type") or "create_music")
    source = None
    if task_type != "create_music":
        source = _source(st, key, body.get("continue_clip_id"), now, "_upload_" in task_type)
    lyrics = body.get("lyrics") if body.get("custom_mode") else None
    refusal = st.moderation.check(lyrics, body.get("prompt"), body.get("sound"))
    if refusal is not None:
        raise Answer(403, refusal)
    charge = _pay(st, key, "riffusion.create", body)
    gen = st.generator
    rng = gen._rng
    task_id = gen.new_id()
    failure = gen._failure()
    wall = time.time()
    description = body.get("prompt") or body.get("sound")
    title = body.get("title") or (source.title if source else make_title(rng, description))
    if body.get("make_instrumental"):
        words = INSTRUMENTAL_LYRICS
    else:
        words = lyrics or make_lyrics(rng, description)
    timelines, records = [], []
    for n in range(2):
        clip_id = gen.new_id()
        fail = failure == "all" or (failure == "partial" and n == 1)
        times, states = gen._timeline(now, now, (10.0, 60.0, 120.0), fail, streams=True)
        duration = source.duration if source else rng.uniform(90, 180)
        audio, image, stream = gen.media(clip_id)
        common: dict[str, Any] = {
            "clip_id": clip_id,
            "title": title,
            "sound": body.get("sound") or "",
            "lyrics": words,
            "image_url": None,
            "audio_url": None,
            "video_url": None,
            "created_at": _iso(wall),
            "mv": body.get("mv"),
            "duration": None,
            "timestamp": {},
            "state": "pending",
        }
        by_state = {
            P: common,
            R: {**common, "state": "running"},
            S: {**common, "state": "streaming", "audio_url": stream, "image_url": image},
            OK: {
                **common,
                "state": "succeeded",
                "audio_url": audio,
                "image_url": image,
                "duration": round(duration, 2),
            },
            F: {**common, "state": "failed", "message": PRODUCER_FAILED},
        }
        timelines.append(Timeline(clip_id, times, states, tuple(by_state[s] for s in states)))
        records.append(
            ClipRecord(
                clip_id,
                key,
                ClipKind.SONG,
                duration,
                math.inf if fail else times[-1],
                task_id=task_id,
                title=str(title),
                mv=body.get("mv"),
            )
        )
    task = Task(
        task_id,
        Family.RIFFUSION,
        key,
        task_type,
        now,
        now,
        wall,
        tuple(timelines),
        charge,
        _webhook(body),
    )
    st.store.add(task, records)
    return 200, _dump({"message": "success", "task_id": task.task_id})


@behaviour("riffusion_upload")
def _riffusion_upload(
    st: EmulatorState, key: str, body: Body, _: str, now: float
) -> tuple[int, bytes]:
    _pay(st, key, "riffusion.upload", body)
    record = st.generator.upload(key, str(body["url"]), now)
    return 200, _dump({"code": 200, "clip_id": record.clip_id, "message": "success"})
