"""Webhook deliveries (MUSICAPI.md §9), driven by one scheduler and the virtual clock.

Rules:

* Only tasks created with a ``webhook_url`` get events; others cost nothing here.
* Sonic tasks send ``song.streaming`` when their first clip starts streaming, then
  ``song.completed`` when every clip has succeeded, or ``song.failed`` when every clip
  is terminal and one failed. Nuro tasks send only the final event.
* One coroutine sleeps until the earliest due event (a heap ordered by emulated time);
  ``advance()`` wakes it. There is no timer per task.
* Targets must be loopback addresses: anything else is refused and counted, never sent.
* Each POST carries ``X-Webhook-Id`` (= ``Idempotency-Key``), ``X-Webhook-Event``,
  ``X-Webhook-Timestamp`` (wall-clock unix seconds, so receivers can check freshness)
  and ``X-Webhook-Signature: sha256=HMAC(secret, f"{timestamp}.{body}")``. With
  ``duplicates`` every delivery is sent twice, identical, to exercise deduplication.
* One attempt per event (the real retry policy is unknown); the outcome is recorded.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
import ipaddress
import json
import time
import uuid
from collections import Counter
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
import attrs

from .._models import ClipState, Family
from .._signing import sign_webhook
from ._clock import VirtualClock
from ._tasks import FAILED_MESSAGE, Task, TaskStore

__all__ = ["DEFAULT_WEBHOOK_SECRET", "Delivery", "WebhookScheduler", "is_loopback"]

DEFAULT_WEBHOOK_SECRET: Final = "musicapi-emulator-webhook-secret"
_MAX_IN_FLIGHT: Final = 32
_TIMEOUT: Final = aiohttp.ClientTimeout(total=10)


@attrs.frozen
class Delivery:
    """One webhook POST (or refusal), as the emulator recorded it.

    Attributes:
        status: the receiver's HTTP status; ``None`` if it was refused or unreachable.
        error: why it was not delivered, if it was not.
        attempt: 1, or 2 for the duplicate of a delivery.
    """

    webhook_id: str
    task_id: str
    event: str
    url: str
    status: int | None = None
    error: str | None = None
    attempt: int = 1

    def to_json(self) -> dict[str, Any]:
        """This record as JSON."""
        return attrs.asdict(self)


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (127.0.0.0/8, ::1 or localhost)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _events(task: Task) -> list[tuple[float, str]]:
    events: list[tuple[float, str]] = []
    if task.family is Family.SONIC:
        streams = [
            t for t in (tl.time_of(ClipState.STREAMING) for tl in task.timelines) if t is not None
        ]
        if streams:
            events.append((min(streams), "song.streaming"))
    failed = task.fails_at is not None
    events.append((task.end, "song.failed" if failed else "song.completed"))
    return events


class WebhookScheduler:
    """Sends the webhooks of every task that asked for them, when they fall due.

    Args:
        clock: the emulator's clock.
        store: where tasks are rendered from.
        enabled: ``False`` records nothing and sends nothing.
        duplicates: send each delivery twice.
        default_secret: the key used when a create gave no ``webhook_secret``.
    """

    def __init__(
        self,
        clock: VirtualClock,
        store: TaskStore,
        *,
        enabled: bool = True,
        duplicates: bool = False,
        default_secret: str = DEFAULT_WEBHOOK_SECRET,
    ) -> None:
        self.clock = clock
        self.store = store
        self.enabled = enabled
        self.duplicates = duplicates
        self.default_secret = default_secret
        self.counts: Counter[str] = Counter()
        self.deliveries: collections.deque[Delivery] = collections.deque(maxlen=1000)
        self._heap: list[tuple[float, int, str, str]] = []
        self._seq = 0
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(_MAX_IN_FLIGHT)
        self._session: aiohttp.ClientSession | None = None

    def schedule(self, task: Task) -> None:
        """Queue ``task``'s events, or refuse a target that is not loopback."""
        target = task.webhook
        if not self.enabled or target is None:
            return
        if not is_loopback(target.url):
            self.counts["refused"] += 1
            self.deliveries.append(
                Delivery("", task.task_id, "-", target.url, error="refused: not a loopback address")
            )
            return
        for due, event in _events(task):
            self._seq += 1
            heapq.heappush(self._heap, (due, self._seq, task.task_id, event))
        self.counts["scheduled"] += len(_events(task))
        self._wake.set()

    def wake(self) -> None:
        """Re-check the heap now (the clock jumped)."""
        self._wake.set()

    @property
    def pending(self) -> int:
        """Events scheduled but not yet sent (due later, or in flight)."""
        return len(self._heap) + len(self._in_flight)

    def start(self) -> None:
        """Start the scheduler in the running loop."""
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(self._run())

    async def aclose(self) -> None:
        """Stop scheduling and abandon deliveries still in flight."""
        tasks = [t for t in (self._runner, *self._in_flight) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until every event due by now has been sent.

        Raises:
            TimeoutError: deliveries were still going after ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while True:
                now = self.clock.now()
                if not self._in_flight and not (self._heap and self._heap[0][0] <= now):
                    return
                self._wake.set()
                await asyncio.sleep(0.005)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            now = self.clock.now()
            while self._heap and self._heap[0][0] <= now:
                due, _, task_id, event = heapq.heappop(self._heap)
                sending = asyncio.get_running_loop().create_task(self._send(task_id, event, due))
                self._in_flight.add(sending)
                sending.add_done_callback(self._in_flight.discard)
            delay = self.clock.wall_delay(self._heap[0][0]) if self._heap else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    def _payload(self, task: Task, event: str, due: float) -> bytes:
        if task.family is Family.NURO:
            data: dict[str, Any] = {"code": 200, "platform": "nuro",
                                    **self.store.nuro_object(task, due)}  # fmt: skip
        elif task.family in (Family.PRODUCER, Family.RIFFUSION):
            # Their own task answer, with the task id and platform a receiver routes by.
            answer = json.loads(self.store.render(task, due)[1])
            data = {**answer, "task_id": task.task_id, "platform": task.family.value}
        else:
            clips = self.store.sonic_data(task, task.indices(due))
            data = {"code": 200, "task_id": task.task_id, "platform": "suno", "data": clips}
        if event == "song.failed":
            data["message"] = FAILED_MESSAGE
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()

    async def _send(self, task_id: str, event: str, due: float) -> None:
        task = self.store.tasks[task_id]
        assert task.webhook is not None  # only such tasks are scheduled
        body = self._payload(task, event, due)
        webhook_id = str(uuid.uuid4())
        timestamp = str(int(time.time()))
        secret = task.webhook.secret or self.default_secret
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "MusicAPI-Emulator-Webhook/1",
            "X-Webhook-Id": webhook_id,
            "Idempotency-Key": webhook_id,
            "X-Webhook-Event": event,
            "X-Webhook-Timestamp": timestamp,
            "X-Webhook-Signature": sign_webhook(secret, timestamp, body),
        }
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=_TIMEOUT)
        for attempt in range(1, 3 if self.duplicates else 2):
            record = Delivery(webhook_id, task_id, event, task.webhook.url, attempt=attempt)
            async with self._slots:
                try:
                    async with self._session.post(
                        task.webhook.url, data=body, headers=headers
                    ) as answer:
                        await answer.read()
                        record = attrs.evolve(record, status=answer.status)
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    record = attrs.evolve(record, error=f"{type(exc).__name__}: {exc}")
            ok = record.status is not None and 200 <= record.status < 300
            self.counts["delivered" if ok else "failed"] += 1
            if attempt == 2:
                self.counts["duplicates"] += 1
            self.deliveries.append(record)
