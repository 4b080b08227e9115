"""Turning accepted requests into tasks: references, timelines, clip contents.

Everything random is drawn from one seeded RNG, so the same requests in the same order
give the same ids, timelines and texts. Reference rules (answered with 400):

* ``extend_music``/``cover_music`` need a succeeded clip that was generated here;
  ``extend_upload_music``/``cover_upload_music`` need an uploaded one (§3.1);
  ``remaster``/``add_*`` and personas take either.
* ``concat_music`` needs an extension clip and yields one full song whose duration is
  the extension's ``continue_at`` plus its length; ``extend_*`` results model only the
  extension.
* ``persona_music`` needs a persona of the same key.
"""

from __future__ import annotations

import collections
import math
import random
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from .._models import ClipState, Family
from ._content import (
    INSTRUMENTAL_LYRICS,
    lyrics_candidates,
    make_lyrics,
    make_tags,
    make_title,
)
from ._ledger import Charge
from ._tasks import (
    FAILED_MESSAGE,
    OK,
    ClipKind,
    ClipRecord,
    F,
    P,
    R,
    S,
    Task,
    TaskStore,
    Timeline,
    WebhookTarget,
)

__all__ = ["Generator", "Rejected"]

_LEGACY_MODELS: Final = frozenset({"sonic-v3-5", "sonic-v4", "chirp-v3-5", "chirp-v4"})
_GENERATED_ONLY: Final = frozenset({"extend_music", "cover_music"})
_UPLOADED_ONLY: Final = frozenset({"extend_upload_music", "cover_upload_music"})
_EXTENDS: Final = frozenset({"extend_music", "extend_upload_music"})
_NEEDS_CLIP: Final = frozenset({"extend_music", "cover_music", "extend_upload_music",
                                "cover_upload_music", "concat_music", "remaster",
                                "add_instrumental", "add_vocals"})  # fmt: skip


# A clip's timeline before it gets its views: entry times and states.
_Plan = tuple[tuple[float, ...], tuple[ClipState, ...]]


class Rejected(Exception):
    """A request that passed validation but cannot be served: a 400 with ``message``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _webhook(body: Mapping[str, Any]) -> WebhookTarget | None:
    url = body.get("webhook_url")
    return WebhookTarget(url, body.get("webhook_secret")) if isinstance(url, str) else None


class Generator:
    """Creates tasks, uploads and personas in a ``TaskStore``.

    Args:
        store: where everything goes.
        seed: seeds every random choice; ``None`` seeds from the OS (ids differ per run).
        failure_rate: the chance that a new task fails.
    """

    def __init__(
        self, store: TaskStore, *, seed: int | None = 0, failure_rate: float = 0.0
    ) -> None:
        if not 0 <= failure_rate <= 1:
            raise ValueError("failure_rate must be between 0 and 1")
        self.store = store
        self.failure_rate = failure_rate
        self.base_url = ""
        self._rng = random.Random(seed)
        self._forced: collections.deque[bool] = collections.deque()  # True: partial

    # ---------------------------------------------------------------------- helpers

    def new_id(self) -> str:
        """A UUID v4 string from the run's RNG (repeatable only when it was seeded)."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def fail_next(self, count: int = 1, *, partial: bool = False) -> None:
        """Make the next ``count`` tasks fail (only their last clip, if ``partial``)."""
        self._forced.extend([partial] * count)

    def _failure(self) -> str | None:
        if self._forced:
            return "partial" if self._forced.popleft() else "all"
        if self.failure_rate and self._rng.random() < self.failure_rate:
            return "all"
        return None

    def media(self, clip_id: str) -> tuple[str, str, str]:
        """The final audio, image and stream URLs of a clip."""
        base = self.base_url
        return (
            f"{base}/media/audio/{clip_id}.wav",
            f"{base}/media/image/{clip_id}.png",
            f"{base}/media/stream/{clip_id}",
        )

    def _timeline(
        self,
        start: float,
        ready: float,
        spans: tuple[float, float, float],
        fail: bool,
        *,
        streams: bool,
    ) -> _Plan:
        """When each state starts. ``spans``: (pending, running, total) upper bounds."""
        u = self._rng.uniform
        pending, running, total = spans
        run_at = ready + u(pending * 0.5, pending)
        if fail:
            return (ready, run_at, run_at + u(0.3, 1.0) * running), (P, R, F)
        done = max(run_at + running * u(0.6, 1.0), start + u(total * 0.5, total))
        if not streams:
            return (ready, run_at, done), (P, R, OK)
        stream_at = run_at + u(0.6, 1.0) * (done - run_at) * 0.6
        return (ready, run_at, stream_at, done), (P, R, S, OK)

    def source(self, key: str, clip_id: str, now: float) -> ClipRecord:
        """The succeeded clip ``clip_id`` of ``key``.

        Raises:
            Rejected: the clip is unknown to ``key`` or has not succeeded.
        """
        record = self.store.clips.get(clip_id)
        if record is None or record.key != key:
            raise Rejected("clip not found.")
        if now < record.succeeded_at:
            raise Rejected("The clip has not succeeded yet.")
        return record

    # ------------------------------------------------------------------------ sonic

    def check_sonic(self, key: str, body: Mapping[str, Any], now: float) -> ClipRecord | None:
        """The clip a sonic create refers to; raises ``Rejected`` when it may not.

        Raises:
            Rejected: unknown or unfinished clip or persona, or the wrong kind of clip.
        """
        task_type = body.get("task_type") or "create_music"
        if task_type == "persona_music":
            persona = self.store.personas.get(str(body.get("persona_id")))
            if persona is None or persona[0] != key:
                raise Rejected("persona not found.")
            # A create-voice persona exists once its task has succeeded.
            voice = self.store.clips.get(persona[1])
            if voice is not None and now < voice.succeeded_at:
                raise Rejected("persona not found.")
        if task_type not in _NEEDS_CLIP:
            return None
        source = self.source(key, str(body.get("continue_clip_id")), now)
        if task_type in _GENERATED_ONLY and source.kind is ClipKind.UPLOAD:
            raise Rejected(
                f"The clip was uploaded: use task_type = "
                f"{task_type.replace('_music', '_upload_music')}."
            )
        if task_type in _UPLOADED_ONLY and source.kind is not ClipKind.UPLOAD:
            raise Rejected(
                f"The clip was not uploaded: use task_type = "
                f"{task_type.replace('_upload_music', '_music')}."
            )
        if task_type == "concat_music" and source.kind is not ClipKind.EXTENSION:
            raise Rejected("concat_music needs the clip id of an extension.")
        if task_type in _EXTENDS and float(body["continue_at"]) > source.duration:
            raise Rejected("The 'continue_at' field should be less than the clip's duration.")
        return source

    def sonic(
        self,
        key: str,
        body: Mapping[str, Any],
        source: ClipRecord | None,
        now: float,
        charge: Charge,
    ) -> Task:
        """Create a sonic task (2 clips; 1 for ``concat_music``) and its clip records."""
        u = self._rng.uniform
        task_id = self.new_id()
        task_type = str(body.get("task_type") or "create_music")
        concat = task_type == "concat_music"
        ready = now + (u(3, 8) if concat else u(5, 15))
        spans = (5.0, 25.0, 30.0) if concat else (10.0, 100.0, 240.0)
        failure = self._failure()
        title, tags, lyrics = self._texts(body, source)
        mv = (source.mv if concat and source else body.get("mv")) or "sonic-v4"
        wall = time.time()
        timelines, records = [], []
        count = 1 if concat else 2
        for n in range(count):
            clip_id = self.new_id()
            fail = failure == "all" or (failure == "partial" and n == count - 1)
            times, states = self._timeline(now, ready, spans, fail, streams=not concat)
            duration = self._duration(task_type, body, source, mv)
            audio, image, stream = self.media(clip_id)
            common = {
                "clip_id": clip_id,
                "state": "pending",
                "title": title,
                "tags": tags,
                "lyrics": lyrics,
                "image_url": None,
                "audio_url": None,
                "video_url": None,
                "created_at": _iso(wall),
                "mv": mv,
                "gpt_description_prompt": body.get("gpt_description_prompt")
                if body.get("custom_mode") is False
                else None,
                "duration": None,
                "negative_tags": body.get("negative_tags"),
                "style_weight": body.get("style_weight"),
                "weirdness_constraint": body.get("weirdness_constraint"),
            }
            by_state: dict[ClipState, dict[str, Any]] = {
                P: common,
                R: {**common, "state": "running"},
                S: {**common, "state": "streaming", "audio_url": stream, "image_url": image},
                OK: {**common, "state": "succeeded", "audio_url": audio, "image_url": image,
                     "duration": f"{duration:.2f}"},
                F: {**common, "state": "failed", "message": FAILED_MESSAGE},
            }  # fmt: skip
            timelines.append(Timeline(clip_id, times, states, tuple(by_state[s] for s in states)))
            extension = task_type in _EXTENDS
            records.append(
                ClipRecord(
                    clip_id,
                    key,
                    ClipKind.EXTENSION if extension else ClipKind.SONG,
                    duration,
                    math.inf if fail else times[-1],
                    task_id=task_id,
                    title=title,
                    mv=mv,
                    continue_at=float(body["continue_at"]) if extension else None,
                )
            )
        task = Task(
            task_id,
            Family.SONIC,
            key,
            task_type,
            now,
            ready,
            wall,
            tuple(timelines),
            charge,
            _webhook(body),
        )
        self.store.add(task, records)
        return task

    def _texts(self, body: Mapping[str, Any], source: ClipRecord | None) -> tuple[str, str, str]:
        rng = self._rng
        prompt = body.get("prompt")
        description = body.get("gpt_description_prompt")
        instrumental = bool(body.get("make_instrumental"))
        if (body.get("task_type") or "create_music") == "concat_music" and source:
            return source.title, "", ""
        if body.get("custom_mode"):
            seed_text = prompt if body.get("auto_lyrics") else None
            lyrics = make_lyrics(rng, prompt) if seed_text else (prompt or INSTRUMENTAL_LYRICS)
            title = body.get("title") or (source.title if source else make_title(rng, seed_text))
            tags = body.get("tags") or make_tags(rng, seed_text)
        else:
            title = (
                make_title(rng, description)
                if description
                else (source.title if source else make_title(rng))
            )
            tags = body.get("tags") or make_tags(rng, description)
            lyrics = make_lyrics(rng, description or prompt)
        return title, tags, INSTRUMENTAL_LYRICS if instrumental else lyrics

    def _duration(
        self, task_type: str, body: Mapping[str, Any], source: ClipRecord | None, mv: str
    ) -> float:
        u = self._rng.uniform
        if task_type == "concat_music" and source is not None:
            return (source.continue_at or 0.0) + source.duration
        target = body.get("duration")
        if isinstance(target, int):
            return target * u(0.95, 1.05)
        if task_type in _EXTENDS:
            return u(30, 90)
        if source is not None:
            return source.duration * u(0.97, 1.03)
        return u(60, 120) if mv in _LEGACY_MODELS else u(120, 240)

    # ------------------------------------------------------------------ nuro, studio

    def nuro(self, key: str, body: Mapping[str, Any], now: float, charge: Charge) -> Task:
        """Create a nuro task: one WAV song in ~30 emulated seconds."""
        task_id = self.new_id()
        fail = self._failure() is not None
        times, states = self._timeline(now, now, (5.0, 25.0, 35.0), fail, streams=False)
        duration = float(body.get("duration") or (60 if body.get("type") == "bgm" else 180))
        audio, _, _ = self.media(task_id)
        echo = {
            k: body.get(k)
            for k in ("genre", "mood", "gender", "timbre", "instrument", "theme", "description")
            if k in body
        }
        lyrics = body.get("lyrics") or INSTRUMENTAL_LYRICS
        base = {"audio_url": None, "lyrics": lyrics, "duration": 0.0, "type": body.get("type"),
                **echo}  # fmt: skip
        by_state = {
            P: base,
            R: base,
            OK: {**base, "audio_url": audio, "duration": duration},
            F: {**base, "message": FAILED_MESSAGE},
        }
        timeline = Timeline(task_id, times, states, tuple(by_state[s] for s in states))
        task = Task(
            task_id,
            Family.NURO,
            key,
            str(body.get("type")),
            now,
            now,
            time.time(),
            (timeline,),
            charge,
            _webhook(body),
        )
        record = ClipRecord(
            task_id, key, ClipKind.NURO, duration, math.inf if fail else times[-1], task_id=task_id
        )
        self.store.add(task, [record])
        return task

    def studio(self, key: str, body: Mapping[str, Any], now: float, charge: Charge) -> Task:
        """Create a studio task: two songs sharing the task's status."""
        task_id = self.new_id()
        fail = self._failure() is not None
        times, states = self._timeline(now, now, (10.0, 100.0, 120.0), fail, streams=False)
        short = body.get("model_type") == "studio32-v1.5"
        prompt = str(body.get("prompt") or "")
        tags = [t.strip() for t in prompt.split(",") if t.strip()]
        wall = time.time()
        timelines, records = [], []
        for _ in range(2):
            clip_id = self.new_id()
            audio, image, _ = self.media(clip_id)
            duration = self._rng.uniform(30, 32) if short else self._rng.uniform(120, 130)
            song = {
                "id": clip_id,
                "title": make_title(self._rng, prompt),
                "tags": tags,
                "lyrics": body.get("lyrics") or make_lyrics(self._rng, prompt),
                "liked": False,
                "likes": 0,
                "plays": 0,
                "artist": "EmulatedArtist",
                "song_path": audio,
                "image_path": image,
                "duration": round(duration, 2),
                "created_at": _iso(wall),
            }
            views = tuple(song if s is OK else {} for s in states)
            timelines.append(Timeline(clip_id, times, states, views))
            usable_at = math.inf if fail else times[-1]
            records.append(
                ClipRecord(clip_id, key, ClipKind.STUDIO, duration, usable_at, task_id=task_id)
            )
        task = Task(
            task_id,
            Family.STUDIO,
            key,
            str(body.get("lyrics_type")),
            now,
            now,
            wall,
            tuple(timelines),
            charge,
        )
        self.store.add(task, records)
        return task

    # ------------------------------------------------------------- upload, persona

    def upload(self, key: str, url: str, now: float) -> ClipRecord:
        """Register an uploaded clip (synchronous, usable at once)."""
        name = url.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "Upload"
        record = ClipRecord(
            self.new_id(), key, ClipKind.UPLOAD, self._rng.uniform(6, 60), now, title=name[:80]
        )
        self.store.clips[record.clip_id] = record
        return record

    def persona(self, key: str, clip_id: str) -> str:
        """Create a persona of ``key`` from ``clip_id`` (checked with ``source`` first)."""
        persona_id = self.new_id()
        self.store.personas[persona_id] = (key, clip_id)
        return persona_id

    def lyrics(self, description: str) -> list[dict[str, str]]:
        """The two lyrics candidates for ``description``."""
        return lyrics_candidates(self._rng, description)
