"""The rules of the sonic tasks from audio, as ``validate_body`` applies them before sending."""

from __future__ import annotations

from typing import Any

import pytest

from musicapi_async import InvalidRequest, validate_body

URL = "https://example.com/audio/demo.mp3"
EXTEND: dict[str, Any] = {"url": URL, "custom_mode": True, "mv": "sonic-v5", "prompt": "[V]"}
COVER: dict[str, Any] = {"url": URL, "custom_mode": False, "mv": "sonic-v5"}
SAMPLE: dict[str, Any] = {"url": URL, "chop_sample_start_s": 0, "chop_sample_end_s": 5,
                          "custom_mode": False, "mv": "sonic-v4-5-all",
                          "make_instrumental": False,
                          "gpt_description_prompt": "drums"}  # fmt: skip
REPLACE: dict[str, Any] = {"clip_id": "c1", "mv": "sonic-v4", "infill_start_s": 1,
                           "infill_end_s": 2}  # fmt: skip
VOICE: dict[str, Any] = {"audio_url": URL}


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("sonic.upload_extend", EXTEND),
        ("sonic.upload_extend", {**EXTEND, "continue_at": 0.1, "auto_concat": True}),
        ("sonic.upload_cover", {**COVER, "audio_weight": 1}),
        ("sonic.sample", SAMPLE),
        ("sonic.sample", {**SAMPLE, "url": None, "sample_clip_id": "c1", "mv": "sonic-v5"}),
        ("sonic.replace_section", REPLACE),
        ("sonic.replace_section", {**REPLACE, "mv": "sonic-v5", "vocal_gender": "f"}),
        ("sonic.create_voice", VOICE),
    ],
)
def test_documented_bodies_pass(endpoint: str, body: dict[str, Any]) -> None:
    """Bodies within the documented limits pass, strict (the emulator's mode) included."""
    body = {k: v for k, v in body.items() if v is not None}
    validate_body(endpoint, body, strict=True)


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("sonic.upload_extend", {**EXTEND, "continue_at": -1}, "continue_at"),
        ("sonic.upload_extend", {**EXTEND, "auto_concat": "yes"}, "auto_concat"),
        ("sonic.upload_extend", {**EXTEND, "custom_mode": None}, "custom_mode"),
        ("sonic.upload_extend", {**EXTEND, "prompt": "x" * 5001}, "prompt"),
        ("sonic.upload_extend", {**EXTEND, "mv": "sonic-v4", "tags": "x" * 201}, "tags"),
        ("sonic.upload_extend", {**EXTEND, "url": "not a url"}, "url"),
        ("sonic.upload_cover", {**COVER, "style_weight": -0.1}, "style_weight"),
        ("sonic.upload_cover", {**COVER, "mv": "sonic-v4", "vocal_gender": "m"}, "vocal_gender"),
        ("sonic.upload_cover", {**COVER, "mv": "sonic-v7"}, "mv"),
        ("sonic.sample", {**SAMPLE, "chop_sample_end_s": 0}, "chop_sample_start_s"),
        ("sonic.sample", {**SAMPLE, "make_instrumental": None}, "make_instrumental"),
        ("sonic.sample", {**SAMPLE, "gpt_description_prompt": None}, "gpt_description_prompt"),
        ("sonic.sample", {**SAMPLE, "sample_clip_id": "c1"}, "sample_clip_id"),
        ("sonic.replace_section", {**REPLACE, "infill_end_s": 0.5}, "infill_start_s"),
        ("sonic.replace_section", {**REPLACE, "infill_start_s": None}, "infill_start_s"),
        ("sonic.replace_section", {**REPLACE, "mv": "chirp-v3-5"}, "mv"),
        ("sonic.replace_section", {**REPLACE, "clip_id": ""}, "clip_id"),
        ("sonic.create_voice", {"audio_url": "ftp://example.com/v.wav"}, "audio_url"),
        ("sonic.create_voice", {**VOICE, "webhook_url": "http://example.com/h"}, "webhook_url"),
    ],
)
def test_bodies_past_the_limits_are_refused_naming_the_field(
    endpoint: str, body: dict[str, Any], field: str
) -> None:
    """Each broken rule is an InvalidRequest naming its field, before anything is sent."""
    body = {k: v for k, v in body.items() if v is not None}
    with pytest.raises(InvalidRequest) as caught:
        validate_body(endpoint, body)
    assert caught.value.field == field


def test_strict_mode_refuses_fields_of_other_endpoints() -> None:
    """The emulator's strict mode names a field the endpoint does not take."""
    with pytest.raises(InvalidRequest, match="continue_at"):
        validate_body("sonic.upload_cover", {**COVER, "continue_at": 1}, strict=True)
