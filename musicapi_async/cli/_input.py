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
import io
import json
import re
import sys
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final, Literal

from musicapi_async import InvalidRequest, to_wire, validate_body

from ._plan import (
    KINDS,
    InputError,
    Line,
    Plan,
    Problem,
    Ref,
    _Bad,
    _check_ids,
    _check_refs,
    _waves,
)

__all__ = ["KINDS", "InputError", "Line", "Plan", "Problem", "Ref", "load_plan"]

Format = Literal["jsonl", "csv", "text"]

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
_REF: Final = re.compile(r"^@([A-Za-z0-9_-]+)(?:\.clips\[(\d+)\])?$")
_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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
