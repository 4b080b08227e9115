"""Helpers of the end-to-end tests: a poll schedule as fast as the emulator, requests, media.

These tests run the public SDK (and a third-party client) against a real emulator on
loopback. The emulator runs ``SPEED`` times faster than MusicAPI, and ``FAST_POLL`` is
the SDK's default schedule scaled by the same factor, so a 4-minute sonic task ends in
about a tenth of a second and is polled on the schedule real users get.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import aiohttp
import anyio

from musicapi_async import Clip, ClipState, Job, MusicAPI, PollPolicy
from musicapi_async.emulator import Emulator

# Emulated seconds per wall second: a sonic task (at most ~4 emulated minutes) takes
# at most ~0.12 s.
SPEED: Final = 2000.0

# ``initial_delay=0`` makes the first poll land while the task is still ``not_ready``.
# The schedule must be *scaled*: its completion windows are in emulated seconds, and an
# unscaled policy (even with tiny intervals) waits for the documented 120 s window.
FAST_POLL: Final = PollPolicy(initial_delay=0).scaled(SPEED)

# Enough emulated time for any task to end, for tests whose clock only moves by hand.
LONG: Final = 3600.0

# Generous wall-clock bound on any single wait: a hang fails fast instead of stalling.
WAIT: Final = 10.0

FAILED_MESSAGE: Final = "Task failed due to timeout. Credits were previously refunded."

DESCRIPTION: Final = "A calm and relaxing piano track about rain"
LYRICS: Final = "[Verse]\nStars they shine above me\n\n[Chorus]\nHold on to the light"
UPLOAD_URL: Final = "https://example.com/audio/garage-demo.mp3"


async def finished_song(api: MusicAPI, **options: Any) -> Clip:
    """Create a description-mode song, wait for it, and return its first clip."""
    fields: dict[str, Any] = {"gpt_description_prompt": DESCRIPTION, **options}
    job = await api.sonic.create(custom_mode=False, mv="sonic-v5", **fields)
    clips = await job.wait(timeout=WAIT)
    return clips[0]


async def wait_succeeded(job: Job, count: int = 2) -> list[Clip]:
    """Wait for ``job`` and check it ended with ``count`` succeeded clips."""
    clips = await job.wait(timeout=WAIT)
    assert len(clips) == count
    assert all(c.state is ClipState.SUCCEEDED for c in clips)
    return clips


async def fetch(http: aiohttp.ClientSession, url: str) -> tuple[int, str, bytes]:
    """GET ``url``: its status, content type and body."""
    async with http.get(url) as response:
        return response.status, response.content_type, await response.read()


async def assert_serves_wav(http: aiohttp.ClientSession, emu: Emulator, clip: Clip) -> None:
    """The clip's audio URL points at the emulator and serves a RIFF/WAVE file."""
    assert clip.audio_url is not None
    assert clip.audio_url.startswith(emu.url + "/")
    status, content_type, body = await fetch(http, clip.audio_url)
    assert (status, content_type) == (200, "audio/wav")
    assert body[:4] == b"RIFF"
    assert body[8:12] == b"WAVE"


async def emulated_task(http: aiohttp.ClientSession, emu: Emulator, task_id: str) -> Any:
    """What the emulator recorded about a task (``GET /_emulator/tasks/{task_id}``)."""
    async with http.get(f"{emu.url}/_emulator/tasks/{task_id}") as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    """Return once ``condition()`` holds; fail the test if it still does not after ``timeout``.

    For states a test can only read as counters (the emulator's stats, the poller's): the
    test waits for the state itself, never for an amount of time, so load cannot change
    what it sees, only how long it takes.
    """
    with anyio.fail_after(timeout):
        while not condition():  # noqa: ASYNC110 - counters, not events, are what we can read
            await anyio.sleep(0.002)
