"""Several worker processes on one API key, as behind a load balancer, through Redis.

Each worker is a process of its own (``--serve``) with its own ``MusicAPI`` client, all
sharing one ``RedisCoordination``: a song submitted to one worker can be followed from
any other (its events stream as server-sent events), only one worker polls each task, and
the creates of all of them stay within one budget.

    POST /songs                  {"description": "..."}  ->  202 {"task_id": "..."}
    GET  /songs/{task_id}/events a server-sent-events stream of the job's events
    GET  /stats                  this worker's share: polls sent, snapshots relayed

    python examples/backend_redis_workers.py   # 3 workers on the emulator; needs Redis
                                               # at $MUSICAPI_REDIS_URL (default: local db 0)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
from aiohttp import web
from anyio.abc import Process

from musicapi_async import MusicAPI, MusicAPIError, PollPolicy, RedisCoordination, TaskDone
from musicapi_async.emulator import Emulator

API = web.AppKey("api", MusicAPI)
WORKERS = 3
# Run from a checkout, the workers import the same package as this script.
CHECKOUT = Path(__file__).resolve().parents[1]


async def create_song(request: web.Request) -> web.Response:
    """Submit a song; any worker can follow it afterwards."""
    body = await request.json()
    job = await request.app[API].sonic.create(
        custom_mode=False, mv="sonic-v5", gpt_description_prompt=str(body["description"])
    )
    return web.json_response({"task_id": job.task_id}, status=202)


async def song_events(request: web.Request) -> web.StreamResponse:
    """Stream a task's events, whichever worker submitted it (and whichever polls it)."""
    job = request.app[API].job(request.match_info["task_id"])
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    try:
        async for event in job.updates():
            await response.write(f"event: {type(event).__name__}\ndata: {{}}\n\n".encode())
            if isinstance(event, TaskDone):
                break
    except MusicAPIError as exc:
        await response.write(f"event: error\ndata: {json.dumps(str(exc))}\n\n".encode())
    return response


async def stats(request: web.Request) -> web.Response:
    """What this worker did for the fleet."""
    coordination = request.app[API].coordination
    assert isinstance(coordination, RedisCoordination)
    return web.json_response({"polls": coordination.stats.polls,
                              "relayed": coordination.stats.relayed})  # fmt: skip


def build_app(args: argparse.Namespace) -> web.Application:
    """One worker's application: its client is coordinated through ``args.redis``."""
    app = web.Application()

    async def client(app: web.Application) -> AsyncIterator[None]:
        # The fleet's one create budget: the default, one create per 3 s of the server's
        # time for all workers together (speed: the emulator's, known before its first
        # answer announces it; leave it out on MusicAPI).
        coordination = RedisCoordination(args.redis, namespace=args.namespace,
                                         speed=args.speed)  # fmt: skip
        async with MusicAPI(args.key, base_url=args.base_url, coordination=coordination,
                            poll=PollPolicy().scaled(args.speed)) as api:  # fmt: skip
            app[API] = api
            yield

    app.cleanup_ctx.append(client)
    app.router.add_post("/songs", create_song)
    app.router.add_get("/songs/{task_id}/events", song_events)
    app.router.add_get("/stats", stats)
    return app


async def serve(args: argparse.Namespace) -> None:
    """Run one worker until SIGTERM; its URL is the first line it prints."""
    runner = web.AppRunner(build_app(args))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for _ in signals:
            break
    await runner.cleanup()


async def start_worker(emu: Emulator, redis: str, namespace: str, speed: float) -> Process:
    """Start one worker process against the emulator."""
    argv = [sys.executable, __file__, "--serve", "--base-url", emu.url, "--key", emu.api_key,
            "--redis", redis, "--namespace", namespace, "--speed", str(speed)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(CHECKOUT), os.environ.get(
        "PYTHONPATH", "")])}  # fmt: skip
    return await anyio.open_process(argv, env=env)


async def first_line(process: Process) -> str:
    """The URL a worker prints when it is ready."""
    assert process.stdout is not None
    data = b""
    async for chunk in process.stdout:
        data += chunk
        if b"\n" in data:
            break
    return data.decode().split("\n", 1)[0]


async def main(speed: float = 60.0, redis: str | None = None) -> dict[str, Any]:
    """Start three workers, submit a song to the first, follow it from the other two.

    Returns:
        The events each follower saw, each worker's poll count and the emulator's.
    """
    redis = redis or os.environ.get("MUSICAPI_REDIS_URL", "redis://127.0.0.1:6379/0")
    namespace = f"example-{uuid.uuid4().hex[:8]}"  # a run of its own on a shared Redis
    async with Emulator(speed=speed) as emu:
        workers = [await start_worker(emu, redis, namespace, speed) for _ in range(WORKERS)]
        try:
            urls = [await first_line(w) for w in workers]
            async with aiohttp.ClientSession() as http:
                async with http.post(f"{urls[0]}/songs", json={"description": "a waltz"}) as r:
                    task_id = (await r.json())["task_id"]
                print(f"worker 0 accepted task {task_id}")
                seen: dict[int, list[str]] = {}

                async def follow(index: int) -> None:
                    names = seen.setdefault(index, [])
                    async with http.get(f"{urls[index]}/songs/{task_id}/events") as stream:
                        async for raw in stream.content:
                            if raw.startswith(b"event: "):
                                names.append(raw.decode()[7:].strip())

                async with anyio.create_task_group() as group:
                    for index in range(1, WORKERS):
                        group.start_soon(follow, index)
                polls = []
                for url in urls:
                    async with http.get(f"{url}/stats") as r:
                        polls.append((await r.json())["polls"])
            for index, names in seen.items():
                print(f"worker {index} streamed: {', '.join(names)}")
            print(f"polls per worker: {polls} (the emulator saw "
                  f"{emu.stats.requests.get('sonic.task', 0)})")  # fmt: skip
            return {"events": seen, "polls": polls,
                    "emulator_polls": emu.stats.requests.get("sonic.task", 0)}  # fmt: skip
        finally:
            for worker in workers:
                worker.terminate()
                await worker.wait()
            leftovers = RedisCoordination(redis, namespace=namespace)
            await leftovers.clear()  # only this run's keys: the server may be shared
            await leftovers.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--serve", action="store_true", help="run one worker")
    parser.add_argument("--base-url")
    parser.add_argument("--key")
    parser.add_argument("--redis")
    parser.add_argument("--namespace")
    parser.add_argument("--speed", type=float, default=60.0)
    options = parser.parse_args()
    if options.serve:
        anyio.run(serve, options)
    else:
        anyio.run(main)
