"""One poller per task across clients, and snapshots (polls and webhooks) shared by all.

Each client here has its own ``RedisCoordination`` (its own session and connection), as
each process of a fleet would; the real multi-process runs are in ``test_fleet``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import pytest

from musicapi_async import (
    CoordinationError,
    MusicAPI,
    Outcome,
    PollPolicy,
    RedisCoordination,
    SonicRequest,
    TaskDone,
)
from musicapi_async.emulator import Emulator

from ..loopback import webhook_receiver
from .support import RedisProcess, free_port

pytestmark = pytest.mark.anyio

SPEED = 600.0
SECRET = "whsec-relay-test"


def client(emu: Emulator, url: str, namespace: str, **options: str) -> MusicAPI:
    """A client on the shared key, coordinated through ``namespace``."""
    coordination = RedisCoordination(url, namespace=namespace, create_rate=None, lease_ttl=2)
    return MusicAPI(emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(SPEED),
                    coordination=coordination, **options)  # type: ignore[arg-type]  # fmt: skip


async def test_one_process_polls_and_every_process_gets_the_events(
    redis_url: str, namespace: str
) -> None:
    """Two clients wait on one task: one of them polls, both see every event; a third
    that asks after the end gets the result without any poll."""
    async with Emulator(speed=SPEED) as emu, AsyncExitStack() as stack:
        one = await stack.enter_async_context(client(emu, redis_url, namespace))
        two = await stack.enter_async_context(client(emu, redis_url, namespace))
        job = await one.sonic.create(custom_mode=False, mv="sonic-v5",
                                     gpt_description_prompt="a calm piano")  # fmt: skip
        seen = [type(e).__name__ async for e in two.job(job.task_id).updates()]
        clips = await job.wait(timeout=30)
        polls = emu.stats.requests.get("sonic.task", 0)
        late = await stack.enter_async_context(client(emu, redis_url, namespace))
        again = await late.job(job.task_id).wait(timeout=30)
        polls_after = emu.stats.requests.get("sonic.task", 0)
        coordinations = [api.coordination for api in (one, two)]

    assert seen[-1] == "TaskDone"
    assert "ClipPlayable" in seen
    assert [c.clip_id for c in clips] == [c.clip_id for c in again]
    held = [c.stats.polls for c in coordinations if isinstance(c, RedisCoordination)]
    assert sum(held) == polls
    assert min(held) == 0  # only one of the two ever polled the task
    assert polls_after == polls  # the late waiter read the stored final snapshot


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[MusicAPI]]]:
    """A loopback webhook route that feeds the deliveries to the client put in the list."""
    async with webhook_receiver() as hook:
        yield hook


async def test_a_webhook_fed_to_one_process_resolves_the_job_in_another(
    redis_url: str, namespace: str, receiver: tuple[str, list[MusicAPI]]
) -> None:
    """The webhook lands on client B; client A, which submitted and waits, finishes with
    no poll at all."""
    url, target = receiver
    hooks = {"webhook_url": url, "webhook_secret": SECRET}
    async with Emulator(speed=SPEED, webhook_secret=SECRET) as emu, AsyncExitStack() as stack:
        waiter = await stack.enter_async_context(client(emu, redis_url, namespace, **hooks))
        target.append(await stack.enter_async_context(client(emu, redis_url, namespace,
                                                             **hooks)))  # fmt: skip
        job = await waiter.sonic.create(custom_mode=False, mv="sonic-v5",
                                        gpt_description_prompt="rain on a roof")  # fmt: skip
        with anyio.fail_after(20):  # without the relay, only the slow safety net would come
            events = [e async for e in job.updates(playable=False)]
        polls = emu.stats.requests.get("sonic.task", 0)

    assert isinstance(events[-1], TaskDone)
    assert polls == 0


async def test_two_processes_given_the_same_batch_pay_for_it_once(
    redis_url: str, namespace: str
) -> None:
    """``generate_many`` in two clients with one shared journal: each song is created
    once, and both clients get every song's clips."""
    songs = [SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt=f"song {i}")
             for i in range(6)]  # fmt: skip
    results: list[list[Outcome]] = []
    async with Emulator(speed=SPEED) as emu, AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(client(emu, redis_url, namespace))
                   for _ in range(2)]  # fmt: skip

        async def run(api: MusicAPI) -> None:
            coordination = api.coordination
            assert isinstance(coordination, RedisCoordination)
            batch = api.generate_many(songs, concurrency=6, journal=coordination.journal)
            results.append([outcome async for outcome in batch])

        async with anyio.create_task_group() as group:
            for api in clients:
                group.start_soon(run, api)
        billed = emu.stats.billed.get("sonic.create", 0)

    assert billed == 6
    assert all(len(outcomes) == 6 for outcomes in results)
    assert all(outcome.ok and outcome.clips for outcomes in results for outcome in outcomes)
    ids = [{o.index: o.task_id for o in outcomes} for outcomes in results]
    assert ids[0] == ids[1]


async def test_no_create_is_sent_while_redis_is_down(tmp_path: Path, namespace: str) -> None:
    """With Redis gone, a create raises ``CoordinationError`` and never reaches the API;
    once Redis is back, the same client creates again."""
    server = RedisProcess(tmp_path)
    server.start()
    try:
        async with Emulator(speed=SPEED) as emu, client(emu, server.url, namespace) as api:
            server.stop()
            with pytest.raises(CoordinationError, match="nothing was sent"):
                await api.sonic.create(custom_mode=False, mv="sonic-v5",
                                       gpt_description_prompt="no")  # fmt: skip
            sent_while_down = emu.stats.requests.get("sonic.create", 0)
            server.start()
            job = await api.sonic.create(custom_mode=False, mv="sonic-v5",
                                         gpt_description_prompt="yes")  # fmt: skip
            clips = await job.wait(timeout=30)
    finally:
        server.stop()

    assert sent_while_down == 0
    assert clips


async def test_a_client_does_not_open_without_redis(namespace: str) -> None:
    """Opening a coordinated client with nothing listening fails at once, typed."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    async with Emulator(speed=SPEED) as emu:
        with pytest.raises(CoordinationError, match="marking this process alive"):
            async with client(emu, url, namespace):
                pass


async def test_a_holder_nobody_waits_on_gives_its_lease_back(
    redis_url: str, namespace: str
) -> None:
    """The lease holder's only waiter leaves: it releases the lease at once, so the
    other client, still waiting, takes the task over (leases here last an hour)."""
    async with Emulator(speed=0) as emu, AsyncExitStack() as stack:
        apis = []
        for _ in range(2):
            coordination = RedisCoordination(redis_url, namespace=namespace, create_rate=None,
                                             lease_ttl=3600)  # fmt: skip
            apis.append(await stack.enter_async_context(MusicAPI(
                emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(SPEED),
                coordination=coordination)))  # fmt: skip
        one, two = apis
        stats = [api.coordination.stats for api in apis]  # type: ignore[union-attr]
        job = await one.sonic.create(custom_mode=False, mv="sonic-v5",
                                     gpt_description_prompt="a calm piano")  # fmt: skip
        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(one.job(job.task_id).wait)
                while stats[0].polls == 0:  # noqa: ASYNC110 - one holds the lease now
                    await anyio.sleep(0.01)
                done = anyio.Event()

                async def follow() -> None:
                    await two.job(job.task_id).wait(timeout=30)
                    done.set()

                group.start_soon(follow)
                while stats[1].relayed == 0:  # noqa: ASYNC110 - two was told no
                    await anyio.sleep(0.01)
                group.cancel_scope.cancel()  # one's waiter leaves...
            async with anyio.create_task_group() as group:
                group.start_soon(follow)  # ...two waits on
                while stats[1].polls == 0:  # noqa: ASYNC110 - stats have no event
                    await anyio.sleep(0.01)
                emu.advance(3600)
                await done.wait()

    assert stats[1].takeovers == 1


async def test_a_refresh_is_shared_with_every_process(redis_url: str, namespace: str) -> None:
    """``job.refresh()`` in one client publishes its snapshot: a finished task then
    needs no poll from another client."""
    async with Emulator(speed=0) as emu, AsyncExitStack() as stack:
        one = await stack.enter_async_context(client(emu, redis_url, namespace))
        two = await stack.enter_async_context(client(emu, redis_url, namespace))
        job = await one.sonic.create(custom_mode=False, mv="sonic-v5",
                                     gpt_description_prompt="a calm piano")  # fmt: skip
        emu.advance(3600)
        snapshot = await one.job(job.task_id).refresh()
        polls = emu.stats.requests.get("sonic.task", 0)
        clips = await two.job(job.task_id).wait(timeout=30)

    assert snapshot.done
    assert [c.clip_id for c in clips] == [c.clip_id for c in snapshot.clips]
    assert emu.stats.requests.get("sonic.task", 0) == polls == 1
