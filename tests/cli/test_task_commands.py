"""``status``/``wait``/``download`` find a task's family themselves and refuse ``--emulator``."""

from __future__ import annotations

import json

import pytest

from musicapi_async import MusicAPI
from musicapi_async.emulator import Emulator

from .support import run, run_in_thread


@pytest.mark.parametrize("command", ["status", "wait", "download"])
def test_emulator_flag_is_refused_for_an_existing_task(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """A fresh in-process emulator cannot know the task: exit 2, pointing at the server."""
    code, out, err = run(capsys, command, "some-task-id", "--emulator")
    assert code == 2
    assert out == ""
    assert "some-task-id" in err
    assert "musicapi emulator" in err
    assert "--base-url" in err


@pytest.mark.anyio
async def test_status_and_wait_find_nuro_and_studio_tasks_without_family(
    capsys: pytest.CaptureFixture[str], emu: Emulator, target: list[str]
) -> None:
    """Without ``--family`` the task is found in whichever family knows it."""
    async with MusicAPI(emu.api_key, base_url=emu.url) as api:
        nuro = await api.nuro.create_vocal(lyrics="[verse]\nhello sky")
        studio = await api.studio.create(prompt="a bossa nova", lyrics_type="generate")
    for job, family in ((nuro, "nuro"), (studio, "studio")):
        code, out, err = await run_in_thread(capsys, "status", job.task_id, *target, "--json")
        assert code == 0, err
        assert json.loads(out)["family"] == family
        code, out, err = await run_in_thread(capsys, "wait", job.task_id, *target)
        assert code == 0, err
        assert f"Task {job.task_id} finished:" in out


@pytest.mark.anyio
async def test_a_task_no_family_knows_names_the_flag(
    capsys: pytest.CaptureFixture[str], emu: Emulator, target: list[str]
) -> None:
    """An id no family knows is one error line that mentions ``--family``, exit 1."""
    code, _, err = await run_in_thread(capsys, "status", "no-such-task", *target)
    assert code == 1
    assert err.startswith("musicapi: error: TaskNotFound")
    assert "--family" in err
    assert err.count("\n") == 1
