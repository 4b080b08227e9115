"""A web backend on aiohttp.web: submit a song, read its status, follow its events live.

    POST /songs                  {"description": "..."}  ->  202 {"task_id": "..."}
    GET  /songs/{task_id}        the task's clips (one free poll)
    GET  /songs/{task_id}/events a server-sent-events stream: one event per job event

The app owns one ``MusicAPI`` client, opened at start-up and closed at shutdown; every
request handler shares it (and its poller: a hundred browsers following one song cost
the API no more polls than one).

    python examples/backend_aiohttp.py    # a self-contained demo against the emulator
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import anyio
from aiohttp import web

from musicapi_async import (
    Clip,
    ClipPlayable,
    InvalidRequest,
    Job,
    MusicAPI,
    MusicAPIError,
    PollPolicy,
    TaskDone,
    TaskNotFound,
)
from musicapi_async.emulator import Emulator

API = web.AppKey("api", MusicAPI)
JOBS = web.AppKey("jobs", dict[str, Job])


def clip_json(clip: Clip) -> dict[str, Any]:
    """What the browser needs of a clip."""
    return {"clip_id": clip.clip_id, "state": clip.state.value, "title": clip.title,
            "audio_url": clip.audio_url, "duration": clip.duration}  # fmt: skip


async def create_song(request: web.Request) -> web.Response:
    """Submit a description-mode song; answer at once with its task id."""
    body = await request.json()
    try:
        job = await request.app[API].sonic.create(
            custom_mode=False, mv="sonic-v5", gpt_description_prompt=str(body["description"])
        )
    except InvalidRequest as exc:  # refused locally: nothing was sent or billed
        return web.json_response({"error": str(exc)}, status=400)
    request.app[JOBS][job.task_id] = job  # later requests share this job and its polls
    return web.json_response({"task_id": job.task_id}, status=202)


def find_job(request: web.Request) -> Job:
    """The job of the task in the URL (one submitted by another process works too)."""
    task_id = request.match_info["task_id"]
    jobs = request.app[JOBS]
    return jobs.get(task_id) or jobs.setdefault(task_id, request.app[API].job(task_id))


async def song_status(request: web.Request) -> web.Response:
    """Poll the task once and show its clips."""
    job = find_job(request)
    try:
        snapshot = await job.refresh()
    except TaskNotFound:
        return web.json_response({"error": "no such task"}, status=404)
    return web.json_response({"task_id": job.task_id, "done": snapshot.done,
                              "clips": [clip_json(c) for c in snapshot.clips]})  # fmt: skip


async def song_events(request: web.Request) -> web.StreamResponse:
    """Stream the job's events as server-sent events until the task is done."""
    job = find_job(request)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})  # fmt: skip
    await response.prepare(request)

    async def send(name: str, data: dict[str, Any]) -> None:
        await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

    try:
        async for event in job.updates():
            clip = getattr(event, "clip", None)
            data = {"task_id": event.task_id, "clip": clip_json(clip) if clip else None}
            await send(type(event).__name__, data)
            if isinstance(event, TaskDone):
                break
    except MusicAPIError as exc:
        await send("error", {"message": str(exc)})
    return response


def build_app(open_client: Callable[[], MusicAPI]) -> web.Application:
    """The application; ``open_client()`` makes the client it opens at start-up."""
    app = web.Application()

    async def client(app: web.Application) -> AsyncIterator[None]:
        async with open_client() as api:
            app[API], app[JOBS] = api, {}
            yield

    app.cleanup_ctx.append(client)
    app.router.add_post("/songs", create_song)
    app.router.add_get("/songs/{task_id}", song_status)
    app.router.add_get("/songs/{task_id}/events", song_events)
    return app


async def main(speed: float = 60.0) -> list[str]:
    """Serve the app on the emulator, then act as a browser; returns the event names seen.

    With a real key, ``build_app(MusicAPI)`` reads ``$MUSICAPI_API_KEY`` instead.
    """
    async with Emulator(speed=speed) as emu:
        app = build_app(lambda: MusicAPI(emu.api_key, base_url=emu.url,
                                         poll=PollPolicy().scaled(speed)))  # fmt: skip
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        seen: list[str] = []
        try:
            async with aiohttp.ClientSession(base) as http:
                song = {"description": "a sea shanty about rust"}
                async with http.post("/songs", json=song) as r:
                    task_id = (await r.json())["task_id"]
                print("POST /songs ->", task_id)
                async with http.get(f"/songs/{task_id}/events") as stream:
                    async for raw in stream.content:
                        line = raw.decode().strip()
                        if line.startswith("event: "):
                            seen.append(line.removeprefix("event: "))
                        elif line.startswith("data: ") and seen[-1] == ClipPlayable.__name__:
                            print("  stream:", json.loads(line[6:])["clip"]["audio_url"])
                print("events:", ", ".join(seen))
                async with http.get(f"/songs/{task_id}") as r:
                    status = await r.json()
                print("GET /songs/{id} -> done:", status["done"],
                      [c["title"] for c in status["clips"]])  # fmt: skip
        finally:
            await runner.cleanup()
    return seen


if __name__ == "__main__":
    anyio.run(main)
