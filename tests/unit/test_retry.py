"""The retry policy: what may be sent again, how long to wait, and when to stop."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterator

import pytest

from musicapi_async._errors import (
    InsufficientCredits,
    InvalidRequest,
    MusicAPIError,
    NetworkError,
    RateLimited,
    ResponseDecodeError,
    ServerError,
    SubmissionOutcomeUnknown,
)
from musicapi_async._http import TransportFailure
from musicapi_async._protocol import HttpResponse, error_for
from musicapi_async._retry import (
    RetryPolicy,
    decide,
    is_testing,
    retryable,
    retrying,
    set_testing,
)

POLICY = RetryPolicy(attempts=5, timeout=60, initial=1, maximum=30, multiplier=2)


def top() -> float:
    """The top of the jitter range, so waits are the backoff's ceilings."""
    return 1.0


def rate_limited(status: int, message: str, retry_after: str | None = None) -> MusicAPIError:
    """The error the protocol maps a throttling answer to."""
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    body = f'{{"message": "{message}"}}'.encode()
    return error_for(HttpResponse(status, headers, body))


def lost_after_sending() -> NetworkError:
    """A NetworkError raised the way the client raises it, from a sent=True failure."""
    try:
        try:
            raise TransportFailure("reset", sent=True, cause=ConnectionResetError())
        except TransportFailure as failure:
            raise NetworkError("sonic.task: reset") from failure.cause
    except NetworkError as exc:
        return exc


@pytest.fixture(autouse=True)
def _no_testing_mode() -> Iterator[None]:
    """Each test starts with real waits, whatever another test left behind."""
    with set_testing(False):
        yield


# ------------------------------------------------------------------------- what is safe


SAFE_FOR_BOTH: list[BaseException] = [
    TransportFailure("could not connect", sent=False),
    NetworkError("could not connect"),
    RateLimited("429", status=429),
    rate_limited(403, "API QPS limit exceeded"),
    rate_limited(403, "Queue is full"),
    rate_limited(429, "Too Many Requests"),
]
SAFE_ONLY_WHEN_FREE: list[BaseException] = [
    TransportFailure("reset after sending", sent=True),
    TransportFailure("timed out waiting for the answer", sent=True),
    ServerError("502", status=502),
    error_for(HttpResponse(502, {}, b"<html>Bad Gateway</html>")),
    ResponseDecodeError("not JSON", status=200, raw_body=b"oops"),
]
NEVER: list[BaseException] = [
    SubmissionOutcomeUnknown("lost", endpoint="sonic.create", request=None),
    rate_limited(403, "API usage limit exceeded"),
    InvalidRequest("bad mv", status=400),
    InsufficientCredits("no credits", status=403),
    ValueError("a bug"),
]


@pytest.mark.parametrize("error", SAFE_FOR_BOTH, ids=repr)
def test_refusals_and_unsent_requests_are_retried_even_when_billable(error: BaseException) -> None:
    """Not-sent failures and 429/QPS/queue-full refusals retry paid and free calls alike."""
    assert retryable(error, billable=True)
    assert retryable(error, billable=False)
    assert decide(POLICY, billable=True, attempt=1, elapsed=0, error=error, rng=top) is not None


@pytest.mark.parametrize("error", SAFE_ONLY_WHEN_FREE, ids=repr)
def test_sent_failures_and_5xx_are_never_retried_for_billable_calls(error: BaseException) -> None:
    """A paid POST that may have reached the server is not re-sent; a GET is."""
    assert decide(POLICY, billable=True, attempt=1, elapsed=0, error=error) is None
    assert decide(POLICY, billable=False, attempt=1, elapsed=0, error=error) is not None


@pytest.mark.parametrize("billable", [True, False])
@pytest.mark.parametrize("error", NEVER, ids=repr)
def test_outcome_unknown_quota_and_caller_errors_are_never_retried(
    error: BaseException, billable: bool
) -> None:
    """Lost paid answers, the usage quota, caller errors and bugs end the retries at once."""
    assert decide(POLICY, billable=billable, attempt=1, elapsed=0, error=error) is None


def test_network_error_chained_to_a_sent_failure_is_not_retried_when_billable() -> None:
    """A NetworkError whose chain shows the request was sent is treated as sent."""
    error = lost_after_sending()
    assert not retryable(error, billable=True)
    assert retryable(error, billable=False)


# ------------------------------------------------------------------------ how long to wait


def test_backoff_grows_by_the_multiplier_and_is_capped_by_maximum() -> None:
    """At the top of the jitter range the waits are 1, 2, 4, 8 ... capped at ``maximum``."""
    policy = RetryPolicy(attempts=10, timeout=1000, initial=1, maximum=5, multiplier=2)
    error = ServerError("503", status=503)
    waits = [decide(policy, billable=False, attempt=n, elapsed=0, error=error, rng=top)
             for n in range(1, 6)]  # fmt: skip
    assert waits == [1, 2, 4, 5, 5]


def test_full_jitter_scales_the_ceiling_by_the_random_draw() -> None:
    """The wait is a uniform draw between zero and the backoff ceiling."""
    error = ServerError("503", status=503)
    assert decide(POLICY, billable=False, attempt=3, elapsed=0, error=error, rng=lambda: 0.25) == 1
    assert decide(POLICY, billable=False, attempt=3, elapsed=0, error=error, rng=lambda: 0) == 0


def test_retry_after_seconds_is_honoured_exactly() -> None:
    """A ``Retry-After: 7`` header makes the wait 7 s, without jitter."""
    error = rate_limited(429, "Too Many Requests", "7")
    wait = decide(POLICY, billable=True, attempt=1, elapsed=0, error=error, rng=lambda: 0)
    assert wait == 7


def test_retry_after_http_date_is_honoured() -> None:
    """A ``Retry-After`` HTTP-date 12 s ahead makes the wait about 12 s."""
    when = email.utils.formatdate(time.time() + 12, usegmt=True)
    error = rate_limited(429, "Too Many Requests", when)
    wait = decide(POLICY, billable=True, attempt=1, elapsed=0, error=error, rng=lambda: 0)
    assert wait is not None
    assert 10 <= wait <= 12


def test_retry_after_is_capped_by_maximum() -> None:
    """A ``Retry-After`` longer than ``maximum`` waits ``maximum``."""
    error = rate_limited(429, "Too Many Requests", "600")
    assert decide(POLICY, billable=True, attempt=1, elapsed=0, error=error) == POLICY.maximum


def test_retry_after_is_capped_by_the_time_left() -> None:
    """A refused call's wait never runs past its ``refusal_timeout``."""
    error = RateLimited("slow down", retry_after=20)
    wait = decide(POLICY, billable=True, attempt=1, elapsed=0, error=error, refused_for=895)
    assert wait == 5
    assert decide(POLICY, billable=True, attempt=1, elapsed=0, error=error,
                  refused_for=900) is None  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ["Upstream rate limit error; generation aborted", "Too many requests, try later",
     "The queue is full", "API QPS limit exceeded"],
)  # fmt: skip
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_is_never_a_refusal_whatever_its_text(status: int, text: str) -> None:
    """Status decides before wording: a paid POST answered 5xx "rate limit" is not re-sent."""
    error = error_for(HttpResponse(status, {}, json.dumps({"message": text}).encode()))
    assert not isinstance(error, RateLimited)
    assert decide(POLICY, billable=True, attempt=1, elapsed=0, error=error) is None
    disguised = RateLimited(text, status=status)  # however it was classified
    assert decide(POLICY, billable=True, attempt=1, elapsed=0, error=disguised) is None


def test_refusals_wait_their_turn_past_attempts_and_timeout() -> None:
    """A 429 uses no attempt and ignores ``timeout``: only ``refusal_timeout`` ends it."""
    error = RateLimited("slow down", status=429)
    assert decide(POLICY, billable=True, attempt=50, elapsed=5000, error=error,
                  refused_for=10, rng=top) is not None  # fmt: skip
    assert decide(POLICY, billable=True, attempt=2000, elapsed=0, error=error,
                  refused_for=10, rng=top) == POLICY.maximum  # fmt: skip


def test_paced_refusals_leave_the_wait_to_the_governor() -> None:
    """Under a governor a refusal waits 0 here: the governor holds the next try."""
    error = RateLimited("slow down", status=429, retry_after=20)
    assert decide(POLICY, billable=True, attempt=1, elapsed=0, error=error, paced=True) == 0


# ------------------------------------------------------------------------- when to stop


def test_attempts_cap_the_tries() -> None:
    """After ``attempts`` tries in total there is no further retry."""
    error = NetworkError("could not connect")
    assert decide(POLICY, billable=False, attempt=4, elapsed=0, error=error) is not None
    assert decide(POLICY, billable=False, attempt=5, elapsed=0, error=error) is None


def test_total_time_caps_the_tries() -> None:
    """Once ``timeout`` seconds have passed there is no further retry, attempts left or not."""
    error = NetworkError("could not connect")
    assert decide(POLICY, billable=False, attempt=1, elapsed=59.9, error=error) is not None
    assert decide(POLICY, billable=False, attempt=1, elapsed=60, error=error) is None


def test_policy_refuses_nonsense_limits() -> None:
    """Zero attempts, a negative timeout and a shrinking multiplier are refused."""
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="timeout"):
        RetryPolicy(timeout=-1)
    with pytest.raises(ValueError, match="multiplier"):
        RetryPolicy(multiplier=0.5)


# ------------------------------------------------------------------------- testing switch


def test_testing_switch_makes_every_wait_zero_and_restores() -> None:
    """Inside ``set_testing(True)`` waits are 0 (Retry-After too); outside they are back."""
    error = RateLimited("slow down", retry_after=20)
    with set_testing(True):
        assert is_testing()
        assert decide(POLICY, billable=True, attempt=1, elapsed=0, error=error) == 0
    assert not is_testing()
    assert decide(POLICY, billable=True, attempt=1, elapsed=0, error=error) == 20


def test_testing_switch_can_cap_attempts_but_keeps_the_rules() -> None:
    """``set_testing(True, attempts=2)`` stops after 2 tries and still never re-sends 5xx POSTs."""
    error = NetworkError("could not connect")
    with set_testing(True, attempts=2):
        assert decide(POLICY, billable=False, attempt=1, elapsed=0, error=error) == 0
        assert decide(POLICY, billable=False, attempt=2, elapsed=0, error=error) is None
        server = ServerError("500", status=500)
        assert decide(POLICY, billable=True, attempt=1, elapsed=0, error=server) is None


# ------------------------------------------------------------------------------- driver


class Script:
    """A send() that raises the scripted errors in turn, then returns ``"ok"``."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps:
    """A fake sleep that records the waits and advances a fake clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.mark.anyio
async def test_retrying_sleeps_the_decided_waits_and_reports_each_retry() -> None:
    """The driver sleeps each decision and calls ``on_retry(attempt, error, wait)``."""
    send = Script(TransportFailure("refused", sent=False), RateLimited("429", retry_after=3))
    sleeps = Sleeps()
    seen: list[tuple[int, str, float]] = []
    result = await retrying(
        POLICY, True, send, clock=sleeps.clock, sleep=sleeps, rng=top,
        on_retry=lambda attempt, error, wait: seen.append((attempt, type(error).__name__, wait)),
    )  # fmt: skip
    assert result == "ok"
    assert send.calls == 3
    assert sleeps.waits == [1, 3]
    assert seen == [(1, "TransportFailure", 1), (2, "RateLimited", 3)]


@pytest.mark.anyio
async def test_retrying_sends_a_billable_post_once_when_the_server_fails() -> None:
    """A 502 on a paid POST is raised after exactly one send."""
    send = Script(ServerError("502", status=502))
    sleeps = Sleeps()
    with pytest.raises(ServerError):
        await retrying(POLICY, True, send, clock=sleeps.clock, sleep=sleeps)
    assert send.calls == 1
    assert sleeps.waits == []


@pytest.mark.anyio
async def test_retrying_gives_up_when_the_total_time_is_spent() -> None:
    """With 30 s waits and a 60 s budget the driver stops before using every attempt."""
    policy = RetryPolicy(attempts=10, timeout=60, initial=30, maximum=30)
    send = Script(*[NetworkError("down") for _ in range(10)])
    sleeps = Sleeps()
    with pytest.raises(NetworkError):
        await retrying(policy, False, send, clock=sleeps.clock, sleep=sleeps, rng=top)
    assert sleeps.waits == [30, 30]
    assert send.calls == 3


@pytest.mark.anyio
async def test_retrying_in_testing_mode_does_not_sleep() -> None:
    """Under the testing switch a retried call finishes without any real wait."""
    send = Script(*[RateLimited("429", retry_after=30) for _ in range(4)])
    sleeps = Sleeps()
    with set_testing(True):
        assert await retrying(POLICY, True, send, clock=sleeps.clock, sleep=sleeps) == "ok"
    assert send.calls == 5
    assert sleeps.waits == [0, 0, 0, 0]  # each retry waits nothing, whatever Retry-After says
