"""The package logger, and a filter that keeps secrets out of every record it emits.

The SDK never formats a key or a webhook secret into a message; the filter is the second
line of defence, for a secret that reaches a record some other way (a server echoing it
back in an error body, a caller's own log call through our logger).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Final

__all__ = [
    "Secrets",
    "logger",
    "redact",
    "redact_bytes",
    "register_secret",
    "unregister_secret",
]

logger: Final = logging.getLogger("musicapi_async")

_REDACTED: Final = "[redacted]"
_MIN_SECRET: Final = 4  # shorter strings would redact ordinary words


class _SecretFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: Counter[str] = Counter()

    def _ordered(self) -> list[str]:
        # A copy (clients in other threads register and release), longest first (a
        # secret may contain another).
        return sorted(self.secrets, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self._ordered():
            if secret in text:
                text = text.replace(secret, _REDACTED)
        return text

    def scrub_bytes(self, data: bytes) -> bytes:
        for secret in self._ordered():
            encoded = secret.encode("utf-8", "surrogatepass")
            if encoded in data:
                data = data.replace(encoded, _REDACTED.encode())
        return data

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            # Format once, scrub the result, and freeze it: no later formatter can
            # re-insert a secret from the arguments.
            record.msg = self.scrub(record.getMessage())
            record.args = None
            if record.exc_info and not record.exc_text:
                # A formatter would render the traceback later, from the live exception,
                # past this filter: render it now and scrub the text instead.
                text = _FORMATTER.formatException(record.exc_info)
                scrubbed = self.scrub(text)
                if scrubbed != text:
                    # The text is what handlers print; the exception object (whose
                    # message holds the secret) no longer travels with the record.
                    record.exc_text, record.exc_info = scrubbed, None
            elif record.exc_text:
                record.exc_text = self.scrub(record.exc_text)
            if record.stack_info:
                record.stack_info = self.scrub(record.stack_info)
        return True


_FORMATTER: Final = logging.Formatter()


_filter: Final = _SecretFilter()
logger.addFilter(_filter)


def redact(text: str) -> str:
    """``text`` with every registered secret (the keys of open clients) replaced."""
    return _filter.scrub(text) if _filter.secrets and isinstance(text, str) else text


def redact_bytes(data: bytes) -> bytes:
    """``redact`` for raw bytes (an answer's body)."""
    return _filter.scrub_bytes(data) if _filter.secrets and isinstance(data, bytes) else data


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
