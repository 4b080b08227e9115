"""Validators of the task-starting sonic endpoints' bodies (MUSICAPI.md §3.2, §10, §11).

Upload-extend, upload-cover and sample take the create family's generation fields, with
its per-model limits (``model_limits``) and messages; replace-section and create-voice
take their own few. Everything here runs before a request is sent (and in the emulator,
strict, so unknown keys fail loudly).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ._sonic_validation import SAMPLE_ONLY_MODEL
from ._validation_fields import (
    _URL,
    UPLOAD_URL_LIMIT,
    Kind,
    ModelLimits,
    _check_bool,
    _check_choice,
    _check_len,
    _check_range,
    _check_str,
    _check_types,
    _check_unknown,
    _check_webhook,
    _fail,
    model_limits,
)

__all__ = [
    "LEGACY_INFILL_MODELS",
    "validate_create_voice",
    "validate_replace_section",
    "validate_sample",
    "validate_upload_cover",
    "validate_upload_extend",
]

# The longest second a time field may name: a day, far past any song (8 min at most).
_MAX_SECONDS: Final = 86400
# replace-section needs sonic-v4 or newer (the vendor client's note): not v3.5.
LEGACY_INFILL_MODELS: Final = frozenset({"sonic-v3-5", "chirp-v3-5"})
_ACCESSIBLE: Final = "Audio URL is not accessible. Please provide a public direct audio file URL."

_GENERATION_KINDS: Final[Mapping[str, Kind]] = {
    **dict.fromkeys(("url", "mv", "prompt", "gpt_description_prompt", "title", "tags",
                     "negative_tags", "vocal_gender", "webhook_url", "webhook_secret",
                     "sample_clip_id", "clip_id", "infill_lyrics", "audio_url"), "str"),
    **dict.fromkeys(("custom_mode", "make_instrumental", "auto_concat", "auto_lyrics"),
                    "bool"),
    **dict.fromkeys(("continue_at", "style_weight", "weirdness_constraint", "audio_weight",
                     "chop_sample_start_s", "chop_sample_end_s", "infill_start_s",
                     "infill_end_s"), "number"),
}  # fmt: skip
_COMMON: Final = frozenset({
    "custom_mode", "mv", "prompt", "gpt_description_prompt", "make_instrumental", "title",
    "tags", "negative_tags", "style_weight", "weirdness_constraint", "audio_weight",
    "vocal_gender", "webhook_url", "webhook_secret",
})  # fmt: skip
_UPLOAD_COVER_FIELDS: Final = _COMMON | {"url", "auto_concat"}  # as the vendor client's
_UPLOAD_EXTEND_FIELDS: Final = _COMMON | {"url", "continue_at", "auto_concat"}
_SAMPLE_FIELDS: Final = _COMMON | {"url", "sample_clip_id", "chop_sample_start_s",
                                   "chop_sample_end_s", "auto_lyrics"}  # fmt: skip
_REPLACE_FIELDS: Final = frozenset({
    "clip_id", "mv", "infill_start_s", "infill_end_s", "prompt", "infill_lyrics", "title",
    "tags", "negative_tags", "style_weight", "weirdness_constraint", "vocal_gender",
    "auto_concat", "webhook_url", "webhook_secret",
})  # fmt: skip


def _types(body: Mapping[str, Any], allowed: frozenset[str], *, strict: bool) -> None:
    if strict:
        _check_unknown(body, allowed)
    _check_types(body, {k: v for k, v in _GENERATION_KINDS.items() if k in allowed})


def _audio_url(body: Mapping[str, Any], field: str) -> None:
    """A public http(s) URL of audio, as ``/sonic/upload`` takes it (its message, too)."""
    url = _check_str(body, field)
    if not url or not _URL.match(url):
        raise _fail(_ACCESSIBLE, field)
    _check_len(url, UPLOAD_URL_LIMIT, f"The '{field}' field should be at most {{limit}} "
               "characters.", field)  # fmt: skip


def _texts(body: Mapping[str, Any], limits: ModelLimits) -> None:
    """The text fields' per-model limits, with the create family's messages (§13)."""
    _check_len(
        _check_str(body, "prompt"),
        limits.prompt,
        "The prompt character length should be less than {limit}.",
        "prompt",
    )
    _check_len(
        _check_str(body, "gpt_description_prompt"),
        limits.description,
        "The 'gpt_description_prompt' character length should be less than {limit}.",
        "gpt_description_prompt",
    )
    _check_len(
        _check_str(body, "tags"),
        limits.tags,
        "The tags character length should be less than {limit}.",
        "tags",
    )
    _check_len(_check_str(body, "title"), limits.title,
               "The title character length should be less than {limit}.", "title")  # fmt: skip
    _check_choice(body, "vocal_gender", ("f", "m"))
    if body.get("vocal_gender") is not None and not limits.vocal_gender:
        raise _fail("The 'vocal_gender' field needs sonic-v4-5 or newer.", "vocal_gender")
    for field in ("style_weight", "weirdness_constraint", "audio_weight"):
        _check_range(body, field, 0, 1)
    _check_webhook(body)


def _generation(body: Mapping[str, Any], *, sample: bool = False, needs_text: bool) -> None:
    """``custom_mode``, ``mv`` and the texts of a generation from audio.

    Custom mode needs lyrics in ``prompt`` (unless instrumental); ``needs_text`` also
    needs ``gpt_description_prompt`` in description mode (a new song, not a continuation).
    """
    _check_bool(body, "custom_mode", required=True)
    for field in ("make_instrumental", "auto_concat", "auto_lyrics"):
        _check_bool(body, field)
    mv = body.get("mv")
    # sonic-v4-5-all's text limits are the v4.5 family's.
    limits = model_limits("sonic-v4-5" if sample and mv == SAMPLE_ONLY_MODEL else mv)
    if body.get("custom_mode"):
        if not body.get("prompt") and not body.get("make_instrumental"):
            raise _fail("The 'prompt' field is required when custom_mode = true.", "prompt")
    elif needs_text and not body.get("gpt_description_prompt"):
        raise _fail("The 'gpt_description_prompt' field is required when custom_mode = false.",
                    "gpt_description_prompt")  # fmt: skip
    if body.get("auto_lyrics") and body.get("custom_mode") is not True:
        raise _fail("The 'auto_lyrics' field needs custom_mode = true.", "auto_lyrics")
    _texts(body, limits)


def _window(body: Mapping[str, Any], start: str, end: str, *, required: bool) -> None:
    """Two times in seconds, both given (when ``required``), at least 0, start < end."""
    for field in (start, end):
        if body.get(field) is None:
            if required:
                raise _fail(f"The '{field}' field is required.", field)
            continue
        _check_range(body, field, 0, _MAX_SECONDS)
    low, high = body.get(start), body.get(end)
    if low is not None and high is not None and not low < high:
        raise _fail(f"The '{start}' field must be less than '{end}'.", start)


def validate_upload_extend(body: Mapping[str, Any], *, strict: bool) -> None:
    """An audio URL, where to continue it (optional, >= 0), and the generation fields."""
    _types(body, _UPLOAD_EXTEND_FIELDS, strict=strict)
    _audio_url(body, "url")
    _check_range(body, "continue_at", 0, _MAX_SECONDS)
    _generation(body, needs_text=False)


def validate_upload_cover(body: Mapping[str, Any], *, strict: bool) -> None:
    """An audio URL and the generation fields (``audio_weight`` 0-1)."""
    _types(body, _UPLOAD_COVER_FIELDS, strict=strict)
    _audio_url(body, "url")
    _generation(body, needs_text=False)


def validate_sample(body: Mapping[str, Any], *, strict: bool) -> None:
    """Exactly one of ``url``/``sample_clip_id``, a chop window, the generation fields.

    ``sonic-v4-5-all`` is valid here (MUSICAPI.md §11); ``make_instrumental`` is required
    (the vendor client's signature).
    """
    _types(body, _SAMPLE_FIELDS, strict=strict)
    has_url, has_clip = body.get("url") is not None, body.get("sample_clip_id") is not None
    if has_url == has_clip:
        raise _fail("Give exactly one of the 'url' and 'sample_clip_id' fields.",
                    "sample_clip_id" if has_clip else "url")  # fmt: skip
    if has_url:
        _audio_url(body, "url")
    elif not body.get("sample_clip_id"):
        raise _fail("The 'sample_clip_id' field is required.", "sample_clip_id")
    _window(body, "chop_sample_start_s", "chop_sample_end_s", required=True)
    _check_bool(body, "make_instrumental", required=True)
    _generation(body, sample=True, needs_text=True)


def validate_replace_section(body: Mapping[str, Any], *, strict: bool) -> None:
    """A clip, a model (sonic-v4 or newer), a span with start < end, and its texts."""
    _types(body, _REPLACE_FIELDS, strict=strict)
    if not _check_str(body, "clip_id"):
        raise _fail("The 'clip_id' field is required.", "clip_id")
    mv = body.get("mv")
    limits = model_limits(mv)
    if mv in LEGACY_INFILL_MODELS:
        raise _fail("The 'mv' field is invalid: replace section needs sonic-v4 or newer.", "mv")
    _window(body, "infill_start_s", "infill_end_s", required=True)
    _check_bool(body, "auto_concat")
    _check_len(_check_str(body, "infill_lyrics"), limits.prompt,
               "The infill_lyrics character length should be less than {limit}.",
               "infill_lyrics")  # fmt: skip
    _texts(body, limits)


def validate_create_voice(body: Mapping[str, Any], *, strict: bool) -> None:
    """A public audio URL (MP3/WAV of one speaker; its length is checked upstream)."""
    if strict:
        _check_unknown(body, frozenset({"audio_url", "webhook_url", "webhook_secret"}))
    _check_types(body, {"audio_url": "str", "webhook_url": "str", "webhook_secret": "str"})
    _audio_url(body, "audio_url")
    _check_webhook(body)
