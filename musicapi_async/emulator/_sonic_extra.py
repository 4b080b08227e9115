"""The emulator's behaviours of the newer sonic utilities (MUSICAPI.md §10).

Imported by ``_app`` before it derives its actions from the table; each behaviour is
registered under its row's ``emulate`` name. Answers carry exactly the keys the vendor
client (``musicapi-sdk`` 0.1.0) builds its dataclasses from, so it works unchanged.
"""

from __future__ import annotations

import hashlib
import time
from typing import Final

from .._endpoints import ENDPOINTS
from .._models import ClipState, Family
from ._app import Answer, Body, _dump, _moderate, _pay, behaviour
from ._generate import Rejected
from ._state import EmulatorState
from ._tasks import ClipKind, ClipRecord, Task, Timeline

__all__: list[str] = []

# Emulated seconds a MIDI file or a download takes to prepare; asks before then get 202.
PREPARE_SECONDS: Final = 20.0
# A clip's source audio is purged this long after it succeeded (download answers 404).
PURGE_AFTER: Final = 30 * 24 * 3600.0
_WORDS: Final = ("la", "da", "sky", "blue", "over", "the", "night", "light")


def _clip(st: EmulatorState, key: str, body: Body, now: float) -> ClipRecord:
    """The caller's succeeded clip, checked before anything is paid."""
    try:
        return st.generator.source(key, str(body["clip_id"]), now)
    except Rejected as exc:
        raise Answer(400, exc.message) from None


def _pay_once(st: EmulatorState, key: str, name: str, body: Body, what: str) -> None:
    """Bill ``name`` for ``what`` the first time only (``Cost.once_per_clip`` rows)."""
    mark = (key, name, what)
    if not ENDPOINTS[name].cost.once_per_clip or mark not in st.paid_once:
        _pay(st, key, name, body)
        st.paid_once.add(mark)


def _ok(data: object) -> tuple[int, bytes]:
    return 200, _dump({"code": 200, "data": data, "message": "success"})


def _preparing(st: EmulatorState, mark: tuple[str, str, str], now: float) -> bool:
    """Whether the file ``mark`` names is still being prepared; the first ask starts it."""
    ready = st.ready_at.setdefault(mark, now + PREPARE_SECONDS)
    return now < ready


@behaviour("sonic.wav")
def _wav(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    record = _clip(st, key, body, now)
    _pay(st, key, "sonic.wav", body)
    audio, _image, _stream = st.generator.media(record.clip_id)
    # The vendor's WavResult takes only message and data: no "code" here.
    return 200, _dump({"message": "success", "data": {"wav_url": audio}})


@behaviour("sonic.midi")
def _midi(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    record = _clip(st, key, body, now)
    _pay_once(st, key, "sonic.midi", body, record.clip_id)
    if _preparing(st, (key, "midi", record.clip_id), now):
        message = "The MIDI file is being prepared; retry shortly."
        return 202, _dump({"code": 202, "data": {"status": "processing"}, "message": message})
    notes = [{"pitch": 60 + i, "start": i * 0.5, "end": i * 0.5 + 0.4, "velocity": 90}
             for i in range(4)]  # fmt: skip
    base = st.generator.base_url
    return _ok({"midi_url": f"{base}/media/midi/{record.clip_id}.mid",
                "instruments": [{"name": "Piano", "notes": notes}]})  # fmt: skip


@behaviour("sonic.vox")
def _vox(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    record = _clip(st, key, body, now)
    start = float(body.get("vocal_start_s") or 0.0)
    end = float(body.get("vocal_end_s") or min(record.duration, start + 30.0))
    if end > record.duration + 1e-6:
        raise Answer(400, "The vocal range should be within the clip.")
    _pay(st, key, "sonic.vox", body)
    vox_id = hashlib.sha256(f"{record.clip_id}:{start}:{end}".encode()).hexdigest()[:32]
    audio, _image, _stream = st.generator.media(record.clip_id)
    return _ok({"vox_audio_id": vox_id, "status": "complete", "source_clip_id": record.clip_id,
                "vocal_start_s": start, "vocal_end_s": end,
                "wave_response": {"audio_url": audio}})  # fmt: skip


@behaviour("sonic.aligned_lyrics")
def _aligned(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    record = _clip(st, key, body, now)
    _pay_once(st, key, "sonic.aligned_lyrics", body, record.clip_id)
    step = max(record.duration, 1.0) / (len(_WORDS) + 1)
    alignment = [{"word": word, "start_s": round(i * step, 2), "end_s": round((i + 1) * step, 2),
                  "p_align": 0.9, "success": True} for i, word in enumerate(_WORDS)]  # fmt: skip
    return _ok({"alignment": alignment})


@behaviour("sonic.upsample_tags")
def _upsample(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    _pay(st, key, "sonic.upsample_tags", body)
    tags = str(body["tags"]).strip()
    return _ok({"upsampled_tags": f"{tags}, warm analog texture, wide stereo, polished mix"})


@behaviour("sonic.download")
def _download(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    record = _clip(st, key, body, now)
    if now - record.succeeded_at > PURGE_AFTER:
        raise Answer(404, "The source audio has been purged.")
    formats = [str(f) for f in body["formats"]]
    what = f"{record.clip_id}:{','.join(sorted(formats))}"
    _pay_once(st, key, "sonic.download", body, what)
    if _preparing(st, (key, "download", what), now):
        return 202, _dump({"code": 202, "message": "The files are being prepared; retry shortly."})
    audio, _image, _stream = st.generator.media(record.clip_id)
    base = audio.rsplit(".", 1)[0]
    return _ok({"clip_id": record.clip_id, "files": {f: f"{base}.{f}" for f in formats}})


# ------------------------------------------------------------------------------ stems

_BASIC_STEMS: Final = ("Vocals", "Instrumental")
# The doc page says 12 tracks (a live run saw 24): the emulator makes the documented 12.
_FULL_STEMS: Final = ("Vocals", "Backing Vocals", "Drums", "Bass", "Guitar", "Keyboard",
                      "Percussion", "Strings", "Synth", "FX", "Brass", "Woodwinds")  # fmt: skip


def _stems(st: EmulatorState, key: str, body: Body, now: float, name: str,
           names: tuple[str, ...]) -> tuple[int, bytes]:  # fmt: skip
    """A stems task: one clip per stem, each with its own audio once succeeded."""
    source = _clip(st, key, body, now)
    charge = _pay(st, key, name, body)
    gen = st.generator
    task_id = gen.new_id()
    ready = now + 30.0
    wall = time.time()
    timelines, records = [], []
    for stem in names:
        clip_id = gen.new_id()
        audio, image, _stream = gen.media(clip_id)
        common = {"clip_id": clip_id, "state": "pending", "title": f"{source.title} ({stem})",
                  "stem_type": stem, "source_clip_id": source.clip_id, "audio_url": None,
                  "image_url": None, "duration": None, "mv": source.mv}  # fmt: skip
        wire = (common, {**common, "state": "running"},
                {**common, "state": "succeeded", "audio_url": audio, "image_url": image,
                 "duration": f"{source.duration:.2f}"})  # fmt: skip
        states = (ClipState.PENDING, ClipState.RUNNING, ClipState.SUCCEEDED)
        timelines.append(Timeline(clip_id, (now, now + 5.0, ready), states, wire))
        records.append(ClipRecord(clip_id, key, ClipKind.SONG, source.duration, ready,
                                  task_id=task_id, title=f"{source.title} ({stem})",
                                  mv=source.mv))  # fmt: skip
    task = Task(task_id, Family.SONIC, key, name.split(".")[1], now, ready, wall,
                tuple(timelines), charge, None)  # fmt: skip
    st.store.add(task, records)
    st.webhooks.schedule(task)
    return 200, _dump({"message": "success", "task_id": task_id})


@behaviour("sonic.stems_basic")
def _stems_basic(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    return _stems(st, key, body, now, "sonic.stems_basic", _BASIC_STEMS)


@behaviour("sonic.stems_full")
def _stems_full(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    return _stems(st, key, body, now, "sonic.stems_full", _FULL_STEMS)


# ----------------------------------------------------------------------------- mashup


@behaviour("sonic.mashup")
def _mashup(st: EmulatorState, key: str, body: Body, _: str, now: float) -> tuple[int, bytes]:
    """Two clips of the caller's, blended: a sonic task of 2 new songs."""
    sources = [_clip(st, key, {"clip_id": c}, now) for c in body["mashup_clip_ids"]]
    lyrics = body.get("prompt") if body.get("custom_mode") else None
    _moderate(st, lyrics, body.get("gpt_description_prompt"), body.get("tags"), body.get("title"))
    charge = _pay(st, key, "sonic.mashup", body)
    task = st.generator.sonic(key, {**body, "task_type": "mashup"}, sources[0], now, charge)
    st.webhooks.schedule(task)
    return 200, _dump({"message": "success", "task_id": task.task_id})
