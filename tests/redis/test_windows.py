"""Coordinated clients share their learned completion windows: a new one starts warm."""

from __future__ import annotations

import anyio
import pytest

from musicapi_async import Family, MusicAPI, PollPolicy, RedisCoordination, SonicRequest
from musicapi_async._polling import CompletionModel
from musicapi_async.emulator import Emulator

pytestmark = pytest.mark.anyio

SPEED = 600.0
# The documented sonic window, in wall seconds: from where 5 % of tasks (two clips, each
# done at 2-4 min) are done, to 4 min.
COLD = ((120 + 120 * 0.05**0.5) / SPEED, 240 / SPEED)


def client(emu: Emulator, url: str, namespace: str) -> MusicAPI:
    """A client on the shared key, coordinated through ``namespace``."""
    coordination = RedisCoordination(url, namespace=namespace, create_rate=None)
    return MusicAPI(emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(SPEED),
                    coordination=coordination)  # fmt: skip


def schedule_of(learned: dict[str, list[float]]) -> tuple[float, float]:
    """The sonic window of a client that has all of ``learned`` (every sample counted)."""
    model = CompletionModel(PollPolicy().scaled(SPEED))
    model.seed(learned)
    return model.window(Family.SONIC)


async def songs(api: MusicAPI, names: list[str]) -> None:
    """Create and wait for one song per name."""

    async def one(name: str) -> None:
        job = await api.submit(SonicRequest(custom_mode=False, mv="sonic-v5",
                                            gpt_description_prompt=name))  # fmt: skip
        await job.wait(timeout=60)

    async with anyio.create_task_group() as group:
        for name in names:
            group.start_soon(one, name)


async def test_a_second_coordinated_client_starts_with_the_first_ones_windows(
    redis_url: str, namespace: str
) -> None:
    """What one coordinated client learned is the next one's poll schedule from its open."""
    async with Emulator(speed=SPEED) as emu:
        async with client(emu, redis_url, namespace) as first:
            assert first.poller.model.window(Family.SONIC) == pytest.approx(COLD)
            await songs(first, [f"song {i}" for i in range(20)])
            learned = first.poller.model.learned()["done:sonic"]
            # Its own newest samples may not count yet (they wait for their cohort).
            warm = schedule_of(first.poller.model.learned())
        assert len(learned) == 20
        assert warm != COLD
        async with client(emu, redis_url, namespace) as second:
            # Before any request: the schedule of a warm client.
            assert second.poller.model.window(Family.SONIC) == pytest.approx(warm, abs=1e-3)
            seeded = second.poller.model.learned()["done:sonic"]
            assert sorted(seeded) == pytest.approx(sorted(learned), abs=0.01)


async def test_saves_of_several_clients_merge_without_counting_a_sample_twice(
    redis_url: str, namespace: str
) -> None:
    """Two clients open at once both keep their samples; one seeded from the store adds
    only what it learned itself."""
    async with Emulator(speed=SPEED) as emu:
        async with (
            client(emu, redis_url, namespace) as one,
            client(emu, redis_url, namespace) as two,
        ):
            await songs(one, [f"one {i}" for i in range(4)])
            await songs(two, [f"two {i}" for i in range(3)])
        async with client(emu, redis_url, namespace) as three:
            assert len(three.poller.model.learned()["done:sonic"]) == 7
            await songs(three, ["three"])
        async with client(emu, redis_url, namespace) as four:
            assert len(four.poller.model.learned()["done:sonic"]) == 8


async def test_running_clients_learn_from_each_other(redis_url: str, namespace: str) -> None:
    """Two clients open at once: what one learns reaches the other's schedule while both
    run (every server minute), without either restarting."""
    async with Emulator(speed=SPEED) as emu:
        async with (
            client(emu, redis_url, namespace) as one,
            client(emu, redis_url, namespace) as two,
        ):
            await songs(one, [f"one {i}" for i in range(20)])
            warm = schedule_of(one.poller.model.learned())
            with anyio.fail_after(30):
                while len(two.poller.model.learned().get("done:sonic", ())) < 20:  # noqa: ASYNC110
                    await anyio.sleep(0.05)
                # Just observed by one, they count at two once their cohort could be done
                # (the prior's 4 server minutes after submission), as one's own do.
                while two.poller.model.window(Family.SONIC) != pytest.approx(warm, abs=1e-3):  # noqa: ASYNC110
                    await anyio.sleep(0.05)
            assert len(two.poller.model.learned()["done:sonic"]) == 20
        async with client(emu, redis_url, namespace) as three:
            assert len(three.poller.model.learned()["done:sonic"]) == 20  # not 40
