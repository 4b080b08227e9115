"""The task-starting sonic methods of ``api.sonic`` that take audio (issue 13).

Kept apart from ``_resources`` so each module stays short; ``SonicAPI`` inherits them.
Keyword arguments are MusicAPI's wire field names; each method builds one request model
(validated before anything is sent) and submits it, returning its ``Job``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Unpack

from ._convert import request_from_wire
from ._endpoints import (
    SONIC_CREATE,
    SONIC_CREATE_VOICE,
    SONIC_REPLACE_SECTION,
    SONIC_SAMPLE,
    SONIC_UPLOAD_COVER,
    SONIC_UPLOAD_EXTEND,
    Endpoint,
)
from ._models import SonicTaskType

if TYPE_CHECKING:
    from ._client import MusicAPI
    from ._jobs import Job
    from ._resources import SonicOptions

__all__ = ["SonicTaskMethods"]


class SonicTaskMethods:
    """Upload-extend, upload-cover, sample, replace-section, create-voice, add_*."""

    _client: MusicAPI

    async def _submit_wire(self, ep: Endpoint[Any, Any], fields: Mapping[str, Any]) -> Job:
        """Submit ``ep``'s request model built from wire fields; ``None`` values are left
        out (not sent). The row names the model, whose module loads at its first use."""
        wire = {k: v for k, v in fields.items() if v is not None}
        return await self._client.submit(request_from_wire(ep.request_types[0], wire))

    async def upload_extend(
        self, *, url: str, custom_mode: bool, mv: str, continue_at: float | None = None,
        auto_concat: bool | None = None, **options: Any,
    ) -> Job:  # fmt: skip
        """Upload audio from ``url`` and extend it from ``continue_at`` seconds, as a task.

        With ``auto_concat=True`` each extension is also joined to the upload: the job's
        ``snapshot.pairs`` holds ``ClipPair(extended, full)``, and it is done only once
        every ``full`` is there (the API sends ``full: null`` while the concat runs).
        ``options``: the other wire fields (``prompt``, ``tags``, weights, ...).
        """
        return await self._submit_wire(SONIC_UPLOAD_EXTEND, {
            "url": url, "custom_mode": custom_mode, "mv": mv, "continue_at": continue_at,
            "auto_concat": auto_concat, **options})  # fmt: skip

    async def upload_cover(
        self, *, url: str, custom_mode: bool, mv: str, audio_weight: float | None = None,
        **options: Any,
    ) -> Job:  # fmt: skip
        """Upload audio from ``url`` and cover it (``audio_weight`` 0-1: closer to it)."""
        return await self._submit_wire(SONIC_UPLOAD_COVER, {
            "url": url, "custom_mode": custom_mode, "mv": mv, "audio_weight": audio_weight,
            **options})  # fmt: skip

    async def sample(
        self, *, chop_sample_start_s: float, chop_sample_end_s: float, custom_mode: bool,
        mv: str, make_instrumental: bool, url: str | None = None,
        sample_clip_id: str | None = None, **options: Any,
    ) -> Job:  # fmt: skip
        """A whole song from a window of audio: exactly one of ``url``/``sample_clip_id``.

        ``mv`` may be ``sonic-v4-5-all`` (valid here and for mashup only).

        Raises:
            InvalidRequest: both or neither audio source, or the window's start not
                before its end; nothing was sent.
        """
        return await self._submit_wire(SONIC_SAMPLE, {
            "url": url, "sample_clip_id": sample_clip_id,
            "chop_sample_start_s": chop_sample_start_s, "chop_sample_end_s": chop_sample_end_s,
            "custom_mode": custom_mode, "mv": mv, "make_instrumental": make_instrumental,
            **options})  # fmt: skip

    async def replace_section(
        self, *, clip_id: str, mv: str, infill_start_s: float, infill_end_s: float,
        prompt: str | None = None, infill_lyrics: str | None = None, **options: Any,
    ) -> Job:  # fmt: skip
        """Regenerate seconds ``infill_start_s`` to ``infill_end_s`` of a clip (a task).

        Raises:
            InvalidRequest: the start is not before the end, or ``mv`` is older than
                sonic-v4; nothing was sent.
        """
        return await self._submit_wire(SONIC_REPLACE_SECTION, {
            "clip_id": clip_id, "mv": mv, "infill_start_s": infill_start_s,
            "infill_end_s": infill_end_s, "prompt": prompt, "infill_lyrics": infill_lyrics,
            **options})  # fmt: skip

    async def create_voice(self, *, audio_url: str, **options: Any) -> Job:
        """Make a voice persona from a recording (public MP3/WAV, > 10 s, one speaker).

        A task: its succeeded clip carries ``persona_id``, for ``create_with_persona``.
        MusicAPI documents no path for it: this posts to ``/api/v1/sonic/create-voice``,
        the vendor client's (``musicapi-sdk`` 0.1.0).
        """
        return await self._submit_wire(SONIC_CREATE_VOICE, {"audio_url": audio_url, **options})

    async def add_vocals(
        self, *, continue_clip_id: str, mv: str, prompt: str, **options: Any
    ) -> Job:
        """Sing ``prompt`` (lyrics) over an instrumental clip (``task_type: add_vocals``).

        ``options``: the other ``SonicOptions`` (``overpainting_start_s``/``_end_s``, ...).
        """
        return await self._submit_wire(SONIC_CREATE, {
            "task_type": SonicTaskType.ADD_VOCALS, "continue_clip_id": continue_clip_id,
            "mv": mv, "prompt": prompt, **options})  # fmt: skip

    async def add_instrumental(
        self, *, continue_clip_id: str, mv: str, **options: Unpack[SonicOptions]
    ) -> Job:
        """Accompaniment for a vocal clip (``task_type: add_instrumental``)."""
        return await self._submit_wire(SONIC_CREATE, {
            "task_type": SonicTaskType.ADD_INSTRUMENTAL, "continue_clip_id": continue_clip_id,
            "mv": mv, **options})  # fmt: skip
