"""Made-up song text: titles, tags and lyrics where the API would write its own.

Deterministic for a given RNG, and built from the request's own words where there are
some, so a test can tell which request a clip came from.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from typing import Final

__all__ = [
    "INSTRUMENTAL_LYRICS",
    "Moderation",
    "lyrics_candidates",
    "make_lyrics",
    "make_tags",
    "make_title",
]

# Live instrumentals carried a bracket-only marker rather than empty lyrics (§3.2).
INSTRUMENTAL_LYRICS: Final = "[Instrumental]"

_GENRES: Final = ("pop", "indie rock", "synthwave", "lo-fi", "folk", "jazz", "ambient",
                  "electro", "soul", "dream pop")  # fmt: skip
_MOODS: Final = ("uplifting", "melancholic", "calm", "energetic", "dreamy", "warm")
_NOUNS: Final = ("Sky", "River", "Neon", "Shadows", "Morning", "Echoes", "Tides", "Lanterns",
                 "Horizon", "Embers", "Static", "Gardens")  # fmt: skip
_ADJECTIVES: Final = ("Silver", "Quiet", "Midnight", "Golden", "Endless", "Hollow", "Electric",
                      "Paper", "Wandering", "Velvet")  # fmt: skip
_LINES: Final = (
    "we were singing about {w}",
    "all the lights fall down on {w}",
    "hold on to the sound of {w}",
    "and the night keeps calling {w}",
    "every road leads back to {w}",
    "I can hear the hum of {w}",
)
_WORD: Final = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")
_STOP: Final = frozenset({"the", "and", "with", "about", "song", "music", "track", "for",
                          "that", "this", "from", "into", "very", "some"})  # fmt: skip


def _words(text: str | None) -> list[str]:
    return [w.lower() for w in _WORD.findall(text or "") if w.lower() not in _STOP]


def make_title(rng: random.Random, description: str | None = None) -> str:
    """A title: two of the description's words if it has them, else a stock pair."""
    words = _words(description)
    if len(words) >= 2:
        return " ".join(w.capitalize() for w in words[:2])
    return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"


def make_tags(rng: random.Random, description: str | None = None) -> str:
    """Comma-separated tags, the way sonic sends them (a string, not a list)."""
    tags = [rng.choice(_GENRES), rng.choice(_MOODS)]
    tags.extend(_words(description)[:2])
    return ", ".join(dict.fromkeys(tags))


def make_lyrics(rng: random.Random, description: str | None = None) -> str:
    """Two short sections of lyrics about the description's words."""
    words = _words(description) or [rng.choice(_NOUNS).lower()]
    lines = [rng.choice(_LINES).format(w=rng.choice(words)) for _ in range(6)]
    return "[Verse]\n" + "\n".join(lines[:4]) + "\n\n[Chorus]\n" + "\n".join(lines[4:])


def lyrics_candidates(rng: random.Random, description: str) -> list[dict[str, str]]:
    """The two ``{title, lyrics}`` results of ``POST /api/v1/sonic/lyrics``."""
    first = make_title(rng, description)
    return [
        {"title": first, "lyrics": make_lyrics(rng, description)},
        {
            "title": f"{rng.choice(_ADJECTIVES)} {first.split()[-1]}",
            "lyrics": make_lyrics(rng, description),
        },
    ]


def _pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    escaped = [re.escape(w.strip()) for w in words if w.strip()]
    return re.compile(r"\b(" + "|".join(escaped) + r")\b", re.I) if escaped else None


class Moderation:
    """The content rules of one run: which words draw which documented 403 (§13).

    Args:
        banned_words: in lyrics, "inappropriate content"; in a description, "artist names".
        copyrighted: phrases that make lyrics "contain copyrighted content".
        producer_tags: words that make a description "contain producer tags".
        review_words: words that send a description to "moderation review".
    """

    def __init__(
        self,
        *,
        banned_words: Iterable[str] = (),
        copyrighted: Iterable[str] = (),
        producer_tags: Iterable[str] = (),
        review_words: Iterable[str] = (),
    ) -> None:
        self._banned = _pattern(banned_words)
        self._copyrighted = _pattern(copyrighted)
        self._producer = _pattern(producer_tags)
        self._review = _pattern(review_words)

    def check(self, lyrics: object, *descriptions: object) -> str | None:
        """The 403 message these texts draw, or ``None`` when they pass.

        Lyrics are judged before descriptions, copyright before taste.
        """
        if isinstance(lyrics, str):
            if self._copyrighted and (hit := self._copyrighted.search(lyrics)):
                return (
                    f"The lyrics contain copyrighted content: '{hit.group(0)}'. "
                    "Please use original lyrics."
                )
            if self._banned and (hit := self._banned.search(lyrics)):
                return f"The lyrics contain inappropriate content: '{hit.group(0)}'."
        for text in descriptions:
            if not isinstance(text, str):
                continue
            if self._review and self._review.search(text):
                return "The song description needs moderation review."
            if self._banned and (hit := self._banned.search(text)):
                return (
                    f"The song description contains artist names: '{hit.group(0)}' "
                    "which is not allowed."
                )
            if self._producer and (hit := self._producer.search(text)):
                return (
                    f"The song description contains producer tags: '{hit.group(0)}' "
                    "which is not allowed."
                )
        return None
