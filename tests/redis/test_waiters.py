"""Snapshots go to the processes that wait on the task, and a tick checks the poll pause.

Each client has its own ``RedisCoordination`` (its own session, channel and connection),
as each process of a fleet would; ``test_fleet`` runs the same through real processes.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import anyio
import pytest
import redis.asyncio

from musicapi_async import Family, MusicAPI, PollPolicy, RedisCoordination, TaskSnapshot
from musicapi_async._redis import CoordinationStats
from musicapi_async.emulator import Emulator

pytestmark = pytest.mark.anyio

SPEED = 600.0


def client(emu: Emulator, url: str, namespace: str) -> MusicAPI:
    """A client on the shared key, coordinated through ``namespace``."""
    coordination = RedisCoordination(url, namespace=namespace, create_rate=None, lease_ttl=3600)
    return MusicAPI(emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(SPEED),
                    coordination=coordination)  # fmt: skip


def coordination(api: MusicAPI) -> RedisCoordination:
    """The client's coordination."""
    assert isinstance(api.coordination, RedisCoordination)
    return api.coordination


def stats(api: MusicAPI) -> CoordinationStats:
    """What the client's coordination did."""
    return coordination(api).stats


async def waiters(url: str, namespace: str, task_id: str) -> set[str]:
    """The sessions Redis lists as waiting on ``task_id``."""
    client = redis.asyncio.Redis.from_url(url)
    try:
        members = await client.smembers(f"{namespace}:waiters:{task_id}")
        return {m.decode() if isinstance(m, bytes) else m for m in members}
    finally:
        await client.aclose()


async def test_a_process_is_sent_the_snapshots_of_its_own_tasks_only(
    redis_url: str, namespace: str
) -> None:
    """Two clients each wait on their own task, a third on the first's: the second never
    receives a snapshot of the first's task, and the first's task reaches both waiters."""
    async with Emulator(speed=0) as emu, AsyncExitStack() as stack:
        one, two, three = [await stack.enter_async_context(client(emu, redis_url, namespace))
                           for _ in range(3)]  # fmt: skip
        first = await one.sonic.create(custom_mode=False, mv="sonic-v5",
                                       gpt_description_prompt="a calm piano")  # fmt: skip
        emu.advance(10)  # past the create limit (its clock stands still otherwise)
        second = await two.sonic.create(custom_mode=False, mv="sonic-v5",
                                        gpt_description_prompt="rain on a roof")  # fmt: skip
        emu.advance(3600)
        results: dict[str, list[str]] = {}

        async def wait(name: str, api: MusicAPI, task_id: str) -> None:
            clips = await api.job(task_id).wait(timeout=30)
            results[name] = [c.clip_id for c in clips]

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(wait, "one", one, first.task_id)
                group.start_soon(wait, "two", two, second.task_id)
                group.start_soon(wait, "three", three, first.task_id)
        polls = emu.stats.requests.get("sonic.task", 0)

    assert results["one"] == results["three"]
    assert results["one"]
    assert results["two"]
    assert stats(two).received == stats(two).skipped == 0
    assert stats(one).skipped == stats(three).skipped == 0
    assert polls == 2  # one per task: the other waiter of the first was sent its end


async def test_a_waiter_that_leaves_is_taken_off_the_tasks_waiters(
    redis_url: str, namespace: str
) -> None:
    """A client stops waiting on a task another still waits on: its session leaves the
    task's waiters (nothing is sent to it any more), the other's stays."""
    async with Emulator(speed=0) as emu, AsyncExitStack() as stack:
        one = await stack.enter_async_context(client(emu, redis_url, namespace))
        two = await stack.enter_async_context(client(emu, redis_url, namespace))
        job = await one.sonic.create(custom_mode=False, mv="sonic-v5",
                                     gpt_description_prompt="a calm piano")  # fmt: skip
        mine, theirs = coordination(one).session, coordination(two).session
        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(one.job(job.task_id).wait)
                async with anyio.create_task_group() as leaving:
                    leaving.start_soon(two.job(job.task_id).wait)
                    while await waiters(redis_url, namespace, job.task_id) != {mine, theirs}:  # noqa: ASYNC110 - Redis has no event to wait on
                        await anyio.sleep(0.01)
                    leaving.cancel_scope.cancel()  # two's only waiter leaves
                while await waiters(redis_url, namespace, job.task_id) != {mine}:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
                group.cancel_scope.cancel()


async def test_a_poll_under_the_fleets_poll_pause_waits(redis_url: str, namespace: str) -> None:
    """A tick that takes the lease while another process paused every poll does not let
    its poll through the shared budget; without the pause it goes at once."""
    sent: list[str] = []
    shared = RedisCoordination(redis_url, namespace=namespace, create_rate=None)
    await shared.open()
    try:

        async def fetch(task_id: str, family: Family) -> TaskSnapshot:
            await shared.rates.acquire("poll")
            sent.append(task_id)
            return TaskSnapshot(task_id=task_id, family=family, ready=False)

        await shared.poll("free-task", Family.SONIC, fetch)
        await shared.rates.pause("poll", 300)
        with anyio.move_on_after(1):  # the pause lasts 300 s: it cannot end meanwhile
            await shared.poll("paused-task", Family.SONIC, fetch)
    finally:
        await shared.aclose()

    assert sent == ["free-task"]
