"""Reading answers' payloads into result models: one parser per kind of answer.

Pure functions from a decoded JSON object (and the task id asked about) to a model; each
row of ``_endpoints`` names its parser, so ``_protocol.parse_response`` needs no chain of
``if result is ...``. They raise ``ValueError``/``TypeError``/``KeyError`` or a cattrs
error on a shape they do not know; the caller turns that into ``ResponseDecodeError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from ._convert import converter, structure_open
from ._model_base import resolve
from ._models import (
    Clip,
    ClipPair,
    ClipState,
    Family,
    LyricsCandidate,
    TaskAccepted,
    TaskSnapshot,
    UploadedClip,
)

__all__ = ["parse_accepted", "parse_lyrics", "parse_snapshot", "snapshot_parser", "value_parser"]

T = TypeVar("T")

# A parser reads the answer's JSON object, knowing the task id that was asked about.
Parser = Callable[[Mapping[str, Any], str], T]


def value_parser(model: str) -> Parser[Any]:
    """A parser for a synchronous answer: flat, or nested under ``data`` (newer utilities).

    ``model`` names the result model (``model_name``); its module is imported at the
    first answer, so that the table can name models that are rarely used.
    """

    def parse(data: Mapping[str, Any], _task_id: str) -> Any:
        payload = data
        if isinstance(data.get("data"), Mapping):
            payload = {**data, **data["data"]}
        fields = {k: v for k, v in payload.items() if k not in ("code", "message", "data")}
        result = structure_open(fields, resolve(model))
        if isinstance(result, UploadedClip) and not (result.clip_id or result.task_id):
            raise ValueError("no clip id (or task id) in the answer")
        return result

    return parse


def parse_lyrics(data: Mapping[str, Any], _task_id: str) -> list[LyricsCandidate]:
    """The candidates of a lyrics answer (``results``, or a ``data`` list)."""
    results = data.get("results")
    if results is None and isinstance(data.get("data"), list):
        results = data["data"]
    candidates: list[LyricsCandidate] = converter.structure(results, list[LyricsCandidate])
    return candidates


def parse_accepted(data: Mapping[str, Any], _task_id: str) -> TaskAccepted:
    """The task id a create answered with, wherever its family's envelope puts it."""
    task_id = data.get("task_id")
    inner = data.get("data")
    if task_id is None and isinstance(inner, str):  # studio: {"code": "success", "data": id}
        task_id = inner
    if task_id is None and isinstance(inner, Mapping):  # mashup et al.: data.task_id
        task_id = inner.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        raise ValueError("no task id in the answer")
    extra = {k: v for k, v in data.items() if k not in ("task_id", "code", "message", "data")}
    return TaskAccepted(task_id=task_id, extra=extra)


# ---------------------------------------------------------------------------- snapshots

# Studio reports a task-level status in upper case; its songs inherit it.
_STUDIO_STATES: Final[Mapping[str, ClipState]] = {
    "SUCCESS": ClipState.SUCCEEDED,
    "SUCCEEDED": ClipState.SUCCEEDED,
    "FAILURE": ClipState.FAILED,
    "FAILED": ClipState.FAILED,
    "FAIL": ClipState.FAILED,
    "SUBMITTED": ClipState.PENDING,
    "NOT_START": ClipState.PENDING,
    "QUEUED": ClipState.PENDING,
    "PENDING": ClipState.PENDING,
    "IN_PROGRESS": ClipState.RUNNING,
    "RUNNING": ClipState.RUNNING,
}


def _percent(value: object) -> float | None:
    if isinstance(value, str):
        value = value.strip().rstrip("%")
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _clip(data: Any) -> Clip:
    if not isinstance(data, Mapping) or not data.get("clip_id") or data.get("state") is None:
        raise ValueError("a clip needs 'clip_id' and 'state'")
    clip: Clip = structure_open(data, Clip)
    return clip


def parse_snapshot(family: Family, data: Mapping[str, Any], *, task_id: str) -> TaskSnapshot:
    """Read one answer of a family's task endpoint into a ``TaskSnapshot``.

    Raises:
        ValueError: the answer does not have the family's documented shape.
    """
    if family is Family.NURO:
        return _nuro_snapshot(data, task_id)
    if family is Family.STUDIO:
        return _studio_snapshot(data, task_id)
    if family is Family.PRODUCER:
        return _producer_snapshot(data, task_id)
    if family is Family.RIFFUSION:
        return _riffusion_snapshot(parse_snapshot(Family.SONIC, data, task_id=task_id))
    extra = {k: v for k, v in data.items() if k not in ("code", "message", "data", "type")}
    message = data.get("message") if isinstance(data.get("message"), str) else None
    clips = data.get("data")
    if clips is None:
        # The first polls of a task answer {"type": "not_ready"} (observed live, 2026-07).
        if data.get("type") == "not_ready" or "type" in data:
            status = str(data.get("type"))
            return TaskSnapshot(task_id=task_id, family=family, ready=False, status=status,
                                message=message, extra=extra)  # fmt: skip
        raise ValueError("neither 'data' nor 'type' in a task answer")
    if not isinstance(clips, list):
        raise TypeError("'data' is not a list of clips")
    if clips and all(isinstance(c, Mapping) and "extended" in c for c in clips):
        pairs = tuple(_pair(c) for c in clips)
        flat = tuple(c for p in pairs for c in (p.extended, p.full) if c is not None)
        return TaskSnapshot(task_id=task_id, family=family, clips=flat, message=message,
                            extra=extra, pairs=pairs)  # fmt: skip
    return TaskSnapshot(task_id=task_id, family=family, clips=tuple([_clip(c) for c in clips]),
                        message=message, extra=extra)  # fmt: skip


def _pair(data: Mapping[str, Any]) -> ClipPair:
    """An upload-extend (``auto_concat``) item: ``{extended, full}``, ``full`` null until
    the concat is done ([SISTER], MUSICAPI.md §10). Other keys are kept in ``extra``.
    """
    full = data.get("full")
    extra = {k: v for k, v in data.items() if k not in ("extended", "full")}
    return ClipPair(extended=_clip(data.get("extended")),
                    full=None if full is None else _clip(full), extra=extra)  # fmt: skip


def _nuro_snapshot(data: Mapping[str, Any], task_id: str) -> TaskSnapshot:
    if isinstance(data.get("data"), Mapping):  # tolerate an envelope if one appears
        data = data["data"]
    status = data.get("status")
    if not isinstance(status, str):
        raise TypeError("a nuro task needs a 'status'")
    tid = str(data.get("task_id") or task_id)
    known = {"task_id", "status", "progress"}
    # Nuro tasks make one song and have no clip id: the task id stands for it.
    clip_fields = {k: v for k, v in data.items() if k not in known}
    clip = structure_open({**clip_fields, "clip_id": tid, "state": status.lower()}, Clip)
    return TaskSnapshot(task_id=tid, family=Family.NURO, clips=(clip,), status=status,
                        progress=_percent(data.get("progress")))  # fmt: skip


def _studio_snapshot(data: Mapping[str, Any], task_id: str) -> TaskSnapshot:
    inner = data.get("data")
    if not isinstance(inner, Mapping):
        raise TypeError("a studio task answer needs a 'data' object")
    status = str(inner.get("status") or "")
    state = _STUDIO_STATES.get(status.upper(), ClipState(status.lower() or "pending"))
    tid = str(inner.get("task_id") or task_id)
    payload = inner.get("data")
    songs = payload.get("songs") if isinstance(payload, Mapping) else None
    clips: list[Clip] = []
    for song in songs or ():
        if not isinstance(song, Mapping) or not song.get("id"):
            raise ValueError("a studio song needs an 'id'")
        fields = {k: v for k, v in song.items() if k not in ("id", "song_path")}
        fields["clip_id"] = song["id"]
        fields["state"] = state.value
        fields.setdefault("audio_url", song.get("song_path"))
        if "song_path" in song:
            fields["song_path"] = song["song_path"]
        clips.append(structure_open(fields, Clip))
    if not clips and state.is_terminal:
        # A finished task with no songs (a failure) still needs one terminal clip, or a
        # waiter would never see it end.
        clips.append(Clip(clip_id=tid, state=state))
    reason = inner.get("fail_reason")
    extra = {k: v for k, v in inner.items() if k not in ("task_id", "status", "progress", "data")}
    return TaskSnapshot(task_id=tid, family=Family.STUDIO, clips=tuple(clips), status=status,
                        progress=_percent(inner.get("progress")),
                        message=reason if isinstance(reason, str) and reason else None,
                        extra=extra)  # fmt: skip


# ------------------------------------------------------------- producer and riffusion


def _producer_snapshot(data: Mapping[str, Any], task_id: str) -> TaskSnapshot:
    """Producer's own envelope: a task ``status`` and a ``data`` list of one song.

    Songs may carry no ``state`` of their own: they take the task's. A task that ended
    with no song (a failure) gets one terminal clip named by the task id, so a waiter
    sees it end; its ``message`` (which says the credits were refunded) is kept.
    """
    raw_status = data.get("status")
    status = raw_status if isinstance(raw_status, str) else None
    task_state = _STUDIO_STATES.get((status or "").upper()) if status else None
    if task_state is None and status:
        task_state = ClipState(status.lower())
    songs = data.get("data")
    if songs is not None and not isinstance(songs, list):
        raise TypeError("'data' is not a list of songs")
    if songs is None and task_state is None:
        raise ValueError("neither 'status' nor 'data' in a producer task answer")
    clips: list[Clip] = []
    for song in songs or ():
        if not isinstance(song, Mapping) or not song.get("clip_id"):
            raise ValueError("a producer song needs a 'clip_id'")
        state = song.get("state") or (task_state or ClipState.PENDING).value
        clips.append(structure_open({**song, "state": state}, Clip))
    if not clips and task_state is not None and task_state.is_terminal:
        clips.append(Clip(clip_id=task_id, state=task_state))
    message = data.get("message") if isinstance(data.get("message"), str) else None
    extra = {k: v for k, v in data.items() if k not in ("code", "message", "data", "status")}
    return TaskSnapshot(
        task_id=task_id,
        family=Family.PRODUCER,
        clips=tuple(clips),
        status=status,
        message=message,
        extra=extra,
    )


def _riffusion_snapshot(sonic: TaskSnapshot) -> TaskSnapshot:
    """Sonic's envelope, but done means both songs (MUSICAPI.md §15.1): "if you only
    receive one song, you can continue to poll". A lone failed song ends it, though.
    """
    clips = sonic.clips
    ready = sonic.ready and (len(clips) >= 2 or any(c.state is ClipState.FAILED for c in clips))
    return TaskSnapshot(
        task_id=sonic.task_id,
        family=Family.RIFFUSION,
        clips=clips,
        ready=ready,
        status=sonic.status,
        message=sonic.message,
        extra=sonic.extra,
    )


def snapshot_parser(family: Family) -> Parser[TaskSnapshot]:
    """The parser of one family's task endpoint."""

    def parse(data: Mapping[str, Any], task_id: str) -> TaskSnapshot:
        return parse_snapshot(family, data, task_id=task_id)

    return parse
