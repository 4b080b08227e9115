"""Requests and results of the newer sonic utilities (MUSICAPI.md §10).

Several answers are marked UNKNOWN in the docs: every result keeps the fields it does not
name in ``extra``, and every field it names that the docs do not pin down is optional, so
a drifting answer reaches the caller instead of failing the parse. The shapes named here
are the ones the vendor client (``musicapi-sdk`` 0.1.0) reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

__all__ = [
    "DOWNLOAD_FORMATS",
    "AlignedLyrics",
    "AlignedLyricsRequest",
    "AlignedWord",
    "DownloadRequest",
    "DownloadResult",
    "MashupRequest",
    "MidiRequest",
    "MidiResult",
    "StemsFullRequest",
    "StemsRequest",
    "UpsampleTagsRequest",
    "UpsampledTags",
    "VoxRequest",
    "VoxResult",
    "WavRequest",
    "WavResult",
]

# The formats ``/sonic/download`` prepares (sister site, 2026-09).
DOWNLOAD_FORMATS: Final = ("mp3", "m4a", "wav")


# ------------------------------------------------------------------ sonic utilities


@attrs.frozen(kw_only=True)
class WavRequest:
    """Body of ``POST /api/v1/sonic/wav``."""

    clip_id: str


@attrs.frozen(kw_only=True)
class WavResult:
    """Where a clip's WAV master can be fetched (a CDN URL)."""

    wav_url: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class MidiRequest:
    """Body of ``POST /api/v1/sonic/midi``."""

    clip_id: str


@attrs.frozen(kw_only=True)
class MidiResult:
    """A clip's MIDI transcription: the file and its instruments' notes.

    ``midi_url`` is ``None`` only in a "still preparing" answer, which the SDK retries.
    """

    midi_url: str | None = None
    instruments: tuple[Mapping[str, Any], ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def ready(self) -> bool:
        """Whether the MIDI file exists (a 202 answer says it is still being built)."""
        return self.midi_url is not None


@attrs.frozen(kw_only=True)
class VoxRequest:
    """Body of ``POST /api/v1/sonic/vox``: the isolated vocals of at most 30 s of a clip."""

    clip_id: str
    vocal_start_s: float | None = None
    vocal_end_s: float | None = None


@attrs.frozen(kw_only=True)
class VoxResult:
    """The isolated-vocal audio of a clip's range."""

    vox_audio_id: str | None = None
    status: str | None = None
    source_clip_id: str | None = None
    vocal_start_s: float | None = None
    vocal_end_s: float | None = None
    wave_response: Any = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class AlignedLyricsRequest:
    """Body of ``POST /api/v1/sonic/aligned-lyrics``."""

    clip_id: str


@attrs.frozen(kw_only=True)
class AlignedWord:
    """One word of the lyrics and when it is sung."""

    word: str
    start_s: float | None = None
    end_s: float | None = None
    p_align: float | None = None
    success: bool | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class AlignedLyrics:
    """A clip's lyrics timeline, word by word. The first call is billed, repeats are free."""

    alignment: tuple[AlignedWord, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class UpsampleTagsRequest:
    """Body of ``POST /api/v1/sonic/upsample-tags``."""

    tags: str


@attrs.frozen(kw_only=True)
class UpsampledTags:
    """A short tag string expanded into a richer style description."""

    upsampled_tags: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class DownloadRequest:
    """Body of ``POST /api/v1/sonic/download``: the formats to prepare."""

    clip_id: str
    formats: tuple[str, ...] = ("mp3",)


@attrs.frozen(kw_only=True)
class DownloadResult:
    """The prepared files of a clip, by format (``{"wav": url, ...}``; shape UNKNOWN).

    ``files`` is empty only in a "still preparing" (202) answer, which the SDK retries.
    """

    clip_id: str | None = None
    files: Mapping[str, Any] = attrs.field(factory=dict)
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def ready(self) -> bool:
        """Whether the files are prepared."""
        return bool(self.files)


# ---------------------------------------------------------------- sonic tasks to poll


@attrs.frozen(kw_only=True)
class StemsRequest:
    """Body of ``POST /api/v1/sonic/stems/basic``: vocals and instrumental, as a task."""

    clip_id: str


@attrs.frozen(kw_only=True)
class StemsFullRequest:
    """Body of ``POST /api/v1/sonic/stems/full``: every instrument's stem, as a task."""

    clip_id: str


@attrs.frozen(kw_only=True)
class SongFields:
    """The optional fields every song-making sonic body shares (MUSICAPI.md §3.2).

    Mashup, upload-cover, upload-extend, sample and replace-section take them with the
    same meaning as a create; each request adds its own fields to these.
    """

    prompt: str | None = None
    title: str | None = None
    tags: str | None = None
    negative_tags: str | None = None
    style_weight: float | None = None
    weirdness_constraint: float | None = None
    vocal_gender: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class MashupRequest(SongFields):
    """Body of ``POST /api/v1/sonic/mashup``: two clips blended into a new song.

    ``mv`` may be ``sonic-v4-5-all``, valid here (and for sample) only.
    """

    mashup_clip_ids: tuple[str, ...]
    custom_mode: bool
    mv: str
    gpt_description_prompt: str | None = None
    make_instrumental: bool | None = None
    audio_weight: float | None = None
    auto_lyrics: bool | None = None
