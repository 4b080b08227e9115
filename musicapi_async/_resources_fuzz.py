"""``api.producer`` and ``api.riffusion``: the FUZZ families (MUSICAPI.md §15).

Producer makes one song per task (create, extend, replace, cover; upload and download
are tasks too). Riffusion is deprecated upstream but documented: each call warns once
per client, and a task is done only once both of its songs are there.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from ._convert import request_from_wire
from ._endpoints import RIFFUSION_UPLOAD
from ._fuzz_models import (
    ProducerDownloadRequest,
    ProducerRequest,
    ProducerTaskType,
    ProducerUploadRequest,
    RiffusionRequest,
    RiffusionTaskType,
    RiffusionUploadRequest,
)
from ._models import Family, TaskSnapshot, UploadedClip

if TYPE_CHECKING:
    from ._client import MusicAPI
    from ._jobs import Job

__all__ = ["ProducerAPI", "RiffusionAPI"]


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class ProducerAPI:
    """Producer generation: ``/api/v1/producer/*``. Each task makes one song.

    Fields the current model accepts but ignores (``make_instrumental``,
    ``lyrics_strength``, ``sound_strength``, ``weirdness``) are sent as given.
    """

    def __init__(self, client: MusicAPI) -> None:
        self._client = client

    async def create_task(self, task_type: str | ProducerTaskType, **fields: Any) -> Job:
        """Send any ``task_type`` with wire-named ``fields`` (legacy spellings included).

        A retired task type (``music_variation``, ``swap_music_vocals``,
        ``swap_music_sound``) is answered 410: ``EndpointGone``, never billed.
        """
        body = {"task_type": ProducerTaskType(task_type), **_given(**fields)}
        return await self._client.submit(request_from_wire(ProducerRequest, body))

    async def create(
        self,
        *,
        sound: str | None = None,
        lyrics: str | None = None,
        mv: str = "FUZZ-2.0",
        title: str | None = None,
        seed: int | str | None = None,
        make_instrumental: bool | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        **fields: Any,
    ) -> Job:
        """A new song from a ``sound`` (style) and/or ``lyrics``; ``title`` at most 80."""
        return await self.create_task(
            ProducerTaskType.CREATE_MUSIC,
            sound=sound,
            lyrics=lyrics,
            mv=mv,
            title=title,
            seed=seed,
            make_instrumental=make_instrumental,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            **fields,
        )

    async def extend(
        self,
        *,
        clip_id: str,
        starts_at: float | None = None,
        length: int | None = None,
        instruction: str | None = None,
        lyrics: str | None = None,
        upload: bool = False,
        **fields: Any,
    ) -> Job:
        """Continue ``clip_id`` from ``starts_at`` for ``length`` seconds (1-240, 60 default).

        ``upload=True`` for a clip from ``upload()`` (``extend_upload_music``).
        """
        task_type = (
            ProducerTaskType.EXTEND_UPLOAD_MUSIC if upload else ProducerTaskType.EXTEND_MUSIC
        )
        return await self.create_task(
            task_type,
            clip_id=clip_id,
            starts_at=starts_at,
            length=length,
            instruction=instruction,
            lyrics=lyrics,
            **fields,
        )

    async def replace(
        self,
        *,
        clip_id: str,
        starts_at: float,
        ends_at: float,
        instruction: str | None = None,
        upload: bool = False,
        **fields: Any,
    ) -> Job:
        """Regenerate the section of ``clip_id`` between ``starts_at`` and ``ends_at``."""
        task_type = (
            ProducerTaskType.REPLACE_UPLOAD_MUSIC if upload else ProducerTaskType.REPLACE_MUSIC
        )
        return await self.create_task(
            task_type,
            clip_id=clip_id,
            starts_at=starts_at,
            ends_at=ends_at,
            instruction=instruction,
            **fields,
        )

    async def cover(self, *, clip_id: str, strength: float | None = None, **fields: Any) -> Job:
        """A cover of ``clip_id``; ``strength`` 0-1 (re-enabled upstream 2026-05-20)."""
        return await self.create_task(
            ProducerTaskType.COVER_MUSIC, clip_id=clip_id, strength=strength, **fields
        )

    async def upload(
        self, *, url: str, webhook_url: str | None = None, webhook_secret: str | None = None
    ) -> Job:
        """Import audio from a public URL; the task's song is the uploaded clip."""
        return await self._client.submit(
            ProducerUploadRequest(
                audio_url=url, webhook_url=webhook_url, webhook_secret=webhook_secret
            )
        )

    async def download(self, *, clip_id: str, format: str | None = None) -> Job:
        """Ask for a clip's file (``"mp3"``, the default, or ``"wav"``): a task to wait on."""
        return await self._client.submit(ProducerDownloadRequest(clip_id=clip_id, format=format))

    async def get(self, task_id: str) -> TaskSnapshot:
        """Poll a producer task once (free)."""
        return await self._client.get_task(task_id, Family.PRODUCER)


class RiffusionAPI:
    """Riffusion (FUZZ-1.x) generation: ``/api/v1/riffusion/*``, deprecated upstream.

    The first call on a client emits a ``DeprecationWarning``; each task makes two songs.
    """

    def __init__(self, client: MusicAPI) -> None:
        self._client = client
        self._warned = False

    def _warn(self) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(
                "MusicAPI marks riffusion as deprecated; prefer api.producer or "
                "api.sonic for new work",
                DeprecationWarning,
                stacklevel=3,
            )

    async def create(
        self,
        *,
        task_type: str | RiffusionTaskType = RiffusionTaskType.CREATE_MUSIC,
        mv: str = "FUZZ-1.1",
        custom_mode: bool = False,
        make_instrumental: bool = False,
        **fields: Any,
    ) -> Job:
        """Any documented ``task_type`` (create, extend, cover, replace, swap sound or
        vocals, and their ``*_upload_music`` variants) with wire-named ``fields``
        (``prompt``, ``lyrics``, ``sound``, ``title``, ``continue_clip_id``, ...).
        """
        self._warn()
        body = {
            "task_type": RiffusionTaskType(task_type),
            "mv": mv,
            "custom_mode": custom_mode,
            "make_instrumental": make_instrumental,
            **_given(**fields),
        }
        return await self._client.submit(request_from_wire(RiffusionRequest, body))

    async def upload(self, *, url: str) -> UploadedClip:
        """Upload copyright-free audio from a public URL; use its clip id in ``*_upload_*``."""
        self._warn()
        return await self._client.call(RIFFUSION_UPLOAD, RiffusionUploadRequest(url=url))

    async def get(self, task_id: str) -> TaskSnapshot:
        """Poll a riffusion task once (free); done once both songs are there."""
        self._warn()
        return await self._client.get_task(task_id, Family.RIFFUSION)
