"""musicapi_async: the asyncio-first SDK for MusicAPI (musicapi.ai)."""

from ._errors import *  # noqa: F403  (temporary front door while the client lands)
from ._models import *  # noqa: F403
