"""``musicapi bulk FILE --redis URL``: one bulk run shared by processes on many machines.

Every process is started with the same command. The first to arrive puts the file's line
numbers into a Redis stream with a consumer group (``SET NX`` decides who); every process
is a consumer of that group and takes lines as it has room for them (``XREADGROUP``):

- a line is sent through the run's shared ``RedisJournal`` (one claim per line, fleet-wide)
  and the fleet's shared create budget (``RedisCoordination``), so nothing is sent twice;
- while a process works on a line it keeps the line's stream entry fresh (``XCLAIM`` to
  itself); a process that dies stops doing so, and after ``--reclaim-after`` seconds
  another takes its lines over (``XAUTOCLAIM``): an accepted task is waited on again, a
  claim its sender died holding is reported as ``unknown`` (reconcile, never re-sent);
- each finished line is stored as its manifest row, then acknowledged (``XACK``);
- when every line has a row, one process (``SET NX``) writes the one manifest.

``@`` references: only the lines that refer to no other line are seeded. A line enters
the stream when the last line it refers to has its row, in the same Lua script that
stores that row (``_STORE``; a set of released lines makes it happen once), whichever
process finished it; so a line is never sent before the lines it needs are done, and
its references are filled in from their rows, which every process reads in Redis. A line
whose reference did not end done is skipped (nothing is sent), as in a single-process run.

Progress counts the whole fleet: the live display of a single-process run on a terminal,
else a line on stderr every few seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import anyio

from musicapi_async import (
    Family,
    GenerationRequest,
    JobState,
    MusicAPI,
    MusicAPIError,
    SubmissionOutcomeUnknown,
    cost_of,
    endpoint_of,
    fingerprint,
    result_to_json,
    returns_task,
    task_family,
    to_wire,
)

from ._input import Line, Plan, Problem
from ._progress import LiveDisplay, Phase, Tracker, make_console

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from musicapi_async import RedisCoordination, RedisJournal

__all__ = ["add_fleet_args", "fleet_command"]

_GROUP: Final = "fleet"

# KEYS: seeded flag, stream, total. ARGV: line numbers. The first caller seeds the run.
_SEED: Final = """
if not redis.call('SET', KEYS[1], '1', 'NX') then return 0 end
redis.call('XGROUP', 'CREATE', KEYS[2], 'fleet', '0', 'MKSTREAM')
local total = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('XADD', KEYS[2], '*', 'line', ARGV[i]) end
redis.call('SET', KEYS[3], total)
return 1
"""

# KEYS: rows, stream, released set. ARGV: line number, its row (JSON), then for each line
# that refers to it: that line's number, how many lines it refers to, and their numbers.
# Stores the row and hands out (once) every referring line whose references all have
# rows now. One script: a process that dies in between cannot lose a release.
_STORE: Final = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local i, released = 3, 0
while i <= #ARGV do
  local count = tonumber(ARGV[i + 1])
  local ready = true
  for j = 1, count do
    if redis.call('HEXISTS', KEYS[1], ARGV[i + 1 + j]) == 0 then ready = false end
  end
  if ready and redis.call('SADD', KEYS[3], ARGV[i]) == 1 then
    redis.call('XADD', KEYS[2], '*', 'line', ARGV[i])
    released = released + 1
  end
  i = i + 2 + count
end
return released
"""

OpenFleetClient = Callable[["RedisCoordination"], AbstractAsyncContextManager[MusicAPI]]


def add_fleet_args(parser: argparse.ArgumentParser) -> None:
    """The ``bulk`` options of a fleet run."""
    group = parser.add_argument_group("fleet (several processes or machines, one run)")
    add = group.add_argument
    add(
        "--redis",
        default=None,
        metavar="URL",
        help="share this run through Redis with every process started with the same "
        "command and URL: lines are handed out, nothing is sent twice, one manifest",
    )
    add(
        "--run",
        default=None,
        metavar="NAME",
        help="the fleet run's name (default: from the file's content)",
    )
    add(
        "--reclaim-after",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="take over the lines of a process silent for this long (default: 60)",
    )
    add(
        "--create-rate",
        type=float,
        default=None,
        metavar="PER_SECOND",
        help="creates per second for the whole fleet, in the server's time (default: "
        "1/3, the documented pace, which the emulator enforces too)",
    )


def _say(args: argparse.Namespace, text: str, *, live: bool = False) -> None:
    if not args.json and not live:
        print(text, file=sys.stderr, flush=True)


async def fleet_command(
    args: argparse.Namespace, open_client: OpenFleetClient, *, base_url: str
) -> int:
    """Run (a share of) the fleet run of ``args.file``; returns the exit status."""
    from musicapi_async._redis._store import connect  # the fleet's own Redis commands

    from ._bulk import write_manifest
    from ._bulk_command import read_plan

    plan = read_plan(args)
    if isinstance(plan, int):
        return plan
    refused = _refuse(args)
    if refused is not None:
        return refused
    digest = hashlib.sha256(
        json.dumps([str(to_wire(line.request())) for line in plan.lines]).encode()
    ).hexdigest()[:16]
    run = args.run or digest
    namespace = f"musicapi-bulk:{run}"
    coordination = _coordination(args, namespace)
    redis = connect(args.redis, timeout=5.0)
    fleet = _Fleet(args, redis, coordination.journal, namespace, run, plan)
    manifest = Path(args.manifest) if args.manifest else Path(args.out) / "manifest.jsonl"
    _live_display(args, fleet, plan, run)
    try:
        async with open_client(coordination) as api:
            # As a single-process run does: a refused key stops here, before any create;
            # and the answer carries an emulator's speed, which the fleet's pace follows.
            await api.get_credits()
            await fleet.seed()
            _say(args, f"fleet run {run}: {len(plan.lines)} lines; worker {fleet.me}")
            if fleet.display is not None:
                fleet.display.start()
            try:
                await fleet.work(api)
            finally:
                if fleet.display is not None:
                    fleet.display.stop()
        rows = await fleet.rows()
        writer = await redis.set(f"{namespace}:manifest-writer", fleet.me, nx=True)
    finally:
        await redis.aclose()
    if writer:
        write_manifest(rows, manifest)
    return _report(args, fleet, run, rows, manifest if writer else None)


def _refuse(args: argparse.Namespace) -> int | None:
    """The exit status of options a fleet cannot run with, or ``None`` when it can."""
    from ._bulk_command import _bad_input

    if args.emulator or args.dry_run or args.budget is not None:
        return _bad_input(
            args,
            args.file,
            [
                Problem(
                    0,
                    "--redis runs against a shared "
                    "server (not --emulator), without --dry-run or --budget",
                )
            ],
        )
    return None


def _coordination(args: argparse.Namespace, namespace: str) -> RedisCoordination:
    """The fleet's shared state: its one create pace, journal and leases."""
    from musicapi_async import RedisCoordination as Coordination

    # The fleet's shared budget is its one create pace (no process paces on its own):
    # the documented one by default, in the server's time (an emulator's speed included).
    rate = 1 / 3 if args.create_rate is None else args.create_rate
    # A worker's leases (and its claims' liveness) lapse well within --reclaim-after.
    lease = min(15.0, max(0.5, args.reclaim_after / 2))
    return Coordination(
        args.redis, namespace=namespace, create_rate=rate, lease_ttl=lease, speed=args.speed or 1.0
    )


def _live_display(args: argparse.Namespace, fleet: _Fleet, plan: Plan, run: str) -> None:
    """The same live display as a single-process run on a terminal, counting the fleet's
    lines; plain progress lines otherwise (``_progress``), nothing with --json."""
    console = None if args.json else make_console()
    if console is not None and console.is_terminal and not console.is_dumb_terminal:
        fleet.tracker = Tracker(plan, target=f" · fleet {run} · worker {fleet.me}")
        fleet.display = LiveDisplay(fleet.tracker, console)
        fleet.tracker.listen(fleet.display.event)


def _report(
    args: argparse.Namespace,
    fleet: _Fleet,
    run: str,
    rows: list[dict[str, Any]],
    manifest: Path | None,
) -> int:
    """Say how the fleet run ended; returns the exit status."""
    failed = sum(row["status"] != "done" for row in rows)
    code = 1 if failed else 0
    where = f"written to {manifest}" if manifest is not None else "written by another worker"
    if args.json:
        written = str(manifest) if manifest is not None else None
        print(
            json.dumps(
                {
                    "ok": code == 0,
                    "exit_code": code,
                    "run": run,
                    "worker": fleet.me,
                    "lines": len(rows),
                    "failed": failed,
                    "mine": fleet.mine,
                    "manifest": written,
                }
            )
        )
    _say(
        args,
        f"fleet run {run}: {len(rows) - failed} done, {failed} not; this worker did "
        f"{fleet.mine}; manifest {where}",
    )
    return code


class _Fleet:
    """One process's part of a fleet run."""

    def __init__(
        self,
        args: argparse.Namespace,
        redis: Redis,
        journal: RedisJournal,
        namespace: str,
        run: str,
        plan: Plan,
    ) -> None:
        self.args = args
        self.redis = redis
        self.journal = journal
        self.run = run
        self.lines = {line.number: line for line in plan.lines}
        by_id = plan.by_id()
        # Each line's references, as line numbers; and the lines that refer to each line.
        self.needs = {n: [by_id[d].number for d in line.deps] for n, line in self.lines.items()}
        self.needed_by: dict[int, list[int]] = {n: [] for n in self.lines}
        for number, needs in self.needs.items():
            for need in needs:
                self.needed_by[need].append(number)
        self.me = journal.session[:12]
        self.stream = f"{namespace}:lines"
        names = ("seeded", "total", "rows", "released")
        self.keys = {name: f"{namespace}:{name}" for name in names}
        self.active: dict[str, int] = {}  # stream entry id -> line number, being worked on
        self.mine = 0
        self.idle_ms = max(100, int(args.reclaim_after * 1000))
        self.tracker: Tracker | None = None  # with a live display (a terminal)
        self.display: LiveDisplay | None = None
        self._shown: set[int] = set()  # lines the tracker knows as finished

    async def seed(self) -> None:
        """Put every line that needs no other in the stream, unless another process did."""
        numbers = [str(n) for n, needs in self.needs.items() if not needs]
        keys = (self.keys["seeded"], self.stream, self.keys["total"])
        await self.redis.eval(_SEED, 3, *keys, str(len(self.lines)), *numbers)
        await self._until_seeded()

    async def _until_seeded(self) -> None:
        delay = 0.05
        while await self.redis.get(self.keys["total"]) is None:  # another process seeds
            await anyio.sleep(delay)
            delay = min(1.0, delay * 2)

    async def rows(self) -> list[dict[str, Any]]:
        """The manifest rows stored so far, in file order."""
        stored = await self.redis.hgetall(self.keys["rows"])
        rows = [json.loads(v) for v in stored.values()]
        return sorted(rows, key=lambda row: int(row["line"]))

    async def finished(self) -> bool:
        total = int(await self.redis.get(self.keys["total"]) or 0)
        return bool(await self.redis.hlen(self.keys["rows"]) >= total)

    async def work(self, api: MusicAPI) -> None:
        """Take lines until every line of the run has its row."""
        slots = anyio.Semaphore(self.args.concurrency)
        async with anyio.create_task_group() as group:
            group.start_soon(self._keep_fresh)
            group.start_soon(self._progress)
            while not await self.finished():
                free = slots.value
                if not free:
                    await anyio.sleep(0.05)
                    continue
                entries = await self._take(free)
                for entry_id, number in entries:
                    await slots.acquire()
                    self.active[entry_id] = number
                    group.start_soon(self._line, api, entry_id, number, slots)
            group.cancel_scope.cancel()

    async def _take(self, count: int) -> list[tuple[str, int]]:
        """Lines a dead worker left (``XAUTOCLAIM``), else new ones (``XREADGROUP``)."""
        claimed = await self.redis.xautoclaim(
            self.stream, _GROUP, self.me, self.idle_ms, "0-0", count=count
        )
        entries = [e for e in claimed[1] if e and e[1]]
        if not entries:
            read: Any = await self.redis.xreadgroup(
                _GROUP, self.me, {self.stream: ">"}, count=count, block=200
            )
            # RESP3 answers {stream: [entries]}; RESP2 [[stream, entries]].
            found = list(read.values()) if isinstance(read, dict) else [e for _, e in read or ()]
            entries = [entry for batch in found for entry in batch]
        taken = []
        for entry_id, fields in entries:
            ident = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            if ident not in self.active:
                taken.append((ident, int(fields[b"line"])))
        return taken

    async def _keep_fresh(self) -> None:
        # Claiming our own entries resets their idle time: others see we are alive.
        while True:
            await anyio.sleep(self.idle_ms / 3000)
            if self.active:
                await self.redis.xclaim(
                    self.stream, _GROUP, self.me, 0, list(self.active), justid=True
                )

    async def _progress(self) -> None:
        if self.tracker is not None:
            await self._follow_fleet(self.tracker)
        while True:
            await anyio.sleep(2.0)
            total = int(await self.redis.get(self.keys["total"]) or 0)
            done = await self.redis.hlen(self.keys["rows"])
            pending = await self.redis.xpending(self.stream, _GROUP)
            workers = len(pending.get("consumers") or ())
            _say(
                self.args,
                f"fleet {self.run}: {done}/{total} lines finished, "
                f"{pending.get('pending', 0)} in progress on {workers} worker(s)",
                live=self.display is not None,
            )

    async def _follow_fleet(self, tracker: Tracker) -> None:
        # Lines other workers finished reach this display through the stored rows.
        while True:
            await anyio.sleep(1.0)
            rows = await self.redis.hgetall(self.keys["rows"])
            for key, value in rows.items():
                number = int(key)
                if number not in self._shown:
                    self._track(tracker, number, json.loads(value))

    def _track(self, tracker: Tracker, number: int, row: dict[str, Any]) -> None:
        self._shown.add(number)
        status = row.get("status")
        phase = {"done": Phase.DONE, "skipped": Phase.SKIPPED}.get(str(status), Phase.FAILED)
        tracker.finish(
            number,
            phase,
            task_id=row.get("task_id"),
            cost=row.get("cost", 0),
            reason=(row.get("error") or {}).get("message"),
        )

    async def _line(
        self, api: MusicAPI, entry_id: str, number: int, slots: anyio.Semaphore
    ) -> None:
        try:
            line = self.lines[number]
            ready = await self._references(line)
            if isinstance(ready, str):
                row = _skipped(line, ready)
            else:
                row = await self._run_line(api, line, line.request(ready))
            row["worker"] = self.me
            await self._store(number, row)
            if self.tracker is not None and number not in self._shown:
                self._track(self.tracker, number, row)
            await self.redis.xack(self.stream, _GROUP, entry_id)
            self.mine += 1
        finally:
            self.active.pop(entry_id, None)
            slots.release()

    async def _references(self, line: Line) -> dict[tuple[str, ...], str] | str:
        """The values of ``line``'s references, from the rows of the lines they name;
        or why it is not sent (a line it needs did not end done)."""
        if not line.refs:
            return {}
        needs = self.needs[line.number]
        stored = await self.redis.hmget(self.keys["rows"], [str(n) for n in needs])
        rows = {}
        for number, raw in zip(needs, stored, strict=True):
            # Released only once all of them have rows: a missing one is a bug, not a wait.
            row = json.loads(raw) if raw is not None else {"status": "missing"}
            if row.get("status") != "done":
                return f"{self.lines[number].name} {row.get('status')}"
            ident = self.lines[number].ident
            assert ident is not None  # only lines with an id can be referred to
            rows[ident] = row
        try:
            return _resolve(line, rows)
        except LookupError as exc:
            return str(exc)

    async def _store(self, number: int, row: dict[str, Any]) -> None:
        """Store ``number``'s row and release the lines waiting for it."""
        args: list[str | int] = [number, json.dumps(row)]
        for waiting in self.needed_by[number]:
            needs = self.needs[waiting]
            args += [waiting, len(needs), *needs]
        keys = (self.keys["rows"], self.stream, self.keys["released"])
        await self.redis.eval(_STORE, 3, *keys, *args)

    async def _run_line(self, api: MusicAPI, line: Line, request: object) -> dict[str, Any]:
        endpoint = endpoint_of(request)  # load_plan builds only requests bulk can run
        wire = to_wire(request)
        row = _row(line, request)
        fp = fingerprint(endpoint, wire, key=f"{self.run} line {line.number}")
        journal = self.journal
        task_id: str | None = None
        try:
            entry = await journal.begin(fp, endpoint, wire)
            if entry is not None and entry.state is JobState.DONE:
                row["result"] = json.loads(entry.result or "null")
                row["task_id"] = entry.task_id
                return row
            if entry is not None and entry.state is JobState.FAILED:
                failure = {"type": "TaskFailed", "message": f"recorded as failed: {entry.error}"}
                row.update(status="failed", task_id=entry.task_id, error=failure)
                return row
            if entry is not None:
                # None: its claimer died before sending it, and the claim is ours now.
                task_id = entry.task_id or await journal.wait_task_id(fp, timeout=3600)
            if task_id is not None:
                pass  # accepted before: wait on it below
            elif not returns_task(endpoint):
                result = await api.call(endpoint, request)
                await journal.finished(fp, result_to_json(result))
                row["result"] = json.loads(result_to_json(result))
                row["cost"] = cost_of(endpoint, wire)[0]
                return row
            elif not isinstance(request, GenerationRequest):  # load_plan builds no other
                raise TypeError(f"{line.name}: {endpoint} starts no task")
            else:
                with anyio.CancelScope(shield=True):
                    job = await api.submit(request)
                    task_id = job.task_id
                    await journal.submitted(fp, task_id)
                    if self.tracker is not None:
                        self.tracker.submitted(line.number, task_id)
                row["cost"] = cost_of(endpoint, wire)[0]
            assert task_id is not None
            row["task_id"] = task_id
            job = api.job(task_id, task_family(endpoint) or Family.SONIC)
            clips = await job.wait(timeout=self.args.timeout)
            await journal.finished(fp, result_to_json(tuple(clips)))
            row["result"] = json.loads(result_to_json(tuple(clips)))
            row["clips"] = [
                {
                    "clip_id": c.clip_id,
                    "title": c.title,
                    "audio_url": c.audio_url,
                    "state": c.state.value,
                }
                for c in clips
            ]
            if self.args.download:
                for clip in clips:
                    await api.download(clip, self.args.out, overwrite=True)
        except SubmissionOutcomeUnknown as exc:
            row.update(status="unknown", error={"type": type(exc).__name__, "message": str(exc)})
            current = await journal.get(fp)
            mine = current is not None and current.session == journal.session
            if task_id is None and mine and current and current.state is JobState.PENDING:
                await journal.unknown(fp, exc)
        except MusicAPIError as exc:
            row.update(
                status="failed",
                task_id=task_id,
                error={"type": type(exc).__name__, "message": str(exc)},
            )
            current = await journal.get(fp)
            if current is not None and current.session == journal.session and task_id is None:
                await journal.forget(fp)  # refused before acceptance: nothing was billed
            elif current is not None and current.state is JobState.SUBMITTED:
                await journal.failed(fp, exc)
        row["finished_at"] = time.time()
        return row


def _row(line: Line, request: object) -> dict[str, Any]:
    """A line's manifest row before it is run."""
    wire = to_wire(request)
    return {
        "line": line.number,
        "id": line.ident,
        "kind": line.kind,
        "request": {k: v for k, v in wire.items() if k != "webhook_secret"},
        "task_id": None,
        "status": "done",
        "clips": [],
        "result": None,
        "cost": 0,
        "error": None,
    }


def _skipped(line: Line, reason: str) -> dict[str, Any]:
    """The row of a line not sent because a line it refers to did not end done."""
    row = _row(line, line.request())
    row.update(status="skipped", error={"type": "Skipped", "message": reason})
    row["finished_at"] = time.time()
    return row


def _resolve(line: Line, rows: dict[str, dict[str, Any]]) -> dict[tuple[str, ...], str]:
    """The ids that replace ``line``'s references, read from the rows (by id) of the
    lines they name: a song's clips, a persona's id, an upload's clip id.

    Raises:
        LookupError: a referred line has no such id.
    """
    values = {}
    for path, ref in line.refs.items():
        result = rows[ref.target].get("result")
        result = result if isinstance(result, dict) else {}
        clips = result.get("clips")
        name = f"line {rows[ref.target]['line']} ({ref.target})"
        if isinstance(clips, list) and clips:
            index = ref.index or 0
            if index >= len(clips):
                raise LookupError(f"{name} made only {len(clips)} clip(s)")
            values[path] = str(clips[index]["clip_id"])
        elif isinstance(result.get("persona_id"), str):
            values[path] = result["persona_id"]
        elif isinstance(result.get("clip_id"), str):
            values[path] = result["clip_id"]
        else:
            raise LookupError(f"{name} has no id for {ref.text}")
    return values
