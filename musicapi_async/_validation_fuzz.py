"""Validators of the FUZZ families: producer and riffusion (MUSICAPI.md §15).

Kept apart from ``_validation`` (sonic, nuro, studio) but built from its checks, with
the same messages. Legacy spellings the API still accepts (``starts``, ``ends``,
``lyrics_text``, ``cover_strength``) are checked like the current ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ._validation_fields import (
    Kind,
    _check_bool,
    _check_choice,
    _check_len,
    _check_range,
    _check_str,
    _check_types,
    _check_unknown,
    _check_url,
    _check_webhook,
    _fail,
)

__all__ = [
    "PRODUCER_RETIRED",
    "RIFFUSION_MODELS",
    "validate_producer",
    "validate_producer_download",
    "validate_producer_upload",
    "validate_riffusion",
    "validate_riffusion_upload",
]

# Answered 410 Gone by the API: let through here, so the caller gets the API's own
# answer (``EndpointGone``) rather than a guess that may go stale (cover came back).
PRODUCER_RETIRED: Final = frozenset({"music_variation", "swap_music_vocals", "swap_music_sound"})
_PRODUCER_TYPES: Final = (
    frozenset(
        {
            "create_music",
            "extend_music",
            "extend_upload_music",
            "replace_music",
            "replace_upload_music",
            "cover_music",
        }
    )
    | PRODUCER_RETIRED
)
_PRODUCER_KINDS: Final[Mapping[str, Kind]] = {
    **dict.fromkeys(
        (
            "task_type",
            "sound",
            "lyrics",
            "mv",
            "title",
            "clip_id",
            "instruction",
            "lyrics_text",
            "webhook_url",
            "webhook_secret",
        ),
        "str",
    ),
    **dict.fromkeys(
        (
            "starts_at",
            "ends_at",
            "strength",
            "extend_s",
            "lyrics_strength",
            "sound_strength",
            "weirdness",
            "starts",
            "ends",
            "cover_strength",
        ),
        "number",
    ),
    "length": "int",
    "make_instrumental": "bool",
}
_PRODUCER_FIELDS: Final = frozenset(_PRODUCER_KINDS) | {"seed", "bpm"}
_RIFFUSION_TYPES: Final = (
    "create_music",
    "extend_music",
    "cover_music",
    "replace_music",
    "swap_music_sound",
    "swap_music_vocals",
    "extend_upload_music",
    "cover_upload_music",
    "replace_upload_music",
    "swap_upload_music_sound",
    "swap_upload_music_vocals",
)
RIFFUSION_MODELS: Final = ("FUZZ-1.1 Pro", "FUZZ-1.0 Pro", "FUZZ-1.1", "FUZZ-1.0")
_RIFFUSION_KINDS: Final[Mapping[str, Kind]] = {
    **dict.fromkeys(
        ("task_type", "mv", "lyrics", "prompt", "sound", "title", "continue_clip_id"), "str"
    ),
    **dict.fromkeys(
        ("vocal_variation", "continue_at", "replace_start_time", "replace_end_time"), "number"
    ),
    **dict.fromkeys(("custom_mode", "make_instrumental"), "bool"),
}
_TITLE: Final = "The title character length should be less than {limit}."


def _either(body: Mapping[str, Any], field: str, legacy: str) -> Any:
    value = body.get(field)
    return body.get(legacy) if value is None else value


def validate_producer(body: Mapping[str, Any], *, strict: bool) -> None:
    """``POST /api/v1/producer/create``: one song per task, under the FUZZ/Lyria models."""
    if strict:
        _check_unknown(body, _PRODUCER_FIELDS)
    _check_types(body, _PRODUCER_KINDS)
    task_type = body.get("task_type") or "create_music"
    if strict or task_type in _PRODUCER_TYPES:
        _check_choice({"task_type": task_type}, "task_type", sorted(_PRODUCER_TYPES))
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | str)):
        raise _fail("The 'seed' field should be an integer or a string.", "seed")
    mv = body.get("mv")
    if mv is not None and not mv.startswith(("FUZZ-", "Lyria")):
        raise _fail("The 'mv' field is invalid. The model should be 'FUZZ-2.0'.", "mv")
    _check_len(_check_str(body, "title"), 80, _TITLE, "title")
    _check_bool(body, "make_instrumental")
    _check_webhook(body)
    if task_type == "create_music":
        if not (body.get("sound") or body.get("lyrics") or body.get("lyrics_text")):
            raise _fail("The 'sound' or 'lyrics' field is required.", "sound")
        return
    if task_type in PRODUCER_RETIRED:
        return  # the API's 410 says it
    if not body.get("clip_id"):
        raise _fail(f"The 'clip_id' field is required when task_type = {task_type}.", "clip_id")
    _check_range(body, "length", 1, 240, integer=True)
    _check_range(body, "strength", 0, 1)
    _check_range(body, "cover_strength", 0, 1)
    starts = _either(body, "starts_at", "starts")
    ends = _either(body, "ends_at", "ends")
    for name, value in (("starts_at", starts), ("ends_at", ends)):
        if value is not None and value < 0:
            raise _fail(f"The '{name}' field must be at least 0.", name)
    if task_type.startswith("replace"):
        if starts is None or ends is None:
            raise _fail(
                f"The 'starts_at' and 'ends_at' fields are required when task_type = {task_type}.",
                "starts_at",
            )
        if ends <= starts:
            raise _fail("The 'ends_at' field should be greater than 'starts_at'.", "ends_at")


def validate_producer_upload(body: Mapping[str, Any], *, strict: bool) -> None:
    """``POST /api/v1/producer/upload``: ``audio_url`` (``url`` accepted too)."""
    if strict:
        _check_unknown(body, frozenset({"audio_url", "url", "webhook_url", "webhook_secret"}))
    _check_types(body, dict.fromkeys(("audio_url", "url", "webhook_url", "webhook_secret"), "str"))
    field = "audio_url" if body.get("audio_url") is not None else "url"
    if not body.get(field):
        raise _fail("The 'audio_url' field is required.", "audio_url")
    _check_url(body, field, 2048)
    _check_webhook(body)


def validate_producer_download(body: Mapping[str, Any], *, strict: bool) -> None:
    """``POST /api/v1/producer/download``: a clip id and a format (mp3, the default, or wav)."""
    if strict:
        _check_unknown(body, frozenset({"clip_id", "format", "webhook_url", "webhook_secret"}))
    _check_types(body, dict.fromkeys(("clip_id", "format", "webhook_url", "webhook_secret"), "str"))
    if not body.get("clip_id"):
        raise _fail("The 'clip_id' field is required.", "clip_id")
    _check_choice(body, "format", ("mp3", "wav"))
    _check_webhook(body)


def validate_riffusion(body: Mapping[str, Any], *, strict: bool) -> None:
    """``POST /api/v1/riffusion/create``: the deprecated FUZZ-1.x family, two songs a task."""
    if strict:
        _check_unknown(body, frozenset(_RIFFUSION_KINDS))
    _check_types(body, _RIFFUSION_KINDS)
    _check_bool(body, "custom_mode", required=True)
    _check_bool(body, "make_instrumental", required=True)
    if body.get("mv") is None:
        raise _fail("The 'mv' field is required.", "mv")
    _check_choice(body, "mv", RIFFUSION_MODELS)
    task_type = body.get("task_type") or "create_music"
    _check_choice({"task_type": task_type}, "task_type", _RIFFUSION_TYPES)
    _check_len(_check_str(body, "title"), 80, _TITLE, "title")
    _check_len(
        _check_str(body, "lyrics"),
        3000,
        "The lyrics character length should be less than {limit}.",
        "lyrics",
    )
    _check_len(
        _check_str(body, "sound"),
        200,
        "The sound character length should be less than {limit}.",
        "sound",
    )
    _check_len(
        _check_str(body, "prompt"),
        200,
        "The prompt character length should be less than {limit}.",
        "prompt",
    )
    _check_range(body, "vocal_variation", 0, 1)
    if task_type == "create_music" and not body["custom_mode"] and not body.get("prompt"):
        raise _fail("The 'prompt' field is required when custom_mode = false.", "prompt")
    if task_type != "create_music" and not body.get("continue_clip_id"):
        raise _fail(
            f"The 'continue_clip_id' field is required when task_type = {task_type}.",
            "continue_clip_id",
        )
    if task_type.startswith("extend") and body.get("continue_at") is None:
        raise _fail(
            f"The 'continue_at' field is required when task_type = {task_type}.", "continue_at"
        )
    _check_range(body, "continue_at", 0, 1e9)


def validate_riffusion_upload(body: Mapping[str, Any], *, strict: bool) -> None:
    """``POST /api/v1/riffusion/upload``: a public URL of copyright-free audio."""
    if strict:
        _check_unknown(body, frozenset({"url"}))
    _check_types(body, {"url": "str"})
    if not body.get("url"):
        raise _fail(
            "Audio URL is not accessible. Please provide a public direct audio file URL.", "url"
        )
    _check_url(body, "url", 2048)
