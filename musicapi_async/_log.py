"""The package logger, and a filter that keeps secrets out of every record it emits.

The SDK never formats a key or a webhook secret into a message; the filter is the second
line of defence, for a secret that reaches a record some other way (a server echoing it
back in an error body, a caller's own log call through our logger).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Final

__all__ = ["Secrets", "logger", "register_secret", "unregister_secret"]

logger: Final = logging.getLogger("musicapi_async")

_REDACTED: Final = "[redacted]"
_MIN_SECRET: Final = 4  # shorter strings would redact ordinary words


class _SecretFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: Counter[str] = Counter()

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, _REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            # Format once, scrub the result, and freeze it: no later formatter can
            # re-insert a secret from the arguments.
            record.msg = self.scrub(record.getMessage())
            record.args = None
            if record.exc_text:
                record.exc_text = self.scrub(record.exc_text)
        return True


_filter: Final = _SecretFilter()
logger.addFilter(_filter)


def register_secret(secret: str | None) -> None:
    """Redact ``secret`` from every record of the package logger until unregistered."""
    if secret and len(secret) >= _MIN_SECRET:
        _filter.secrets[secret] += 1


def unregister_secret(secret: str | None) -> None:
    """Undo one ``register_secret`` (clients sharing a key each register it)."""
    if secret and _filter.secrets[secret] > 0:
        _filter.secrets[secret] -= 1
        if not _filter.secrets[secret]:
            del _filter.secrets[secret]


class Secrets:
    """Secrets a client registered, kept so it can unregister them; never shown."""

    __slots__ = ("_values",)

    def __init__(self, *values: str | None) -> None:
        self._values = tuple(v for v in values if v)
        for value in self._values:
            register_secret(value)

    def __repr__(self) -> str:
        return f"<{len(self._values)} secrets>"

    def release(self) -> None:
        """Unregister every secret (idempotent)."""
        for value in self._values:
            unregister_secret(value)
        self._values = ()
