"""Everything one emulator run knows: its settings, components, counters and stats.

The aiohttp handlers (``_app``), the control surface (``_control``) and the public
``Emulator`` share one ``EmulatorState``; nothing in it does I/O except the webhook
scheduler it owns.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

import attrs

from ._clock import VirtualClock
from ._content import Moderation
from ._faults import FaultPlan
from ._generate import Generator
from ._ledger import Ledger
from ._tasks import TaskStore
from ._webhooks import DEFAULT_WEBHOOK_SECRET, WebhookScheduler

__all__ = ["Config", "EmulatorState", "Stats"]


@attrs.frozen(kw_only=True)
class Config:
    """The settings of one run; see ``Emulator`` for what each means."""

    api_key: str = "test-key"
    speed: float = 60.0
    credits: int = 1000
    extra_credits: int = 0
    lyrics_credits: int = 100
    strict: bool = True
    failure_rate: float = 0.0
    seed: int | None = None
    webhooks: bool = True
    webhook_duplicates: bool = False
    webhook_secret: str = attrs.field(default=DEFAULT_WEBHOOK_SECRET, repr=False)
    create_interval: float | None = None
    rate_limit_status: int = attrs.field(default=429)
    banned_words: tuple[str, ...] = ()
    copyrighted: tuple[str, ...] = ()
    producer_tags: tuple[str, ...] = ()
    review_words: tuple[str, ...] = ()
    failure_style: str = "clips"
    not_ready_status: int = 202
    retire_nuro: bool = False

    @rate_limit_status.validator
    def _check_status(self, _: object, value: int) -> None:
        if value not in (429, 403):
            raise ValueError("rate_limit_status is 429 or 403")


@attrs.frozen(kw_only=True)
class Stats:
    """What the emulator has seen and done, at one moment.

    Attributes:
        requests: requests per endpoint name (``"sonic.create"``…, ``"media.audio"``…),
            faulted and refused ones included.
        statuses: per endpoint, answers by HTTP status (``"200"``…) plus ``"dropped"``.
        billed: calls that cost credits, per endpoint.
        dropped: connections closed without an answer, per endpoint.
        tasks: tasks by status (``not_ready``, ``pending``, ``running``, ``streaming``,
            ``succeeded``, ``failed``).
        clips: clips by state.
        faults: faults fired, by kind.
        webhooks: ``scheduled``, ``delivered``, ``failed``, ``refused``, ``duplicates``.
        virtual_time: the emulated clock, in seconds.
    """

    requests: Mapping[str, int]
    statuses: Mapping[str, Mapping[str, int]]
    billed: Mapping[str, int]
    dropped: Mapping[str, int]
    credits_spent: int
    credits_refunded: int
    lyrics_credits_spent: int
    lyrics_credits_refunded: int
    tasks: Mapping[str, int]
    clips: Mapping[str, int]
    faults: Mapping[str, int]
    webhooks: Mapping[str, int]
    virtual_time: float

    def to_json(self) -> dict[str, Any]:
        """These numbers as JSON (the body of ``GET /_emulator/stats``)."""
        return attrs.asdict(self)


class EmulatorState:
    """The shared state of one run."""

    def __init__(self, config: Config, faults: FaultPlan) -> None:
        self.config = config
        self.clock = VirtualClock(config.speed)
        self.ledger = Ledger()
        self.ledger.open(
            config.api_key,
            credits=config.credits,
            extra_credits=config.extra_credits,
            lyrics_credits=config.lyrics_credits,
        )
        self.store = TaskStore(
            failure_style=config.failure_style, not_ready_status=config.not_ready_status
        )
        self.generator = Generator(self.store, seed=config.seed, failure_rate=config.failure_rate)
        self.faults = faults
        self.webhooks = WebhookScheduler(
            self.clock,
            self.store,
            enabled=config.webhooks,
            duplicates=config.webhook_duplicates,
            default_secret=config.webhook_secret,
        )
        self.last_create: dict[str, float] = {}
        self.moderation = Moderation(
            banned_words=config.banned_words,
            copyrighted=config.copyrighted,
            producer_tags=config.producer_tags,
            review_words=config.review_words,
        )
        self.requests: Counter[str] = Counter()
        self.statuses: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.billed: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        # Sonic utilities (issue 13): what was billed once per clip, and when each
        # prepared file (midi, download) is ready.
        self.paid_once: set[tuple[str, str, str]] = set()
        self.ready_at: dict[tuple[str, str, str], float] = {}
        # Sonic batches: batch id -> (the key that made it, its task ids in item order).
        self.batches: dict[str, tuple[str, tuple[str, ...]]] = {}

    def settle(self) -> float:
        """Apply refunds that fell due; returns the emulated time now."""
        now = self.clock.now()
        self.store.settle(now, self.ledger)
        return now

    def advance(self, seconds: float) -> float:
        """Jump the clock, settle, and let the webhook scheduler catch up."""
        self.clock.advance(seconds)
        self.webhooks.wake()
        return self.settle()

    def reset_counters(self) -> None:
        """Zero the request, status, billing and drop counters (not the ledger)."""
        # Cleared in place: each handler holds its own endpoint's status counter.
        for counter in (self.requests, self.billed, self.dropped, *self.statuses.values()):
            counter.clear()

    def stats(self) -> Stats:
        """The current numbers."""
        now = self.settle()
        tasks: Counter[str] = Counter()
        clips: Counter[str] = Counter()
        for task in self.store.iter_tasks():
            tasks[task.status(now)] += 1
            if now >= task.ready_at:
                clips.update(t.state(now).value for t in task.timelines)
        spent, refunded = self.ledger.spent, self.ledger.refunded
        return Stats(
            requests=dict(self.requests),
            statuses={k: dict(v) for k, v in self.statuses.items() if v},
            billed=dict(self.billed),
            dropped=dict(self.dropped),
            credits_spent=spent["credits"],
            credits_refunded=refunded["credits"],
            lyrics_credits_spent=spent["lyrics"],
            lyrics_credits_refunded=refunded["lyrics"],
            tasks=dict(tasks),
            clips=dict(clips),
            faults={k.value: v for k, v in self.faults.fired.items()},
            webhooks=dict(self.webhooks.counts),
            virtual_time=now,
        )
