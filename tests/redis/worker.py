"""One worker process of the Redis fleet tests: ``python -m tests.redis.worker CONFIG``.

It is given every song of the run (as titles) and behaves like one replica of a web
backend on a shared key: for each song it claims the request in the shared journal and
submits it if it won, else it waits for the task id the winner records; then it awaits
every song's job through ``api.job(task_id).wait()``. It prints one JSON line per
accepted song (``{"accepted": title}``) and a last line with what it saw: the tasks it
created, the task polls it sent (with monotonic timestamps, comparable across processes
on one machine), the songs delivered and those it had to report as unknown.

Exit status: 0 done, 3 ``CoordinationError`` (Redis went away).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import anyio

from musicapi_async import (
    CoordinationError,
    MusicAPI,
    PollPolicy,
    RateLimited,
    RedisCoordination,
    SonicRequest,
    SubmissionOutcomeUnknown,
)
from musicapi_async._convert import to_wire
from musicapi_async._http import HttpRequest, HttpResponse
from musicapi_async._journal import fingerprint
from musicapi_async._transport import AiohttpTransport


def song(title: str) -> SonicRequest:
    """The request for one song; the title lets the test match billed tasks to songs."""
    return SonicRequest(custom_mode=True, mv="sonic-v5", prompt="la la la", title=title,
                        tags="pop")  # fmt: skip


def song_fingerprint(title: str) -> str:
    """The journal key of a song."""
    return fingerprint("sonic.create", to_wire(song(title)))


class CountingTransport(AiohttpTransport):
    """Records every task poll this process sends: (task id, monotonic time)."""

    polls: list[tuple[str, float]]

    async def send(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and request.task_id is not None:
            self.polls.append((request.task_id, time.monotonic()))
        return await super().send(request)


def emit(**data: Any) -> None:
    """One JSON line on stdout, flushed at once (the test reads it live)."""
    print(json.dumps(data), flush=True)


async def run(cfg: dict[str, Any]) -> dict[str, Any]:
    """Claim, submit and await every song of ``cfg["titles"]``."""
    coordination = RedisCoordination(cfg["redis"], namespace=cfg["namespace"],
                                     create_rate=cfg["create_rate"], create_burst=1,
                                     create_margin=cfg.get("margin", 0.1),
                                     speed=cfg["speed"], lease_ttl=cfg["lease_ttl"])  # fmt: skip
    transport = CountingTransport(cfg["url"], cfg["key"])
    transport.polls = []
    journal = coordination.journal
    created: list[str] = []
    delivered: dict[str, str] = {}
    unknown: list[str] = []
    policy = PollPolicy().scaled(cfg["speed"])
    async with MusicAPI(cfg["key"], base_url=cfg["url"], transport=transport, poll=policy,
                        coordination=coordination) as api:  # fmt: skip
        slots = anyio.Semaphore(cfg.get("concurrency", 4))

        claimed = {title: anyio.Event() for title in cfg["titles"]}

        async def send(title: str) -> str:
            """Send a song this process holds the claim of, and record its task id."""
            while True:
                try:
                    job = await api.submit(song(title))
                    break
                except RateLimited:
                    # Refused, so not billed: the claim stays ours; send it again.
                    await anyio.sleep(0.05)
            await journal.submitted(song_fingerprint(title), job.task_id)
            created.append(job.task_id)
            emit(accepted=title)
            return job.task_id

        async def claim(title: str) -> None:
            fp = song_fingerprint(title)
            async with slots:
                won = await journal.begin(fp, "sonic.create", to_wire(song(title))) is None
                claimed[title].set()
                if won:
                    await send(title)

        async def deliver(title: str) -> None:
            fp = song_fingerprint(title)
            await claimed[title].wait()
            try:
                task_id = await journal.wait_task_id(fp, timeout=cfg["timeout"])
            except SubmissionOutcomeUnknown:
                unknown.append(title)
                return
            if task_id is None:  # its claimer died before sending it: the claim is ours
                async with slots:
                    task_id = await send(title)
            clips = await api.job(task_id).wait(timeout=cfg["timeout"])
            assert clips
            assert all(c.state.value == "succeeded" for c in clips)
            delivered[title] = task_id

        started = time.monotonic()
        timings: dict[str, float] = {}

        async def claim_all() -> None:
            async with anyio.create_task_group() as claims:
                for title in cfg["titles"]:
                    claims.start_soon(claim, title)
            timings["claimed"] = time.monotonic() - started

        async with anyio.create_task_group() as group:
            group.start_soon(claim_all)
            for title in cfg["titles"]:
                group.start_soon(deliver, title)
        timings["delivered"] = time.monotonic() - started
        stats = coordination.stats
    return {"done": True, "session": coordination.session, "created": created,
            "polls": transport.polls, "delivered": delivered, "unknown": unknown,
            "relayed": stats.relayed, "received": stats.received, "timings": timings,
            "lease_polls": stats.polls}  # fmt: skip


def leaves(group: BaseExceptionGroup[CoordinationError]) -> list[CoordinationError]:
    """The errors of a (nested) exception group."""
    found: list[CoordinationError] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            found.extend(leaves(exc))
        else:
            found.append(exc)
    return found


def main() -> int:
    """Run the worker described by the JSON in ``argv[1]``."""
    cfg = json.loads(sys.argv[1])
    error: list[CoordinationError] = []
    try:
        result = anyio.run(run, cfg)
    except* CoordinationError as group:
        error.extend(leaves(group))
    if error:
        emit(coordination_error=str(error[0]))
        return 3
    emit(**result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
