"""Property: every request and result model survives model -> wire -> model unchanged."""

from __future__ import annotations

import enum
import sys
import types
import typing
from collections.abc import Mapping
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musicapi_async import _batch_models, _models
from musicapi_async._convert import model_to_wire, request_from_wire, structure_open, to_wire
from musicapi_async._endpoints import ROWS

REQUESTS = sorted({t for ep in ROWS for t in ep.request_types}, key=lambda t: t.__name__)
RESULTS = sorted(
    {ep.result for ep in ROWS if attrs.has(ep.result) and "extra" in attrs.fields_dict(ep.result)}
    - {_models.TaskSnapshot}  # built by the family parsers, not structured from one object
    # built by the batch parsers (their round trip: tests/unit/test_batch_wire.py)
    - {_batch_models.BatchAccepted, _batch_models.BatchStatus},
    key=lambda t: t.__name__,
)
scalars = st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=12)
finite = st.floats(allow_nan=False, allow_infinity=False, width=32)


def strategy(hint: Any) -> st.SearchStrategy[Any]:
    """Values of the type ``hint`` (the shapes the models use)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return st.one_of([strategy(a) for a in args])
    if origin is tuple:
        return st.lists(strategy(args[0]), max_size=3).map(tuple)
    if origin in (Mapping, dict) or hint is Mapping:
        return st.dictionaries(st.text(max_size=6).map(lambda k: "x_" + k), scalars, max_size=3)
    if hint is type(None):
        return st.none()
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    if attrs.has(hint):
        return models(hint)
    simple = {str: st.text(min_size=1, max_size=20), bool: st.booleans(), float: finite,
              int: st.integers(0, 10**6), Any: scalars}  # fmt: skip
    return simple[hint]


def models(cls: type) -> st.SearchStrategy[Any]:
    """Instances of the attrs model ``cls`` with every field drawn from its type."""
    # The module that defines it: models live in _models and _sonic_models.
    hints = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
    fields = {f.name: strategy(hints[f.name]) for f in attrs.fields(cls) if f.init}
    return st.builds(cls, **fields)


@pytest.mark.parametrize("cls", REQUESTS, ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_request_models_round_trip(cls: type, data: st.DataObject) -> None:
    """to_wire then request_from_wire gives back the same request."""
    request = data.draw(models(cls))
    assert request_from_wire(cls, to_wire(request)) == request


@pytest.mark.parametrize("cls", RESULTS, ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_result_models_round_trip(cls: type, data: st.DataObject) -> None:
    """model_to_wire then the converter gives back the same result, extra keys included."""
    result = data.draw(models(cls))
    assert structure_open(model_to_wire(result), cls) == result
