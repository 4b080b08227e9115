"""Where a request model is sent: the public door to the endpoint table's derived maps.

The command line is a client of the public API, and it must not write the request ->
endpoint map a second time: it asks here, and this module reads the maps the library
itself uses, so a new row of the table reaches the CLI without an edit.
"""

from __future__ import annotations

from ._endpoints import ENDPOINTS, Answer, row_for
from ._models import Family

__all__ = ["endpoint_of", "returns_task", "task_family"]


def endpoint_of(request: object) -> str:
    """The endpoint ``request`` is sent to, e.g. ``"sonic.create"`` for a ``SonicRequest``.

    Raises:
        TypeError: ``request`` is not one of the package's request models.
    """
    try:
        return row_for(request).name
    except KeyError:
        raise TypeError(f"{type(request).__name__} is not a request model") from None


def returns_task(endpoint: str) -> bool:
    """Whether ``endpoint`` answers with a task to poll (``False``: the result comes now)."""
    return ENDPOINTS[endpoint].answer is Answer.TASK


def task_family(endpoint: str) -> Family | None:
    """The product family whose task ``endpoint`` creates (``None``: it creates no task)."""
    row = ENDPOINTS.get(endpoint)
    return row.family if row is not None and row.answer is Answer.TASK else None
