"""The per-family namespaces of ``MusicAPI``: ``api.sonic``, ``api.lyrics``, ``api.nuro``,
``api.studio``. Each method builds one request model and hands it to the client.

Keyword arguments carry MusicAPI's own wire field names, so the vendor's documentation
maps one to one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol, TypedDict, TypeVar, Unpack

import anyio

from ._convert import request_from_wire
from ._endpoints import (
    LYRICS_CREATE,
    SONIC_ALIGNED_LYRICS,
    SONIC_BPM,
    SONIC_DOWNLOAD,
    SONIC_MIDI,
    SONIC_PERSONA,
    SONIC_UPLOAD,
    SONIC_UPSAMPLE_TAGS,
    SONIC_VOX,
    SONIC_WAV,
)
from ._errors import InvalidRequest, TaskTimeout
from ._models import (
    BpmRequest,
    BpmResult,
    Family,
    LyricsCandidate,
    LyricsRequest,
    Persona,
    PersonaRequest,
    SonicRequest,
    SonicTaskType,
    TaskSnapshot,
    UploadedClip,
    UploadRequest,
)
from ._resources_tasks import SonicTaskMethods

if TYPE_CHECKING:
    from ._batch import SonicBatch
    from ._client import MusicAPI
    from ._jobs import Job
    from ._sonic_models import (
        AlignedLyrics,
        DownloadResult,
        MidiResult,
        UpsampledTags,
        VoxResult,
        WavResult,
    )

__all__ = ["LyricsAPI", "NuroAPI", "SonicAPI", "SonicOptions", "StudioAPI"]

# Seconds between two asks of a "still preparing" (202) utility, at the real API's pace.
_PREPARING_GAP: Final = 5.0


class _Readiable(Protocol):
    @property
    def ready(self) -> bool: ...


_Ready = TypeVar("_Ready", bound=_Readiable)


class SonicOptions(TypedDict, total=False):
    """Optional fields of ``POST /api/v1/sonic/create`` (MUSICAPI.md §3.2)."""

    prompt: str
    title: str
    tags: str
    negative_tags: str
    make_instrumental: bool
    gpt_description_prompt: str
    auto_lyrics: bool
    vocal_gender: str
    style_weight: float
    weirdness_constraint: float
    audio_weight: float
    variation_category: str
    overpainting_start_s: float
    overpainting_end_s: float
    use_suno_cdn: bool
    duration: int
    webhook_url: str
    webhook_secret: str


class _Namespace:
    def __init__(self, client: MusicAPI) -> None:
        self._client = client


class SonicAPI(SonicTaskMethods, _Namespace):
    """Sonic (Suno-based) generation: ``/api/v1/sonic/*``. Each create makes 2 clips."""

    async def _submit(self, task_type: SonicTaskType, **fields: Any) -> Job:
        return await self._client.submit(
            request_from_wire(SonicRequest, {"task_type": task_type, **fields})
        )

    async def create(self, *, custom_mode: bool, mv: str, **options: Unpack[SonicOptions]) -> Job:
        """Create a new song (``task_type: create_music``).

        Args:
            custom_mode: ``True``: your lyrics in ``prompt`` plus ``title``/``tags``;
                ``False``: the API writes from ``gpt_description_prompt``.
            mv: the model, e.g. ``"sonic-v5"``.
            **options: any other documented field (``prompt``, ``title``, ``tags``, …).
        """
        return await self._submit(SonicTaskType.CREATE_MUSIC, custom_mode=custom_mode, mv=mv,
                                  **options)  # fmt: skip

    async def extend(
        self,
        *,
        continue_clip_id: str,
        continue_at: float,
        custom_mode: bool,
        mv: str,
        upload: bool = False,
        **options: Unpack[SonicOptions],
    ) -> Job:
        """Continue a clip from ``continue_at`` seconds; the result is only the extension.

        Set ``upload=True`` for a clip from ``upload()`` (``extend_upload_music``). Join the
        extension to its source with ``concat()``.
        """
        task_type = (SonicTaskType.EXTEND_UPLOAD_MUSIC if upload
                     else SonicTaskType.EXTEND_MUSIC)  # fmt: skip
        return await self._submit(task_type, continue_clip_id=continue_clip_id,
                                  continue_at=continue_at, custom_mode=custom_mode, mv=mv,
                                  **options)  # fmt: skip

    async def concat(self, *, continue_clip_id: str) -> Job:
        """Join an extension clip with its source into the whole song (``concat_music``)."""
        return await self._submit(SonicTaskType.CONCAT_MUSIC, continue_clip_id=continue_clip_id)

    async def cover(
        self,
        *,
        continue_clip_id: str,
        custom_mode: bool,
        mv: str,
        upload: bool = False,
        **options: Unpack[SonicOptions],
    ) -> Job:
        """Re-style a clip (``cover_music``; ``upload=True`` for ``cover_upload_music``)."""
        task_type = SonicTaskType.COVER_UPLOAD_MUSIC if upload else SonicTaskType.COVER_MUSIC
        return await self._submit(task_type, continue_clip_id=continue_clip_id,
                                  custom_mode=custom_mode, mv=mv, **options)  # fmt: skip

    async def create_with_persona(
        self, *, persona_id: str, custom_mode: bool, mv: str, **options: Unpack[SonicOptions]
    ) -> Job:
        """Create a song in a persona's voice (``persona_music``)."""
        return await self._submit(SonicTaskType.PERSONA_MUSIC, persona_id=persona_id,
                                  custom_mode=custom_mode, mv=mv, **options)  # fmt: skip

    async def remaster(
        self, *, continue_clip_id: str, mv: str, **options: Unpack[SonicOptions]
    ) -> Job:
        """Remaster a clip (``remaster``; ``variation_category`` subtle/normal/high)."""
        return await self._submit(SonicTaskType.REMASTER, continue_clip_id=continue_clip_id,
                                  mv=mv, **options)  # fmt: skip

    async def create_persona(
        self,
        *,
        name: str,
        continue_clip_id: str | None = None,
        description: str | None = None,
        **newer: Any,
    ) -> Persona:
        """Create a persona (a reusable voice and style) from a recent clip.

        Args:
            name: at most 80 characters.
            continue_clip_id: the source clip (made within the last 24 hours); the newer
                documented spelling ``clip_id=`` is accepted too.
            description: the persona's style, at most 200 characters (or ``describe=``).
            **newer: the newer optional fields (``styles``, ``vox_audio_id``,
                ``vocal_start_s``, ``vocal_end_s``).

        Raises:
            InvalidRequest: an unknown field, or one given in both spellings.
        """
        fields = {"name": name, **newer}
        if continue_clip_id is not None:
            fields["continue_clip_id"] = continue_clip_id
        if description is not None:
            fields["description"] = description
        request = request_from_wire(PersonaRequest, fields)
        return await self._client.call(SONIC_PERSONA, request)

    async def bpm(self, *, clip_id: str) -> BpmResult:
        """A clip's tempo (average, max, min BPM); the clip should be at most 24 h old."""
        return await self._client.call(SONIC_BPM, BpmRequest(clip_id=clip_id))

    # -------------------------------------------------------- sonic utilities (issue 13)
    # Their models are imported in the methods: ``_sonic_models`` loads when a utility is
    # first used, not with the SDK (see ``_endpoints``).

    async def wav(self, *, clip_id: str) -> WavResult:
        """The URL of a clip's WAV master (``.wav_url``)."""
        from ._sonic_models import WavRequest

        return await self._client.call(SONIC_WAV, WavRequest(clip_id=clip_id))

    async def midi(self, *, clip_id: str, timeout: float = 300.0) -> MidiResult:
        """A clip's MIDI file and notes; "still preparing" answers are retried free.

        Raises:
            TaskTimeout: the MIDI was still being prepared after ``timeout`` seconds.
        """
        from ._sonic_models import MidiRequest

        request = MidiRequest(clip_id=clip_id)
        return await self._until_ready(
            lambda: self._client.call(SONIC_MIDI, request), clip_id, timeout
        )

    async def vox(
        self, *, clip_id: str, vocal_start_s: float | None = None,
        vocal_end_s: float | None = None,
    ) -> VoxResult:  # fmt: skip
        """The isolated vocals of a clip's range (at most 30 s, checked before sending)."""
        from ._sonic_models import VoxRequest

        request = VoxRequest(clip_id=clip_id, vocal_start_s=vocal_start_s,
                             vocal_end_s=vocal_end_s)  # fmt: skip
        return await self._client.call(SONIC_VOX, request)

    async def aligned_lyrics(self, *, clip_id: str) -> AlignedLyrics:
        """A clip's word-by-word lyrics timeline; billed on the first call, repeats free."""
        from ._sonic_models import AlignedLyricsRequest

        return await self._client.call(SONIC_ALIGNED_LYRICS, AlignedLyricsRequest(clip_id=clip_id))

    async def upsample_tags(self, *, tags: str) -> UpsampledTags:
        """A short tag string expanded into a richer style description."""
        from ._sonic_models import UpsampleTagsRequest

        return await self._client.call(SONIC_UPSAMPLE_TAGS, UpsampleTagsRequest(tags=tags))

    async def download(
        self, *, clip_id: str, formats: Sequence[str] = ("mp3",), timeout: float = 300.0
    ) -> DownloadResult:
        """A clip's files in ``formats`` (mp3, m4a, wav); "still preparing" retried free.

        Raises:
            SourcePurged: the clip's source audio is gone (404).
            TaskTimeout: the files were still being prepared after ``timeout`` seconds.
        """
        from ._sonic_models import DownloadRequest

        request = DownloadRequest(clip_id=clip_id, formats=tuple(formats))
        return await self._until_ready(
            lambda: self._client.call(SONIC_DOWNLOAD, request), clip_id, timeout
        )

    async def _until_ready(
        self, call: Callable[[], Awaitable[_Ready]], clip_id: str, timeout: float
    ) -> _Ready:
        """Repeat ``call`` while it answers "still preparing" (202), until ``timeout``.

        The server bills the first call for a clip and not the repeats (the emulator
        does the same), so repeating is free; the gap follows the poll policy's scale.
        """
        clock = self._client._clock
        deadline = clock() + timeout
        gap = _PREPARING_GAP / self._client.poll_policy.time_scale
        while True:
            result = await call()
            if result.ready:
                return result
            if clock() + gap > deadline:
                # No task exists: the clip id is what a caller asks again with.
                raise TaskTimeout(f"{clip_id}: still being prepared after {timeout:g} s",
                                  task_id=clip_id)  # fmt: skip
            await anyio.sleep(gap)

    async def stems(self, *, clip_id: str, full: bool = False) -> Job:
        """Split a clip into stems, as a task: its clips are the stems, each with its audio.

        ``full=False``: vocals and instrumental (``/stems/basic``, 30 credits); ``True``:
        every instrument (``/stems/full``, 75 credits).
        """
        from ._sonic_models import StemsFullRequest, StemsRequest

        request = StemsFullRequest(clip_id=clip_id) if full else StemsRequest(clip_id=clip_id)
        return await self._client.submit(request)

    async def mashup(
        self, *, mashup_clip_ids: Sequence[str], custom_mode: bool, mv: str, **options: Any
    ) -> Job:
        """Blend exactly two clips into a new song (a task; ``sonic-v4-5-all`` valid here).

        ``options`` are the other wire fields: ``prompt`` (custom mode) or
        ``gpt_description_prompt``, ``title``, ``tags``, weights, ``vocal_gender``...
        """
        from ._sonic_models import MashupRequest

        request = request_from_wire(MashupRequest, {
            "mashup_clip_ids": list(mashup_clip_ids), "custom_mode": custom_mode, "mv": mv,
            **options,
        })  # fmt: skip
        return await self._client.submit(request)

    # ----------------------------------------------------- end of sonic utilities

    async def upload(self, *, url: str, callback_url: str | None = None) -> UploadedClip:
        """Upload audio from a public URL; use the clip id with ``upload=True`` variants."""
        request = UploadRequest(url=url, callback_url=callback_url)
        return await self._client.call(SONIC_UPLOAD, request)

    async def get(self, task_id: str) -> TaskSnapshot:
        """Poll a sonic task once (free)."""
        return await self._client.get_task(task_id)

    # ------------------------------------------------------------ sonic batch (issue 13)

    async def batch(self, specs: Sequence[SonicRequest | Mapping[str, Any]]) -> SonicBatch:
        """Submit 1 to 10 sonic creates in one request (``POST /api/v1/sonic/batch``).

        Each spec is a ``SonicRequest`` (or its wire fields as a mapping), checked as a
        single create before anything is sent; each costs what it would alone. The
        accepted items' jobs wait, stream and resolve by webhook like any other, and
        their polls are shared: one ``GET /sonic/batch`` per tick for the whole batch.

        Returns:
            The batch id and, per spec in order, its ``Job`` or its ``BatchRefusal``
            (the server refused that item alone; its error typed as a create's).

        Raises:
            InvalidRequest: no spec, more than 10, or a spec a create would refuse.
            SubmissionOutcomeUnknown: the answer was lost (or a 5xx): every item may have
                been billed; its ``request`` holds them all, to reconcile.
            MusicAPIError: the whole batch was refused (credits, throttled out, ...).
        """
        from ._batch import submit_batch

        return await submit_batch(self._client, specs)


class LyricsAPI(_Namespace):
    """Lyrics generation (drawn from the separate lyrics-credit pool)."""

    async def generate(self, *, description: str) -> list[LyricsCandidate]:
        """Write lyrics for ``description`` (at most 120 characters); returns candidates."""
        return await self._client.call(LYRICS_CREATE, LyricsRequest(description=description))


class NuroAPI(_Namespace):
    """Nuro generation: one song per task, WAV audio, ~30 s."""

    async def create_vocal(
        self,
        *,
        lyrics: str,
        gender: str | None = None,
        genre: str | None = None,
        mood: str | None = None,
        timbre: str | None = None,
        duration: int | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> Job:
        """Create a song with vocals (``type: vocal``; lyrics at most 2000 characters)."""
        from ._nuro_models import NuroVocalRequest  # lazy: nuro is rarely used

        return await self._client.submit(NuroVocalRequest(
            lyrics=lyrics, gender=gender, genre=genre, mood=mood, timbre=timbre,
            duration=duration, webhook_url=webhook_url, webhook_secret=webhook_secret))  # fmt: skip

    async def create_instrumental(
        self,
        *,
        description: str,
        genre: Sequence[str] | None = None,
        mood: Sequence[str] | None = None,
        instrument: Sequence[str] | None = None,
        theme: Sequence[str] | None = None,
        duration: int | None = None,
        version: str | None = None,
        segments: Sequence[Mapping[str, Any]] | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> Job:
        """Create background music (``type: bgm``; up to 5 of each documented tag list)."""
        from ._nuro_models import NuroInstrumentalRequest  # lazy: nuro is rarely used

        def seq(values: Sequence[Any] | None) -> tuple[Any, ...] | None:
            return None if values is None else tuple(values)

        return await self._client.submit(NuroInstrumentalRequest(
            description=description, genre=seq(genre), mood=seq(mood),
            instrument=seq(instrument), theme=seq(theme), duration=duration, version=version,
            segments=seq(segments), webhook_url=webhook_url,
            webhook_secret=webhook_secret))  # fmt: skip

    async def get(self, task_id: str) -> TaskSnapshot:
        """Poll a nuro task once (free)."""
        return await self._client.get_task(task_id, Family.NURO)


class StudioAPI(_Namespace):
    """Studio generation (marked unavailable by the vendor; supported all the same)."""

    async def create(
        self,
        *,
        prompt: str,
        lyrics_type: str = "generate",
        model_type: str = "studio130-v1.5",
        mode: str = "regular",
        source_song_id: str | None = None,
        **fields: Any,
    ) -> Job:
        """Create songs in one of the four documented modes.

        Args:
            prompt: the description (``generate``), tags (``user``) or keywords
                (``instrumental``).
            lyrics_type: ``generate``, ``user`` (pass ``lyrics=``) or ``instrumental``.
            model_type: ``studio130-v1.5`` or ``studio32-v1.5``.
            mode: ``regular``, or ``precede``/``continuation`` to extend
                ``source_song_id``.
            **fields: other documented fields (``lyrics``, ``seed``, strengths, …).
        """
        from ._studio_models import StudioRequest  # lazy: studio is rarely used

        if "config" in fields and (mode != "regular" or source_song_id is not None):
            raise InvalidRequest("Give either config={...} or mode=/source_song_id=, not both.",
                                 field="config")  # fmt: skip
        if "config" not in fields:
            config: dict[str, Any] = {"mode": mode}
            if source_song_id is not None:
                config["source"] = {"song_id": source_song_id}
            if "context_length" in fields:
                config["context_length"] = fields.pop("context_length")
            fields["config"] = config
        return await self._client.submit(request_from_wire(StudioRequest, {
            "prompt": prompt, "lyrics_type": lyrics_type, "model_type": model_type,
            **fields}))  # fmt: skip

    async def get(self, task_id: str) -> TaskSnapshot:
        """Poll a studio task once (free)."""
        return await self._client.get_task(task_id, Family.STUDIO)
