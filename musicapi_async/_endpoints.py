"""The table of MusicAPI endpoints: the one place paths, methods and billing live.

The client builds its calls from these rows and the emulator builds its routes from the
same rows, so a path cannot drift between the two. ``billable`` marks the POSTs that cost
credits: those are never re-sent unless the request provably never reached the server or
was explicitly refused (see ``_retry``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal
from urllib.parse import quote

import attrs

from ._models import (
    Credits,
    Family,
    LyricsCandidate,
    LyricsRequest,
    NuroInstrumentalRequest,
    NuroVocalRequest,
    Persona,
    PersonaRequest,
    SonicRequest,
    StudioRequest,
    TaskAccepted,
    TaskSnapshot,
    UploadedClip,
    UploadRequest,
)

__all__ = ["ENDPOINTS", "Endpoint", "Pool", "cost_of"]

Pool = Literal["credits", "lyrics"]


@attrs.frozen
class Endpoint:
    """One row of the table.

    Attributes:
        name: stable identifier (``"sonic.create"``), used in counters and errors.
        method: HTTP method.
        path: path template; ``{task_id}`` is the only parameter.
        request_types: request models this endpoint takes (empty for GETs).
        result: the result model the answer is parsed into.
        family: the product family, which decides the answer's envelope.
        billable: whether a successful call costs credits.
    """

    name: str
    method: Literal["GET", "POST"]
    path: str
    request_types: tuple[type, ...]
    result: type
    family: Family
    billable: bool

    def url_path(self, task_id: str | None = None) -> str:
        """The concrete path, with ``task_id`` filled in (percent-escaped) where asked.

        Escaping keeps every id inside its one path segment: ``/``, ``?``, ``#``, ``%``
        or CRLF in an id can never reach another path or split the request.
        """
        if "{task_id}" in self.path:
            if not task_id:
                raise ValueError(f"{self.name} needs a task id")
            return self.path.replace("{task_id}", quote(task_id, safe=""))
        return self.path


def _row(
    name: str,
    method: Literal["GET", "POST"],
    path: str,
    result: type,
    family: Family = Family.SONIC,
    *request_types: type,
) -> tuple[str, Endpoint]:
    return name, Endpoint(
        name, method, path, tuple(request_types), result, family, billable=method == "POST"
    )


ENDPOINTS: Final[Mapping[str, Endpoint]] = dict(
    [
        _row("sonic.create", "POST", "/api/v1/sonic/create", TaskAccepted, Family.SONIC,
             SonicRequest),
        _row("sonic.persona", "POST", "/api/v1/sonic/persona", Persona, Family.SONIC,
             PersonaRequest),
        _row("sonic.upload", "POST", "/api/v1/sonic/upload", UploadedClip, Family.SONIC,
             UploadRequest),
        _row("sonic.task", "GET", "/api/v1/sonic/task/{task_id}", TaskSnapshot, Family.SONIC),
        _row("lyrics.create", "POST", "/api/v1/sonic/lyrics", LyricsCandidate, Family.SONIC,
             LyricsRequest),
        _row("nuro.create", "POST", "/api/v1/nuro/create", TaskAccepted, Family.NURO,
             NuroVocalRequest, NuroInstrumentalRequest),
        _row("nuro.task", "GET", "/api/v1/nuro/task/{task_id}", TaskSnapshot, Family.NURO),
        _row("studio.create", "POST", "/api/v1/studio/create", TaskAccepted, Family.STUDIO,
             StudioRequest),
        _row("studio.task", "GET", "/api/v1/studio/task/{task_id}", TaskSnapshot,
             Family.STUDIO),
        _row("credits", "GET", "/api/v1/get-credits", Credits, Family.SONIC),
    ]
)  # fmt: skip

# The task endpoint of each family, where its generations are polled.
TASK_ENDPOINTS: Final[Mapping[Family, Endpoint]] = {
    Family.SONIC: ENDPOINTS["sonic.task"],
    Family.NURO: ENDPOINTS["nuro.task"],
    Family.STUDIO: ENDPOINTS["studio.task"],
}

# Documented costs (MUSICAPI.md §12, the [V4] column where versions disagree). Upload and
# persona creation are undocumented for musicapi.ai; the sister site's 2 and 1 are used so
# a budget errs on the side of spending less.
_SONIC_TASK_COST: Final[Mapping[str, int]] = {"concat_music": 2}
_SONIC_DEFAULT_COST: Final = 15
_FLAT_COST: Final[Mapping[str, tuple[int, Pool]]] = {
    "sonic.persona": (1, "credits"),
    "sonic.upload": (2, "credits"),
    "lyrics.create": (10, "lyrics"),
    "nuro.create": (10, "credits"),
    "studio.create": (15, "credits"),
}


def cost_of(endpoint: str, body: Mapping[str, Any]) -> tuple[int, Pool]:
    """The documented cost of one call, and the pool it is drawn from.

    Args:
        endpoint: an ``ENDPOINTS`` key.
        body: the wire body that is (or was) sent.

    Returns:
        ``(credits, pool)``; ``(0, "credits")`` for free calls.
    """
    if endpoint == "sonic.create":
        task_type = str(body.get("task_type") or "create_music")
        return _SONIC_TASK_COST.get(task_type, _SONIC_DEFAULT_COST), "credits"
    return _FLAT_COST.get(endpoint, (0, "credits"))
