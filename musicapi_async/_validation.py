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

import ipaddress
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

import attrs

from ._errors import InvalidRequest

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


@attrs.frozen
class ModelLimits:
    """Per-model length limits of ``POST /api/v1/sonic/create``."""

    prompt: int
    tags: int
    vocal_gender: bool
    title: int = 80
    description: int = 400


_LEGACY = ModelLimits(prompt=3000, tags=200, vocal_gender=False)
_MODERN = ModelLimits(prompt=5000, tags=1000, vocal_gender=True)

MODEL_LIMITS: Final[Mapping[str, ModelLimits]] = {
    **{f"{p}-v3-5": _LEGACY for p in ("sonic", "chirp")},
    **{f"{p}-v4": _LEGACY for p in ("sonic", "chirp")},
    **{
        f"{p}-{v}": _MODERN
        for p in ("sonic", "chirp")
        for v in ("v4-5", "v4-5-plus", "v5", "v5-5", "v6", "v6-wild", "v6-mini")
    },
}
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

NURO_VOCAL_GENRES: Final = (
    "Folk", "Pop", "Rock", "Chinese Style", "Hip Hop/Rap", "R&B/Soul", "Punk", "Electronic",
    "Jazz", "Reggae", "DJ", "Pop Punk", "Disco", "Future Bass", "Pop Rap", "Trap Rap",
    "R&B Rap", "Chinoiserie Electronic", "GuFeng Music", "Pop Rock", "Jazz Pop", "Bossa Nova",
    "Contemporary R&B",
)  # fmt: skip
NURO_VOCAL_MOODS: Final = (
    "Happy", "Dynamic/Energetic", "Sentimental/Melancholic/Lonely", "Inspirational/Hopeful",
    "Nostalgic/Memory", "Excited", "Sorrow/Sad", "Chill", "Romantic", "Miss", "Groovy/Funky",
    "Dreamy/Ethereal", "Calm/Relaxing",
)  # fmt: skip
NURO_TIMBRES: Final = (
    "Warm", "Bright", "Husky", "Electrified voice", "Sweet_AUDIO_TIMBRE", "Cute_AUDIO_TIMBRE",
    "Loud and sonorous", "Powerful", "Sexy/Lazy",
)  # fmt: skip
NURO_BGM_GENRES: Final = (
    "corporate", "dance/edm", "orchestral", "chill out", "rock", "hip hop", "folk", "funk",
    "ambient", "holiday", "jazz", "kids", "world", "travel", "commercial", "advertising",
    "driving", "cinematic", "upbeat", "epic", "inspiring", "business", "video game", "dark",
    "pop", "trailer", "modern", "electronic", "documentary", "soundtrack", "fashion",
    "acoustic", "movie", "tv", "high tech", "industrial", "dance", "video", "vlog",
    "marketing", "game", "radio", "promotional", "sports", "party", "summer", "beauty",
)  # fmt: skip
NURO_BGM_MOODS: Final = (
    "positive", "uplifting", "energetic", "happy", "bright", "optimistic", "hopeful", "cool",
    "dreamy", "fun", "light", "powerful", "calm", "confident", "joyful", "dramatic",
    "peaceful", "playful", "soft", "groovy", "reflective", "easy", "relaxed", "lively",
    "smooth", "romantic", "intense", "elegant", "mellow", "emotional", "sentimental",
    "cheerful happy", "contemplative", "soothing", "proud", "passionate", "sweet", "mystical",
    "tranquil", "cheerful", "casual", "beautiful", "ethereal", "melancholy", "sad",
    "aggressive", "haunting", "adventure", "serene", "sincere", "funky", "funny",
)  # fmt: skip
NURO_BGM_INSTRUMENTS: Final = (
    "piano", "drums", "guitar", "percussion", "synth", "electric guitar", "acoustic guitar",
    "bass guitar", "brass", "violin", "cello", "flute", "organ", "trumpet", "ukulele",
    "saxophone", "double bass", "harp", "glockenspiel", "synthesizer", "keyboard", "marimba",
    "bass", "banjo", "strings",
)  # fmt: skip
NURO_BGM_THEMES: Final = (
    "inspirational", "motivational", "achievement", "discovery", "every day", "love",
    "technology", "lifestyle", "journey", "meditation", "drama", "children", "hope",
    "fantasy", "holiday", "health", "family", "real estate", "media", "kids", "science",
    "education", "progress", "world", "vacation", "training", "christmas", "sales",
)  # fmt: skip

# Upload: the audio's own length (6-60 s in [V1], up to 8 min in [V4]) can only be judged
# by the server; the URL that names it is held to what servers and proxies accept.
UPLOAD_URL_LIMIT: Final = 2048
_MV_MESSAGE: Final = "The 'mv' field is invalid. The model should be 'sonic-v3-5' or 'sonic-v4'."
_URL: Final = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _fail(message: str, field: str | None = None) -> InvalidRequest:
    return InvalidRequest(message, field=field, status=None)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_bool(body: Mapping[str, Any], field: str, *, required: bool = False) -> None:
    if field not in body or body[field] is None:
        if required:
            raise _fail(f"The '{field}' field should be boolean.", field)
        return
    if not isinstance(body[field], bool):
        raise _fail(f"The '{field}' field should be boolean.", field)


def _check_str(body: Mapping[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise _fail(f"The '{field}' field should be a string.", field)
    return value


def _check_len(value: str | None, limit: int, message: str, field: str) -> None:
    if value is not None and len(value) > limit:
        raise _fail(message.format(limit=limit), field)


def _check_range(
    body: Mapping[str, Any], field: str, low: float, high: float, *, integer: bool = False
) -> None:
    value = body.get(field)
    if value is None:
        return
    if not _is_number(value) or (integer and not float(value).is_integer()):
        kind = "an integer" if integer else "a number"
        raise _fail(f"The '{field}' field should be {kind}.", field)
    if not low <= value <= high:
        raise _fail(f"The '{field}' field must be between {low:g} and {high:g}.", field)


def _check_choice(body: Mapping[str, Any], field: str, choices: Sequence[str]) -> None:
    value = body.get(field)
    if value is not None and value not in choices:
        allowed = ", ".join(f"'{c}'" for c in choices)
        raise _fail(f"The '{field}' field should be one of {allowed}.", field)


def _check_multi(body: Mapping[str, Any], field: str, choices: Sequence[str]) -> None:
    values = body.get(field)
    if values is None:
        return
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise _fail(f"The '{field}' field should be a list.", field)
    if len(values) > 5:
        raise _fail(f"The '{field}' field accepts at most 5 values.", field)
    for value in values:
        if value not in choices:
            raise _fail(f"The '{field}' value '{value}' is not supported.", field)


def _check_unknown(body: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _fail(f"Unknown field(s): {', '.join(unknown)}.", unknown[0])


# The JSON type each field must have. Every field a body carries is checked before the
# rules that read it: a string where a number belongs ("aaa" for continue_at), an object
# for an id, a float seed, are refused before anything is sent or billed.
Kind = Literal["str", "bool", "number", "int", "list", "object"]
_KIND_NAMES: Final[Mapping[Kind, str]] = {
    "str": "a string", "bool": "boolean", "number": "a number", "int": "an integer",
    "list": "a list", "object": "an object",
}  # fmt: skip


def _has_kind(value: object, kind: Kind) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list | tuple)
    if kind == "object":
        return isinstance(value, Mapping)
    if not isinstance(value, int | float) or isinstance(value, bool):  # _is_number, narrowed
        return False
    return kind == "number" or float(value).is_integer()


def _check_types(body: Mapping[str, Any], kinds: Mapping[str, Kind]) -> None:
    for field, kind in kinds.items():
        value = body.get(field)
        if value is None or _has_kind(value, kind):
            continue
        if field == "use_suno_cdn":  # the live answer's wording (MUSICAPI.md §3.2)
            raise _fail("The 'use_suno_cdn' field must be boolean.", field)
        raise _fail(f"The '{field}' field should be {_KIND_NAMES[kind]}.", field)


def _check_values(body: Mapping[str, Any]) -> None:
    """Every number finite and every string encodable, at any depth.

    JSON has no NaN or Infinity (MusicAPI's parser refuses them), and a lone surrogate
    (``"\\ud800"``) cannot be stored or sent back as UTF-8: it would be billed, then
    break every answer that echoes it.
    """
    stack: list[tuple[str, object]] = [(k, v) for k, v in body.items()]
    while stack:
        field, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise _fail(f"The '{field}' field should be a finite number.", field)
        if isinstance(value, str) and _SURROGATE.search(value):
            raise _fail(f"The '{field}' field should be valid Unicode text.", field)
        if isinstance(value, Mapping):
            stack.extend((field, v) for v in value.values())
            stack.extend((field, k) for k in value)
        elif isinstance(value, list | tuple):
            stack.extend((field, v) for v in value)


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(body: Mapping[str, Any], field: str, limit: int = 1024) -> None:
    """An HTTPS URL of at most ``limit`` characters (plain http only to loopback)."""
    url = _check_str(body, field)
    if url is None:
        return
    parts = urlsplit(url) if _URL.match(url) else None
    scheme = parts.scheme.lower() if parts is not None else ""
    try:
        host = (parts.hostname or "") if parts is not None else ""
    except ValueError:
        host = ""
    if (
        len(url) > limit
        or not host
        or scheme not in ("https", "http")
        or (scheme == "http" and not _is_loopback(host))
    ):
        raise _fail(
            f"The '{field}' field should be an HTTPS URL of at most {limit} "
            "characters (plain http only to localhost).",
            field,
        )


def check_callback_url(url: object, field: str = "webhook_url") -> None:
    """Raise ``InvalidRequest`` unless ``url`` is an HTTPS URL MusicAPI can post to.

    Plain ``http`` is accepted only for loopback hosts (``localhost``, ``127.0.0.1``,
    ``::1``), so a local receiver can be tested without a certificate.
    """
    _check_url({field: url}, field)


def _check_webhook(body: Mapping[str, Any]) -> None:
    # MusicAPI posts results to an HTTPS URL (§3.2); http to loopback is let through so
    # that a local receiver (and the emulator's) can be tested without certificates.
    _check_url(body, "webhook_url")
    _check_str(body, "webhook_secret")


def model_limits(mv: object) -> ModelLimits:
    """The limits of model ``mv``; raises ``InvalidRequest`` for a model that is not valid.

    One rule for the client and the emulator: a model is valid when ``MODEL_LIMITS``
    names it. A name the table does not know (``sonic-v7``) is refused before it is sent,
    as MusicAPI refuses it; a new model needs a new row here.
    """
    if isinstance(mv, str) and mv in MODEL_LIMITS:
        return MODEL_LIMITS[mv]
    raise _fail(_MV_MESSAGE, "mv")


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


_NURO_VOCAL_FIELDS: Final = frozenset(
    {"type", "lyrics", "gender", "genre", "mood", "timbre", "duration", "webhook_url",
     "webhook_secret"}
)  # fmt: skip
_NURO_BGM_FIELDS: Final = frozenset(
    {"type", "description", "genre", "mood", "instrument", "theme", "duration", "version",
     "segments", "webhook_url", "webhook_secret"}
)  # fmt: skip
_NURO_VOCAL_KINDS: Final[Mapping[str, Kind]] = {
    **dict.fromkeys(("lyrics", "gender", "genre", "mood", "timbre", "webhook_url",
                     "webhook_secret"), "str"),
    "duration": "int",
}  # fmt: skip
_NURO_BGM_KINDS: Final[Mapping[str, Kind]] = {
    **dict.fromkeys(("description", "version", "webhook_url", "webhook_secret"), "str"),
    **dict.fromkeys(("genre", "mood", "instrument", "theme", "segments"), "list"),
    "duration": "int",
}  # fmt: skip


def validate_nuro(body: Mapping[str, Any], *, strict: bool) -> None:
    kind = body.get("type")
    if kind == "vocal":
        if strict:
            _check_unknown(body, _NURO_VOCAL_FIELDS)
        _check_types(body, _NURO_VOCAL_KINDS)
        lyrics = _check_str(body, "lyrics")
        if not lyrics:
            raise _fail("The 'lyrics' field is required when type = vocal.", "lyrics")
        _check_len(
            lyrics, 2000, "The lyrics character length should be less than {limit}.", "lyrics"
        )
        _check_choice(body, "gender", ("Female", "Male"))
        _check_choice(body, "genre", NURO_VOCAL_GENRES)
        _check_choice(body, "mood", NURO_VOCAL_MOODS)
        _check_choice(body, "timbre", NURO_TIMBRES)
        _check_range(body, "duration", 30, 240, integer=True)
    elif kind == "bgm":
        if strict:
            _check_unknown(body, _NURO_BGM_FIELDS)
        _check_types(body, _NURO_BGM_KINDS)
        if not _check_str(body, "description"):
            raise _fail("The 'description' field is required when type = bgm.", "description")
        _check_multi(body, "genre", NURO_BGM_GENRES)
        _check_multi(body, "mood", NURO_BGM_MOODS)
        _check_multi(body, "instrument", NURO_BGM_INSTRUMENTS)
        _check_multi(body, "theme", NURO_BGM_THEMES)
        _check_choice(body, "version", ("v1.0", "v2.0"))
        longest = 240 if body.get("version") == "v2.0" else 60
        _check_range(body, "duration", 1, longest, integer=True)
        segments = body.get("segments")
        if segments is not None and (
            isinstance(segments, str | bytes)
            or not isinstance(segments, Sequence)
            or not all(isinstance(s, Mapping) and "name" in s for s in segments)
        ):
            raise _fail(
                "The 'segments' field should be a list of {name, duration} objects.", "segments"
            )
    else:
        raise _fail("The 'type' field should be 'vocal' or 'bgm'.", "type")
    _check_webhook(body)


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
