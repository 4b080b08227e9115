"""The ``musicapi`` command line: a client of the public ``musicapi_async`` API.

Nothing in ``musicapi_async`` imports this package, so ``import musicapi_async``
never loads the command line or ``rich``.
"""

from __future__ import annotations

from ._main import main

__all__ = ["main"]
