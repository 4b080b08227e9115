"""The emulator's behaviours of the task-starting sonic endpoints that take audio (§10).

Imported by ``_app`` with ``_sonic_extra``; each behaviour is registered under its row's
``emulate`` name and runs after the handler's auth, create interval, strict validation and
fault injection. Order inside each: references (unknown clip: the documented 400 "clip not
found."), ranges against the audio, moderation, payment, then the task. Answers carry the
keys the vendor client (``musicapi-sdk`` 0.1.0) builds its dataclasses from.

Upload-extend with ``auto_concat`` polls as pairs: each extension's ``full`` song is
``null`` until a concat that starts when the extension succeeds has finished::

    extended  pending -> running -> (streaming) -> succeeded      | failed
    full      null    -> null    -> null         -> (concat) full | failed with it
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import attrs

from .._models import ClipState, Family
from ._app import Answer, Body, _dump, _moderate, _pay, behaviour
from ._generate import Rejected
from ._state import EmulatorState
from ._tasks import (
    FAILED_MESSAGE,
    SONIC_DATA,
    ClipKind,
    ClipRecord,
    Task,
    Timeline,
    WebhookTarget,
)

__all__ = ["CONCAT_SECONDS", "PAIRED"]

# Emulated seconds the concat of an extension takes once the extension has succeeded.
CONCAT_SECONDS: Final = 20.0
# The task type of an upload-extend with auto_concat: its answer is a list of pairs.
PAIRED: Final = "upload_extend_concat"
P, R, OK, F = ClipState.PENDING, ClipState.RUNNING, ClipState.SUCCEEDED, ClipState.FAILED


def _source(st: EmulatorState, key: str, clip_id: object, now: float) -> ClipRecord:
    """The caller's succeeded clip, checked before anything is paid."""
    try:
        return st.generator.source(key, str(clip_id), now)
    except Rejected as exc:
        raise Answer(400, exc.message) from None


def _texts(st: EmulatorState, body: Body) -> None:
    lyrics = body.get("prompt") if body.get("custom_mode") else None
    _moderate(st, lyrics, body.get("gpt_description_prompt"), body.get("tags"),
              body.get("title"))  # fmt: skip


def _accepted(task_id: str, upload: ClipRecord | None, step: str) -> tuple[int, bytes]:
    """The two-step answer (upload, then ``step``) the vendor client reads as ``steps``."""
    steps: dict[str, Any] = {step: {"task_id": task_id}}
    if upload is not None:
        steps = {"upload": {"clip_id": upload.clip_id}, **steps}
    return 200, _dump({"code": 200, "message": "success", "task_id": task_id, "steps": steps})


def _start(st: EmulatorState, task: Task) -> Task:
    st.webhooks.schedule(task)
    return task


# -------------------------------------------------------------------- upload + extend


@behaviour("sonic.upload_extend")
def _upload_extend(
    st: EmulatorState, key: str, body: Body, _: str, now: float
) -> tuple[int, bytes]:
    _texts(st, body)
    upload = st.generator.upload(key, str(body["url"]), now)
    at = body.get("continue_at")
    continue_at = upload.duration if at is None else float(at)
    if continue_at > upload.duration:
        raise Answer(400, "The 'continue_at' field should be less than the clip's duration.")
    charge = _pay(st, key, "sonic.upload_extend", body)
    extend = {**body, "task_type": "extend_upload_music", "continue_clip_id": upload.clip_id,
              "continue_at": continue_at}  # fmt: skip
    task = st.generator.sonic(key, extend, upload, now, charge)
    if body.get("auto_concat"):
        task = _pair_up(st, task, continue_at)
    _start(st, task)
    return _accepted(task.task_id, upload, "extend")


def _pair_up(st: EmulatorState, task: Task, continue_at: float) -> Task:
    """``task`` with each extension followed by its full song's timeline."""
    gen = st.generator
    timelines: list[Timeline] = []
    records: list[ClipRecord] = []
    for ext in task.timelines:
        extension = st.store.clips[ext.clip_id]
        full_id = gen.new_id()
        audio, image, _stream = gen.media(full_id)
        last = ext.views[-1]
        duration = continue_at + extension.duration
        if ext.states[-1] is F:
            times: tuple[float, ...] = (ext.times[0], ext.end)
            states: tuple[ClipState, ...] = (P, F)
            views: tuple[Mapping[str, Any], ...] = ({}, {**last, "clip_id": full_id})
            usable = math.inf
        else:
            times, states = (ext.times[0], ext.end, ext.end + CONCAT_SECONDS), (P, R, OK)
            done = {**last, "clip_id": full_id, "audio_url": audio, "image_url": image,
                    "duration": f"{duration:.2f}"}  # fmt: skip
            views, usable = ({}, {}, done), times[-1]
        timelines += [ext, Timeline(full_id, times, states, views)]
        records.append(ClipRecord(full_id, task.key, ClipKind.SONG, duration, usable,
                                  task_id=task.task_id, title=extension.title,
                                  mv=extension.mv))  # fmt: skip
    paired = attrs.evolve(task, task_type=PAIRED, timelines=tuple(timelines))
    st.store.add(paired, records)  # replaces the task; a refund is still given once
    return paired


def _pairs(task: Task, indices: tuple[int, ...]) -> list[Any]:
    """``[{extended, full}]``: ``full`` is null until its concat has ended."""
    views = [(t.views[i], t.states[i]) for t, i in zip(task.timelines, indices, strict=True)]
    return [{"extended": ext, "full": full if state.is_terminal else None}
            for (ext, _), (full, state) in zip(views[::2], views[1::2], strict=True)]  # fmt: skip


SONIC_DATA[PAIRED] = _pairs


# ------------------------------------------------------------ upload + cover, sample


@behaviour("sonic.upload_cover")
def _upload_cover(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    _texts(st, body)
    upload = st.generator.upload(key, str(body["url"]), now)
    charge = _pay(st, key, "sonic.upload_cover", body)
    cover = {**body, "task_type": "cover_upload_music", "continue_clip_id": upload.clip_id}
    task = _start(st, st.generator.sonic(key, cover, upload, now, charge))
    return _accepted(task.task_id, upload, "cover")


@behaviour("sonic.sample")
def _sample(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    if body.get("sample_clip_id") is not None:
        source, upload = _source(st, key, body["sample_clip_id"], now), None
    else:
        source = upload = st.generator.upload(key, str(body["url"]), now)
    if float(body["chop_sample_end_s"]) > source.duration + 1e-6:
        raise Answer(400, "The sample window should be within the audio.")
    _texts(st, body)
    charge = _pay(st, key, "sonic.sample", body)
    # A whole new song: its length is a song's, not the sample's.
    task = _start(st, st.generator.sonic(key, {**body, "task_type": "sample"}, None, now, charge))
    return _accepted(task.task_id, upload, "sample")


# ------------------------------------------------------------ replace section, voice


@behaviour("sonic.replace_section")
def _replace_section(
    st: EmulatorState, key: str, body: Body, _: str, now: float
) -> tuple[int, bytes]:
    source = _source(st, key, body["clip_id"], now)
    if float(body["infill_end_s"]) > source.duration + 1e-6:
        raise Answer(400, "The section should be within the clip.")
    _moderate(st, body.get("infill_lyrics") or body.get("prompt"), body.get("tags"),
              body.get("title"))  # fmt: skip
    charge = _pay(st, key, "sonic.replace_section", body)
    infill = {**body, "task_type": "replace_section", "continue_clip_id": source.clip_id}
    task = _start(st, st.generator.sonic(key, infill, source, now, charge))
    return 200, _dump({"message": "success", "task_id": task.task_id})


@behaviour("sonic.create_voice")
def _create_voice(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    """A task of one clip, the voice; its succeeded view carries the new ``persona_id``."""
    charge = _pay(st, key, "sonic.create_voice", body)
    gen = st.generator
    task_id, clip_id, persona_id = gen.new_id(), gen.new_id(), gen.new_id()
    fails = gen._failure() is not None  # fail_next and the failure rate apply here too
    wall = time.time()
    audio, image, _stream = gen.media(clip_id)
    common = {"clip_id": clip_id, "state": "pending", "title": "Voice", "audio_url": None,
              "image_url": None, "duration": None, "mv": None,
              "created_at": datetime.fromtimestamp(wall, UTC).isoformat()}  # fmt: skip
    ready, run_at, end = now + 5.0, now + 10.0, now + 60.0
    if fails:
        states: tuple[ClipState, ...] = (P, R, F)
        last: dict[str, Any] = {**common, "state": "failed", "message": FAILED_MESSAGE}
    else:
        states = (P, R, OK)
        last = {**common, "state": "succeeded", "persona_id": persona_id, "audio_url": audio,
                "image_url": image, "duration": "30.00"}  # fmt: skip
    views = (common, {**common, "state": "running"}, last)
    url = body.get("webhook_url")
    hook = WebhookTarget(url, body.get("webhook_secret")) if isinstance(url, str) else None
    timeline = Timeline(clip_id, (ready, run_at, end), states, views)
    task = Task(task_id, Family.SONIC, key, "create_voice", now, ready, wall, (timeline,),
                charge, hook)  # fmt: skip
    record = ClipRecord(clip_id, key, ClipKind.UPLOAD, 30.0, math.inf if fails else end,
                        task_id=task_id, title="Voice")  # fmt: skip
    st.store.add(task, [record])
    if not fails:
        # Usable with persona_music once the task has succeeded (``check_sonic``).
        st.store.personas[persona_id] = (key, clip_id)
    _start(st, task)
    return 200, _dump({"message": "success", "task_id": task_id})
