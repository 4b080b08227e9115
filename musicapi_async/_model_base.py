"""The vocabulary every model shares: ``Family``, ``ClipState``, ``MediaKind``, open enums.

A leaf module under both the request models (``_request_models``) and the result models
(``_result_models``), so neither imports the other; ``_models`` is the import path for
all three.

It also names models without importing them (``model_name``, ``resolve``): creating an
attrs class is most of what importing a model module costs, so the endpoint table and the
converter refer to the models of rarely used endpoints by name, and their modules load
when such an endpoint is first used.
"""

from __future__ import annotations

import enum
import functools
import importlib
from collections.abc import Mapping
from typing import Any, Final, Literal

__all__ = ["ClipState", "Family", "MediaKind", "model_name", "resolve"]

_PACKAGE: Final = f"{__package__}."


def model_name(cls: type) -> str:
    """How a class of this package is named without importing it: ``"_sonic_models.WavRequest"``.

    A class from elsewhere keeps its full dotted name, which no name of ours can equal.
    """
    module = cls.__module__
    # "<other>." keeps a module of another package from passing for one of ours.
    ours = module.startswith(_PACKAGE)
    module = module[len(_PACKAGE) :] if ours else f"<other>.{module}"
    return f"{module}.{cls.__qualname__}"


@functools.cache
def resolve(name: str) -> Any:
    """The object ``name`` (``"_sonic_models.WavRequest"``) names, importing its module."""
    module, _, attribute = name.rpartition(".")
    return getattr(importlib.import_module(_PACKAGE + module), attribute)


MediaKind = Literal["audio", "image", "video"]


def _redact(value: object) -> str:
    """Repr of a secret: says whether it is set, never what it is."""
    return "None" if value is None else "'***'"


class _OpenStrEnum(enum.StrEnum):
    """A str enum that keeps values it does not know instead of failing.

    The real API drifts: a new state or task type must reach the caller intact, compare
    equal to its wire string, and simply not be one of the known members.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        # A known value in another case or spelling ("SUCCEEDED", "in-progress") is the
        # member; only a value no member stands for becomes a new, unknown one.
        folded = value.strip().casefold().replace("-", "_").replace(" ", "_")
        known = cls._value2member_map_.get(folded) or cls._synonyms().get(folded)
        if known is not None:
            return known
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member

    @classmethod
    def _synonyms(cls) -> Mapping[str, Any]:
        """Other wire spellings of known members (folded), for ``_missing_``."""
        return {}

    @property
    def is_known(self) -> bool:
        """Whether this value is one of the documented members (not a new wire value)."""
        return type(self).__members__.get(self._name_) is self


class ClipState(_OpenStrEnum):
    """The state of one clip; compares equal to the wire string.

    Known states are read in any case, and the obvious synonyms map to them
    (``"SUCCEEDED"``, ``"complete"`` -> ``SUCCEEDED``; ``"error"`` -> ``FAILED``). Any other
    value is kept as it came (``is_known`` is ``False``); a clip in it is not terminal.
    """

    PENDING = "pending"
    RUNNING = "running"
    STREAMING = "streaming"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        """Whether the clip will not change any more."""
        return self in _TERMINAL_STATES

    @classmethod
    def _synonyms(cls) -> Mapping[str, Any]:
        return _STATE_SYNONYMS


_TERMINAL_STATES: Final = frozenset({ClipState.SUCCEEDED, ClipState.FAILED})
# Spellings other services (and other MusicAPI families) use for the same states. Only
# unambiguous ones: a word that could mean "still working" is left an unknown state.
_STATE_SYNONYMS: Final[Mapping[str, ClipState]] = {
    **dict.fromkeys(("success", "succeed", "successful", "complete", "completed", "done",
                     "finished"), ClipState.SUCCEEDED),
    **dict.fromkeys(("fail", "failure", "error", "errored", "cancelled", "canceled"),
                    ClipState.FAILED),
    **dict.fromkeys(("queued", "submitted", "not_start", "not_started", "waiting"),
                    ClipState.PENDING),
    **dict.fromkeys(("in_progress", "processing", "generating"), ClipState.RUNNING),
}  # fmt: skip


class Family(enum.StrEnum):
    """The product family a task belongs to; each has its own task endpoint and shape."""

    SONIC = "sonic"
    NURO = "nuro"
    STUDIO = "studio"
    PRODUCER = "producer"
    RIFFUSION = "riffusion"
