"""Coordination of many processes on one API key through Redis (the ``redis`` extra).

Nothing here imports redis-py until a ``RedisCoordination`` or ``RedisJournal`` is made.
"""

from ._coordination import CoordinationStats, RedisCoordination
from ._journal import RedisJournal
from ._rates import RedisRateStore

__all__ = ["CoordinationStats", "RedisCoordination", "RedisJournal", "RedisRateStore"]
