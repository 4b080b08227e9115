"""``Job``: a handle on one generation task, and the wait that ends it.

A task is done only when every one of its clips is terminal (``succeeded`` or
``failed``); its first polls may answer ``not_ready``. While waiting, a poll that fails
for a passing reason (network, 5xx, throttling, an undecodable answer) is simply tried
again at the next tick; only a definite answer — every clip terminal, an unknown task, a
rejected key — or the deadline ends the wait.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio

from ._errors import RateLimited, ServiceError, TaskFailed, TaskTimeout
from ._models import Clip, Family, TaskSnapshot

if TYPE_CHECKING:
    from ._client import MusicAPI

__all__ = ["Job"]


class Job:
    """A submitted generation task.

    Keep ``task_id``: with it, ``api.job(task_id)`` resumes waiting from any process.

    Attributes:
        task_id: the API's id of the task.
        family: the product family (sonic, nuro, studio), which decides where to poll.
        request: the request model that created the task, when known.
        snapshot: the last state seen, or ``None`` before the first poll.
    """

    def __init__(
        self,
        client: MusicAPI,
        task_id: str,
        family: Family = Family.SONIC,
        *,
        request: object = None,
    ) -> None:
        self._client = client
        self.task_id = task_id
        self.family = family
        self.request = request
        self.snapshot: TaskSnapshot | None = None

    def __repr__(self) -> str:
        state = "unseen" if self.snapshot is None else ("done" if self.done else "running")
        return f"<Job {self.family.value} {self.task_id} {state}>"

    @property
    def done(self) -> bool:
        """Whether the last snapshot showed every clip terminal."""
        return self.snapshot is not None and self.snapshot.done

    async def refresh(self) -> TaskSnapshot:
        """Poll the task once and return (and keep) what the API said."""
        snapshot = await self._client.get_task(self.task_id, self.family)
        self.snapshot = snapshot
        return snapshot

    async def wait(self, timeout: float | None = None) -> list[Clip]:
        """Wait until every clip is terminal and return the clips.

        Args:
            timeout: seconds to wait at most; ``None`` waits as long as it takes.

        Returns:
            Every clip of the task, all ``succeeded``.

        Raises:
            TaskFailed: a clip ended ``failed`` (``.clips`` holds all of them).
            TaskTimeout: the deadline passed first; ``.task_id`` resumes the wait.
            MusicAPIError: a definite error from the API (unknown task, bad key).
        """
        try:
            with anyio.fail_after(timeout):
                snapshot = await self._poll_until_done()
        except TimeoutError as exc:
            if isinstance(exc, TaskTimeout):
                raise
            raise TaskTimeout(
                f"task {self.task_id} was not finished after {timeout} s",
                task_id=self.task_id,
                snapshot=self.snapshot,
            ) from None
        return self._result(snapshot)

    def _result(self, snapshot: TaskSnapshot) -> list[Clip]:
        failed = snapshot.failed_clips
        if failed:
            reason = failed[0].extra.get("message") or failed[0].extra.get("error")
            detail = f": {reason}" if reason else ""
            raise TaskFailed(
                f"task {self.task_id}: {len(failed)} of {len(snapshot.clips)} clips failed{detail}",
                task_id=self.task_id,
                clips=snapshot.clips,
                snapshot=snapshot,
                api_message=reason if isinstance(reason, str) else None,
            )
        return list(snapshot.clips)

    async def _poll_until_done(self) -> TaskSnapshot:
        policy = self._client.poll_policy
        if self.snapshot is not None and self.snapshot.done:
            return self.snapshot
        if self.snapshot is None:
            await anyio.sleep(policy.first_delay(self.family))
        interval: float | None = None
        while True:
            interval = policy.next_interval(interval)
            try:
                snapshot = await self.refresh()
            except RateLimited as exc:
                # Throttled: wait at least as long as the server asked.
                await anyio.sleep(max(exc.retry_after or 0.0, policy.jittered(interval)))
                continue
            except ServiceError:
                await anyio.sleep(policy.jittered(interval))
                continue
            if snapshot.done:
                return snapshot
            await anyio.sleep(policy.jittered(interval))
