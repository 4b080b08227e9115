"""``python -m musicapi_async``: the ``musicapi`` command line."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
