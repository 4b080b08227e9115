"""What the client asks of a store shared by many processes (``coordination=``).

Pure interfaces, no I/O: ``RedisCoordination`` (in ``_redis``) implements them, and the
client, the governor and the poller only ever see these shapes. Without a coordination
the client runs alone exactly as before.

- ``RateStore``: a create and poll budget shared by every process on one key. When a
  client is coordinated it is its one create pace (the local governor paces no creates:
  two paces would each slow the other down); polls take the local governor's lease
  first, then the shared one. The client tells it about each throttle, so one process's
  429 pauses all of them, and about the server's announced speed, which it follows.
- ``Coordination``: the rate store, one poller per task across the fleet (``poll``),
  snapshots shared with every process that waits on the task (``watch``, ``publish``),
  and a background ``run``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from ._models import Family, TaskSnapshot

__all__ = ["Coordination", "Fetch", "Publish", "RateKind", "RateStore"]

RateKind = Literal["create", "poll"]
Fetch = Callable[[str, "Family"], Awaitable["TaskSnapshot"]]
Publish = Callable[[str, "TaskSnapshot"], None]


class RateStore(Protocol):
    """A token bucket and a pause per kind, shared by every process that uses it."""

    async def acquire(self, kind: RateKind) -> None:
        """Wait until the shared budget grants one ``kind`` request.

        Raises:
            CoordinationError: the store cannot be reached; do not send.
        """
        ...

    async def pause(self, kind: RateKind, seconds: float | None) -> None:
        """Pause every process's ``kind`` requests (the server throttled one of them)."""
        ...

    def set_time_scale(self, scale: float) -> None:
        """Follow a server whose clock runs ``scale`` times faster (an emulator's speed)."""
        ...


class Coordination(Protocol):
    """The shared state of a fleet of clients on one key (see ``RedisCoordination``)."""

    @property
    def rates(self) -> RateStore:
        """The shared create and poll budgets."""
        ...

    async def open(self) -> None:
        """Connect (called when the client opens)."""
        ...

    async def run(self, deliver: Publish, watching: Callable[[str], bool] | None = None) -> None:
        """Background work until cancelled: hand every snapshot any process publishes to
        ``deliver`` (the local poller's ``publish``) and keep this process's leases;
        ``watching`` (the poller's) says which tasks this process waits on."""
        ...

    async def poll(self, task_id: str, family: Family, fetch: Fetch) -> TaskSnapshot:
        """One tick of the poller for ``task_id``: ``fetch`` it only if this process holds
        the task's lease, else return what the holder last published."""
        ...

    async def publish(self, snapshot: TaskSnapshot) -> None:
        """Share a snapshot that arrived another way (a webhook) with every process."""
        ...

    def watch(self, task_id: str) -> None:
        """Someone here started waiting on ``task_id``: send its snapshots here too."""
        ...

    def release(self, task_id: str) -> None:
        """Nobody here waits on ``task_id`` any more: let go of its poll lease soon."""
        ...

    async def aclose(self) -> None:
        """Release the leases held and disconnect (called when the client closes)."""
        ...
