"""Scriptable faults: what can go wrong between a client and MusicAPI, on demand.

A ``FaultPlan`` is an ordered list of ``Fault`` rules. For each API request the first
rule that matches the endpoint, has passed its ``after`` requests, has firings left
and wins its ``probability`` draw (a seeded RNG: runs repeat) fires, and only that one.

=========================  ==================================================  ========
kind                       what the client sees                                billed?
=========================  ==================================================  ========
``rate_limit_429``         429 ``Too many requests.`` with ``Retry-After``     no
``qps_403``                403 ``API QPS limit exceeded``                      no
``queue_full_403``         403 ``Queue is full``                               no
``usage_limit_403``        403 ``API usage limit exceeded`` (nuro's table)     no
``server_500``             500 ``Internal Server Error.``                      no
``system_error_500``       500 ``API system error, please contact ...``        no
``algorithm_error_500``    500 ``Algorithm error``                             no
``semantic_error_500``     500 ``Semantic error, please try again``            no
``gateway_html_502``       502 with an HTML gateway page                       no
``invalid_signature_401``  401 ``Invalid signature``                           no
``auth_expired_401``       401 ``Authorization expired``                       no
``language_400``           400 ``Input language not supported``                no
``lyrics_format_403``      403 ``The lyrics format is invalid. ...``           no
``copyright_403``          403 ``The lyrics contain copyrighted content: ...``  no
``moderation_review_403``  403 ``The song description needs moderation ...``   no
``producer_tags_403``      403 ``The song description contains producer ...``  no
``slow``                   the normal answer, ``delay`` wall seconds late      as usual
``malformed_json``         200 whose JSON body is cut short (processed first)  as usual
``reset``                  connection reset before the request is processed    no
``accept_then_drop``       processed (a create is billed), then the            **yes**
                           connection closes with no answer
=========================  ==================================================  ========

The answers with a status and a message are the documented ones, word for word
(``MUSICAPI.md`` §13 and nuro's table, §7.3); ``ANSWERS`` holds them. On the command line
a rule is ``--fault KIND[,endpoint=GLOB][,count=N][,probability=P][,after=N]...``
(``parse_fault``).
"""

from __future__ import annotations

import enum
import fnmatch
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from .._endpoints import ENDPOINTS

__all__ = ["ANSWERS", "CALLER_FAULTS", "Fault", "FaultKind", "FaultPlan", "parse_fault"]


class FaultKind(enum.StrEnum):
    """The kinds of fault the emulator can inject."""

    RATE_LIMIT_429 = "rate_limit_429"
    QPS_403 = "qps_403"
    QUEUE_FULL_403 = "queue_full_403"
    SERVER_500 = "server_500"
    GATEWAY_HTML_502 = "gateway_html_502"
    SLOW = "slow"
    MALFORMED_JSON = "malformed_json"
    RESET = "reset"
    ACCEPT_THEN_DROP = "accept_then_drop"
    USAGE_LIMIT_403 = "usage_limit_403"
    SYSTEM_ERROR_500 = "system_error_500"
    ALGORITHM_ERROR_500 = "algorithm_error_500"
    SEMANTIC_ERROR_500 = "semantic_error_500"
    INVALID_SIGNATURE_401 = "invalid_signature_401"
    AUTH_EXPIRED_401 = "auth_expired_401"
    LANGUAGE_400 = "language_400"
    LYRICS_FORMAT_403 = "lyrics_format_403"
    COPYRIGHT_403 = "copyright_403"
    MODERATION_REVIEW_403 = "moderation_review_403"
    PRODUCER_TAGS_403 = "producer_tags_403"


# Kinds whose answer is the caller's to fix (key, language, content): a client must not
# retry them, and a wait that meets one on a poll ends with that error.
CALLER_FAULTS: Final = frozenset(
    {
        FaultKind.INVALID_SIGNATURE_401,
        FaultKind.AUTH_EXPIRED_401,
        FaultKind.LANGUAGE_400,
        FaultKind.LYRICS_FORMAT_403,
        FaultKind.COPYRIGHT_403,
        FaultKind.MODERATION_REVIEW_403,
        FaultKind.PRODUCER_TAGS_403,
    }
)

# The server fills 'specificError' with the offending text; a fault has none to quote.
_QUOTED: Final = "emulated fault"

# Kinds answered with a fixed status and message before the request is processed.
ANSWERS: Final[Mapping[FaultKind, tuple[int, str]]] = {
    FaultKind.QPS_403: (403, "API QPS limit exceeded"),
    FaultKind.QUEUE_FULL_403: (403, "Queue is full"),
    FaultKind.USAGE_LIMIT_403: (403, "API usage limit exceeded"),
    FaultKind.SERVER_500: (500, "Internal Server Error."),
    FaultKind.SYSTEM_ERROR_500: (500, "API system error, please contact administrator"),
    FaultKind.ALGORITHM_ERROR_500: (500, "Algorithm error"),
    FaultKind.SEMANTIC_ERROR_500: (500, "Semantic error, please try again"),
    FaultKind.INVALID_SIGNATURE_401: (401, "Invalid signature"),
    FaultKind.AUTH_EXPIRED_401: (401, "Authorization expired"),
    FaultKind.LANGUAGE_400: (400, "Input language not supported"),
    FaultKind.LYRICS_FORMAT_403: (403, "The lyrics format is invalid. Please check and try again."),
    FaultKind.COPYRIGHT_403: (403, f"The lyrics contain copyrighted content: '{_QUOTED}'. "
                                   "Please use original lyrics."),
    FaultKind.MODERATION_REVIEW_403: (403, "The song description needs moderation review."),
    FaultKind.PRODUCER_TAGS_403: (403, "The song description contains producer tags: "
                                       f"'{_QUOTED}' which is not allowed."),
}  # fmt: skip


# Kinds that let the request be processed (and billed) before they act.
AFTER_PROCESSING: Final = frozenset({FaultKind.MALFORMED_JSON, FaultKind.ACCEPT_THEN_DROP})


def _check_endpoint(_: object, __: object, pattern: str) -> None:
    if not any(fnmatch.fnmatchcase(name, pattern) for name in ENDPOINTS):
        raise ValueError(f"endpoint pattern {pattern!r} matches no endpoint")


def _check_probability(_: object, __: object, value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError("probability must be between 0 and 1")


def _non_negative(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{attribute.name} must be >= 0")


@attrs.frozen
class Fault:
    """One rule of a fault plan.

    Attributes:
        kind: what happens (``FaultKind`` or its string value).
        endpoint: an ``ENDPOINTS`` name or a glob over them (``"sonic.*"``, ``"*.create"``,
            ``"*"`` for every endpoint).
        count: how many times it fires; ``None`` for no limit.
        probability: the chance it fires on each matching request.
        after: matching requests let through before it starts.
        delay: wall seconds of delay (``slow``).
        retry_after: the ``Retry-After`` header (``rate_limit_429``), in seconds of the
            emulator's clock, like every time it states: a client that follows its
            ``X-Emulator-Speed`` waits ``retry_after / speed`` wall seconds.
    """

    # ``kind`` alone is positional: ``Fault(FaultKind.RESET, endpoint="sonic.task")``.
    kind: FaultKind = attrs.field(converter=FaultKind)
    endpoint: str = attrs.field(default="*", validator=_check_endpoint, kw_only=True)
    count: int | None = attrs.field(default=1, validator=_non_negative, kw_only=True)
    probability: float = attrs.field(
        default=1.0, converter=float, validator=_check_probability, kw_only=True
    )
    after: int = attrs.field(default=0, validator=_non_negative, kw_only=True)
    delay: float = attrs.field(default=1.0, converter=float, validator=_non_negative, kw_only=True)
    retry_after: float = attrs.field(
        default=1.0, converter=float, validator=_non_negative, kw_only=True
    )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """A rule from its JSON form (the control surface's body).

        Raises:
            ValueError: an unknown key or an invalid value.
        """
        known = {a.name for a in attrs.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        if "kind" not in data:
            raise ValueError("a fault needs a 'kind'")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ValueError(str(exc)) from exc

    def to_json(self) -> dict[str, Any]:
        """The JSON form of this rule."""
        return {**attrs.asdict(self), "kind": self.kind.value}


@attrs.define
class _Rule:
    fault: Fault
    seen: int = 0
    fired: int = 0

    def exhausted(self) -> bool:
        return self.fault.count is not None and self.fired >= self.fault.count


class FaultPlan:
    """The faults of one emulator run, in order; settable while it serves.

    Args:
        faults: the initial rules.
        seed: seeds the probability draws, so a run with the same requests repeats;
            ``None`` seeds from the OS.
    """

    def __init__(self, faults: Iterable[Fault] = (), *, seed: int | None = 0) -> None:
        self._rules: list[_Rule] = [_Rule(f) for f in faults]
        self._rng = random.Random(seed)
        self.fired: Counter[FaultKind] = Counter()

    def add(self, *faults: Fault) -> None:
        """Append rules; they apply from the next request on."""
        self._rules.extend(_Rule(f) for f in faults)

    def clear(self) -> None:
        """Remove every rule (what already fired stays counted in ``fired``)."""
        self._rules.clear()

    def __bool__(self) -> bool:
        return bool(self._rules)

    def pick(self, endpoint: str) -> Fault | None:
        """The fault to inject into this request to ``endpoint``, if any fires."""
        chosen: Fault | None = None
        for rule in self._rules:
            fault = rule.fault
            if rule.exhausted() or not fnmatch.fnmatchcase(endpoint, fault.endpoint):
                continue
            rule.seen += 1
            if rule.seen <= fault.after:
                continue
            if fault.probability < 1 and self._rng.random() >= fault.probability:
                continue
            rule.fired += 1
            self.fired[fault.kind] += 1
            chosen = fault
            break
        # Spent rules go, so a plan of one-shot faults costs nothing once they have fired.
        self._rules = [r for r in self._rules if not r.exhausted()]
        return chosen

    def to_json(self) -> dict[str, Any]:
        """The rules still active (with how often each has fired) and totals per kind."""
        return {
            "rules": [{**r.fault.to_json(), "fired": r.fired, "seen": r.seen} for r in self._rules],
            "fired": {kind.value: n for kind, n in sorted(self.fired.items())},
        }


def parse_fault(text: str) -> Fault:
    """A rule from its command-line form: ``KIND[,key=value...]``.

    ``server_500,endpoint=sonic.*,count=3`` is ``Fault("server_500", endpoint="sonic.*",
    count=3)``; ``count=none`` fires without limit.

    Raises:
        ValueError: an unknown kind or key, or a bad value.
    """
    kind, *pairs = [part.strip() for part in text.split(",")]
    if kind not in {k.value for k in FaultKind}:
        known = ", ".join(k.value for k in FaultKind)
        raise ValueError(f"unknown fault kind {kind!r}; one of: {known}")
    data: dict[str, Any] = {"kind": kind}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"{pair!r} is not key=value")
        key = key.strip().replace("-", "_")
        if key in ("count", "after"):
            data[key] = None if value.lower() == "none" else int(value)
        elif key in ("delay", "probability", "retry_after"):
            data[key] = float(value)
        else:  # from_json names an unknown key
            data[key] = value
    return Fault.from_json(data)
