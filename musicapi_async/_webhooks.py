"""Webhook verification and parsing (MUSICAPI.md §9): pure functions, no I/O.

MusicAPI POSTs task updates to a create's ``webhook_url``. Each delivery carries
``X-Webhook-Id`` (also ``Idempotency-Key``), ``X-Webhook-Event`` (``song.streaming``,
``song.completed``, ``song.failed``), ``X-Webhook-Timestamp`` (unix seconds) and
``X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>``.
An older scheme (CONFLICT in the docs) signs the raw body alone in ``X-Signature``; it is
accepted too, but carries no timestamp, so only the event id protects against replays.

Verification order: headers present, timestamp inside the tolerance window, signature
(constant-time), then the body's shape. Nothing is trusted before the signature matches.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Final

import attrs

from ._errors import WebhookVerificationError
from ._models import Family, TaskSnapshot
from ._protocol import decode_json, parse_snapshot
from ._signing import sign_webhook

__all__ = ["WebhookDeduplicator", "WebhookEvent", "WebhookVerificationError", "verify_webhook"]

_PLATFORMS: Final[Mapping[str, Family]] = {
    "suno": Family.SONIC,
    "sonic": Family.SONIC,
    "nuro": Family.NURO,
    "studio": Family.STUDIO,
}
_KINDS: Final[Mapping[str, str]] = {
    "song.streaming": "streaming",
    "song.completed": "completed",
    "song.failed": "failed",
}


@attrs.frozen
class WebhookEvent:
    """A verified webhook delivery.

    Attributes:
        event_id: ``X-Webhook-Id``: the same for every retry of one delivery.
        kind: ``"streaming"``, ``"completed"``, ``"failed"`` (or the raw event name).
        task_id: the task it is about.
        snapshot: the task as the delivery describes it, with the same ``Clip`` models
            a poll gives.
        timestamp: when it was signed (unix seconds), if the scheme says.
    """

    event_id: str
    kind: str
    task_id: str
    snapshot: TaskSnapshot = attrs.field(repr=False)
    timestamp: int | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _check_signature(body: bytes, headers: Mapping[str, str], secret: str, tolerance: float,
                     now: float) -> int | None:  # fmt: skip
    signature = _header(headers, "X-Webhook-Signature")
    if signature is not None:
        stamp = _header(headers, "X-Webhook-Timestamp")
        if stamp is None or not stamp.strip().isdigit():
            raise WebhookVerificationError("missing or malformed X-Webhook-Timestamp")
        if abs(now - int(stamp)) > tolerance:
            raise WebhookVerificationError("the webhook timestamp is outside the tolerance")
        expected = sign_webhook(secret, stamp.strip(), body)
        if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
            raise WebhookVerificationError("the webhook signature does not match")
        return int(stamp)
    legacy = _header(headers, "X-Signature")
    if legacy is None:
        raise WebhookVerificationError("the webhook carries no signature header")
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    provided = legacy.strip().removeprefix("sha256=")
    if not hmac.compare_digest(digest.encode(), provided.encode()):
        raise WebhookVerificationError("the webhook signature does not match")
    return None


def verify_webhook(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = 300,
    now: float | None = None,
) -> WebhookEvent:
    """Verify a webhook delivery and parse it.

    Args:
        body: the raw request body, exactly as received (not re-serialised JSON).
        headers: the request headers (any case).
        secret: the ``webhook_secret`` the task was created with.
        tolerance: seconds a timestamp may differ from ``now``.
        now: the current unix time (for tests); defaults to ``time.time()``.

    Returns:
        The verified event.

    Raises:
        WebhookVerificationError: missing headers, stale timestamp, wrong signature or a
            body that is not a task update.
    """
    if not secret:
        raise WebhookVerificationError("no webhook secret to verify with")
    timestamp = _check_signature(body, headers, secret, tolerance,
                                 time.time() if now is None else now)  # fmt: skip
    event_id = _header(headers, "X-Webhook-Id") or _header(headers, "Idempotency-Key")
    if not event_id:
        raise WebhookVerificationError("the webhook carries no X-Webhook-Id")
    try:
        data: Any = decode_json(body)  # depth/size-limited: never a RecursionError
    except ValueError as exc:  # UnicodeDecodeError included
        raise WebhookVerificationError("the webhook body is not JSON") from exc
    if not isinstance(data, Mapping):
        raise WebhookVerificationError("the webhook body is not a JSON object")
    name = _header(headers, "X-Webhook-Event") or ""
    family = _PLATFORMS.get(str(data.get("platform", "suno")).lower(), Family.SONIC)
    task_id = data.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        raise WebhookVerificationError("the webhook body names no task_id")
    try:
        snapshot = parse_snapshot(family, data, task_id=task_id)
    except (ValueError, TypeError) as exc:
        raise WebhookVerificationError(f"the webhook body is not a task update: {exc}") from exc
    return WebhookEvent(event_id, _KINDS.get(name, name), task_id, snapshot, timestamp)


class WebhookDeduplicator:
    """Remembers recent event ids so a redelivered webhook is handled once.

    Bounded: the oldest ids are forgotten first, after ``size`` newer ones.
    """

    def __init__(self, size: int = 10_000) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def seen(self, event_id: str) -> bool:
        """``True`` if ``event_id`` was seen before; records it either way."""
        if event_id in self._seen:
            self._seen.move_to_end(event_id)
            return True
        self._seen[event_id] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return False
