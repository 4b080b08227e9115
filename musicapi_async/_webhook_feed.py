"""Feeding webhook deliveries to a client: ``MusicAPI.feed_webhook`` and its handler.

Apart from ``_client.py`` so that the client stays its lifecycle and thin public
methods. A delivery is verified (``_webhooks``), deduplicated, and published to the
poller as if a poll had seen it (and to the fleet, with ``coordination``). The aiohttp
handler (``_webhook_server``) is imported only when one is asked for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._errors import MusicAPIError
from ._log import logger
from ._webhooks import WebhookEvent, verify_webhook

if TYPE_CHECKING:
    from ._client import MusicAPI


async def feed_webhook(
    client: MusicAPI, body: bytes, headers: Mapping[str, str], *, legacy_signatures: bool
) -> WebhookEvent | None:
    """``MusicAPI.feed_webhook``: verify ``body``, resolve its job; ``None`` if seen."""
    event = verify_webhook(
        body, headers, client._webhook_secret or "", legacy_signatures=legacy_signatures
    )
    if client._dedupe.seen_event(event):
        return None
    client.poller.publish(event.task_id, event.snapshot)
    if client.coordination is not None:  # [redis hook] resolve it in every process
        try:
            await client.coordination.publish(event.snapshot)
        except MusicAPIError as exc:
            # Applied here; elsewhere the task's poller will see it on its own.
            logger.warning("webhook for %s not shared: %s", event.task_id, exc)
    return event


def webhook_handler(
    client: MusicAPI, *, legacy_signatures: bool
) -> Callable[[Any], Awaitable[Any]]:
    """``MusicAPI.webhook_handler``: an aiohttp.web handler feeding ``client``."""
    from ._webhook_server import make_webhook_handler  # lazy: only servers need it

    async def feed(body: bytes, headers: Mapping[str, str]) -> WebhookEvent | None:
        return await feed_webhook(client, body, headers, legacy_signatures=legacy_signatures)

    return make_webhook_handler(feed)
