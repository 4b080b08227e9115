"""Safe with money under faults: every job accounted for, no create ever billed twice."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import anyio.lowlevel
import pytest

from musicapi_async import (
    Budget,
    BudgetExceeded,
    Governor,
    HttpRequest,
    HttpResponse,
    MockTransport,
    MusicAPI,
    Outcome,
    PollPolicy,
    RetryPolicy,
    SonicRequest,
    SQLiteJournal,
    SubmissionOutcomeUnknown,
    TaskError,
    set_testing,
)
from musicapi_async.emulator import Emulator, Fault, FaultKind
from musicapi_async.emulator._faults import CALLER_FAULTS

SPEED = 600.0
KINDS = list(FaultKind)


def song(i: int) -> SonicRequest:
    return SonicRequest(custom_mode=True, mv="sonic-v5", prompt=f"[Verse]\nline {i}",
                        title=f"chaos {i}")  # fmt: skip


async def billed_titles(url: str) -> Counter[str]:
    """How many billed sonic tasks the emulator holds per title."""
    async with aiohttp.ClientSession() as session, session.get(f"{url}/_emulator/tasks") as r:
        tasks = (await r.json())["tasks"]
    return Counter(t["title"] for t in tasks if t["family"] == "sonic")


def faults(creates: float, polls: float, delay: float = 0.05) -> list[Fault]:
    """Every fault kind on creates (``creates`` shared), the service's own on polls (``polls``).

    A caller fault (bad key, refused content) on a poll would end an accepted, billed job
    with a caller error: a real outcome, but not the chaos this test accounts for.
    """
    on_polls = [k for k in KINDS if k not in CALLER_FAULTS]
    create_rules = [Fault(kind, endpoint="sonic.create", count=None,
                          probability=creates / len(KINDS), delay=delay, retry_after=0)
                    for kind in KINDS]  # fmt: skip
    poll_rules = [Fault(kind, endpoint="sonic.task", count=None,
                        probability=polls / len(on_polls), delay=delay, retry_after=0)
                  for kind in on_polls]  # fmt: skip
    return create_rules + poll_rules


@pytest.fixture(autouse=True)
def quick_retries() -> Any:
    """Retries wait no time: the chaos is in the answers, not the clock."""
    with set_testing():
        yield


@pytest.fixture
async def chaos() -> AsyncIterator[Emulator]:
    """An emulator where 15% of creates (and 5% of polls) meet faults of every kind.

    Polls get fewer: every throttled poll rightly slows the whole poller down, and the
    point here is what happens to paid creates.
    """
    plan = faults(creates=0.15, polls=0.05)
    # No create pace: how many refusals a loaded machine's scheduling provokes would set
    # how many attempts (and so how many faults) there are; the pace has its own tests.
    async with Emulator(speed=SPEED, credits=1_000_000, faults=plan, seed=7,
                        create_interval=None) as emu:  # fmt: skip
        yield emu


def account(outcome: Outcome) -> str:
    """What became of one request: every outcome must be one of these."""
    if outcome.ok:
        assert outcome.task_id is not None
        assert len(outcome.clips) == 2
        return "succeeded"
    if isinstance(outcome.error, SubmissionOutcomeUnknown):
        assert outcome.error.request is outcome.request
        return "unknown"
    if isinstance(outcome.error, TaskError):
        assert outcome.task_id is not None
        return "failed"
    return f"refused:{type(outcome.error).__name__}"


@pytest.mark.anyio
async def test_chaos_300_jobs_all_accounted_none_billed_twice(chaos: Emulator) -> None:
    """300 jobs under 15% faults: each ends succeeded, failed or unknown; no double bills."""
    policy = PollPolicy().scaled(SPEED)
    requests = [song(i) for i in range(300)]
    # The governor still adapts to throttling, but on this emulator's time scale: at
    # 600x a real-time pause of seconds would be hours of emulated time.
    governor = Governor(create=Budget(min_rate=20, assumed_rate=200))
    async with MusicAPI(chaos.api_key, base_url=chaos.url, poll=policy, timeout=5,
                        retry=RetryPolicy(attempts=6), governor=governor) as api:  # fmt: skip
        outcomes = [o async for o in api.generate_many(requests, concurrency=100, timeout=60)]
    fates = Counter(account(o) for o in outcomes)
    assert sorted(o.index for o in outcomes) == list(range(300))
    billed = await billed_titles(chaos.url)
    assert max(billed.values()) == 1, "a request was billed twice"
    for outcome in outcomes:
        title = f"chaos {outcome.index}"
        if outcome.ok or isinstance(outcome.error, TaskError):
            assert billed[title] == 1  # accepted: billed exactly once
        elif not isinstance(outcome.error, SubmissionOutcomeUnknown):
            assert billed[title] == 0  # refused: never billed
    assert chaos.stats.billed.get("sonic.create", 0) == sum(billed.values())
    assert fates["succeeded"] > 200, fates
    assert fates["unknown"] > 0  # accept_then_drop and friends did happen
    assert sum(chaos.stats.faults.values()) > 30


@pytest.mark.anyio
async def test_budget_stops_submitting_before_it_is_passed() -> None:
    """With a 50-credit budget only three 15-credit songs are sent; the rest are refused."""
    async with (
        Emulator(speed=SPEED) as emu,
        MusicAPI(emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(SPEED)) as api,
    ):
        outcomes = [o async for o in api.generate_many([song(i) for i in range(6)],
                                                       concurrency=1, budget=50)]  # fmt: skip
        spent = emu.stats.credits_spent
    assert [o.ok for o in sorted(outcomes, key=lambda o: o.index)] == [True] * 3 + [False] * 3
    assert all(isinstance(o.error, BudgetExceeded) for o in outcomes if not o.ok)
    assert spent == 45
    assert sum(o.cost for o in outcomes) == 45


@pytest.mark.anyio
async def test_retry_after_is_honoured_on_a_create() -> None:
    """A 429 with Retry-After: 60 at 60x delays the resend a wall second, then it succeeds."""
    # Retry-After is in the emulator's seconds, which the client reads from its speed.
    plan = [Fault(FaultKind.RATE_LIMIT_429, endpoint="sonic.create", retry_after=60)]
    with set_testing(False):
        async with (
            Emulator(speed=60, faults=plan) as emu,
            MusicAPI(emu.api_key, base_url=emu.url) as api,
        ):
            start = time.monotonic()
            job = await api.submit(song(0))
            elapsed = time.monotonic() - start
            billed = emu.stats.billed.get("sonic.create", 0)
    assert job.task_id
    assert elapsed >= 1.0
    assert billed == 1


# ------------------------------------------------------------------ kill and resume

RUNNER = textwrap.dedent(
    """
    import sys, anyio
    from musicapi_async import MusicAPI, PollPolicy, SonicRequest, SQLiteJournal

    url, key, journal_path, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    async def main() -> None:
        requests = [SonicRequest(custom_mode=True, mv="sonic-v5", prompt=f"line {i}",
                                 title=f"resume {i}") for i in range(count)]
        async with SQLiteJournal(journal_path) as journal, MusicAPI(
                key, base_url=url, poll=PollPolicy().scaled(60)) as api:
            async for outcome in api.generate_many(requests, concurrency=20, journal=journal):
                print("done", outcome.index, outcome.ok, outcome.resumed, flush=True)
                if not outcome.ok:
                    print("error", repr(outcome.error), file=sys.stderr, flush=True)

    anyio.run(main)
    """
)


def start_emulator(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "musicapi_async.emulator", "--port", str(port), "--api-key",
         "k", "--speed", "60", "--credits", "100000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


@pytest.mark.anyio
async def test_journaled_run_killed_and_restarted_bills_nothing_twice(tmp_path: Path) -> None:
    """A bulk run SIGKILLed mid-way and started again finishes with no extra billed create."""
    from benchmarks._harness import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    emulator = start_emulator(port)
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    journal_path = tmp_path / "journal.sqlite3"
    args = [sys.executable, str(script), url, "k", str(journal_path), "40"]
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    try:
        with anyio.fail_after(20):
            while True:
                try:
                    async with aiohttp.ClientSession() as s, s.get(f"{url}/_emulator/stats"):
                        break
                except aiohttp.ClientError:
                    await anyio.sleep(0.05)
        # A plain Popen: it must be SIGKILLed at a chosen moment and read line by line.
        first = subprocess.Popen(args, stdout=subprocess.PIPE, env=env)  # noqa: ASYNC220
        assert first.stdout is not None
        done_before = 0
        # Kill it once some songs are finished and others are still in flight.
        while done_before < 8:
            line = await anyio.to_thread.run_sync(first.stdout.readline)
            assert line, "the first run ended early"
            done_before += line.startswith(b"done")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        first.stdout.close()
        billed_after_kill = (await billed_titles(url)).total()
        assert done_before < billed_after_kill or billed_after_kill <= 40

        second = await anyio.run_process(args, env=env, check=True)
        lines = [ln.split() for ln in second.stdout.decode().splitlines() if ln.startswith("done")]
        billed = await billed_titles(url)
    finally:
        emulator.send_signal(signal.SIGINT)
        emulator.wait(timeout=10)
    assert len(lines) == 40
    # A kill between the journal's "sending" mark and hearing back leaves that request
    # maybe billed: the rerun reports it unknown (never re-sends it) and the journal keeps
    # it for reconciliation. Every other request finishes, and none is billed twice.
    unknown = [index for _, index, ok, _ in lines if ok != "True"]
    assert len(unknown) <= 4, (lines, second.stderr.decode()[-3000:])
    assert sum(resumed == "True" for *_, resumed in lines) >= done_before
    assert max(billed.values()) == 1, "a request was billed twice"
    assert 40 - len(unknown) <= billed.total() <= 40
    async with SQLiteJournal(journal_path) as journal:
        assert len(await journal.unresolved()) == len(unknown)


@pytest.mark.anyio
async def test_preflight_caps_the_run_at_the_balance() -> None:
    """With preflight, a 40-credit account sends two 15-credit songs and refuses the rest."""
    async with (
        Emulator(speed=SPEED, credits=40) as emu,
        MusicAPI(emu.api_key, base_url=emu.url, poll=PollPolicy().scaled(SPEED)) as api,
    ):
        outcomes = [o async for o in api.generate_many([song(i) for i in range(4)],
                                                       concurrency=1, preflight=True)]  # fmt: skip
        billed = emu.stats.billed.get("sonic.create", 0)
    assert sum(o.ok for o in outcomes) == 2
    assert billed == 2
    assert sum(isinstance(o.error, BudgetExceeded) for o in outcomes) == 2


# --------------------------------------------------------------- a throttling server


class ThrottlingServer:
    """A MusicAPI that takes one create per ``interval`` s per key and refuses the rest.

    It runs on a virtual clock that only moves when the client's governor waits, so
    thousands of creates at the documented pace take no wall time. Its pace (one per 4 s)
    is slower than the documented one the client starts from: it must learn it.
    """

    def __init__(self, status: int, interval: float = 4.0) -> None:
        self.status = status
        self.interval = interval
        self.now = 0.0
        self.last: float | None = None
        self.sent = 0
        self.refused = 0
        self.billed: Counter[str] = Counter()
        self.tasks: dict[str, str] = {}
        self.done = reply_body("sonic_task_live_v55.json")

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await anyio.lowlevel.checkpoint()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET":
            assert request.task_id in self.tasks
            return HttpResponse(200, {}, self.done)
        self.sent += 1
        if self.last is not None and self.now - self.last < self.interval:
            self.refused += 1
            if self.status == 429:
                wait = math.ceil(self.interval - (self.now - self.last))
                return HttpResponse(429, {"retry-after": str(wait)},
                                    b'{"code":429,"message":"Too many requests."}')  # fmt: skip
            return HttpResponse(403, {}, b'{"type":"forbidden","message":"API QPS limit exceeded"}')
        self.last = self.now
        assert request.body is not None
        title = json.loads(request.body)["title"]
        self.billed[title] += 1
        task_id = f"task-{len(self.tasks)}"
        self.tasks[task_id] = title
        accepted = {"message": "success", "task_id": task_id}
        return HttpResponse(200, {}, json.dumps(accepted).encode())


def reply_body(name: str) -> bytes:
    return (Path(__file__).resolve().parent.parent / "data" / name).read_bytes()


@pytest.mark.anyio
@pytest.mark.parametrize("status", [429, 403], ids=["429-retry-after", "403-qps"])
async def test_2000_concurrent_creates_against_a_throttling_server_all_complete(
    status: int,
) -> None:
    """2,000 creates at once against a throttling server: 0 failed, 0 billed twice, few refused."""
    server = ThrottlingServer(status)
    fast_polls = PollPolicy(initial_delay=0, min_interval=0.001, max_interval=0.002)
    with set_testing(False):
        governor = Governor(clock=server.clock, sleep=server.sleep)  # the default budgets
        async with MusicAPI("k", transport=MockTransport(server), poll=fast_polls,
                            governor=governor) as api:  # fmt: skip
            with anyio.fail_after(60):
                outcomes = [o async for o in api.generate_many(
                    (song(i) for i in range(2000)), concurrency=2000)]  # fmt: skip
    assert len(outcomes) == 2000
    assert [o.error for o in outcomes if not o.ok] == []
    assert len(server.billed) == 2000
    assert max(server.billed.values()) == 1, "a request was billed twice"
    assert server.sent == 2000 + server.refused
    assert server.refused < 0.02 * server.sent, f"{server.refused} of {server.sent} refused"
    # The pace it learned is the server's: 2,000 creates at one per 4 s, not much slower.
    assert server.now < 2000 * 4.0 * 1.25


@pytest.mark.anyio
@pytest.mark.parametrize("sent", [False, True])
async def test_a_dead_runs_claim_is_sent_again_only_if_it_never_went_out(
    tmp_path: Path, sent: bool
) -> None:
    """A claim a dead run left unsent is sent by the next run; one maybe sent is not."""
    from musicapi_async._convert import to_wire
    from musicapi_async._journal import fingerprint

    request = song(1)
    path = tmp_path / "journal.sqlite3"
    async with SQLiteJournal(path) as dead:  # the run that died, in another session
        fp = fingerprint("sonic.create", to_wire(request), key="#1")
        await dead.begin(fp, "sonic.create", to_wire(request))
        if sent:
            await dead.sending(fp)
    async with (
        SQLiteJournal(path) as journal,
        Emulator(speed=SPEED) as emu,
        MusicAPI(emu.api_key, base_url=emu.url) as api,
    ):
        [outcome] = [o async for o in api.generate_many([request], journal=journal)]
        billed = emu.stats.billed.get("sonic.create", 0)
    if sent:
        assert isinstance(outcome.error, SubmissionOutcomeUnknown)
        assert billed == 0
    else:
        assert outcome.ok
        assert billed == 1
