"""Where a request model is sent: the public door to the endpoint table's derived maps.

The command line is a client of the public API, and it must not write the request ->
endpoint map a second time: it asks here, and this module reads the maps the library
itself uses, so a new row of the table reaches the CLI without an edit.
"""

from __future__ import annotations

from ._bulk import _CREATE_ENDPOINTS, _SYNCHRONOUS_ENDPOINTS, _endpoint_of
from ._models import Family

__all__ = ["endpoint_of", "returns_task", "task_family"]


def endpoint_of(request: object) -> str:
    """The endpoint ``request`` is sent to, e.g. ``"sonic.create"`` for a ``SonicRequest``.

    Raises:
        TypeError: ``request`` is not one of the package's request models.
    """
    endpoint = _endpoint_of(request)
    if endpoint is None:
        raise TypeError(f"{type(request).__name__} is not a request model")
    return endpoint


def returns_task(endpoint: str) -> bool:
    """Whether ``endpoint`` answers with a task to poll (``False``: the result comes now)."""
    return endpoint not in _SYNCHRONOUS_ENDPOINTS


def task_family(endpoint: str) -> Family | None:
    """The product family whose task ``endpoint`` creates (``None``: it creates no task)."""
    return next((f for f, name in _CREATE_ENDPOINTS.items() if name == endpoint), None)
