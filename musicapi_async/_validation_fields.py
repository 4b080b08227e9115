"""The field checks every request validator is built from: types, lengths, ranges, URLs.

Also the model table (``MODEL_LIMITS``), which both the client and the emulator accept.
Kept apart from the per-family validators (``_validation``, ``_nuro_validation``,
``_sonic_validation``, ``_sonic_task_validation``) because all of them share these checks
and their messages: each rule is written once, here.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import attrs

from ._errors import InvalidRequest

__all__ = [
    "MODEL_LIMITS",
    "UPLOAD_URL_LIMIT",
    "Kind",
    "ModelLimits",
    "check_callback_url",
    "model_limits",
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
