"""The client-wide rate governor: how fast, and how many at once, we ask the server.

Every coroutine using a client shares one ``Governor``. It holds two independent budgets,
one for creates (paid POSTs) and one for polls (free GETs), so that a throttled create
never holds up the polls that deliver finished songs, and the other way round.

A budget is:

1. a concurrency cap (an ``anyio.CapacityLimiter``): requests in flight at once;
2. a token bucket: ``rate`` grants per second, up to ``burst`` at once after a quiet spell;
3. an adaptive rate (AIMD, as TCP does): when the server refuses (429, 403 QPS limit),
   the budget pauses until its ``Retry-After`` (at least ``min_pause`` when it names
   none, at most ``max_pause`` whatever it names) and halves its rate; each success then
   adds back a tenth of the ceiling until it is reached again. Requests that were
   already in flight when a throttle hit do not halve it again, or one burst of 429s
   would collapse it.
4. a learned ceiling: each such throttle also lowers the ceiling the rate recovers to by
   ``learn`` (10 %, down to half the configured rate), so a server slower than the
   documented pace (or one whose clock sees our requests closer together than we sent
   them) soon stops refusing.

Waiters queue first come, first served: a create waits its turn, it never fails for
want of one. An unlimited budget (``rate=inf``) that gets throttled starts from
``assumed_rate`` and becomes unlimited again once it has climbed back to it.

MusicAPI documents no limits beyond "one create per 3 s per key" (MUSICAPI.md §14), so
``Governor()`` spaces creates 3 s apart and caps polls in flight; ``Governor.unlimited()``
is for tests that pace nothing.

Every number is in the server's seconds. The emulator announces its speed (the
``X-Emulator-Speed`` header) and ``set_time_scale`` makes the governor's clock run that
much faster, so the documented pace and every ``Retry-After`` keep their meaning in the
emulator's time. The real API sends no such header: its scale stays 1.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final, Literal

import anyio
import attrs

from ._errors import RateLimited
from ._retry import is_testing

__all__ = ["API_CREATE_BUDGET", "API_POLL_BUDGET", "Budget", "BudgetState", "Governor", "Kind"]

Kind = Literal["create", "poll"]

# Float slack when comparing tokens with 1: a refill computed from a clock reading can
# land a hair below a whole token, and a fake clock may not be able to advance by less.
_EPSILON: Final = 1e-9
# The longest single sleep of a waiter for a token, in server seconds.
_STEP: Final = 1.0


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:  # refuses NaN too
        raise ValueError(f"{attribute.name} must be positive, not {value!r}")


def _cap(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{attribute.name} must be at least 1 or None, not {value!r}")


@attrs.frozen(kw_only=True)
class Budget:
    """The limits of one kind of request.

    Args:
        rate: grants per second; ``math.inf`` for no rate limit.
        burst: grants that may go at once after a quiet spell (the bucket's size).
        concurrency: requests in flight at once; ``None`` for no cap.
        min_rate: the floor that halving never goes below.
        recovery: the share of the configured rate regained per success.
        assumed_rate: the rate an unlimited budget counts as when first throttled.
        max_pause: cap, in seconds, on one pause (a ``Retry-After`` of hours is ignored).
        min_pause: the pause after a refusal that names no ``Retry-After`` (403 QPS).
        learn: the share the ceiling loses on each throttle (0 keeps it fixed).
    """

    rate: float = attrs.field(default=math.inf, validator=_positive)
    burst: int = attrs.field(default=1, validator=_positive)
    concurrency: int | None = attrs.field(default=None, validator=_cap)
    min_rate: float = attrs.field(default=1 / 60, validator=_positive)
    recovery: float = attrs.field(default=0.1, validator=_positive)
    assumed_rate: float = attrs.field(default=10.0, validator=_positive)
    max_pause: float = attrs.field(default=300.0, validator=_positive)
    min_pause: float = attrs.field(default=1.0, validator=_positive)
    learn: float = attrs.field(default=0.1)

    @learn.validator
    def _check_learn(self, attribute: attrs.Attribute[float], value: float) -> None:
        if not 0 <= value < 1:
            raise ValueError(f"learn must be in [0, 1), not {value!r}")


# "One request every three seconds" for creates (MUSICAPI.md §14); polls have no
# documented rate, only the client's cap on polls in flight.
API_CREATE_BUDGET: Final = Budget(rate=1 / 3, burst=1, concurrency=8)
# Polls in flight are capped by the poller's workers (``max_concurrent_polls``): a second
# cap here would silently override the caller's choice.
API_POLL_BUDGET: Final = Budget()
_UNLIMITED: Final = Budget()


@attrs.frozen
class BudgetState:
    """A snapshot of one budget, for metrics and tests.

    Attributes:
        rate: the current rate (``math.inf`` when unlimited).
        tokens: grants available now.
        paused_until: clock time before which nothing is granted.
        in_flight: leases currently held.
        grants: leases granted so far.
        throttles: throttles reported so far.
    """

    rate: float
    tokens: float
    paused_until: float
    in_flight: int
    grants: int
    throttles: int


class _Bucket:
    """One budget's mutable state. Only touched from the event loop's thread."""

    def __init__(self, budget: Budget, clock: Callable[[], float]) -> None:
        self.budget = budget
        self.ceiling = budget.rate if math.isfinite(budget.rate) else budget.assumed_rate
        self.rate = budget.rate
        self.tokens = float(budget.burst)
        self.clock = clock
        self.stamp = clock()
        self.paused_until = -math.inf
        self.epoch = 0  # bumped on each halving: leases from before it do not halve again
        self.grants = 0
        self.throttles = 0
        # The lock queues waiters first come, first served, so a steady stream of new
        # callers cannot starve one that has been waiting for a token.
        self.lock = anyio.Lock()
        self.limiter = anyio.CapacityLimiter(budget.concurrency or math.inf)
        # No concurrency cap (the polls' budget): a lease needs no slot, which spares
        # every poll the limiter's bookkeeping (the poller's workers cap polls already).
        self.uncapped = not budget.concurrency
        self.unslotted = 0  # leases in flight that hold no slot (uncapped budgets)

    def refill(self, now: float) -> None:
        if math.isinf(self.rate):
            self.tokens = float(self.budget.burst)
        elif now > self.stamp:  # before the stamp: still in a pause, nothing accrues
            gained = (now - self.stamp) * self.rate
            self.tokens = min(float(self.budget.burst), self.tokens + gained)
        self.stamp = max(self.stamp, now)

    async def take(self, sleep: Callable[[float], Awaitable[None]]) -> int:
        if math.isinf(self.rate) and not self.lock.locked() and self.clock() >= self.paused_until:
            # Unlimited and not paused (every poll, most of the time): no queue to join.
            self.grants += 1
            return self.epoch
        async with self.lock:
            while True:
                now = self.clock()
                if now < self.paused_until:
                    # Re-checked after waking: a throttle may have extended the pause.
                    await sleep(self.paused_until - now)
                    continue
                self.refill(now)
                if self.tokens >= 1 - _EPSILON:
                    self.tokens -= 1
                    self.grants += 1
                    return self.epoch
                # At most a second (server time) at once: a speed learned meanwhile
                # (``set_time_scale``) shortens the rest of a long wait (a batch's debt).
                await sleep(min((1 - self.tokens) / self.rate, _STEP))

    def owe(self, turns: int) -> None:
        """Spend ``turns`` more grants now, going into debt: later takes wait it off."""
        if turns > 0 and not math.isinf(self.rate):
            self.refill(self.clock())
            self.tokens -= turns

    def throttle(self, retry_after: float | None, epoch: int | None) -> None:
        now = self.clock()
        self.refill(now)
        self.throttles += 1
        if epoch is None or epoch == self.epoch:
            current = self.ceiling if math.isinf(self.rate) else self.rate
            self.rate = max(self.budget.min_rate, current / 2)
            if math.isfinite(self.budget.rate):
                # Learn: the server refused at this pace, so do not climb all the way back.
                # Never below half the configured rate: a long-lived client that meets a
                # refusal now and then (network jitter) must not ratchet down for ever; a
                # server slower than that is handled by the halving above.
                learned = self.ceiling * (1 - self.budget.learn)
                floor = max(self.budget.min_rate, self.budget.rate / 2)
                self.ceiling = max(floor, min(self.ceiling, learned))
            self.epoch += 1
        # No Retry-After (403 "API QPS limit exceeded"): a second at least, not a blink.
        pause = max(self.budget.min_pause, 1 / self.rate) if retry_after is None else retry_after
        pause = min(max(0.0, pause), self.budget.max_pause)
        if is_testing():  # set_testing(True): retries never sleep, wherever they wait
            pause = 0.0
        self.paused_until = max(self.paused_until, now + pause)
        # Exactly one request may go when the pause ends (the server said "retry after");
        # the rest follow at the new rate, with no burst saved up during the pause.
        self.tokens = 1.0
        self.stamp = self.paused_until

    def succeed(self, epoch: int | None) -> None:
        if math.isinf(self.rate) or (epoch is not None and epoch != self.epoch):
            return
        self.refill(self.clock())
        self.rate += self.ceiling * self.budget.recovery
        if self.rate >= self.ceiling:
            # Back to the ceiling: the learned one, or unlimited again for an inf budget.
            self.rate = self.ceiling if math.isfinite(self.budget.rate) else self.budget.rate

    def state(self) -> BudgetState:
        self.refill(self.clock())
        return BudgetState(
            self.rate,
            self.tokens,
            self.paused_until,
            int(self.limiter.borrowed_tokens) + self.unslotted,
            self.grants,
            self.throttles,
        )


class Governor:
    """Shared create and poll budgets for every coroutine of one client.

    Use it around each HTTP exchange::

        async with governor.create():
            response = await transport.send(request)
            accepted = parse_response(endpoint, response)

    Leaving the block normally counts as a success; leaving it with ``RateLimited``
    reports a throttle (its ``retry_after`` included) and re-raises; any other error
    counts as neither.

    Args:
        create: the creates' budget; defaults to ``API_CREATE_BUDGET`` (1 per 3 s).
        poll: the budget of polls and every other call; defaults to ``API_POLL_BUDGET``
            (no rate until the server throttles; ``max_concurrent_polls`` caps polls).
        clock: monotonic seconds; injectable for tests.
        sleep: the wait (``anyio.sleep``); injectable for tests.
    """

    def __init__(
        self,
        create: Budget = API_CREATE_BUDGET,
        poll: Budget = API_POLL_BUDGET,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self._wall_clock = clock
        self._wall_sleep = sleep
        self._scale = 1.0
        # Server time = _origin + (wall - _wall_origin) * _scale: continuous across changes.
        self._wall_origin = clock()
        self._origin = self._wall_origin
        self._buckets: dict[Kind, _Bucket] = {
            "create": _Bucket(create, self._clock),
            "poll": _Bucket(poll, self._clock),
        }

    def _clock(self) -> float:
        return self._origin + (self._wall_clock() - self._wall_origin) * self._scale

    async def _sleep(self, seconds: float) -> None:
        await self._wall_sleep(seconds / self._scale)

    @property
    def time_scale(self) -> float:
        """Server seconds per wall second (1 on the real API; the emulator's speed)."""
        return self._scale

    def set_time_scale(self, scale: float) -> None:
        """Run the budgets on a server whose clock goes ``scale`` times faster than ours.

        The client calls it when the emulator announces its speed. Pauses already under
        way end at the same server time; only their wall length changes.

        Raises:
            ValueError: ``scale`` is not a positive finite number.
        """
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"time scale must be a positive number, not {scale!r}")
        now = self._clock()
        self._wall_origin = self._wall_clock()
        self._origin = now
        self._scale = float(scale)

    @classmethod
    def unlimited(
        cls,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> Governor:
        """A governor with no rate and no concurrency cap (it still adapts to throttles).

        For mock servers in tests, and for benchmarks that measure the client, not the
        pace; against MusicAPI it sends creates faster than the documented limit.
        """
        return cls(_UNLIMITED, _UNLIMITED, clock=clock, sleep=sleep)

    def create(self, turns: int = 1) -> AbstractAsyncContextManager[None]:
        """A lease on the creates' budget: ``async with governor.create(): ...``.

        ``turns``: how many creates the request counts as (a sonic batch of n: n).
        """
        return self.lease("create", turns)

    def poll(self) -> AbstractAsyncContextManager[None]:
        """A lease on the polls' budget: ``async with governor.poll(): ...``."""
        return self.lease("poll")

    @asynccontextmanager
    async def lease(self, kind: Kind, turns: int = 1) -> AsyncIterator[None]:
        """Wait for a slot and a token of ``kind``'s budget, and hold the slot.

        Args:
            kind: ``"create"`` or ``"poll"``.
            turns: how many requests this one counts as. It goes with one token, and the
                other ``turns - 1`` are owed from the moment it is granted: the requests
                after it wait as if it had been ``turns`` requests in a row (a sonic
                batch of n creates, see ``_batch``), and it never waits for tokens a
                one-token bucket could not save up.

        Raises:
            RateLimited: re-raised from the block, after the throttle is recorded.
        """
        bucket = self._buckets[kind]
        if bucket.uncapped:
            epoch = await bucket.take(self._sleep)
            bucket.owe(turns - 1)
            bucket.unslotted += 1
            try:
                yield
            except RateLimited as exc:
                bucket.throttle(exc.retry_after, epoch)
                raise
            finally:
                bucket.unslotted -= 1
            bucket.succeed(epoch)
            return
        # A fresh borrower per lease: one task may hold several leases (nested calls),
        # which CapacityLimiter refuses for a task borrowing in its own name.
        borrower = object()
        await bucket.limiter.acquire_on_behalf_of(borrower)
        try:
            # The slot is taken before the token, so the token's timing is the send's.
            epoch = await bucket.take(self._sleep)
            bucket.owe(turns - 1)
            try:
                yield
            except RateLimited as exc:
                bucket.throttle(exc.retry_after, epoch)
                raise
            bucket.succeed(epoch)
        finally:
            bucket.limiter.release_on_behalf_of(borrower)

    def throttled(self, kind: Kind, retry_after: float | None = None) -> None:
        """Report that the server throttled a ``kind`` request.

        Pauses the budget for ``retry_after`` seconds (one gap at the new rate when
        ``None``; at most ``max_pause``) and halves its rate.
        """
        self._buckets[kind].throttle(retry_after, None)

    def succeeded(self, kind: Kind) -> None:
        """Report a ``kind`` request the server accepted: the rate recovers a step."""
        self._buckets[kind].succeed(None)

    def state(self, kind: Kind) -> BudgetState:
        """A snapshot of ``kind``'s budget."""
        return self._buckets[kind].state()
