"""THE cattrs converter: every rule for turning models into JSON and JSON into models.

Rules kept here, off the models:
- requests unstructure to wire dicts without the fields left at ``None`` (not sent);
- ``StudioConfig`` nests its source song as ``{"source": {"song_id": ...}}``;
- results keep the keys they do not name in ``extra`` (the API drifts);
- unknown ``state``/``task_type`` strings become open-enum values, not errors;
- ``duration`` arrives as an integer, a float or a decimal string, and leaves as a float;
- studio ``tags`` arrive as a list and are joined the way sonic sends them;
- a request read from wire fields (``request_from_wire``) keeps each value's JSON type,
  so that validation judges what was written instead of a coerced copy.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn

from ._errors import InvalidRequest
from ._model_base import model_name
from ._models import Clip, ClipState, LyricsCandidate, PersonaRequest, SonicTaskType

if TYPE_CHECKING:
    from ._studio_models import StudioConfig

__all__ = [
    "clip_to_wire",
    "converter",
    "model_to_wire",
    "request_from_wire",
    "result_from_json",
    "result_to_json",
    "structure_open",
    "to_wire",
]

T = TypeVar("T")

converter: Final = cattrs.Converter(forbid_extra_keys=False)


def _to_float(value: object, _: object = None) -> float | None:
    """Durations and other numbers: int, float or a decimal string; junk becomes None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _to_str(value: object, _: object = None) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


converter.register_structure_hook(float | None, _to_float)
converter.register_structure_hook(str | None, _to_str)
converter.register_structure_hook(ClipState, lambda v, _: ClipState(str(v)))
converter.register_structure_hook(SonicTaskType, lambda v, _: SonicTaskType(str(v)))


def _open_structure(cls: type[T]) -> Callable[[Mapping[str, Any], object], T]:
    """A structure function for ``cls`` that keeps unknown keys in its ``extra`` field.

    cattrs generates the underlying function on first use, not at import: importing the
    SDK stays cheap for web backends that import it at start-up.
    """
    known = frozenset(a.name for a in attrs.fields(cast("type[attrs.AttrsInstance]", cls)))
    known -= {"extra"}
    generated: list[Callable[[Mapping[str, Any], Any], T]] = []

    def structure(data: Mapping[str, Any], _: object = None) -> T:
        if not generated:
            generated.append(make_dict_structure_fn(cls, converter))
        base = generated[0]
        extra = {k: v for k, v in data.items() if k not in known}
        if not extra:
            return base(data, cls)
        return base({**{k: data[k] for k in known if k in data}, "extra": extra}, cls)

    return structure


def _is_open(cls: Any) -> bool:
    """A result model: an attrs class that keeps unknown keys in an ``extra`` field."""
    return attrs.has(cls) and "extra" in attrs.fields_dict(cls)


# Every result model with an ``extra`` field keeps unknown keys: a new model needs no
# registration here.
converter.register_structure_hook_factory(_is_open, _open_structure)


def _structure_candidate(data: Mapping[str, Any], _: object = None) -> LyricsCandidate:
    if not isinstance(data, Mapping):
        raise TypeError("a lyrics candidate is an object")
    return LyricsCandidate(title=str(data["title"]), lyrics=str(data["lyrics"]))


converter.register_structure_hook(LyricsCandidate, _structure_candidate)


# Clips are structured on every changed poll answer: the usual clip (text fields that are
# text or null, a number or null for ``duration``) is built directly, at a fraction of the
# generated function's cost (one hook call per field). Anything else takes the converter's
# path, which applies the same rules and raises the same errors.
_CLIP_TEXT: Final = tuple(
    a.name for a in attrs.fields(Clip) if a.name not in ("clip_id", "state", "duration", "extra")
)
_CLIP_KNOWN: Final = frozenset(a.name for a in attrs.fields(Clip)) - {"extra"}
_CLIP_TEXT_SET: Final = frozenset(_CLIP_TEXT)
# The documented states by wire value: the enum's call (its ``_missing_`` included) only
# for the others (other casing, synonyms, new states).
_CLIP_STATES: Final = cast(Mapping[str, ClipState], ClipState._value2member_map_)


def _structure_clip(data: Mapping[str, Any]) -> Clip:
    if not isinstance(data, dict):
        return converter.structure(data, Clip)
    # One pass over the answer's keys sorts each into a text field or ``extra``.
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, value in data.items():
        if name in _CLIP_TEXT_SET:
            if value is not None:
                if type(value) is not str:
                    return converter.structure(data, Clip)
                fields[name] = value
        elif name not in _CLIP_KNOWN:
            extra[name] = value
    clip_id, state, duration = data.get("clip_id"), data.get("state"), data.get("duration")
    if type(clip_id) is not str or type(state) is not str:
        return converter.structure(data, Clip)
    if duration is not None:
        fields["duration"] = _to_float(duration)
    known = _CLIP_STATES.get(state)
    return Clip(
        clip_id=clip_id,
        state=ClipState(state) if known is None else known,
        extra=extra,
        **fields,
    )


def structure_open(data: Mapping[str, Any], cls: type[T]) -> T:
    """Structure ``data`` into one of the result models, keeping unknown keys."""
    if cls is Clip:
        return cast(T, _structure_clip(data))
    return converter.structure(data, cls)


# ----------------------------------------------------------------------------- requests


def _unstructure_request(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in attrs.fields(type(obj)):
        value = getattr(obj, field.name)
        if value is None:
            continue
        out[field.name] = converter.unstructure(value)
    return out


def _unstructure_studio_config(config: StudioConfig) -> dict[str, Any]:
    out: dict[str, Any] = {"mode": config.mode}
    if config.source_song_id is not None:
        out["source"] = {"song_id": config.source_song_id}
    if config.context_length is not None:
        out["context_length"] = config.context_length
    return out


# The requests whose fields left at ``None`` are not sent, by name (``model_name``): the
# hook is chosen by name so that it needs no model imported (a family's models load when
# it is first used), and so that cattrs need not resolve every annotation of every class
# at import, as registering a hook for an attrs class does.
_OMITTING_UNSET: Final = frozenset({
    "_request_models.SonicRequest",
    "_request_models.PersonaRequest",
    "_request_models.UploadRequest",
    "_request_models.LyricsRequest",
    "_nuro_models.NuroVocalRequest",
    "_nuro_models.NuroInstrumentalRequest",
    "_studio_models.StudioRequest",
    # The task-starting sonic endpoints (issue 13): optional fields left unset are not
    # sent as nulls, as the vendor client does not send them.
    "_sonic_models.MashupRequest",
    "_sonic_task_models.UploadCoverRequest",
    "_sonic_task_models.UploadExtendRequest",
    "_sonic_task_models.SampleRequest",
    "_sonic_task_models.ReplaceSectionRequest",
    "_sonic_task_models.CreateVoiceRequest",
})  # fmt: skip


def _named(names: frozenset[str]) -> Callable[[Any], bool]:
    """A cattrs predicate: the type is a class named in ``names``, or a subclass of one
    (as a hook registered for the class itself would be chosen)."""
    return lambda cls: isinstance(cls, type) and any(model_name(c) in names for c in cls.__mro__)


converter.register_unstructure_hook_func(_named(_OMITTING_UNSET), _unstructure_request)
converter.register_unstructure_hook_func(
    _named(frozenset({"_studio_models.StudioConfig"})), _unstructure_studio_config
)
converter.register_unstructure_hook(tuple, list)


# Wire spellings the API documents besides the model's own (MUSICAPI.md §5.1).
_ALIASES: Final[Mapping[type, Mapping[str, str]]] = {
    PersonaRequest: {"clip_id": "continue_clip_id", "describe": "description"},
}


def _studio_config(value: object) -> StudioConfig:
    from ._studio_models import StudioConfig  # already loaded: ``cls`` is studio's request

    if isinstance(value, StudioConfig):
        return value
    if not isinstance(value, Mapping):
        raise InvalidRequest("The 'config' field should be an object.", field="config")
    unknown = set(value) - {"mode", "source", "context_length"}
    if unknown:
        raise InvalidRequest(f"Unknown field 'config.{min(unknown)}'.", field="config")
    source = value.get("source")
    song_id = source.get("song_id") if isinstance(source, Mapping) else None
    return StudioConfig(
        mode=value.get("mode", "regular"),
        source_song_id=song_id,
        context_length=value.get("context_length"),
    )


def request_from_wire(cls: type[T], fields: Mapping[str, Any]) -> T:
    """Build the request model ``cls`` from MusicAPI's wire field names.

    The one way from wire names to a request model (the resource methods and input
    readers use it): documented alternative spellings are accepted, a studio ``config``
    may be the wire object, and a field the model does not know is an ``InvalidRequest``
    naming it, before anything is sent.

    Raises:
        InvalidRequest: an unknown, repeated or missing field.
    """
    model_fields = attrs.fields(cast(Any, cls))  # a request model: an attrs class
    known = {f.name for f in model_fields if f.init}
    fixed = {f.name: f.default for f in model_fields if not f.init}  # nuro's ``type``
    out: dict[str, Any] = {}
    for name, value in fields.items():
        target = _ALIASES.get(cls, {}).get(name, name)
        if target in fixed and value == fixed[target]:
            continue
        if target not in known:
            raise InvalidRequest(f"Unknown field {name!r} for {cls.__name__}.", field=name)
        if target in out:
            raise InvalidRequest(f"The field {target!r} is given twice ({name!r}).", field=name)
        # Request models keep sequences as tuples (frozen, hashable); JSON has lists.
        out[target] = tuple(value) if isinstance(value, list) else value
    if model_name(cls) == "_studio_models.StudioRequest" and "config" in out:
        out["config"] = _studio_config(out["config"])
    try:
        return cls(**out)
    except TypeError as exc:  # a missing required field
        missing = [
            f.name
            for f in model_fields
            if f.init and f.default is attrs.NOTHING and f.name not in out
        ]
        first = missing[0] if missing else None
        raise InvalidRequest(
            f"The {first!r} field is required." if first else str(exc), field=first
        ) from None


def to_wire(request: object) -> dict[str, Any]:
    """The JSON object MusicAPI expects for ``request`` (fields left at None are omitted)."""
    body: dict[str, Any] = converter.unstructure(request)
    return body


# ------------------------------------------------------------------- results, stored


def model_to_wire(model: object) -> dict[str, Any]:
    """A result model as the API sent it: named fields plus ``extra``, unset ones omitted.

    The one model -> JSON rule for results (a clip, a persona, a bpm reading...).
    """
    out: dict[str, Any] = dict(getattr(model, "extra", {}))
    for field in attrs.fields(cast(Any, type(model))):
        value = getattr(model, field.name)
        if field.name != "extra" and value is not None:
            out[field.name] = _value_to_wire(value)
    return out


def _value_to_wire(value: Any) -> Any:
    """One field's value: nested result models (aligned lyrics' words) become objects."""
    if isinstance(value, enum.Enum):
        return value.value
    if attrs.has(type(value)):
        return model_to_wire(value)
    if isinstance(value, tuple) and any(attrs.has(type(v)) for v in value):
        return [_value_to_wire(v) for v in value]
    return value


def clip_to_wire(clip: Clip) -> dict[str, Any]:
    """A clip as the API sent it (``model_to_wire`` for clips)."""
    return model_to_wire(clip)


def result_to_json(result: object) -> str:
    """A call's result as JSON text, for the job journal; ``result_from_json`` reads it."""
    if isinstance(result, tuple) and all(isinstance(c, Clip) for c in result):
        payload: Any = {"clips": [model_to_wire(c) for c in result]}
    elif isinstance(result, list):
        payload = {"results": converter.unstructure(result)}
    elif attrs.has(type(result)):
        payload = model_to_wire(result)
    else:
        raise TypeError(f"cannot store a {type(result).__name__}")
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def result_from_json(endpoint: str, text: str) -> Any:
    """The result ``result_to_json`` stored for a call to ``endpoint``, read by its row."""
    # Imported here: the table's parsers are built on this module.
    from ._endpoints import ENDPOINTS

    data = json.loads(text)
    if "clips" in data:
        return tuple(structure_open(c, Clip) for c in data["clips"])
    return ENDPOINTS[endpoint].parse(data, "")
