"""The retry policy: what is safe to send again, how long to wait, when to give up.

Credits are spent by POSTs, so what may be re-sent is decided by what the server may have
seen, not by how the call failed. The rules, in order (``decide``):

====================================  =======================  =========================
failure                               free call (GET)          billable POST
====================================  =======================  =========================
``TransportFailure(sent=False)``      retry                    retry (never left us)
``TransportFailure(sent=True)``       retry                    give up (may be billed)
``NetworkError``                      retry                    retry, unless its chain
                                                               holds a ``sent=True``
                                                               ``TransportFailure``
``RateLimited`` (429, QPS, queue)     wait its turn            wait its turn (refused)
``RateLimited`` "usage limit"         give up (a quota)        give up (a quota)
any 5xx, whatever its text            retry                    give up (may be billed)
``ServerError`` (5xx, HTML gateway)   retry                    give up (may be billed)
``ResponseDecodeError``               retry                    give up (may be billed)
``SubmissionOutcomeUnknown``          give up                  give up
anything else                         give up                  give up
====================================  =======================  =========================

A retry waits with full jitter (``uniform(0, min(maximum, initial * multiplier **
(attempt - 1)))``), or the server's ``Retry-After`` when it sent one. Every wait is capped
by ``maximum`` and by the time left before ``timeout``; ``attempts`` and ``timeout`` both
end the retries, whichever comes first (stamina's rules).

An explicit refusal (429, 403 QPS limit, queue full) is different: the server answered
"not now", nothing was billed, and the call *waits its turn*. Refusals use no attempt and
are not bound by ``timeout``; they end only after ``refusal_timeout`` seconds of being
refused. Status decides before wording: a 5xx is never a refusal, even one whose text
says "rate limit". When the call runs under the client's governor (``paced=True``) the
governor holds the next try until the server's pause is over, so the wait here is 0:
one mechanism paces, and in the server's time (the emulator's speed included).

``set_testing(True)`` makes every wait zero (and can cap attempts) so tests never sleep.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Final, TypeVar

import anyio
import attrs

from ._errors import (
    NetworkError,
    RateLimited,
    ResponseDecodeError,
    ServerError,
    SubmissionOutcomeUnknown,
)
from ._http import TransportFailure

__all__ = [
    "RetryPolicy",
    "decide",
    "is_refusal",
    "is_testing",
    "retryable",
    "retrying",
    "set_testing",
]

T = TypeVar("T")

# "API usage limit exceeded" is a quota on the account: waiting a minute does not lift it.
_QUOTA_MARKER: Final = "usage limit"


def _at_least(minimum: float) -> Callable[[object, attrs.Attribute[Any], float], None]:
    def check(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
        if not value >= minimum:  # written this way so that NaN is refused too
            raise ValueError(f"{attribute.name} must be >= {minimum}, not {value!r}")

    return check


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How hard to retry one call.

    Args:
        attempts: total tries, the first one included (1 means never retry, not even a
            refusal; above 1, refusals use none of them).
        timeout: seconds from the start of the first try after which no new try starts.
        initial: the backoff's first ceiling, in seconds.
        maximum: cap on any single wait, ``Retry-After`` included.
        multiplier: growth of the backoff ceiling from one retry to the next.
        refusal_timeout: seconds, from a call's first explicit refusal (429, QPS limit),
            during which it keeps waiting its turn; refusals use no attempt.
    """

    attempts: int = attrs.field(default=5, validator=_at_least(1))
    timeout: float = attrs.field(default=60.0, validator=_at_least(0.0))
    initial: float = attrs.field(default=0.5, validator=_at_least(0.0))
    maximum: float = attrs.field(default=30.0, validator=_at_least(0.0))
    multiplier: float = attrs.field(default=2.0, validator=_at_least(1.0))
    refusal_timeout: float = attrs.field(default=900.0, validator=_at_least(0.0))


# ------------------------------------------------------------------------ testing switch


@attrs.frozen
class _Testing:
    on: bool = False
    attempts: int | None = None


_testing = _Testing()


class _RestoreTesting:
    """Returned by ``set_testing``: as a context manager, it restores the previous mode."""

    def __init__(self, previous: _Testing) -> None:
        self._previous = previous

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _testing  # one process-wide switch, as in stamina
        _testing = self._previous


def set_testing(testing: bool = True, *, attempts: int | None = None) -> _RestoreTesting:
    """Turn the testing mode on or off for the whole process.

    In testing mode every wait is zero, so retries never sleep (nor does the governor's
    pause after a refusal); the decisions are otherwise unchanged. Usable as a context
    manager that restores the previous mode::

        with set_testing(True, attempts=2):
            ...

    Args:
        testing: whether waits are zero.
        attempts: when set (and ``testing``), caps every policy's attempts at this.

    Returns:
        An object that, used as a context manager, restores the previous mode on exit.
    """
    global _testing  # one process-wide switch, as in stamina
    if attempts is not None and attempts < 1:
        raise ValueError(f"attempts must be >= 1, not {attempts!r}")
    previous = _testing
    _testing = _Testing(testing, attempts if testing else None)
    return _RestoreTesting(previous)


def is_testing() -> bool:
    """Whether the testing mode (zero waits) is on."""
    return _testing.on


# ------------------------------------------------------------------------------ decisions


def _sent_flag(error: BaseException) -> bool | None:
    """The ``sent`` of the first ``TransportFailure`` in ``error``'s cause/context chain."""
    stack: list[BaseException] = [error]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, TransportFailure):
            return current.sent
        # The client raises NetworkError `from failure.cause`, so the TransportFailure
        # itself is the implicit __context__, not the __cause__: follow both.
        stack.extend(e for e in (current.__context__, current.__cause__) if e is not None)
    return None


def _is_quota(error: RateLimited) -> bool:
    return _QUOTA_MARKER in (error.api_message or "").lower()


def _is_5xx(error: BaseException) -> bool:
    status = getattr(error, "status", None)
    return isinstance(status, int) and status >= 500


def is_refusal(error: BaseException) -> bool:
    """Whether ``error`` is the server explicitly saying "not now" (nothing was billed).

    A 429, a 403 "API QPS limit exceeded" or "Queue is full"; never a quota, never a 5xx.
    """
    return isinstance(error, RateLimited) and not _is_quota(error) and not _is_5xx(error)


def retryable(error: BaseException, *, billable: bool) -> bool:
    """Whether sending the same request again is safe and may help (the table above).

    Args:
        error: what the last try raised.
        billable: whether the call costs credits when the server accepts it.

    Returns:
        ``True`` when the request may be sent again.
    """
    if isinstance(error, SubmissionOutcomeUnknown):
        return False
    if isinstance(error, RateLimited):
        # A refusal (429, QPS, queue full) is an answer: nothing was accepted or billed.
        # A 5xx is not one, whatever its text: the paid request may have been processed.
        if billable and _is_5xx(error):
            return False
        return not _is_quota(error)
    if isinstance(error, TransportFailure):
        return not (billable and error.sent)
    if isinstance(error, NetworkError):
        # The client raises NetworkError for a billable call only when the request never
        # left; a sent=True failure in its chain would contradict that, so trust it.
        return not (billable and _sent_flag(error) is True)
    if isinstance(error, ServerError | ResponseDecodeError):
        # The server saw the request: a paid one may have been accepted and billed.
        return not billable
    return False


def decide(
    policy: RetryPolicy,
    *,
    billable: bool,
    attempt: int,
    elapsed: float,
    error: BaseException,
    rng: Callable[[], float] = random.random,
    refused_for: float = 0.0,
    paced: bool = False,
) -> float | None:
    """Seconds to wait before the next try, or ``None`` to give up and raise ``error``.

    Args:
        policy: the limits and backoff.
        billable: whether the call costs credits when the server accepts it.
        attempt: the number of the try that just failed, starting at 1.
        elapsed: seconds since the first try started.
        error: what that try raised.
        rng: a source of uniform floats in ``[0, 1)``, for the jitter.
        refused_for: for a refusal, seconds since this call's first refusal.
        paced: a governor paces the next try (and honours ``Retry-After``): wait 0.

    Returns:
        The wait in seconds (0 in testing mode), or ``None`` when the error is not
        retryable, the attempts are used up or the total time is spent.
    """
    attempts = policy.attempts
    if _testing.on and _testing.attempts is not None:
        attempts = min(attempts, _testing.attempts)
        if attempt >= attempts:  # the testing cap counts every try, refusals included
            return None
    if attempts <= 1:
        return None  # one try means no retry at all, a refusal's included
    if is_refusal(error):
        left = policy.refusal_timeout - refused_for
        if left <= 0:
            return None
        if _testing.on or paced:
            return 0.0
        return min(_wait(policy, error, attempt, rng), policy.maximum, left)
    remaining = policy.timeout - elapsed
    if attempt >= attempts or remaining <= 0 or not retryable(error, billable=billable):
        return None
    if _testing.on:
        return 0.0
    return min(_wait(policy, error, attempt, rng), policy.maximum, remaining)


def _wait(
    policy: RetryPolicy, error: BaseException, attempt: int, rng: Callable[[], float]
) -> float:
    retry_after = error.retry_after if isinstance(error, RateLimited) else None
    if retry_after is not None:
        # The server named its wait: honour it exactly (no jitter), within our limits.
        return max(0.0, retry_after)
    # The exponent is capped: a call refused a thousand times must not overflow a float.
    ceiling = policy.initial * policy.multiplier ** min(attempt - 1, 64)
    # Full jitter: clients that failed together spread out instead of retrying as one.
    return rng() * min(policy.maximum, ceiling)


# --------------------------------------------------------------------------------- driver


async def retrying(
    policy: RetryPolicy,
    billable: bool,
    send: Callable[[], Awaitable[T]],
    *,
    on_retry: Callable[[int, Exception, float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    rng: Callable[[], float] = random.random,
    paced: bool = False,
) -> T:
    """Run ``send`` until it succeeds or ``decide`` gives up.

    Args:
        policy: the limits and backoff.
        billable: whether ``send`` makes a call that costs credits.
        send: one try; called again for each retry.
        on_retry: called as ``on_retry(attempt, error, wait)`` before each wait, for
            counters and logs (``attempt`` is the try that failed, from 1).
        clock: monotonic seconds, for the total time.
        sleep: the wait (``anyio.sleep``); injectable for tests.
        rng: the jitter's source of uniform floats in ``[0, 1)``.
        paced: ``send`` waits for a governor that honours refusals' pauses itself.

    Returns:
        What ``send`` returned.

    Raises:
        Exception: the last try's error, unchanged, once no retry is allowed.
    """
    start = clock()
    attempt = 0
    refused_since: float | None = None
    while True:
        attempt += 1
        try:
            return await send()
        except Exception as error:
            # Cancellation is a BaseException and is never caught here: it ends the loop.
            now = clock()
            if is_refusal(error) and refused_since is None:
                refused_since = now
            refused_for = 0.0 if refused_since is None else now - refused_since
            wait = decide(
                policy,
                billable=billable,
                attempt=attempt,
                elapsed=now - start,
                error=error,
                rng=rng,
                refused_for=refused_for,
                paced=paced,
            )
            if wait is None:
                raise
            if on_retry is not None:
                on_retry(attempt, error, wait)
        await sleep(wait)
