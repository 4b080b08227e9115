"""The command line is a client of the library: it imports only the public API."""

from __future__ import annotations

import ast
from pathlib import Path

import musicapi_async.cli

PACKAGE = Path(musicapi_async.cli.__file__).parent
PUBLIC = ("musicapi_async", "musicapi_async.emulator", "musicapi_async.emulator.__main__")
# The fleet runs its own Redis commands on a client built the way the coordination builds
# its own (fail fast, blocking pool): one private door, kept in sight here.
ALLOWED_PRIVATE = {("_fleet.py", "musicapi_async._redis._store")}


def test_the_cli_imports_nothing_private_from_the_package() -> None:
    """Every import of the package in ``musicapi_async/cli`` names a public module."""
    seen: set[tuple[str, str]] = set()
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.startswith("musicapi_async"):
                    seen.add((path.name, node.module))
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 1, f"{path.name}: relative import above the cli package"
    private = {s for s in seen if s[1] not in PUBLIC} - ALLOWED_PRIVATE
    assert private == set()
    assert ("_main.py", "musicapi_async") in seen  # the walk saw the imports
