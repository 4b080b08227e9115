"""Requests of the sonic endpoints that start tasks from audio (MUSICAPI.md §2.2, §10).

Upload-and-extend, upload-and-cover, sample, replace-section and create-voice each answer
with a task id, polled at ``/api/v1/sonic/task/{id}`` like any create. Their bodies carry
MusicAPI's wire field names; fields the docs list as optional are ``None`` (not sent).
Their answers are ``TaskAccepted``; the extra keys some of them send (``steps``,
``failed_step``, create-voice's ``warning``) are kept in its ``extra``.

Upload-extend with ``auto_concat`` polls as pairs ``{extended, full}``: see
``TaskSnapshot.pairs`` and ``ClipPair``.
"""

from __future__ import annotations

import attrs

from ._sonic_models import SongFields

__all__ = [
    "CreateVoiceRequest",
    "ReplaceSectionRequest",
    "SampleRequest",
    "UploadCoverRequest",
    "UploadExtendRequest",
]


@attrs.frozen(kw_only=True)
class UploadCoverRequest(SongFields):
    """Body of ``POST /api/v1/sonic/upload-cover``: upload audio by URL, then cover it."""

    url: str
    custom_mode: bool
    mv: str
    gpt_description_prompt: str | None = None
    make_instrumental: bool | None = None
    audio_weight: float | None = None
    # In the vendor client's parameters for upload-cover too; its effect there is UNKNOWN.
    auto_concat: bool | None = None


@attrs.frozen(kw_only=True)
class UploadExtendRequest(SongFields):
    """Body of ``POST /api/v1/sonic/upload-extend``: upload audio by URL, then extend it.

    ``continue_at``: seconds into the upload where the extension starts (0.1 is the
    documented advice for uploads). ``auto_concat``: also join each extension to the
    upload; the task then polls as ``{extended, full}`` pairs.
    """

    url: str
    custom_mode: bool
    mv: str
    continue_at: float | None = None
    auto_concat: bool | None = None
    gpt_description_prompt: str | None = None
    make_instrumental: bool | None = None
    audio_weight: float | None = None


@attrs.frozen(kw_only=True)
class SampleRequest(SongFields):
    """Body of ``POST /api/v1/sonic/sample``: a whole song from a window of audio.

    Exactly one of ``url`` (audio uploaded first) and ``sample_clip_id`` (a clip of yours)
    names the audio; ``chop_sample_start_s``/``chop_sample_end_s`` the window.
    ``mv`` may be ``sonic-v4-5-all``, valid here (and for mashup) only.
    """

    chop_sample_start_s: float
    chop_sample_end_s: float
    custom_mode: bool
    mv: str
    make_instrumental: bool
    url: str | None = None
    sample_clip_id: str | None = None
    gpt_description_prompt: str | None = None
    audio_weight: float | None = None
    auto_lyrics: bool | None = None


@attrs.frozen(kw_only=True)
class ReplaceSectionRequest(SongFields):
    """Body of ``POST /api/v1/sonic/replace-section``: regenerate a span of a clip (infill).

    ``infill_start_s < infill_end_s``, seconds into ``clip_id``; ``infill_lyrics`` are
    the lyrics sung in the span, ``prompt`` the whole song's.
    """

    clip_id: str
    mv: str
    infill_start_s: float
    infill_end_s: float
    infill_lyrics: str | None = None
    auto_concat: bool | None = None


@attrs.frozen(kw_only=True)
class CreateVoiceRequest:
    """Body of ``POST /api/v1/sonic/create-voice``: a persona from a recording of a voice.

    The path is the vendor client's (``musicapi-sdk`` 0.1.0); MusicAPI documents the page
    but not its path. ``audio_url``: a public MP3 or WAV, over 10 s, one clear speaker.
    """

    audio_url: str
    webhook_url: str | None = None
    webhook_secret: str | None = attrs.field(default=None, repr=False)
