"""Bulk input for ``musicapi bulk``: read a file into validated requests before any is sent.

Formats (chosen by extension, ``--format``, or the first line's look):

* JSONL (``.jsonl``, ``.ndjson``): one JSON object per line with MusicAPI's wire field
  names, plus ``"kind"`` (``sonic`` by default, ``persona``, ``upload``, ``lyrics``,
  ``nuro_vocal``, ``nuro_instrumental``, ``studio``, ``producer``, ``producer_upload``,
  ``producer_download``, ``riffusion``, ``riffusion_upload``, ``upload_extend``,
  ``upload_cover``, ``sample``, ``replace_section``, ``create_voice``, ...: every row's
  ``kinds``) and an optional ``"id"``.
* CSV (``.csv``): a header row of the same names; empty cells are left out, and list or
  object fields (nuro ``genre``, studio ``config``) take JSON or ``;``-separated values.
* Plain text (anything else): one description-mode sonic song per line.

Blank lines and lines starting with ``#`` are skipped. Sonic lines without ``mv`` get the
default model; without ``custom_mode`` they are in custom mode unless they carry a
``gpt_description_prompt``.

References let a line use the result of another, found by its ``"id"``::

    {"id": "base", "gpt_description_prompt": "a sea shanty about rust"}
    {"id": "ext", "task_type": "extend_music", "continue_clip_id": "@base.clips[1]",
     "continue_at": 60, "prompt": "[Bridge] ..."}
    {"task_type": "concat_music", "continue_clip_id": "@ext"}
    {"id": "singer", "kind": "persona", "name": "Nova", "continue_clip_id": "@base"}
    {"task_type": "persona_music", "persona_id": "@singer", "prompt": "[Verse] ..."}

``@ID`` is the referenced line's natural id (a persona's ``persona_id``, an upload's
``clip_id``, a song's first clip id) and ``@ID.clips[N]`` the id of its clip ``N``.
References are allowed in ``continue_clip_id``, ``persona_id`` (a persona or create_voice
line), ``clip_id``, ``sample_clip_id``, mashup's two ids and studio's
``config.source.song_id``. A line runs once everything it refers to has finished
(``Plan.waves``); unknown ids, references of the wrong kind and cycles are input errors.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
import sys
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final, Literal

import attrs

from musicapi_async import (
    KIND_TYPES,
    InvalidRequest,
    cost_of,
    endpoint_of,
    request_from_wire,
    returns_task,
    to_wire,
    validate_body,
)

__all__ = ["KINDS", "InputError", "Line", "Plan", "Problem", "Ref", "load_plan"]

Format = Literal["jsonl", "csv", "text"]

# Every input kind the table's rows serve (``Endpoint.kinds``): a new row's kind is usable
# in bulk files with no change here.
KINDS: Final[Mapping[str, type]] = KIND_TYPES
_NURO_TYPE: Final = {"nuro_vocal": "vocal", "nuro_instrumental": "bgm"}
# Task types that take custom_mode (MUSICAPI.md §3.1): where it is inferred when missing.
_CUSTOM_MODE_TYPES: Final = frozenset({"create_music", "extend_music", "cover_music",
                                       "persona_music", "extend_upload_music",
                                       "cover_upload_music"})  # fmt: skip
_REF_PATHS: Final = frozenset({("continue_clip_id",), ("persona_id",), ("clip_id",),
                               ("mashup_clip_ids", "0"), ("mashup_clip_ids", "1"),
                               ("config", "source", "song_id"),
                               ("sample_clip_id",)})  # fmt: skip
# Kinds of the sonic tasks from audio (issue 13) that take a model (default: ``--mv``) and,
# where listed here too, ``custom_mode`` (inferred as for sonic lines).
_AUDIO_TASK_MV: Final = frozenset({"upload_extend", "upload_cover", "sample",
                                   "replace_section"})  # fmt: skip
_AUDIO_TASK_MODE: Final = frozenset({"upload_extend", "upload_cover", "sample"})
# Kinds whose task's clip carries a persona_id (``@ID`` in ``persona_id`` may name them).
_PERSONA_TASKS: Final = frozenset({"create_voice"})
_REF: Final = re.compile(r"^@([A-Za-z0-9_-]+)(?:\.clips\[(\d+)\])?$")
_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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


# ------------------------------------------------------------------------------ reading


def load_plan(path: str, *, fmt: Format | None = None, mv: str = "sonic-v5") -> Plan:
    """Read, check and order a bulk input file; nothing is sent.

    Args:
        path: the file, or ``-`` for standard input.
        fmt: ``jsonl``, ``csv`` or ``text``; by default from the extension or content.
        mv: the model of sonic lines that name none.

    Raises:
        InputError: one or more lines are bad; each is listed with its number and reason.
        OSError: the file cannot be read.
    """
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
    fmt = fmt or _guess_format(path, text)
    problems: list[Problem] = []
    lines: list[Line] = []
    broken: set[str] = set()  # ids of bad lines: references to them are not reported again
    for number, raw in _records(fmt, text, problems):
        try:
            lines.append(_line(number, raw, mv))
        except _Bad as exc:
            problems.append(Problem(number, str(exc)))
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                broken.add(raw["id"])
    problems.extend(_check_ids(lines))
    problems.extend(_check_refs(lines, broken))
    waves, cycles = _waves(lines)
    problems.extend(cycles)
    if not lines and not problems:
        problems.append(Problem(0, "the file holds no requests"))
    if problems:
        raise InputError(path, sorted(problems, key=lambda p: p.number))
    return Plan(path, tuple(lines), tuple(tuple(w) for w in waves))


def _guess_format(path: str, text: str) -> Format:
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    first = next((s.strip() for s in text.splitlines() if s.strip()), "")
    return "jsonl" if first.startswith("{") else "text"


def _records(fmt: Format, text: str, problems: list[Problem]) -> Iterator[tuple[int, Any]]:
    """``(line number, fields)`` per request; unreadable lines go to ``problems``."""
    if fmt == "csv":
        yield from _csv_records(text, problems)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if fmt == "text":
            yield number, {"custom_mode": False, "gpt_description_prompt": stripped}
            continue
        try:
            yield number, json.loads(stripped)
        except json.JSONDecodeError as exc:
            problems.append(Problem(number, f"not valid JSON: {exc.msg} (column {exc.colno})"))


def _csv_records(text: str, problems: list[Problem]) -> Iterator[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        problems.append(Problem(1, f"unreadable CSV header: {exc}"))
        return
    if not header:
        return
    kinds = {"kind", "id"}
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(Problem(start, f"unreadable CSV: {exc}"))
            return
        if None in row:
            problems.append(Problem(start, f"{len(row[None])} more cell(s) than the header has"))
            continue
        cells = {k.strip(): v for k, v in row.items() if k and v is not None and v.strip() != ""}
        if not cells:
            continue
        kind = cells.get("kind", "sonic")
        cls = KINDS.get(kind)
        yield (
            start,
            {
                k: v if k in kinds or cls is None else _from_cell(cls, k, v)
                for k, v in cells.items()
            },
        )


def _from_cell(cls: type, name: str, cell: str) -> Any:
    """A CSV cell as the type the model's field wants; left as text when it does not parse
    (validation then names the field and the type it should have)."""
    hints = typing.get_type_hints(cls)
    wanted = set(typing.get_args(hints[name]) or (hints[name],)) if name in hints else {str}
    text = cell.strip()
    if bool in wanted:
        return {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(
            text.lower(), cell
        )
    for number in (int, float):
        if number in wanted:
            try:
                return number(text)
            except ValueError:
                return cell
    if any(isinstance(t, type) and issubclass(t, str) for t in wanted):
        return cell
    if text.startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return cell
    return [part.strip() for part in text.split(";") if part.strip()]


# ------------------------------------------------------------------------------- lines


def _line(number: int, raw: Any, mv: str) -> Line:
    if not isinstance(raw, dict):
        raise _Bad(f"expected a JSON object, got {type(raw).__name__}")
    fields = dict(raw)
    kind = fields.pop("kind", "sonic")
    if kind not in KINDS:
        raise _Bad(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    ident = fields.pop("id", None)
    if ident is not None and (not isinstance(ident, str) or not _ID.match(ident)):
        raise _Bad(f"the id {ident!r} should be 1-64 letters, digits, '-' or '_'")
    if kind == "sonic":
        task_type = fields.get("task_type") or "create_music"
        if task_type != "concat_music":
            fields.setdefault("mv", mv)
        if task_type in _CUSTOM_MODE_TYPES and "custom_mode" not in fields:
            fields["custom_mode"] = "gpt_description_prompt" not in fields
    if kind in _AUDIO_TASK_MV:
        fields.setdefault("mv", mv)
    if kind in _AUDIO_TASK_MODE and "custom_mode" not in fields:
        fields["custom_mode"] = "gpt_description_prompt" not in fields
    refs: dict[tuple[str, ...], Ref] = {}
    for path in _REF_PATHS:
        value = _get_path(fields, path)
        if isinstance(value, str) and value.startswith("@"):
            match = _REF.match(value)
            if match is None:
                raise _Bad(f"{'.'.join(path)}: bad reference {value!r}; write @ID or @ID.clips[N]")
            index = None if match.group(2) is None else int(match.group(2))
            refs[path] = Ref(match.group(1), index, value)
    line = Line(number, ident, kind, fields, refs)
    try:
        validate_body(line.endpoint, to_wire(line.request()))
    except InvalidRequest as exc:
        raise _Bad(str(exc)) from None
    return line


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


def _get_path(fields: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = fields
    for key in path:
        if isinstance(value, list) and key.isdigit():  # a list item (mashup's two clips)
            value = value[int(key)] if int(key) < len(value) else None
            continue
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


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
