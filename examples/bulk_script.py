"""A bulk script: many songs through ``generate_many``, resumable, within a budget.

Run it twice with the same journal and the second run sends nothing: finished songs come
back from the journal (and were downloaded by the first run). Each song is downloaded as
soon as it is done.

    python examples/bulk_script.py    # a self-contained demo against the emulator
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import anyio

from musicapi_async import MusicAPI, Outcome, PollPolicy, SonicRequest, SQLiteJournal
from musicapi_async.emulator import Emulator

IDEAS = [
    "a sea shanty about a rusty tugboat",
    "lo-fi hip hop for a rainy morning",
    "a country ballad about a dog at the train station",
    "epic orchestral music for a film about bees",
    "a bossa nova about forgetting your umbrella",
    "an 80s synthwave drive through a neon city",
]


async def main(speed: float = 60.0, out: Path | None = None) -> list[Outcome]:
    """Make a song per idea into ``out`` (a temporary directory by default)."""
    out = out or Path(tempfile.mkdtemp(prefix="musicapi-bulk-"))
    requests = [SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt=idea)
                for idea in IDEAS]  # fmt: skip
    outcomes: list[Outcome] = []
    async with (
        Emulator(speed=speed) as emu,  # with a real key: drop this, MusicAPI() reads the env
        SQLiteJournal(out / "journal.sqlite3") as journal,
        MusicAPI(emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(speed)) as api,
    ):
        batch = api.generate_many(
            requests, concurrency=4, timeout=900, journal=journal, budget=100
        )  # 6 songs x 15 credits: the 7th would not go
        async for outcome in batch:
            outcomes.append(outcome)
            if not outcome.ok:
                print(f"#{outcome.index} failed: {type(outcome.error).__name__}: {outcome.error}")
                continue
            if outcome.resumed:  # finished (and downloaded) by an earlier run
                print(f"#{outcome.index} done earlier: task {outcome.task_id}")
                continue
            for clip in outcome.clips:
                files = await api.download(clip, out, kinds=("audio",))
                print(f"#{outcome.index} {clip.title!r}: {', '.join(p.name for p in files)}")
    print(f"{sum(o.ok for o in outcomes)}/{len(requests)} songs in {out}")
    return outcomes


if __name__ == "__main__":
    anyio.run(main)
