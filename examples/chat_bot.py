"""A chat-bot handler: post the streaming URL within seconds, the finished song later.

A chat platform calls ``handle_song_request`` for "/song <description>" and must not wait
for it: start it as a background task (the demo runs two at once). The user hears the
song while it is still being generated (``ClipPlayable``), and gets the final file when
the task is done; a failure is explained, never raised into the chat framework.

    python examples/chat_bot.py    # a self-contained demo against the emulator
"""

from __future__ import annotations

from typing import Protocol

import anyio

from musicapi_async import (
    ClipPlayable,
    InvalidRequest,
    MusicAPI,
    MusicAPIError,
    PollPolicy,
    TaskDone,
    TaskFailed,
)
from musicapi_async.emulator import Emulator


class Chat(Protocol):
    """Where the bot answers: one conversation of any chat platform."""

    async def post(self, text: str) -> None:
        """Send a message."""


async def handle_song_request(api: MusicAPI, chat: Chat, description: str) -> None:
    """Make a song for ``description``: stream URL first, final song last."""
    try:
        job = await api.sonic.create(custom_mode=False, mv="sonic-v5",
                                     gpt_description_prompt=description)  # fmt: skip
    except InvalidRequest as exc:  # refused before anything was sent: nothing billed
        await chat.post(f"I can't make that one: {exc}")
        return
    except MusicAPIError as exc:
        await chat.post(f"The music service is not answering ({type(exc).__name__}); "
                        "please try again in a minute.")  # fmt: skip
        return
    await chat.post(f'On it! Writing "{description}"...')
    streamed = False
    try:
        with anyio.fail_after(900):
            async for event in job.updates():
                if isinstance(event, ClipPlayable) and not streamed:
                    streamed = True
                    await chat.post(f"Listen while it finishes: {event.clip.audio_url}")
                elif isinstance(event, TaskDone):
                    break
        clip = job.result()[0]
    except TaskFailed:
        await chat.post("Sorry, that song failed to generate (the credits were refunded).")
        return
    except TimeoutError:
        await chat.post(f"This one is taking long; ask me later about task {job.task_id}.")
        return
    minutes, seconds = divmod(int(clip.duration or 0), 60)
    await chat.post(f"Here it is: {clip.title} ({minutes}:{seconds:02d}) {clip.audio_url}")


class PrintChat:
    """A chat that prints and remembers what the bot posts (for the demo and tests)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.messages: list[str] = []

    async def post(self, text: str) -> None:
        """Print and keep ``text``."""
        self.messages.append(text)
        print(f"[{self.name}] bot: {text}")


async def main(speed: float = 60.0) -> list[PrintChat]:
    """Two users ask for songs at once; returns their chats."""
    chats = [PrintChat("ana"), PrintChat("ben")]
    requests = ["a birthday song for Ana, playful, with ukulele", "x" * 401]
    async with (
        Emulator(speed=speed) as emu,
        MusicAPI(emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(speed)) as api,
        anyio.create_task_group() as group,
    ):
        for chat, text in zip(chats, requests, strict=True):
            group.start_soon(handle_song_request, api, chat, text)
    return chats


if __name__ == "__main__":
    anyio.run(main)
