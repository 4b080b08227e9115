"""Validators of the newer sonic utilities' bodies (MUSICAPI.md §10), run before sending.

Kept apart from ``_validation`` (the original endpoints) so each family's rules stay short;
the helpers are ``_validation``'s, so the messages read the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ._sonic_models import DOWNLOAD_FORMATS
from ._validation_fields import _check_str, _check_types, _check_unknown, _fail, model_limits

__all__ = [
    "MAX_VOX_SPAN",
    "SAMPLE_ONLY_MODEL",
    "validate_download",
    "validate_mashup",
    "validate_upsample_tags",
    "validate_vox",
]

# The longest range /sonic/vox isolates, in seconds (sister site).
MAX_VOX_SPAN: Final = 30.0
# What /sonic/upsample-tags expands: the create family's newest tag limit.
_MAX_TAGS: Final = 1000


def _require_clip(body: Mapping[str, Any]) -> None:
    if not _check_str(body, "clip_id"):
        raise _fail("The 'clip_id' field is required.", "clip_id")


def validate_vox(body: Mapping[str, Any], *, strict: bool) -> None:
    """A clip, and optionally a vocal range of at most 30 s with its start before its end."""
    if strict:
        _check_unknown(body, frozenset({"clip_id", "vocal_start_s", "vocal_end_s"}))
    _check_types(body, {"clip_id": "str", "vocal_start_s": "number", "vocal_end_s": "number"})
    _require_clip(body)
    start, end = body.get("vocal_start_s"), body.get("vocal_end_s")
    for field, value in (("vocal_start_s", start), ("vocal_end_s", end)):
        if value is not None and value < 0:
            raise _fail(f"The '{field}' field should be at least 0.", field)
    if end is not None:
        # The server reads a missing start as 0, so an end alone is a range from 0.
        start = 0 if start is None else start
        if end <= start:
            raise _fail("The 'vocal_end_s' field should be greater than 'vocal_start_s'.",
                        "vocal_end_s")  # fmt: skip
        if end - start > MAX_VOX_SPAN:
            raise _fail(f"The vocal range should be at most {MAX_VOX_SPAN:g} seconds.",
                        "vocal_end_s")  # fmt: skip


def validate_upsample_tags(body: Mapping[str, Any], *, strict: bool) -> None:
    """A non-empty tag string within the create family's tag limit."""
    if strict:
        _check_unknown(body, frozenset({"tags"}))
    _check_types(body, {"tags": "str"})
    tags = _check_str(body, "tags")
    if not tags or not tags.strip():
        raise _fail("The 'tags' field is required.", "tags")
    if len(tags) > _MAX_TAGS:
        raise _fail(f"The tags character length should be less than {_MAX_TAGS}.", "tags")


def validate_download(body: Mapping[str, Any], *, strict: bool) -> None:
    """A clip and a non-empty list of known formats (mp3, m4a, wav), each once."""
    if strict:
        _check_unknown(body, frozenset({"clip_id", "formats"}))
    _check_types(body, {"clip_id": "str", "formats": "list"})
    _require_clip(body)
    formats = body.get("formats")
    if not formats:
        raise _fail("The 'formats' field should list at least one format.", "formats")
    for fmt in formats:
        if fmt not in DOWNLOAD_FORMATS:
            raise _fail(f"The 'formats' field should only contain {', '.join(DOWNLOAD_FORMATS)}.",
                        "formats")  # fmt: skip
    if len(set(formats)) != len(formats):
        raise _fail("The 'formats' field lists a format twice.", "formats")


# The model only sample and mashup take (a 400 on create, live).
SAMPLE_ONLY_MODEL: Final = "sonic-v4-5-all"
_MASHUP_FIELDS: Final = frozenset({
    "mashup_clip_ids", "custom_mode", "mv", "prompt", "gpt_description_prompt",
    "make_instrumental", "title", "tags", "negative_tags", "style_weight",
    "weirdness_constraint", "audio_weight", "vocal_gender", "auto_lyrics", "webhook_url",
    "webhook_secret",
})  # fmt: skip


def validate_mashup(body: Mapping[str, Any], *, strict: bool) -> None:
    """Exactly two distinct clips, a model (``sonic-v4-5-all`` allowed), and the texts."""
    if strict:
        _check_unknown(body, _MASHUP_FIELDS)
    _check_types(body, {
        "mashup_clip_ids": "list", "custom_mode": "bool", "mv": "str", "prompt": "str",
        "gpt_description_prompt": "str", "make_instrumental": "bool", "title": "str",
        "tags": "str", "negative_tags": "str", "style_weight": "number",
        "weirdness_constraint": "number", "audio_weight": "number", "vocal_gender": "str",
        "auto_lyrics": "bool", "webhook_url": "str", "webhook_secret": "str",
    })  # fmt: skip
    ids = body.get("mashup_clip_ids") or []
    if len(ids) != 2 or not all(isinstance(i, str) and i for i in ids) or ids[0] == ids[1]:
        raise _fail("The 'mashup_clip_ids' field should hold exactly two different clip ids.",
                    "mashup_clip_ids")  # fmt: skip
    if body.get("custom_mode") is None:
        raise _fail("The 'custom_mode' field is required.", "custom_mode")
    mv = body.get("mv")
    if mv != SAMPLE_ONLY_MODEL:
        model_limits(mv)
    text = "prompt" if body.get("custom_mode") else "gpt_description_prompt"
    if not body.get(text):
        raise _fail(f"The '{text}' field is required.", text)
    for field in ("style_weight", "weirdness_constraint", "audio_weight"):
        value = body.get(field)
        if value is not None and not 0 <= value <= 1:
            raise _fail(f"The '{field}' field must be between 0 and 1.", field)
