"""Reading bulk input: formats, defaults, references, waves, and every bad line reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from musicapi_async import (
    NuroInstrumentalRequest,
    PersonaRequest,
    SonicRequest,
    SonicTaskType,
    StudioRequest,
)
from musicapi_async.cli._input import InputError, Plan, load_plan

from .support import DEMO, write


def problems(path: Path) -> dict[int, str]:
    """The problems ``load_plan`` reports, by line number."""
    with pytest.raises(InputError) as caught:
        load_plan(str(path))
    return {p.number: p.message for p in caught.value.problems}


def test_plain_text_lines_are_description_mode_songs(tmp_path: Path) -> None:
    """Each non-blank, non-comment text line becomes a description-mode sonic create."""
    path = write(tmp_path / "ideas.txt", ["a sea shanty", "", "# a comment", "  lo-fi rain  "])
    plan = load_plan(str(path), mv="sonic-v4-5")
    assert [line.number for line in plan.lines] == [1, 4]
    assert plan.lines[1].request() == SonicRequest(
        custom_mode=False, mv="sonic-v4-5", gpt_description_prompt="lo-fi rain"
    )


def test_jsonl_defaults_model_and_custom_mode(tmp_path: Path) -> None:
    """Sonic lines get the default model, and custom mode unless they carry a description."""
    path = write(tmp_path / "songs.jsonl", [
        '{"prompt": "[Verse] la", "title": "T"}',
        '{"gpt_description_prompt": "jazz", "mv": "sonic-v4"}',
        '{"id": "x", "gpt_description_prompt": "base"}',
        '{"task_type": "concat_music", "continue_clip_id": "@x"}',
    ])  # fmt: skip
    first, second, _, concat = load_plan(str(path)).lines
    assert first.request() == SonicRequest(custom_mode=True, mv="sonic-v5",
                                           prompt="[Verse] la", title="T")  # fmt: skip
    assert second.request() == SonicRequest(custom_mode=False, mv="sonic-v4",
                                            gpt_description_prompt="jazz")  # fmt: skip
    assert concat.request() == SonicRequest(task_type=SonicTaskType.CONCAT_MUSIC,
                                            continue_clip_id="@x")  # fmt: skip


def test_references_order_lines_in_waves_and_resolve(tmp_path: Path) -> None:
    """A line runs in the wave after the deepest line it refers to; values replace refs."""
    path = write(tmp_path / "chain.jsonl", [
        '{"id": "base", "gpt_description_prompt": "a"}',
        '{"kind": "persona", "id": "p", "name": "N", "continue_clip_id": "@base.clips[1]"}',
        '{"task_type": "persona_music", "persona_id": "@p", "prompt": "la"}',
        '{"gpt_description_prompt": "b"}',
    ])  # fmt: skip
    plan = load_plan(str(path))
    assert [[line.number for line in wave] for wave in plan.waves] == [[1, 4], [2], [3]]
    persona = plan.lines[1]
    assert persona.deps == ("base",)
    request = persona.request({("continue_clip_id",): "clip-2"})
    assert request == PersonaRequest(name="N", continue_clip_id="clip-2")


def test_the_demo_file_is_valid_and_mixes_every_kind() -> None:
    """``examples/demo.jsonl`` loads, runs in three waves, and uses every kind."""
    plan = load_plan(str(DEMO))
    assert isinstance(plan, Plan)
    assert 20 <= len(plan.lines) <= 30
    assert len(plan.waves) == 3
    kinds = {line.kind for line in plan.lines}
    assert kinds >= {"sonic", "persona", "nuro_vocal", "nuro_instrumental", "studio", "lyrics"}
    labels = {line.label for line in plan.lines}
    assert labels >= {"song", "extend", "concat", "cover", "persona song", "remaster"}
    assert plan.cost() < 1000  # fits the emulator's default balance


def test_csv_cells_take_their_fields_types(tmp_path: Path) -> None:
    """CSV cells become booleans, numbers and lists; line numbers are where records start."""
    path = write(tmp_path / "songs.csv", [
        "kind,title,prompt,make_instrumental,description,genre,duration,config",
        'sonic,Hi,"[Verse]',
        'two lines",no,,,,',
        "nuro_instrumental,,,,bright,corporate;upbeat,30,",
        'studio,,reggae,,,,,"{""mode"": ""regular""}"',
    ])  # fmt: skip
    song, bgm, studio = load_plan(str(path)).lines
    assert [song.number, bgm.number, studio.number] == [2, 4, 5]
    assert song.request() == SonicRequest(custom_mode=True, mv="sonic-v5", title="Hi",
                                          prompt="[Verse]\ntwo lines",
                                          make_instrumental=False)  # fmt: skip
    assert bgm.request() == NuroInstrumentalRequest(description="bright", duration=30,
                                                    genre=("corporate", "upbeat"))  # fmt: skip
    assert studio.request() == StudioRequest(prompt="reggae")


def test_every_bad_line_is_reported_with_its_number(tmp_path: Path) -> None:
    """Syntax, fields, values, ids and references: each bad line names its own problem."""
    path = write(tmp_path / "bad.jsonl", [
        '{"id": "a", "gpt_description_prompt": "fine"}',
        '{"id": "a", "gpt_description_prompt": "same id"}',
        '{"titel": "x", "prompt": "la"}',
        "not json",
        '{"custom_mode": "yes", "prompt": "x"}',
        '{"task_type": "extend_music", "continue_clip_id": "@aa", "continue_at": 9, "prompt": "x"}',
        '{"id": "c1", "task_type": "cover_music", "continue_clip_id": "@c2", "prompt": "x"}',
        '{"id": "c2", "task_type": "cover_music", "continue_clip_id": "@c1", "prompt": "x"}',
        '{"kind": "persona", "name": "n", "continue_clip_id": "@a.clips[2]"}',
        '{"task_type": "persona_music", "persona_id": "@a", "prompt": "x"}',
        '{"kind": "wat"}',
        "[1, 2]",
        '{"gpt_description_prompt": "' + "x" * 401 + '"}',
        '{"kind": "lyrics"}',
        '{"continue_clip_id": "@a[0]", "task_type": "cover_music", "prompt": "x"}',
    ])  # fmt: skip
    found = problems(path)
    assert set(found) == set(range(2, 16)) - {8}  # a cycle is reported once
    assert "already used on line 1" in found[2]
    assert "did you mean 'title'" in found[3]
    assert "not valid JSON" in found[4]
    assert found[5] == "The 'custom_mode' field should be boolean."
    assert "no line has the id 'aa' (did you mean 'a'?)" in found[6]
    assert found[7] == "reference cycle: c1 -> c2 -> c1"
    assert "out of range" in found[9]
    assert "should name a persona line" in found[10]
    assert "unknown kind 'wat'" in found[11]
    assert "expected a JSON object" in found[12]
    assert "less than 400" in found[13]
    assert "missing field(s) for a lyrics request: description" in found[14]
    assert "bad reference '@a[0]'" in found[15]


def test_a_reference_to_a_bad_line_is_not_reported_twice(tmp_path: Path) -> None:
    """Only the broken line is reported, not every line that refers to it."""
    path = write(tmp_path / "bad.jsonl", [
        '{"id": "base", "gpt_description_prompt": "x", "tags": 5}',
        '{"task_type": "cover_music", "continue_clip_id": "@base", "prompt": "x"}',
    ])  # fmt: skip
    assert list(problems(path)) == [1]


def test_an_empty_file_is_an_input_error(tmp_path: Path) -> None:
    """A file without requests is refused (exit 2) rather than run as nothing."""
    path = write(tmp_path / "empty.txt", ["", "# only a comment"])
    assert problems(path) == {0: "the file holds no requests"}


def test_studio_and_upload_references(tmp_path: Path) -> None:
    """A studio continuation refers to a studio song; an upload's clip feeds an upload cover."""
    path = write(tmp_path / "more.jsonl", [
        '{"id": "s", "kind": "studio", "prompt": "reggae"}',
        '{"kind": "studio", "prompt": "more", "config": {"mode": "continuation", '
        '"source": {"song_id": "@s.clips[1]"}}}',
        '{"id": "up", "kind": "upload", "url": "https://example.com/demo.mp3"}',
        '{"task_type": "cover_upload_music", "continue_clip_id": "@up", "prompt": "la"}',
    ])  # fmt: skip
    plan = load_plan(str(path))
    assert [[line.number for line in wave] for wave in plan.waves] == [[1, 3], [2, 4]]
    request = plan.lines[1].request({("config", "source", "song_id"): "song-2"})
    assert isinstance(request, StudioRequest)
    assert request.config.source_song_id == "song-2"
    assert request.config.mode == "continuation"
