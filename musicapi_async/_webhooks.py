"""Webhook verification and parsing (MUSICAPI.md §9): pure functions, no I/O.

MusicAPI POSTs task updates to a create's ``webhook_url``. Each delivery carries
``X-Webhook-Id`` (also ``Idempotency-Key``), ``X-Webhook-Event`` (``song.streaming``,
``song.completed``, ``song.failed``), ``X-Webhook-Timestamp`` (unix seconds) and
``X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>``.
An older scheme (CONFLICT in the docs) signs the raw body alone in ``X-Signature``. It
carries no timestamp, so a captured delivery stays valid forever: it is refused unless the
caller opts in (``legacy_signatures=True``).

Verification order: headers present and well-formed, timestamp inside the tolerance
window, signature (constant-time), then the body's shape (JSON of bounded depth). Nothing
is trusted before the signature matches. ``X-Webhook-Id`` is not signed, so replays are
recognised by what is: ``WebhookEvent.signed_digest`` (timestamp, body and signature).

Every refusal is a ``WebhookVerificationError`` whose ``reply_status`` is the HTTP status
to answer: 401 when the delivery is not authentic, 400 when it is malformed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Final

import attrs

from ._errors import MusicAPIError, WebhookVerificationError
from ._models import Family, TaskSnapshot
from ._parse import parse_snapshot
from ._protocol import decode_json
from ._signing import sign_webhook

__all__ = ["WebhookDeduplicator", "WebhookEvent", "WebhookVerificationError", "verify_webhook"]

_PLATFORMS: Final[Mapping[str, Family]] = {
    "suno": Family.SONIC,
    "sonic": Family.SONIC,
    "nuro": Family.NURO,
    "studio": Family.STUDIO,
    "producer": Family.PRODUCER,
    "riffusion": Family.RIFFUSION,
}
_KINDS: Final[Mapping[str, str]] = {
    "song.streaming": "streaming",
    "song.completed": "completed",
    "song.failed": "failed",
}
# Unix seconds, ASCII digits only: ``str.isdigit`` also takes "²" (then ``int`` fails) and
# a 400-digit number overflows a float comparison.
_TIMESTAMP: Final = re.compile(r"[0-9]{1,12}")
# A task update is a few levels deep; far deeper JSON is an attack on the decoder's stack.


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
        signed_digest: sha256 of what the signature covers and the signature itself: the
            same for a replay of this delivery, whatever ``X-Webhook-Id`` it carries.
    """

    event_id: str
    kind: str
    task_id: str
    snapshot: TaskSnapshot = attrs.field(repr=False)
    timestamp: int | None = None
    signed_digest: str = attrs.field(default="", repr=False)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _refuse(message: str, *, malformed: bool = False) -> WebhookVerificationError:
    return WebhookVerificationError(message, reply_status=400 if malformed else 401)


def _check_signature(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    tolerance: float,
    now: float,
    legacy_signatures: bool,
) -> tuple[int | None, str]:
    """The signed timestamp (``None`` for the legacy scheme) and the signed digest."""
    signature = _header(headers, "X-Webhook-Signature")
    if signature is not None:
        stamp = (_header(headers, "X-Webhook-Timestamp") or "").strip()
        if not _TIMESTAMP.fullmatch(stamp):
            raise _refuse("missing or malformed X-Webhook-Timestamp", malformed=True)
        if abs(now - int(stamp)) > tolerance:
            raise _refuse("the webhook timestamp is outside the tolerance")
        expected = sign_webhook(secret, stamp, body)
        if not hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace")):
            raise _refuse("the webhook signature does not match")
        return int(stamp), _digest(stamp.encode(), body, expected.encode())
    legacy = _header(headers, "X-Signature")
    if legacy is None:
        raise _refuse("the webhook carries no signature header")
    if not legacy_signatures:
        raise _refuse(
            "the webhook is signed with the legacy X-Signature scheme (no "
            "timestamp, replayable forever); pass legacy_signatures=True to "
            "accept it"
        )
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    provided = legacy.strip().removeprefix("sha256=")
    if not hmac.compare_digest(digest.encode(), provided.encode("utf-8", "replace")):
        raise _refuse("the webhook signature does not match")
    return None, _digest(b"", body, digest.encode())


def _digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.hexdigest()


def _decode(body: bytes) -> Any:
    try:
        return decode_json(body)  # depth/size-limited: never a RecursionError
    except ValueError as exc:  # UnicodeDecodeError included
        raise _refuse(f"the webhook body is not JSON we accept ({exc})", malformed=True) from exc


def verify_webhook(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = 300,
    now: float | None = None,
    legacy_signatures: bool = False,
) -> WebhookEvent:
    """Verify a webhook delivery and parse it.

    Args:
        body: the raw request body, exactly as received (not re-serialised JSON).
        headers: the request headers (any case).
        secret: the ``webhook_secret`` the task was created with.
        tolerance: seconds a timestamp may differ from ``now``.
        now: the current unix time (for tests); defaults to ``time.time()``.
        legacy_signatures: also accept the older ``X-Signature`` scheme (an HMAC of the
            body alone). Off by default: without a signed timestamp, anyone who captured
            one delivery can replay it forever; only the deduplicator's memory stops it.

    Returns:
        The verified event.

    Raises:
        WebhookVerificationError: missing or malformed headers, stale timestamp, wrong
            signature, a legacy signature not opted into, or a body that is not a task
            update; ``reply_status`` is the HTTP status to answer (400 or 401).
    """
    if not secret:
        raise WebhookVerificationError("no webhook secret to verify with")
    timestamp, signed_digest = _check_signature(
        body, headers, secret, tolerance, time.time() if now is None else now, legacy_signatures
    )
    event_id = _header(headers, "X-Webhook-Id") or _header(headers, "Idempotency-Key")
    if not event_id:
        raise _refuse("the webhook carries no X-Webhook-Id", malformed=True)
    data = _decode(body)
    if not isinstance(data, Mapping):
        raise _refuse("the webhook body is not a JSON object", malformed=True)
    name = _header(headers, "X-Webhook-Event") or ""
    family = _PLATFORMS.get(str(data.get("platform", "suno")).lower(), Family.SONIC)
    task_id = data.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        raise _refuse("the webhook body names no task_id", malformed=True)
    try:
        snapshot = parse_snapshot(family, data, task_id=task_id)
    except (ValueError, TypeError, RecursionError) as exc:
        raise _refuse(f"the webhook body is not a task update: {exc}", malformed=True) from exc
    except MusicAPIError as exc:
        raise _refuse(f"the webhook body is not a task update: {exc}", malformed=True) from exc
    return WebhookEvent(
        event_id, _KINDS.get(name, name), task_id, snapshot, timestamp, signed_digest
    )


class WebhookDeduplicator:
    """Remembers recent deliveries so a redelivered (or replayed) webhook is handled once.

    ``seen_event`` checks both the event id (MusicAPI's retries of one delivery) and the
    signed digest (a replay under a fresh, unsigned ``X-Webhook-Id``). Bounded: the oldest
    entries are forgotten first, after ``size`` newer ones.
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

    def seen_event(self, event: WebhookEvent) -> bool:
        """``True`` if this event's id or its signed content was seen; records both."""
        by_id = self.seen("id:" + event.event_id)
        by_content = bool(event.signed_digest) and self.seen("signed:" + event.signed_digest)
        return by_id or by_content
