"""``RedisJournal``: the ``Journal`` of ``_journal``, shared by every process on one Redis.

Same table, same rules, same promises as ``SQLiteJournal`` (read ``_journal``'s
docstring); what changes is who can see an entry: every process of the fleet. One
addition: recording ``done`` (or ``failed``) again is a no-op, since every process that
waited on a task records its end. Each entry
is a hash; each state has a sorted set (by creation time) for ``pending_tasks`` and
``unresolved``. Every claim and every move is one Lua script, so two processes given the
same request cannot both be told to send it, and a move the table forbids (a second task
id for one request: billed twice) is refused atomically.

A claim (``begin``) also marks its session alive for a while; ``RedisCoordination``
keeps marking it while the process lives. So a ``pending`` entry tells the others
whether its sender is still at work (wait: ``wait_task_id``) or died between sending
and hearing back (reconcile, never re-send).

Fail closed: if Redis cannot record the claim, ``begin`` raises ``CoordinationError``
and the caller sends nothing.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final

import anyio

from .._client import _CREATE_ENDPOINTS
from .._errors import CoordinationError, SubmissionOutcomeUnknown
from .._journal import Entry, JobState, JournalStateError, canonical_body
from ._store import connect, describe_url, guarded

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["RedisJournal", "current_claim"]

# The claim this task won last (journal, fingerprint), until its answer is recorded: the
# client marks it "being sent" right before the POST (``RedisCoordination``), so that a
# claim whose process died before that moment is known never to have been sent.
_CLAIM: ContextVar[tuple[RedisJournal, str] | None] = ContextVar("musicapi_claim", default=None)


def current_claim() -> tuple[RedisJournal, str] | None:
    """The Redis claim this task is about to send, if any."""
    return _CLAIM.get()


_STATES: Final = tuple(s.value for s in JobState)

# KEYS: entry, session marker, then the five state sets in _STATES order.
# ARGV: fingerprint, endpoint, body, key (JSON), session, now, session ttl (ms).
_BEGIN: Final = """
redis.call('SET', KEYS[2], '1', 'PX', ARGV[7])
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HGETALL', KEYS[1]) end
redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'endpoint', ARGV[2], 'body', ARGV[3],
           'key', ARGV[4], 'state', 'pending', 'session', ARGV[5], 'created_at', ARGV[6],
           'updated_at', ARGV[6])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
return false
"""

# KEYS: entry, then the five state sets. ARGV: target, now, task_id or '', field or '',
# value, clear error ('1'/'0'). Returns 'ok', 'same', 'missing' or the current state.
_MOVE: Final = """
local moves = {pending={submitted=1, unknown=1, done=1, failed=1},
               unknown={unknown=1, submitted=1, done=1, failed=1},
               submitted={done=1, failed=1}, done={}, failed={}}
local index = {pending=2, submitted=3, unknown=4, done=5, failed=6}
local entry = redis.call('HMGET', KEYS[1], 'state', 'task_id', 'fingerprint', 'created_at')
local state = entry[1]
if not state then return 'missing' end
local target = ARGV[1]
if state == 'submitted' and target == 'submitted' and entry[2] == ARGV[3] then
  return 'same'
end
if state == target and (state == 'done' or state == 'failed') then return 'same' end
if not moves[state][target] then return state end
redis.call('HSET', KEYS[1], 'state', target, 'updated_at', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'task_id', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], ARGV[4], ARGV[5]) end
if ARGV[6] == '1' then redis.call('HDEL', KEYS[1], 'error') end
redis.call('ZREM', KEYS[index[state]], entry[3])
redis.call('ZADD', KEYS[index[target]], entry[4], entry[3])
return 'ok'
"""

# KEYS: entry, then the five state sets.
# KEYS: entry. ARGV: session. Marks this session's pending claim as being sent now.
# Returns 'ok', 'lost' (another session holds the claim), or the entry's state.
_SENDING: Final = """
local entry = redis.call('HMGET', KEYS[1], 'state', 'session')
if not entry[1] then return 'missing' end
if entry[1] ~= 'pending' then return entry[1] end
if entry[2] ~= ARGV[1] then return 'lost' end
redis.call('HSET', KEYS[1], 'sending', '1')
return 'ok'
"""

# KEYS: entry, the dead session's marker, our session's marker. ARGV: dead session, our
# session, now, session ttl (ms), then the endpoints the client marks before sending.
# A pending claim of a dead session that was never being sent is provably unsent: it
# becomes ours. Returns 1 when it did.
_TAKE_OVER: Final = """
local entry = redis.call('HMGET', KEYS[1], 'state', 'session', 'sending', 'endpoint')
if entry[1] ~= 'pending' or entry[2] ~= ARGV[1] or entry[3] then return 0 end
local marked = false
for i = 5, #ARGV do if ARGV[i] == entry[4] then marked = true end end
if not marked then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'session', ARGV[2], 'updated_at', ARGV[3])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[4])
return 1
"""

_FORGET: Final = """
local fp = redis.call('HGET', KEYS[1], 'fingerprint')
if not fp then return 0 end
for i = 2, 6 do redis.call('ZREM', KEYS[i], fp) end
return redis.call('DEL', KEYS[1])
"""


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _entry(fields: Mapping[Any, Any]) -> Entry:
    data = {_text(k): _text(v) for k, v in fields.items()}
    return Entry(
        fingerprint=str(data["fingerprint"]),
        endpoint=str(data["endpoint"]),
        body=json.loads(str(data["body"])),
        key=json.loads(str(data["key"])),
        state=JobState(data["state"]),
        task_id=data.get("task_id"),
        result=data.get("result"),
        error=data.get("error"),
        session=str(data["session"]),
        created_at=float(str(data["created_at"])),
        updated_at=float(str(data["updated_at"])),
    )


def _describe(error: str | BaseException) -> str:
    return error if isinstance(error, str) else f"{type(error).__name__}: {error}"


class RedisJournal:
    """A ``Journal`` in Redis, shared by every process that uses the same namespace.

    Usually reached as ``RedisCoordination(...).journal``; it can also be used on its
    own: ``async with RedisJournal(url, namespace="runs") as journal:``.

    Args:
        url: ``redis://[:password@]host:port/db``.
        namespace: the prefix of every key; processes that share a run share it.
        session_ttl: seconds a claim keeps its session marked alive (renewed by
            ``RedisCoordination`` while the process lives).
        timeout: seconds one Redis command may take before the journal fails closed.

    Attributes:
        session: a random id of this process's journal, stored with each entry it begins.
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "musicapi",
        session_ttl: float = 30.0,
        timeout: float = 2.0,
        session: str | None = None,
        redis: Redis | None = None,
    ) -> None:
        self._url = url
        self._prefix = f"{namespace}:journal"
        self._session_ttl_ms = max(1, int(session_ttl * 1000))
        self._timeout = timeout
        self._redis = redis
        self._own = redis is None
        self._scripts: dict[str, AsyncScript] = {}
        self.session = session or uuid.uuid4().hex
        # Every change of an entry is announced on this channel (its fingerprint), so
        # that waiters (``wait_task_id``) wake at once instead of polling Redis: with a
        # few hundred of them per process, polling would load Redis and the event loop
        # alike, and delay the creates that share them.
        self.channel = f"{self._prefix}:moves"
        # Set by whoever relays the channel to ``notify`` (``RedisCoordination``); without
        # it, waiters poll as often as before.
        self.listening = False
        self._waiting: dict[str, anyio.Event] = {}

    def __repr__(self) -> str:
        return f"RedisJournal({describe_url(self._url)!r}, namespace={self._prefix[:-8]!r})"

    async def __aenter__(self) -> RedisJournal:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Connect (lazily: the first command opens the connection)."""
        self._client()

    async def aclose(self) -> None:
        """Close the connection this journal opened itself."""
        redis, self._redis = self._redis, None
        if redis is not None and self._own:
            await redis.aclose()

    def _client(self) -> Redis:
        if self._redis is None:
            self._redis = connect(self._url, timeout=self._timeout)
            self._own = True
        return self._redis

    def _script(self, name: str, text: str) -> AsyncScript:
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = self._client().register_script(text)
        return script

    def _entry_key(self, fingerprint: str) -> str:
        return f"{self._prefix}:entry:{fingerprint}"

    def _state_keys(self) -> list[str]:
        return [f"{self._prefix}:state:{state}" for state in _STATES]

    def session_key(self, session: str) -> str:
        """The key that exists while ``session`` is alive."""
        return f"{self._prefix}:session:{session}"

    # -------------------------------------------------------------------------- reads

    async def get(self, fingerprint: str) -> Entry | None:
        """The entry for ``fingerprint``, or ``None``."""
        with guarded(self._url, "reading the journal"):
            fields = await self._client().hgetall(self._entry_key(fingerprint))
        return _entry(fields) if fields else None

    async def _in_states(self, *states: JobState) -> list[Entry]:
        redis = self._client()
        with guarded(self._url, "reading the journal"):
            scored: list[tuple[float, str]] = []
            for state in states:
                members: list[Any] = await redis.zrange(
                    f"{self._prefix}:state:{state.value}", 0, -1, withscores=True
                )
                scored.extend((float(score), _text(member) or "") for member, score in members)
            scored.sort()
            entries = []
            for _, fp in scored:
                fields = await redis.hgetall(self._entry_key(fp))
                if fields:
                    entries.append(_entry(fields))
        return entries

    async def pending_tasks(self) -> list[Entry]:
        """``submitted`` entries, oldest first: tasks to resume waiting on."""
        return await self._in_states(JobState.SUBMITTED)

    async def unresolved(self) -> list[Entry]:
        """``pending`` and ``unknown`` entries, oldest first: reconcile them, never re-send."""
        return await self._in_states(JobState.PENDING, JobState.UNKNOWN)

    async def alive(self, session: str) -> bool:
        """Whether the process that opened ``session`` is still marked alive."""
        if session == self.session:
            return True
        with guarded(self._url, "reading the journal"):
            return bool(await self._client().exists(self.session_key(session)))

    async def wait_task_id(self, fingerprint: str, *, timeout: float = 60.0) -> str | None:
        """The task id of a request another live process is sending, once it has one.

        Returns:
            The task id, as soon as the entry is ``submitted`` (or finished with one); or
            ``None`` when its claimer died before it started sending: the claim is now
            this process's (as if ``begin`` had returned ``None``): send it.

        Raises:
            JournalStateError: no such entry.
            SubmissionOutcomeUnknown: its sender died while sending (before recording
                the answer), or recorded it as unknown or failed: reconcile, do not send
                again.
            TimeoutError: still pending after ``timeout`` seconds.
        """
        # Announced changes wake us: then reading again is only the fallback.
        delay = 0.25 if self.listening else 0.02
        refused = ""
        key = self._entry_key(fingerprint)
        with anyio.fail_after(timeout):
            while True:
                # Before reading: a change recorded in between still wakes us.
                changed = self._waiting.setdefault(fingerprint, anyio.Event())
                # Three fields, not the whole entry: many waiters may be asking at once.
                with guarded(self._url, "reading the journal"):
                    state, task_id, session = await self._client().hmget(
                        key, ["state", "task_id", "session"]
                    )
                if state is None:
                    raise JournalStateError(f"no journal entry {fingerprint}")
                if task_id is not None:
                    return str(_text(task_id))
                pending = _text(state) == JobState.PENDING.value
                claimer = str(_text(session))
                alive = pending and await self.alive(claimer)
                if pending and not alive and claimer != refused:
                    if await self._take_over(fingerprint, claimer):
                        return None
                    # Another waiter took it first, or it was being sent: read it again;
                    # the same dead claimer twice means it was being sent.
                    refused = claimer
                    continue
                if not alive:
                    entry = await self.get(fingerprint)
                    raise SubmissionOutcomeUnknown(
                        f"journal: request {fingerprint[:12]} was sent by another process "
                        f"and its outcome is unknown ({_text(state)}); reconcile it",
                        endpoint=entry.endpoint if entry else "",
                        request=entry.body if entry else None,
                    )
                # Woken by the change's announcement; the timeout is the fallback for
                # a missed one (a claimer that dies announces nothing).
                with anyio.move_on_after(delay):
                    await changed.wait()
                delay = min(2.0 if self.listening else 1.0, delay * 1.5)

    def notify(self, fingerprint: str) -> None:
        """Wake the waiters of ``fingerprint``: its entry changed (from ``channel``)."""
        event = self._waiting.pop(fingerprint, None)
        if event is not None:
            event.set()

    # ------------------------------------------------------------------------ changes

    async def begin(
        self, fingerprint: str, endpoint: str, body: Mapping[str, Any], *, key: str | None = None
    ) -> Entry | None:
        """Claim a request as ``pending``, atomically across every process; call it
        BEFORE sending.

        Returns:
            ``None`` when this process won the claim (send it), or the existing entry,
            unchanged (do not send; act on its state).

        Raises:
            CoordinationError: the claim could not be recorded: send nothing.
        """
        args: list[str | int] = [
            fingerprint,
            endpoint,
            canonical_body(body),
            json.dumps(key),
            self.session,
            repr(time.time()),
            self._session_ttl_ms,
        ]
        keys = [self._entry_key(fingerprint), self.session_key(self.session), *self._state_keys()]
        with guarded(self._url, "claiming a request: nothing was sent"):
            found = await self._script("begin", _BEGIN)(keys=keys, args=args)
        if not found:
            _CLAIM.set((self, fingerprint))
            return None
        pairs = iter(found)
        return _entry(dict(zip(pairs, pairs, strict=True)))

    async def _move(
        self,
        fingerprint: str,
        target: JobState,
        *,
        task_id: str = "",
        field: str = "",
        value: str = "",
        clear_error: bool = False,
        accepted: str | None = None,
    ) -> None:
        if (claim := _CLAIM.get()) is not None and claim[1] == fingerprint:
            _CLAIM.set(None)  # its answer is being recorded: nothing left to mark
        keys = [self._entry_key(fingerprint), *self._state_keys()]
        args = [target.value, repr(time.time()), task_id, field, value, "1" if clear_error else "0"]
        with guarded(
            self._url, f"recording {fingerprint[:12]} as {target.value}", task_id=accepted
        ):
            answer = _text(await self._script("move", _MOVE)(keys=keys, args=args))
            if answer == "ok":
                await self._client().publish(self.channel, fingerprint)
        if answer == "missing":
            raise JournalStateError(f"no journal entry {fingerprint}: begin() first")
        if answer not in ("ok", "same"):
            # Among others: a second, different task id for one request, which would
            # mean it was billed twice. Refuse rather than overwrite.
            raise JournalStateError(f"{fingerprint}: cannot go from {answer} to {target.value}")

    async def sending(self, fingerprint: str) -> None:
        """Mark this process's claim as being sent now; call it right before the POST.

        From here on, if this process dies, the request counts as possibly billed.

        Raises:
            CoordinationError: the mark could not be recorded, or the claim is no longer
                this process's (it stalled so long that another took it over): do not send.
        """
        with guarded(self._url, "marking a request as being sent: nothing was sent"):
            answer = _text(
                await self._script("sending", _SENDING)(
                    keys=[self._entry_key(fingerprint)], args=[self.session]
                )
            )
        if answer == "lost":
            raise CoordinationError(
                f"journal: request {fingerprint[:12]} was taken over by "
                "another process; nothing was sent"
            )

    async def _take_over(self, fingerprint: str, session: str) -> bool:
        keys = [
            self._entry_key(fingerprint),
            self.session_key(session),
            self.session_key(self.session),
        ]
        args: list[str | int] = [
            session,
            self.session,
            repr(time.time()),
            self._session_ttl_ms,
            *sorted(_CREATE_ENDPOINTS),
        ]
        with guarded(self._url, "taking over a claim: nothing was sent"):
            taken = int(await self._script("take_over", _TAKE_OVER)(keys=keys, args=args))
        if taken:
            _CLAIM.set((self, fingerprint))
        return bool(taken)

    async def submitted(self, fingerprint: str, task_id: str) -> None:
        """Record that the request was accepted as task ``task_id``.

        Raises:
            ValueError: ``task_id`` is empty.
            JournalStateError: no such entry, it is finished, or it has another task id.
            CoordinationError: Redis failed; the error's ``task_id`` keeps the id.
        """
        if not task_id:
            raise ValueError("task_id must not be empty")
        await self._move(fingerprint, JobState.SUBMITTED, task_id=task_id, accepted=task_id)

    async def unknown(self, fingerprint: str, error: str | BaseException) -> None:
        """Record that the answer was lost (the request may have been billed)."""
        await self._move(fingerprint, JobState.UNKNOWN, field="error", value=_describe(error))

    async def finished(self, fingerprint: str, result_json: str) -> None:
        """Record the result, as JSON text.

        Raises:
            ValueError: ``result_json`` is not JSON.
        """
        json.loads(result_json)  # what is journaled must be readable on the way back
        await self._move(
            fingerprint, JobState.DONE, field="result", value=result_json, clear_error=True
        )

    async def failed(self, fingerprint: str, error: str | BaseException) -> None:
        """Record a final error."""
        await self._move(fingerprint, JobState.FAILED, field="error", value=_describe(error))

    async def forget(self, fingerprint: str) -> None:
        """Delete the entry, so that ``begin`` takes the request as new again."""
        if (claim := _CLAIM.get()) is not None and claim[1] == fingerprint:
            _CLAIM.set(None)
        keys = [self._entry_key(fingerprint), *self._state_keys()]
        with guarded(self._url, f"forgetting {fingerprint[:12]}"):
            await self._script("forget", _FORGET)(keys=keys, args=[])

    async def clear(self) -> None:
        """Delete every key of this journal's namespace (tests, a finished run)."""
        redis = self._client()
        with guarded(self._url, "clearing the journal"):
            async for key in redis.scan_iter(match=f"{self._prefix}:*", count=500):
                await redis.delete(key)
