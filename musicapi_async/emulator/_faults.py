"""Scriptable faults: what can go wrong between a client and MusicAPI, on demand.

A ``FaultPlan`` is an ordered list of ``Fault`` rules. For each API request the first
rule that matches the endpoint, has passed its ``after`` requests, has firings left
and wins its ``probability`` draw (a seeded RNG: runs repeat) fires, and only that one.

=====================  ======================================================  ========
kind                   what the client sees                                    billed?
=====================  ======================================================  ========
``rate_limit_429``     429 ``Too many requests.`` with ``Retry-After``         no
``qps_403``            403 ``API QPS limit exceeded``                          no
``queue_full_403``     403 ``Queue is full``                                   no
``server_500``         500 ``Internal Server Error.``                          no
``gateway_html_502``   502 with an HTML gateway page                           no
``slow``               the normal answer, ``delay`` wall seconds late          as usual
``malformed_json``     200 whose JSON body is cut short (processed first)      as usual
``reset``              connection reset before the request is processed        no
``accept_then_drop``   processed (a create is billed), then the connection     **yes**
                       closes with no answer
=====================  ======================================================  ========
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

__all__ = ["Fault", "FaultKind", "FaultPlan"]


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
    probability: float = attrs.field(default=1.0, converter=float,
                                     validator=_check_probability, kw_only=True)  # fmt: skip
    after: int = attrs.field(default=0, validator=_non_negative, kw_only=True)
    delay: float = attrs.field(default=1.0, converter=float, validator=_non_negative,
                               kw_only=True)  # fmt: skip
    retry_after: float = attrs.field(default=1.0, converter=float, validator=_non_negative,
                                     kw_only=True)  # fmt: skip

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
        seed: seeds the probability draws, so a run with the same requests repeats.
    """

    def __init__(self, faults: Iterable[Fault] = (), *, seed: int = 0) -> None:
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
            "rules": [{**r.fault.to_json(), "fired": r.fired, "seen": r.seen}
                      for r in self._rules],
            "fired": {kind.value: n for kind, n in sorted(self.fired.items())},
        }  # fmt: skip
