"""The receiving end of webhooks: an aiohttp.web handler around ``feed_webhook``.

It is server-side code, so it lives apart from the transport (which only sends). aiohttp.web
costs ~20 ms to import and only webhook receivers need it, so it is imported when a handler
is built, never with the package.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._webhooks import WebhookVerificationError

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["make_webhook_handler"]


def make_webhook_handler(
    feed: Callable[[bytes, Mapping[str, str]], Awaitable[Any]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp.web handler that hands each delivery to ``feed`` (``feed_webhook``)."""
    from aiohttp import web

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            await feed(body, dict(request.headers))
        except WebhookVerificationError as exc:
            return web.json_response({"error": str(exc)}, status=exc.reply_status)
        except (ValueError, TypeError, ArithmeticError, RecursionError, LookupError) as exc:
            # Whatever an unauthenticated caller sent must not become a 500 with a
            # traceback: the verifier maps what it knows; this catches what it missed.
            from ._log import logger

            logger.warning("webhook delivery refused (400): %s", type(exc).__name__)
            return web.json_response({"error": "malformed webhook delivery"}, status=400)
        return web.json_response({"ok": True})

    return handle
