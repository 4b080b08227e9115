"""The README's "Testing with the emulator" section names what the emulator really uses."""

from __future__ import annotations

from pathlib import Path

from musicapi_async.emulator import Emulator
from musicapi_async.emulator.__main__ import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_documents_the_key_the_class_and_the_fixture() -> None:
    """The section gives the server's real default key and URL, ``Emulator`` and the fixture."""
    text = README.read_text()
    section = text.split("## Testing with the emulator", 1)[1].split("\n## ", 1)[0]
    defaults = build_parser().parse_args([])
    assert f"`{defaults.api_key}`" in section
    assert f"http://{defaults.host}:{defaults.port}" in section
    assert Emulator().api_key == defaults.api_key
    assert "async with Emulator(" in section
    assert "def test_my_code(musicapi_emulator)" in section
    assert "@pytest.mark.musicapi_emulator(" in section
