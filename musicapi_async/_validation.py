"""Request validation on wire bodies, shared by the client and the emulator.

The client runs it before sending, so bad input costs no request and no credits; the
emulator runs the same rules (in strict mode) to answer 400 with MusicAPI's documented
messages. Messages quoted in MUSICAPI.md §13 are reproduced word for word; rules the docs
state without a message get one in the same voice.

Limits follow the newest documentation (§3.2, §11): prompt 3000 characters on
sonic-v3-5/v4 and 5000 from v4-5 on, tags 200 / 1000, title 80, description prompt 400.

Before any rule reads a field, every field's JSON type is checked (a string for an id,
a number for ``continue_at``, an integer ``seed``), numbers must be finite and text must
be valid Unicode. Each rule lives here once: the model table, for instance, is what both
the client and the emulator accept, so the two can never disagree on a model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ._nuro_validation import validate_nuro
from ._validation_fields import (
    _URL,
    MODEL_LIMITS,
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
    _check_url,
    _check_values,
    _check_webhook,
    _fail,
    check_callback_url,
    model_limits,
)

if TYPE_CHECKING:
    from ._endpoints import Endpoint

__all__ = [
    "MODEL_LIMITS",
    "UPLOAD_URL_LIMIT",
    "ModelLimits",
    "check_callback_url",
    "check_task_id",
    "model_limits",
    "validate_body",
    "validate_clip_ref",
    "validate_lyrics",
    "validate_nuro",
    "validate_persona",
    "validate_sonic",
    "validate_studio",
    "validate_upload",
]


_TASK_TYPES: Final = frozenset(
    {
        "create_music", "extend_music", "concat_music", "cover_music", "persona_music",
        "extend_upload_music", "cover_upload_music", "remaster", "add_instrumental",
        "add_vocals",
    }
)  # fmt: skip
_NEEDS_CLIP: Final = _TASK_TYPES - {"create_music", "persona_music"}
_NEEDS_CONTINUE_AT: Final = frozenset({"extend_music", "extend_upload_music"})
# §3.1: remaster and add_* need only a clip and a model (add_vocals also its lyrics).
_NEEDS_CUSTOM_MODE: Final = _TASK_TYPES - {
    "concat_music",
    "remaster",
    "add_instrumental",
    "add_vocals",
}

_SONIC_FIELDS: Final = frozenset(
    {
        "task_type", "custom_mode", "mv", "prompt", "title", "tags", "negative_tags",
        "make_instrumental", "gpt_description_prompt", "continue_clip_id", "continue_at",
        "persona_id", "auto_lyrics", "vocal_gender", "style_weight", "weirdness_constraint",
        "audio_weight", "variation_category", "overpainting_start_s", "overpainting_end_s",
        "use_suno_cdn", "duration", "webhook_url", "webhook_secret",
    }
)  # fmt: skip


_SONIC_KINDS: Final[Mapping[str, Kind]] = {
    **dict.fromkeys(("prompt", "title", "tags", "negative_tags",
                     "gpt_description_prompt", "continue_clip_id", "persona_id",
                     "vocal_gender", "variation_category", "webhook_url", "webhook_secret"),
                    "str"),
    **dict.fromkeys(("custom_mode", "make_instrumental", "auto_lyrics", "use_suno_cdn"),
                    "bool"),
    **dict.fromkeys(("continue_at", "style_weight", "weirdness_constraint", "audio_weight",
                     "overpainting_start_s", "overpainting_end_s"), "number"),
    "duration": "int",
}  # fmt: skip
# §3.2: variation_category is remaster's, documented for sonic-v5 (and the models after it).
_VARIATION_MODELS: Final = frozenset(
    f"{p}-{v}" for p in ("sonic", "chirp") for v in ("v5", "v5-5", "v6", "v6-wild", "v6-mini")
)
_OVERPAINTING_TASKS: Final = frozenset({"add_instrumental", "add_vocals"})


def _check_sonic_options(body: Mapping[str, Any], task_type: str) -> None:
    """The rules between fields (MUSICAPI.md §3.2) that no single field shows."""
    if body.get("auto_lyrics") and body.get("custom_mode") is not True:
        raise _fail("The 'auto_lyrics' field needs custom_mode = true.", "auto_lyrics")
    if body.get("variation_category") is not None:
        if task_type != "remaster":
            raise _fail(
                "The 'variation_category' field is only for task_type = remaster.",
                "variation_category",
            )
        if body.get("mv") not in _VARIATION_MODELS:
            raise _fail(
                "The 'variation_category' field needs sonic-v5 or newer.", "variation_category"
            )
    start, end = body.get("overpainting_start_s"), body.get("overpainting_end_s")
    if start is None and end is None:
        return
    if task_type not in _OVERPAINTING_TASKS:
        raise _fail(
            "The 'overpainting_start_s' and 'overpainting_end_s' fields are only for "
            "task_type = add_instrumental or add_vocals.",
            "overpainting_start_s",
        )
    if start is not None and end is not None and not start < end:
        raise _fail(
            "The 'overpainting_start_s' field must be less than 'overpainting_end_s'.",
            "overpainting_start_s",
        )


def validate_sonic(body: Mapping[str, Any], *, strict: bool) -> None:
    if strict:
        _check_unknown(body, _SONIC_FIELDS)
    _check_types(body, _SONIC_KINDS)
    task_type = body.get("task_type") or "create_music"
    if not isinstance(task_type, str) or task_type not in _TASK_TYPES:
        raise _fail("The 'task_type' field is invalid.", "task_type")
    for field in ("make_instrumental", "auto_lyrics", "use_suno_cdn"):
        _check_bool(body, field)
    if task_type in _NEEDS_CLIP and not _check_str(body, "continue_clip_id"):
        raise _fail(
            f"The 'continue_clip_id' field is required when task_type = {task_type}.",
            "continue_clip_id",
        )
    if task_type == "concat_music":
        return
    _check_bool(body, "custom_mode", required=task_type in _NEEDS_CUSTOM_MODE)
    limits = model_limits(body.get("mv"))
    if task_type == "persona_music" and not _check_str(body, "persona_id"):
        raise _fail(
            "The 'persona_id' field is required when task_type = persona_music.", "persona_id"
        )
    if task_type in _NEEDS_CONTINUE_AT:
        if body.get("continue_at") is None:
            raise _fail(
                f"The 'continue_at' field is required when task_type = {task_type}.", "continue_at"
            )
        _check_range(body, "continue_at", 0, 86400)
    prompt = _check_str(body, "prompt")
    description = _check_str(body, "gpt_description_prompt")
    if body.get("custom_mode"):
        if not prompt and not body.get("make_instrumental"):
            raise _fail("The 'prompt' field is required when custom_mode = true.", "prompt")
    elif task_type == "create_music" and not description:
        raise _fail(
            "The 'gpt_description_prompt' field is required when custom_mode = false.",
            "gpt_description_prompt",
        )
    if task_type == "add_vocals" and not prompt:
        raise _fail("The 'prompt' field is required when task_type = add_vocals.", "prompt")
    _check_len(
        prompt, limits.prompt, "The prompt character length should be less than {limit}.", "prompt"
    )
    _check_len(
        description,
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
    _check_len(
        _check_str(body, "title"),
        limits.title,
        "The title character length should be less than {limit}.",
        "title",
    )
    _check_str(body, "negative_tags")
    _check_choice(body, "vocal_gender", ("f", "m"))
    if body.get("vocal_gender") is not None and not limits.vocal_gender:
        raise _fail("The 'vocal_gender' field needs sonic-v4-5 or newer.", "vocal_gender")
    for field in ("style_weight", "weirdness_constraint", "audio_weight"):
        _check_range(body, field, 0, 1)
    for field in ("overpainting_start_s", "overpainting_end_s"):
        _check_range(body, field, 0, 86400)
    _check_choice(body, "variation_category", ("subtle", "normal", "high"))
    _check_range(body, "duration", 10, 360, integer=True)
    _check_sonic_options(body, task_type)
    _check_webhook(body)


_PERSONA_FIELDS: Final = frozenset(
    {"name", "continue_clip_id", "clip_id", "description", "describe", "styles",
     "vox_audio_id", "vocal_start_s", "vocal_end_s"}
)  # fmt: skip


_PERSONA_KINDS: Final[Mapping[str, Kind]] = {
    **dict.fromkeys(("name", "continue_clip_id", "clip_id", "description", "describe",
                     "styles", "vox_audio_id"), "str"),
    **dict.fromkeys(("vocal_start_s", "vocal_end_s"), "number"),
}  # fmt: skip


def validate_persona(body: Mapping[str, Any], *, strict: bool) -> None:
    if strict:
        _check_unknown(body, _PERSONA_FIELDS)
    _check_types(body, _PERSONA_KINDS)
    name = _check_str(body, "name")
    clip = _check_str(body, "continue_clip_id") or _check_str(body, "clip_id")
    if not name or not clip:
        raise _fail("name and continue_clip_id are required fields.", "name")
    _check_len(name, 80, "The name character length should be less than {limit}.", "name")
    for field in ("description", "describe"):
        _check_len(
            _check_str(body, field),
            200,
            "The description character length should be less than {limit}.",
            field,
        )
    _check_str(body, "styles")
    _check_range(body, "vocal_start_s", 0, 86400)
    _check_range(body, "vocal_end_s", 0, 86400)


def validate_upload(body: Mapping[str, Any], *, strict: bool) -> None:
    if strict:
        _check_unknown(body, frozenset({"url", "callback_url"}))
    _check_types(body, {"url": "str", "callback_url": "str"})
    url = _check_str(body, "url")
    if not url or not _URL.match(url):
        raise _fail(
            "Audio URL is not accessible. Please provide a public direct audio file URL.", "url"
        )
    _check_len(
        url, UPLOAD_URL_LIMIT, "The 'url' field should be at most {limit} characters.", "url"
    )
    _check_url(body, "callback_url")


def validate_clip_ref(body: Mapping[str, Any], *, strict: bool) -> None:
    """The utilities that take one clip and nothing else (``{"clip_id"}``: bpm, midi, wav)."""
    if strict:
        _check_unknown(body, frozenset({"clip_id"}))
    _check_types(body, {"clip_id": "str"})
    if not _check_str(body, "clip_id"):
        raise _fail("The 'clip_id' field is required.", "clip_id")


def validate_lyrics(body: Mapping[str, Any], *, strict: bool) -> None:
    if strict:
        _check_unknown(body, frozenset({"description"}))
    _check_types(body, {"description": "str"})
    description = _check_str(body, "description")
    if not description:
        raise _fail("description is required.", "description")
    _check_len(
        description,
        120,
        "The description character length should be less than {limit}.",
        "description",
    )


_STUDIO_FIELDS: Final = frozenset(
    {"prompt", "lyrics", "lyrics_type", "bypass_prompt_optimization", "seed",
     "song_section_start", "song_section_end", "lyrics_placement_start",
     "lyrics_placement_end", "prompt_strength", "clarity_strength", "lyrics_strength",
     "generation_quality", "negative_prompt", "model_type", "config"}
)  # fmt: skip


_STUDIO_KINDS: Final[Mapping[str, Kind]] = {
    **dict.fromkeys(("prompt", "lyrics", "lyrics_type", "model_type", "negative_prompt"),
                    "str"),
    **dict.fromkeys(("song_section_start", "song_section_end", "lyrics_placement_start",
                     "lyrics_placement_end", "prompt_strength", "clarity_strength",
                     "lyrics_strength", "generation_quality"), "number"),
    "bypass_prompt_optimization": "bool",
    "seed": "int",
    "config": "object",
}  # fmt: skip


def validate_studio(body: Mapping[str, Any], *, strict: bool) -> None:
    if strict:
        _check_unknown(body, _STUDIO_FIELDS)
    _check_types(body, _STUDIO_KINDS)
    if not _check_str(body, "prompt"):
        raise _fail("The 'prompt' field is required.", "prompt")
    _check_choice(body, "lyrics_type", ("user", "generate", "instrumental"))
    if body.get("lyrics_type") is None:
        raise _fail("The 'lyrics_type' field is required.", "lyrics_type")
    if body["lyrics_type"] == "user" and not _check_str(body, "lyrics"):
        raise _fail("The 'lyrics' field is required when lyrics_type = user.", "lyrics")
    _check_choice(body, "model_type", ("studio130-v1.5", "studio32-v1.5"))
    if body.get("model_type") is None:
        raise _fail("The 'model_type' field is required.", "model_type")
    for field in ("prompt_strength", "clarity_strength", "lyrics_strength", "generation_quality"):
        if body.get(field) is None:
            raise _fail(f"The '{field}' field is required.", field)
        _check_range(body, field, 0, 1)
    for field in (
        "song_section_start",
        "song_section_end",
        "lyrics_placement_start",
        "lyrics_placement_end",
    ):
        _check_range(body, field, 0, 1)
    _check_bool(body, "bypass_prompt_optimization")
    config = body.get("config")
    if not isinstance(config, Mapping):
        raise _fail("The 'config' field is required.", "config")
    _check_types(config, {"mode": "str", "context_length": "number", "source": "object"})
    _check_choice(config, "mode", ("regular", "precede", "continuation"))
    mode = config.get("mode")
    if mode is None:
        raise _fail("The 'config.mode' field is required.", "config")
    source = config.get("source")
    if mode != "regular" and not (isinstance(source, Mapping) and source.get("song_id")):
        raise _fail(
            f"The 'config.source.song_id' field is required when config.mode = {mode}.", "config"
        )


# A validator checks one endpoint's wire body; the table (``_endpoints``) names each row's.
Validator = Callable[..., None]


_TASK_ID_LIMIT: Final = 256
# Ids of only these characters pass every rule below (a fast path: checked on each poll).
_PLAIN_TASK_ID: Final = re.compile(r"[0-9A-Za-z_-][0-9A-Za-z_.-]{0,255}", re.ASCII)


def check_task_id(task_id: object) -> str:
    """``task_id`` if it can name a task, else ``InvalidRequest`` (nothing is sent).

    An id is text of at most 256 printable characters, without whitespace, ``/`` or
    ``\\``, and not ``.`` or ``..``: it can then never reach another path of the API
    (``../../get-credits``) or split a request line (CRLF). What else it holds is
    percent-escaped into the path.
    """
    if isinstance(task_id, str) and _PLAIN_TASK_ID.fullmatch(task_id):
        return task_id  # the usual UUID-like id: one regex instead of a loop per character
    if not isinstance(task_id, str):
        raise _fail(f"The task id should be a string, not {type(task_id).__name__}.", "task_id")
    if not task_id.strip():
        raise _fail("missing task id.", "task_id")
    if (
        len(task_id) > _TASK_ID_LIMIT
        or task_id in (".", "..")
        or any(c in "/\\" or c.isspace() or not c.isprintable() for c in task_id)
    ):
        raise _fail(f"Not a valid task id: {task_id[:40]!r}.", "task_id")
    return task_id


def validate_body(
    endpoint: str | Endpoint[Any, Any], body: Mapping[str, Any], *, strict: bool = False
) -> None:
    """Check a wire body against MusicAPI's documented rules.

    Args:
        endpoint: a row of the table, or its name; a row without a validator (a GET) takes
            no body.
        body: the JSON object that is about to be sent (or was received).
        strict: also reject unknown keys and unknown models (the emulator's mode).

    Raises:
        InvalidRequest: with the API's own message where MusicAPI documents one.
    """
    # Imported here: the table imports this module for its rows' validators.
    from ._endpoints import ENDPOINTS

    row = ENDPOINTS[endpoint] if isinstance(endpoint, str) else endpoint
    if row.validator is not None:
        _check_values(body)
        row.validator(body, strict=strict)
