"""The programs in ``examples/`` run against the emulator and do what they promise."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SPEED = 600.0

pytestmark = pytest.mark.anyio


def load(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_backend_streams_job_events_as_server_sent_events(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The aiohttp backend accepts a song, streams its events to the end, reports it done."""
    seen = await load("backend_aiohttp").main(speed=SPEED)
    assert seen[-1] == "TaskDone"
    assert seen.count("ClipSucceeded") == 2
    assert seen.index("ClipPlayable") < seen.index("ClipSucceeded")
    assert "done: True" in capsys.readouterr().out


async def test_chat_bot_posts_the_stream_before_the_song() -> None:
    """The bot posts a playable URL first and the final song last; bad input gets a reply."""
    ana, ben = await load("chat_bot").main(speed=SPEED)
    assert ana.messages[0].startswith("On it!")
    assert ana.messages[1].startswith("Listen while it finishes: http")
    assert ana.messages[-1].startswith("Here it is: ")
    assert ana.messages[-1].endswith(".wav")
    assert ben.messages == [
        "I can't make that one: The 'gpt_description_prompt' character length should be "
        "less than 400."
    ]


async def test_bulk_script_makes_every_song_and_a_rerun_sends_nothing(tmp_path: Path) -> None:
    """generate_many makes six songs with files; run again, they come from the journal."""
    bulk = load("bulk_script")
    first = await bulk.main(speed=SPEED, out=tmp_path)
    assert len(first) == 6
    assert all(o.ok and len(o.clips) == 2 for o in first)
    assert len(list(tmp_path.glob("*.wav"))) == 12
    again = await bulk.main(speed=SPEED, out=tmp_path)  # a fresh emulator: nothing is sent
    assert {o.index: o.task_id for o in again} == {o.index: o.task_id for o in first}
    assert all(o.resumed and o.cost == 0 for o in again)
