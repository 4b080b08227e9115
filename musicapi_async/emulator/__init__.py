"""A faithful local MusicAPI: an aiohttp.web server for development and tests.

    from musicapi_async.emulator import Emulator, Fault, FaultKind

    async with Emulator(api_key="k", speed=600, faults=[Fault(FaultKind.SERVER_500)]) as emu:
        ...  # point any MusicAPI client at emu.url with emu.api_key

Names are imported lazily: ``musicapi_async.emulator.pytest_plugin`` is loaded by every
pytest run that has this package installed, and must not pull aiohttp.web in with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._emulator import Emulator
    from ._faults import Fault, FaultKind, FaultPlan
    from ._state import Stats
    from ._webhooks import Delivery

__all__ = ["Delivery", "Emulator", "Fault", "FaultKind", "FaultPlan", "Stats"]

_HOMES = {
    "Delivery": "._webhooks",
    "Emulator": "._emulator",
    "Fault": "._faults",
    "FaultKind": "._faults",
    "FaultPlan": "._faults",
    "Stats": "._state",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value  # the next lookup skips this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
