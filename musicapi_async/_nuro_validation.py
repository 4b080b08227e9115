"""Validation of nuro bodies (``/api/v1/nuro/create``): vocal songs and instrumentals.

A family with its own vocabulary (genres, moods, timbres, instruments, themes): kept
apart from ``_validation`` so those lists do not crowd the sonic rules. Built from the
shared checks of ``_validation_fields``; ``_validation`` re-exports ``validate_nuro``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from ._validation_fields import (
    Kind,
    _check_choice,
    _check_len,
    _check_multi,
    _check_range,
    _check_str,
    _check_types,
    _check_unknown,
    _check_webhook,
    _fail,
)

__all__ = [
    "NURO_BGM_GENRES",
    "NURO_BGM_INSTRUMENTS",
    "NURO_BGM_MOODS",
    "NURO_BGM_THEMES",
    "NURO_TIMBRES",
    "NURO_VOCAL_GENRES",
    "NURO_VOCAL_MOODS",
    "validate_nuro",
]


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
