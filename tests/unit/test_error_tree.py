"""The exception tree drawn in ``_errors``' docstring is the real class hierarchy."""

from __future__ import annotations

import importlib
import pkgutil
import re

import musicapi_async
from musicapi_async import _errors

_NODE = re.compile(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w+)\b")


def _drawn_tree() -> dict[str, str | None]:
    """Each class named in the drawing, mapped to the class drawn above it."""
    doc = _errors.__doc__ or ""
    block = doc.split("::", 1)[1].split("\n\n", 2)[1]
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in block.splitlines():
        match = _NODE.match(line.removeprefix("    "))
        if match is None:
            continue
        depth = len(match["indent"])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match["name"]] = stack[-1][1] if stack else None
        stack.append((depth, match["name"]))
    return parents


def _package_errors() -> dict[str, type[BaseException]]:
    """Every subclass of ``MusicAPIError`` defined anywhere in the package."""
    for info in pkgutil.walk_packages(musicapi_async.__path__, "musicapi_async."):
        if "_redis" in info.name or info.name.endswith("pytest_plugin"):
            continue  # optional dependencies; their errors come from _errors anyway
        importlib.import_module(info.name)
    found: dict[str, type[BaseException]] = {}
    todo: list[type[BaseException]] = [_errors.MusicAPIError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return {n: c for n, c in found.items() if c.__module__.startswith("musicapi_async")}


def test_drawing_matches_the_hierarchy() -> None:
    """Every drawn class exists with the drawn parent, and no error is left undrawn."""
    drawn = _drawn_tree()
    classes = _package_errors()
    assert drawn["MusicAPIError"] is None
    assert sorted(drawn) == sorted(classes)
    for name, parent in drawn.items():
        if parent is not None:
            assert classes[parent] in classes[name].__bases__, (name, parent)


def test_every_public_exception_is_in_the_tree() -> None:
    """No exception the package exports sits outside the drawn tree."""
    drawn = _drawn_tree()
    public = [
        name
        for name in musicapi_async.__all__
        if isinstance(getattr(musicapi_async, name), type)
        and issubclass(getattr(musicapi_async, name), BaseException)
    ]
    assert public
    assert [name for name in public if name not in drawn] == []
