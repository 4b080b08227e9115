"""The endpoint table is complete: every row carries everything, every map derives from it."""

from __future__ import annotations

import re
import typing

import pytest

from musicapi_async import _endpoints
from musicapi_async._endpoints import (
    CREATE_ENDPOINTS,
    ENDPOINTS,
    ROWS,
    TASK_ENDPOINTS,
    Answer,
    Endpoint,
    cost_of,
    endpoint_for_kind,
    row_for,
)
from musicapi_async._models import Family, TaskAccepted, TaskSnapshot
from musicapi_async.emulator import _app

ROW_IDS = [ep.name for ep in ROWS]


@pytest.mark.parametrize("ep", ROWS, ids=ROW_IDS)
def test_every_row_is_complete(ep: Endpoint[typing.Any, typing.Any]) -> None:
    """A row without a validator, a price, a parser or its polling row fails here."""
    assert ep.path.startswith("/api/v1/")
    assert callable(ep.parse)
    assert ep.emulate in _app._BEHAVIOURS, f"{ep.name}: no emulator behaviour"
    if ep.method == "POST":
        assert ep.request_types, f"{ep.name}: a POST takes a request model"
        assert ep.validator is not None, f"{ep.name}: no validator"
        assert set(ep.kinds.values()) == set(ep.request_types), f"{ep.name}: CLI kinds"
    else:
        assert ep.request_types == ()
        assert ep.validator is None
        assert not ep.kinds
    if ep.billable:
        assert ep.cost.credits > 0, f"{ep.name}: billable without a price"
    else:
        assert ep.cost.credits == 0
        assert not ep.cost.by_task_type
    if ep.answer is Answer.TASK:
        assert ep.result is TaskAccepted
        assert ep.polled_by is not None, f"{ep.name}: no row polls its task"
        poller = ENDPOINTS[ep.polled_by]
        assert poller.result is TaskSnapshot
        assert poller.family is ep.family
    else:
        assert ep.polled_by is None


def test_names_are_unique_and_rows_are_all_in_the_table() -> None:
    """Every row constant of the module is in ROWS, and no two rows share a name or path."""
    constants = [v for v in vars(_endpoints).values() if isinstance(v, Endpoint)]
    assert {id(c) for c in constants} == {id(ep) for ep in ROWS}
    assert len({ep.name for ep in ROWS}) == len(ROWS)
    assert len({(ep.method, ep.path) for ep in ROWS}) == len(ROWS)


def test_each_row_names_the_models_its_annotation_gives() -> None:
    """A row names its models (resolved on first use); its constant's annotation, which
    the type checker reads, gives the same request and result classes."""
    shape = re.compile(r"Final\[Endpoint\[(?P<req>[\w |]+), (?:list\[)?(?P<res>\w+)\]?\]\]")
    checked = 0
    for attr, ep in vars(_endpoints).items():
        annotation = _endpoints.__annotations__.get(attr, "")
        if not isinstance(ep, Endpoint) or annotation == "Final":  # task rows: inferred
            continue
        match = shape.fullmatch(annotation)
        assert match, f"{attr}: {annotation}"
        requests = set(match["req"].split(" | ")) - {"None"}
        assert {t.__name__ for t in ep.request_types} == requests, attr
        assert ep.result.__name__ == match["res"], attr
        checked += 1
    assert checked == len(ROWS) - len(TASK_ENDPOINTS)


def test_reverse_maps_derive_from_the_rows() -> None:
    """Request type, kind, family and create maps all point back at the rows."""
    for ep in ROWS:
        for kind, request_type in ep.kinds.items():
            assert endpoint_for_kind(kind) is ep
            assert row_for(object.__new__(request_type)) is ep
    assert set(TASK_ENDPOINTS) == set(Family)
    assert set(CREATE_ENDPOINTS) == {
        ep.name for ep in ROWS if ep.answer in (Answer.TASK, Answer.TASKS)
    }
    assert _app._ACTIONS.keys() == ENDPOINTS.keys()


def test_cost_comes_from_the_row() -> None:
    """A sonic create costs its row's price, concat its task type's, and a GET nothing."""
    assert cost_of("sonic.create", {"task_type": "create_music"}) == (15, "credits")
    assert cost_of("sonic.create", {"task_type": "concat_music"}) == (2, "credits")
    assert cost_of("lyrics.create", {}) == (10, "lyrics")
    assert cost_of("credits", {}) == (0, "credits")
