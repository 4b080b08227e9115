"""Webhook signatures, as MusicAPI computes them (MUSICAPI.md §9).

Pure and tiny on purpose: the emulator signs with it and the SDK's webhook verifier
checks with it, so the two cannot disagree on the scheme.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["sign_webhook"]


def sign_webhook(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Webhook-Signature`` value for one delivery.

    Args:
        secret: the ``webhook_secret`` sent with the create call.
        timestamp: the ``X-Webhook-Timestamp`` header value (unix seconds, as text).
        body: the exact raw request body, byte for byte.

    Returns:
        ``"sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>"``.
    """
    message = timestamp.encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"sha256={digest}"
