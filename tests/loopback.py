"""Loopback web servers for tests: an aiohttp app on a free port, and a webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from musicapi_async import MusicAPI


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port for the block; yields ``http://127.0.0.1:PORT``."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[tuple[str, list[MusicAPI]]]:
    """A loopback ``/hook`` route that feeds each delivery to the client put in the list."""
    clients: list[MusicAPI] = []

    async def hook(request: web.Request) -> web.StreamResponse:
        response: web.StreamResponse = await clients[0].webhook_handler()(request)
        return response

    app = web.Application()
    app.router.add_post("/hook", hook)
    async with serving(app) as url:
        yield f"{url}/hook", clients
