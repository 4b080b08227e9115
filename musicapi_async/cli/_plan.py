"""A bulk plan once read: its ``Line`` requests, their ``@`` references and the waves.

What ``_input`` builds from a file, and what the run, the fleet and the reports read. Kept
apart from the reading (formats, cells, inference of defaults) because nothing that uses a
plan needs to know how it was written down.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any, Final

import attrs

from musicapi_async import (
    KIND_TYPES,
    InvalidRequest,
    cost_of,
    endpoint_of,
    request_from_wire,
    returns_task,
    to_wire,
)

__all__ = ["KINDS", "InputError", "Line", "Plan", "Problem", "Ref", "clip_count"]


# Every input kind the table's rows serve (``Endpoint.kinds``): a new row's kind is usable
# in bulk files with no change here.
KINDS: Final[Mapping[str, type]] = KIND_TYPES
_NURO_TYPE: Final = {"nuro_vocal": "vocal", "nuro_instrumental": "bgm"}

# Kinds whose task's clip carries a persona_id (``@ID`` in ``persona_id`` may name them).
_PERSONA_TASKS: Final = frozenset({"create_voice"})


@attrs.frozen
class Ref:
    """A reference to another line's result: ``@target`` or ``@target.clips[index]``."""

    target: str
    index: int | None
    text: str


@attrs.frozen
class Problem:
    """One bad input line: its number (1-based) and why."""

    number: int
    message: str


class InputError(Exception):
    """The input file has bad lines; ``problems`` lists every one of them."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        super().__init__(f"{path}: {len(problems)} bad line(s)")
        self.path = path
        self.problems = problems


class _Bad(Exception):
    """One problem with the line being read."""


@attrs.frozen
class Line:
    """One request of the input file, validated, with its references still unresolved.

    Attributes:
        number: the line number in the file (1-based; for CSV, where the record starts).
        ident: the line's ``"id"``, or ``None``.
        kind: a ``KINDS`` key.
        fields: the request's wire fields as read, defaults applied, ``@`` references kept.
        refs: the references, by field path (``("continue_clip_id",)``).
        deps: the ids of the lines this one needs, in the order they are referenced.
    """

    number: int
    ident: str | None
    kind: str
    fields: Mapping[str, Any]
    refs: Mapping[tuple[str, ...], Ref]

    @property
    def endpoint(self) -> str:
        """The ``ENDPOINTS`` key this line is sent to."""
        return endpoint_of(self.request())

    @property
    def name(self) -> str:
        """``line 12`` or ``line 12 (base)``: how messages name the line."""
        return f"line {self.number}" + (f" ({self.ident})" if self.ident else "")

    @property
    def deps(self) -> tuple[str, ...]:
        """The ids of the lines this one refers to."""
        return tuple(dict.fromkeys(ref.target for ref in self.refs.values()))

    @property
    def label(self) -> str:
        """A word or two for displays: ``song``, ``extend``, ``persona``, ``nuro vocal``…"""
        if self.kind != "sonic":
            return self.kind.replace("_", " ")
        task_type = str(self.fields.get("task_type") or "create_music")
        short = task_type.removesuffix("_music").replace("_", " ")
        return {"create": "song", "persona": "persona song"}.get(short, short)

    def request(self, values: Mapping[tuple[str, ...], str] | None = None) -> object:
        """The request model, with each reference replaced by ``values[path]``.

        Raises:
            KeyError: a reference has no value.
        """
        fields: dict[str, Any] = json.loads(json.dumps(self.fields))  # a deep copy
        for path in self.refs:
            value = (values or {})[path] if values is not None else self.refs[path].text
            _set_path(fields, path, value)
        return _build(self.kind, fields)

    def cost(self) -> int:
        """The documented credits this line commits (0 for lyrics, which have their own pool)."""
        credits, pool = cost_of(self.endpoint, to_wire(self.request()))
        return credits if pool == "credits" else 0


@attrs.frozen
class Plan:
    """A whole input file: its lines in file order and the waves they run in."""

    path: str
    lines: tuple[Line, ...]
    waves: tuple[tuple[Line, ...], ...]

    def by_id(self) -> dict[str, Line]:
        """The lines that have an id, by id."""
        return _index(list(self.lines))

    def cost(self) -> int:
        """The documented credits of every line together."""
        return sum(line.cost() for line in self.lines)


def _build(kind: str, fields: dict[str, Any]) -> object:
    """The request model of ``kind`` from wire fields (raises ``_Bad`` for wrong fields)."""
    cls = KINDS[kind]
    fields = dict(fields)
    if kind in _NURO_TYPE and fields.get("type", _NURO_TYPE[kind]) == _NURO_TYPE[kind]:
        fields.pop("type", None)  # implied by the kind
    known = {a.name for a in attrs.fields(cls) if a.init}
    for name in fields:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _Bad(f"unknown field {name!r} for a {kind} request{hint}")
    required = [a.name for a in attrs.fields(cls) if a.init and a.default is attrs.NOTHING]
    missing = [name for name in required if name not in fields]
    if missing:
        raise _Bad(f"missing field(s) for a {kind} request: {', '.join(missing)}")
    try:
        return request_from_wire(cls, fields)  # the package's converter, as the client's
    except (TypeError, ValueError, InvalidRequest) as exc:
        raise _Bad(str(exc)) from None


def _set_path(fields: dict[str, Any], path: tuple[str, ...], value: str) -> None:
    target: Any = fields
    for key in path[:-1]:
        target = target[key]
    last = path[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


# -------------------------------------------------------------------------- references


def _index(lines: list[Line]) -> dict[str, Line]:
    """Lines by id; the first line wins a duplicate id (the others are reported)."""
    by_id: dict[str, Line] = {}
    for line in lines:
        if line.ident:
            by_id.setdefault(line.ident, line)
    return by_id


def _check_ids(lines: list[Line]) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for line in lines:
        if line.ident is None:
            continue
        if line.ident in seen:
            problems.append(
                Problem(
                    line.number, f"the id {line.ident!r} is already used on line {seen[line.ident]}"
                )
            )
        else:
            seen[line.ident] = line.number
    return problems


def clip_count(line: Line) -> int:
    """How many clips a line's task makes (sonic 2, concat 1, nuro 1, producer 1, else 2)."""
    if line.kind == "sonic":
        return 1 if line.fields.get("task_type") == "concat_music" else 2
    if line.kind == "upload_extend" and line.fields.get("auto_concat"):
        return 4  # two extensions, each followed by its full song
    if line.kind in _PERSONA_TASKS:
        return 1
    return 1 if line.kind.startswith(("nuro", "producer")) else 2


def _check_refs(lines: list[Line], broken: set[str]) -> list[Problem]:
    by_id = _index(lines)
    problems = []
    for line in lines:
        for path, ref in line.refs.items():
            field = ".".join(path)
            target = by_id.get(ref.target)
            if target is None and ref.target in broken:
                continue
            if target is None:
                close = difflib.get_close_matches(ref.target, list(by_id), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(
                    Problem(line.number, f"{field}: no line has the id {ref.target!r}{hint}")
                )
                continue
            problem = _ref_problem(path, ref, target)
            if problem:
                problems.append(Problem(line.number, f"{field}: {ref.text} {problem}"))
    return problems


def _ref_problem(path: tuple[str, ...], ref: Ref, target: Line) -> str | None:
    where = f"{target.name} is a {target.label} request"
    if path == ("persona_id",):
        if target.kind not in ("persona", *_PERSONA_TASKS) or ref.index is not None:
            return f"should name a persona line (write @ID); {where}"
        return None
    if returns_task(target.endpoint):
        count = clip_count(target)
        if ref.index is not None and ref.index >= count:
            return f"is out of range: {target.name} makes {count} clip(s)"
        return None
    if target.kind == "upload" and ref.index is None:
        return None
    return f"should name a song or an upload; {where}"


def _waves(lines: list[Line]) -> tuple[list[list[Line]], list[Problem]]:
    """Lines grouped by the length of their longest reference chain; cycles are problems."""
    by_id = _index(lines)
    depth: dict[int, int] = {}
    problems: list[Problem] = []
    reported: set[int] = set()

    def visit(line: Line, stack: list[Line]) -> int:
        if line.number in depth:
            return depth[line.number]
        numbers = [s.number for s in stack]
        if line.number in numbers:
            cycle = [*stack[numbers.index(line.number) :], line]
            if not reported & {c.number for c in cycle}:
                names = " -> ".join(c.ident or "?" for c in cycle)
                problems.append(Problem(line.number, f"reference cycle: {names}"))
                reported.update(c.number for c in cycle)
            return 0
        stack.append(line)
        level = 1 + max((visit(by_id[d], stack) for d in line.deps if d in by_id), default=-1)
        stack.pop()
        depth[line.number] = level
        return level

    for line in lines:
        visit(line, [])
    waves: list[list[Line]] = [[] for _ in range(1 + max(depth.values(), default=0))]
    for line in lines:
        waves[depth[line.number]].append(line)
    return [w for w in waves if w], problems
