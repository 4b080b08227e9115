"""Every fault kind, one scenario each: what the SDK surfaces and what the emulator counted.

The scenarios pin what one answer maps to, so their client tries each call once
(``ONE_TRY``); the invariant test at the end runs the default, retrying client, because
what it checks must hold whatever is retried: a create is never billed twice. The
emulator bills every create that it processed, so

    successful submissions <= billed creates <= successful submissions + outcome-unknowns

(an outcome-unknown may or may not have been billed: that is why it is unknown).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
import pytest

from musicapi_async import (
    CallerError,
    Governor,
    MusicAPI,
    MusicAPIError,
    NuroVocalRequest,
    RateLimited,
    ResponseDecodeError,
    RetryPolicy,
    SonicRequest,
    SubmissionOutcomeUnknown,
)
from musicapi_async.emulator import Emulator, Fault, FaultKind
from musicapi_async.emulator._faults import CALLER_FAULTS

from .support import DESCRIPTION, FAST_POLL, LONG, SPEED, until, wait_succeeded

pytestmark = pytest.mark.anyio

ONE_TRY = RetryPolicy(attempts=1)
REQUEST = SonicRequest(custom_mode=False, mv="sonic-v5", gpt_description_prompt=DESCRIPTION)


@pytest.fixture
async def api(emu: Emulator) -> AsyncIterator[MusicAPI]:
    """A client of ``emu`` that sends each call once: what an answer maps to, no retries."""
    # Its pauses run at the emulator's speed even when that emulator's clock is stopped
    # (which announces no speed): a refusal then costs a blink, not a wall second.
    governor = Governor()
    governor.set_time_scale(SPEED)
    async with MusicAPI(emu.api_key, base_url=emu.url, poll=FAST_POLL, retry=ONE_TRY,
                        governor=governor) as client:  # fmt: skip
        yield client


def billed_creates(emu: Emulator) -> int:
    """Sonic creates the emulator processed and charged for."""
    return emu.stats.billed.get("sonic.create", 0)


# ------------------------------------------------------------------- refusals on a create


async def test_rate_limit_429_on_a_create_is_rate_limited_with_retry_after(
    emu: Emulator, api: MusicAPI
) -> None:
    """On one try, a 429 on a create is RateLimited carrying Retry-After, and is not billed."""
    emu.faults.add(Fault(FaultKind.RATE_LIMIT_429, endpoint="sonic.create", retry_after=0.2))
    with pytest.raises(RateLimited) as caught:
        await api.submit(REQUEST)
    assert (caught.value.status, caught.value.retry_after) == (429, 0.2)
    stats = emu.stats
    assert stats.faults == {"rate_limit_429": 1}
    assert stats.statuses["sonic.create"] == {"429": 1}
    assert stats.requests["sonic.create"] == 1  # one try (ONE_TRY)
    assert stats.billed == {}
    await api.submit(REQUEST)  # the rule fired once; the next create goes through
    assert billed_creates(emu) == 1


@pytest.mark.parametrize(
    ("kind", "endpoint", "message"),
    [
        (FaultKind.QPS_403, "sonic.create", "API QPS limit exceeded"),
        (FaultKind.QUEUE_FULL_403, "nuro.create", "Queue is full"),
    ],
)
async def test_throttling_403_on_a_create_is_rate_limited(
    emu: Emulator, api: MusicAPI, kind: FaultKind, endpoint: str, message: str
) -> None:
    """A 403 "API QPS limit exceeded" / "Queue is full" is RateLimited, not a caller error."""
    emu.faults.add(Fault(kind, endpoint=endpoint))
    request = (
        NuroVocalRequest(lyrics="[verse]\nhello sky") if endpoint == "nuro.create" else REQUEST
    )
    with pytest.raises(RateLimited) as caught:
        await api.submit(request)
    assert (caught.value.status, caught.value.api_message) == (403, message)
    assert caught.value.retry_after is None
    stats = emu.stats
    assert stats.faults == {kind.value: 1}
    assert stats.statuses[endpoint] == {"403": 1}
    assert stats.billed == {}


@pytest.mark.parametrize(
    ("kind", "status", "shown"),
    [
        (FaultKind.SERVER_500, 500, "Internal Server Error."),
        (FaultKind.GATEWAY_HTML_502, 502, "HTML page"),
    ],
)
async def test_server_error_on_a_create_is_outcome_unknown(
    emu: Emulator, api: MusicAPI, kind: FaultKind, status: int, shown: str
) -> None:
    """A 500, or a gateway's HTML 502, on a create may follow billing: SubmissionOutcomeUnknown."""
    emu.faults.add(Fault(kind, endpoint="sonic.create"))
    with pytest.raises(SubmissionOutcomeUnknown) as caught:
        await api.submit(REQUEST)
    error = caught.value
    assert (error.endpoint, error.request, error.status) == ("sonic.create", REQUEST, status)
    assert shown in str(error)
    assert error.raw_body is not None
    if kind is FaultKind.GATEWAY_HTML_502:
        assert error.raw_body.startswith(b"<html>")
    stats = emu.stats
    assert stats.faults == {kind.value: 1}
    assert stats.statuses["sonic.create"] == {str(status): 1}
    assert stats.requests["sonic.create"] == 1  # never re-sent
    assert stats.billed == {}  # this emulator fault strikes before processing
    assert emu.task_ids() == ()


# ---------------------------------------------------------------------- faults on polls


# The emulator's clock stands still until both faults have struck: however late the
# polls come (a loaded machine), the task cannot end before the second faulted poll.
@pytest.mark.parametrize("kind", [k for k in FaultKind if k not in CALLER_FAULTS])
@pytest.mark.musicapi_emulator(speed=0)
async def test_faults_on_polls_are_ridden_out(
    emu: Emulator, api: MusicAPI, kind: FaultKind
) -> None:
    """Two faulted polls of any kind do not end the wait: it still returns the clips, free."""
    emu.faults.add(Fault(kind, endpoint="sonic.task", count=2, retry_after=0.01, delay=0.05))
    job = await api.submit(REQUEST)
    async with anyio.create_task_group() as group:
        group.start_soon(wait_succeeded, job)
        # A task's polls never overlap: once the third has started, both faulted ones
        # have been answered (a slow one reads the clock only when its delay is over).
        await until(lambda: api.poller.stats.polls >= 3)
        emu.advance(LONG)
    stats = emu.stats
    assert stats.faults == {kind.value: 2}
    assert stats.requests["sonic.task"] >= 3  # two faulted polls, then good ones
    assert stats.billed == {"sonic.create": 1}
    assert stats.credits_spent == 15


@pytest.mark.parametrize("kind", sorted(CALLER_FAULTS))
async def test_caller_faults_on_polls_end_the_wait(
    emu: Emulator, api: MusicAPI, kind: FaultKind
) -> None:
    """A refused key or content on a poll is not retried: the wait raises its caller error."""
    emu.faults.add(Fault(kind, endpoint="sonic.task", count=None))
    job = await api.submit(REQUEST)
    with pytest.raises(CallerError):
        await job.wait(timeout=30)
    assert emu.stats.faults[kind.value] == 1


# --------------------------------------------------------------------------------- slow


async def test_slow_answer_arrives_late_but_correct(emu: Emulator, api: MusicAPI) -> None:
    """A slow create answers after the delay with a task that then completes normally."""
    emu.faults.add(Fault(FaultKind.SLOW, endpoint="sonic.create", delay=0.2))
    started = time.monotonic()
    job = await api.submit(REQUEST)
    assert time.monotonic() - started >= 0.2
    await wait_succeeded(job)
    assert emu.stats.faults == {"slow": 1}
    assert billed_creates(emu) == 1


async def test_slow_create_past_the_client_timeout_is_outcome_unknown_but_billed(
    emu: Emulator,
) -> None:
    """A create slower than ``timeout=`` is SubmissionOutcomeUnknown; the server still billed it."""
    # The answer cannot beat the timeout: the delay alone is longer. The create must still
    # reach the emulator before the client gives up, which a loaded machine did not always
    # manage in 0.1 s: a second leaves room for any stall.
    emu.faults.add(Fault(FaultKind.SLOW, endpoint="sonic.create", delay=1.2))
    async with MusicAPI(emu.api_key, base_url=emu.url, poll=FAST_POLL, timeout=1.0,
                        retry=ONE_TRY) as api:  # fmt: skip
        with pytest.raises(SubmissionOutcomeUnknown) as caught:
            await api.submit(REQUEST)
        assert (caught.value.endpoint, caught.value.request) == ("sonic.create", REQUEST)
        await until(lambda: billed_creates(emu) == 1)
        # Reconciling: the task exists and was paid for, though its id never arrived.
        assert len(emu.task_ids()) == 1
        assert (await api.get_credits()).credits == 985
    assert emu.stats.requests["sonic.create"] == 1


# ------------------------------------------------------------------------ malformed JSON


async def test_malformed_json_is_a_decode_error_with_the_raw_body(
    emu: Emulator, api: MusicAPI
) -> None:
    """A 200 whose JSON is cut short is ResponseDecodeError keeping the raw body."""
    emu.faults.add(Fault(FaultKind.MALFORMED_JSON, endpoint="credits"))
    with pytest.raises(ResponseDecodeError) as caught:
        await api.get_credits()
    error = caught.value
    assert error.status == 200
    assert error.raw_body is not None
    assert error.raw_body.startswith(b'{"credits":')
    assert b"}" not in error.raw_body
    assert emu.stats.faults == {"malformed_json": 1}
    assert (await api.get_credits()).credits == 1000


async def test_malformed_json_on_a_create_is_outcome_unknown_billed_once(
    emu: Emulator, api: MusicAPI
) -> None:
    """A create answered 200 with cut JSON was billed: SubmissionOutcomeUnknown keeping the body."""
    emu.faults.add(Fault(FaultKind.MALFORMED_JSON, endpoint="sonic.create"))
    with pytest.raises(SubmissionOutcomeUnknown) as caught:
        await api.submit(REQUEST)
    error = caught.value
    assert (error.endpoint, error.request) == ("sonic.create", REQUEST)
    assert error.status == 200
    assert error.raw_body is not None
    assert error.raw_body.startswith(b'{"message":"success","task_id":')
    assert isinstance(error.__cause__, ResponseDecodeError)
    stats = emu.stats
    assert stats.faults == {"malformed_json": 1}
    assert stats.requests["sonic.create"] == 1  # not re-sent
    assert stats.billed == {"sonic.create": 1}  # processed before the body was cut
    assert len(emu.task_ids()) == 1


# ----------------------------------------------------------------------- lost connections


async def test_reset_on_a_create_is_outcome_unknown_and_unbilled(
    emu: Emulator, api: MusicAPI
) -> None:
    """A reset create is SubmissionOutcomeUnknown (a reset cannot prove it was unseen); unbilled."""
    emu.faults.add(Fault(FaultKind.RESET, endpoint="sonic.create"))
    with pytest.raises(SubmissionOutcomeUnknown) as caught:
        await api.submit(REQUEST)
    assert (caught.value.endpoint, caught.value.request) == ("sonic.create", REQUEST)
    stats = emu.stats
    assert stats.faults == {"reset": 1}
    assert stats.dropped == {"sonic.create": 1}
    assert stats.requests["sonic.create"] == 1  # not re-sent
    assert stats.billed == {}
    assert emu.task_ids() == ()
    assert (await api.get_credits()).credits == 1000


async def test_accept_then_drop_on_a_create_is_outcome_unknown_billed_once(
    emu: Emulator, api: MusicAPI
) -> None:
    """A create processed then dropped is SubmissionOutcomeUnknown with its request, billed once."""
    emu.faults.add(Fault(FaultKind.ACCEPT_THEN_DROP, endpoint="sonic.create"))
    with pytest.raises(SubmissionOutcomeUnknown) as caught:
        await api.submit(REQUEST)
    assert caught.value.endpoint == "sonic.create"
    assert caught.value.request == REQUEST
    stats = emu.stats
    assert stats.faults == {"accept_then_drop": 1}
    assert stats.dropped == {"sonic.create": 1}
    assert stats.requests["sonic.create"] == 1  # not re-sent
    assert stats.billed == {"sonic.create": 1}
    assert len(emu.task_ids()) == 1
    assert (await api.get_credits()).credits == 985


# ----------------------------------------------------------------------- the invariant


# Last in the loop below: after a throttled create the client's governor paces every
# later create more slowly, which costs wall time and changes nothing else.
_THROTTLES = frozenset({FaultKind.RATE_LIMIT_429, FaultKind.QPS_403, FaultKind.QUEUE_FULL_403})


async def test_creates_through_every_fault_are_never_billed_twice(emu: Emulator) -> None:
    """Through a create per fault kind, retries included, billed <= successes + unknowns."""
    successes = unknowns = 0
    retrying = RetryPolicy(initial=0.01, maximum=0.05)  # the default tries, shorter waits
    async with MusicAPI(emu.api_key, base_url=emu.url, poll=FAST_POLL, retry=retrying) as api:
        for kind in sorted(FaultKind, key=lambda k: k in _THROTTLES):
            emu.faults.add(Fault(kind, endpoint="sonic.create", delay=0.05, retry_after=0.01))
            try:
                await api.submit(REQUEST)
            except SubmissionOutcomeUnknown:
                unknowns += 1
            except MusicAPIError:
                continue  # refused: a definite answer
            else:
                successes += 1
    # Only the invariant here: the tests above pin what each kind surfaces on one try.
    stats = emu.stats
    assert stats.faults == {kind.value: 1 for kind in FaultKind}
    assert successes <= billed_creates(emu) <= successes + unknowns
    assert stats.credits_spent == 15 * billed_creates(emu)
