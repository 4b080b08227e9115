"""``MusicAPI``: the client's lifecycle and its thin public methods.

The client owns a task group, the poller, the governor and the transport; it opens and
closes them together. Its one path to the network, ``call`` and the sending behind it,
is ``CallPath`` in ``_call_path``; webhook feeding is in ``_webhook_feed``; downloads in
``_download``. Webhook feeding, downloads, batches and the rarely used families are
imported when first used, so that importing the SDK stays cheap. Every call goes through
``MusicAPI.call``: a paid POST that may have been received is never sent again behind
the caller's back (``SubmissionOutcomeUnknown``).
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections import Counter
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Mapping,
    Sequence,
)
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, TypeGuard, Unpack

import anyio
import attrs
from anyio.abc import TaskGroup

from ._call_path import BODIES, CallPath, _task_row
from ._endpoints import (
    CREATE_ENDPOINTS,
    CREDITS,
    TASK_ENDPOINTS,
)
from ._errors import (
    AuthenticationError,
    InvalidRequest,
    NetworkError,
)
from ._governor import Governor
from ._http import TransportFailure
from ._jobs import Job, Orphan, Waiter
from ._log import Secrets
from ._model_base import model_name
from ._models import Clip, Credits, Family, MediaKind, TaskSnapshot
from ._poller import Poller
from ._polling import PollPolicy
from ._protocol import SnapshotMemo, build_request
from ._resources import LyricsAPI, NuroAPI, SonicAPI, StudioAPI
from ._retry import RetryPolicy
from ._transport import AiohttpTransport, Transport
from ._validation import check_callback_url, check_task_id
from ._windows import WindowKeeper, window_store

if TYPE_CHECKING:
    from ._batch_polling import BatchWatch
    from ._bulk import ManyOptions, Outcome
    from ._coordination import Coordination
    from ._requests import AnyRequest, GenerationRequest, WebhookRequest
    from ._resources_fuzz import ProducerAPI, RiffusionAPI
    from ._webhooks import WebhookDeduplicator, WebhookEvent

__all__ = [
    "BODIES",
    "DEFAULT_BASE_URL",
    "ClientStats",
    "MusicAPI",
    "Orphan",
]

DEFAULT_BASE_URL: Final = "https://api.musicapi.ai"

# Studio and riffusion document no webhooks; stems bodies carry only the clip id. By name
# (``model_name``): checking a request needs none of these families' models imported.
_NO_WEBHOOK: Final = frozenset({
    "_studio_models.StudioRequest", "_fuzz_models.RiffusionRequest",
    "_sonic_models.StemsRequest", "_sonic_models.StemsFullRequest",
})  # fmt: skip


def _carries_webhook(request: GenerationRequest) -> TypeGuard[WebhookRequest]:
    """Whether ``request`` has the webhook fields (``_NO_WEBHOOK``: the ones that do not)."""
    return model_name(type(request)) not in _NO_WEBHOOK


# [redis hook] the names of the rows that start tasks, derived from the table.
_CREATE_ENDPOINTS: Final = frozenset(CREATE_ENDPOINTS)


@attrs.define
class ClientStats:
    """Counters a user can read (``api.stats``; the poller's are ``api.poller.stats``)."""

    requests: Counter[str] = attrs.field(factory=Counter)
    retries: int = 0
    throttled: int = 0


def _family(family: object) -> Family:
    try:
        return Family(str(family)) if not isinstance(family, Family) else family
    except ValueError:
        names = ", ".join(f.value for f in Family)
        raise InvalidRequest(f"Unknown family {family!r}: one of {names}.") from None


def _check_key(key: object) -> None:
    """Refuse a key that cannot be sent in a header, without ever showing it."""
    if key is None or key == "":
        return
    if not isinstance(key, str):
        raise AuthenticationError(f"The API key should be a string, not {type(key).__name__}.")
    if key != key.strip() or any(not c.isprintable() or c.isspace() for c in key):
        raise AuthenticationError(
            "The API key contains spaces, a line break or control "
            "characters (read from a file with its newline?): strip "
            "it and try again."
        )
    if not key.isascii():
        raise AuthenticationError(
            "The API key contains non-ASCII characters: it cannot be "
            "sent in a header. Check that it was copied whole."
        )


class MusicAPI(CallPath):
    """An async client for MusicAPI; use it as ``async with MusicAPI(...) as api:``.

    Share one client across a whole application: it owns one connection pool.

    Args:
        api_key: the API key; defaults to ``$MUSICAPI_API_KEY``.
        base_url: defaults to ``$MUSICAPI_BASE_URL`` or ``https://api.musicapi.ai``.
        poll: the poll schedule for ``Job.wait``; defaults to ``PollPolicy()``.
        transport: a custom transport (``MockTransport`` in tests); by default an
            aiohttp one is created on entry.
        timeout: seconds for one HTTP exchange.
        max_concurrent_polls: cap on task polls in flight at once, for all tasks.
        webhook_url: passed on every create that does not set its own; with it, the
            poller becomes a slow safety net and webhooks (``feed_webhook``) resolve jobs.
        webhook_secret: signs (and verifies) those webhooks; never shown in a repr.
        retry: the retry policy of every call; defaults to ``RetryPolicy()``.
        governor: paces every request client-wide: creates one per 3 s by default (the
            documented limit), polls unlimited but backing off together when refused;
            ``Governor(create=Budget(rate=..., burst=...))`` changes the pace and
            ``Governor.unlimited()`` turns it off. On the emulator the pace follows the
            speed it announces (one create per 3 emulated seconds).
        max_concurrent_downloads: cap on media files downloading at once.
        on_orphan: called with each ``Orphan``: a paid call whose caller was cancelled
            after it was sent (its task id, or its unknown outcome, is in there).
        coordination: a store shared with other processes on the same key (e.g.
            ``RedisCoordination(url)``): their creates and polls share one budget, each
            task is polled by one process only and its snapshots reach all of them.
        clock: monotonic seconds for the poll schedule and jobs' timestamps; tests
            inject one instead of sleeping.

    Raises:
        AuthenticationError: no key was given and ``$MUSICAPI_API_KEY`` is unset, or the
            key holds whitespace, a line break or characters a header cannot carry.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        poll: PollPolicy | None = None,
        transport: Transport | None = None,
        timeout: float = 120.0,
        max_concurrent_polls: int = 64,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        retry: RetryPolicy | None = None,
        governor: Governor | None = None,
        max_concurrent_downloads: int = 4,
        on_orphan: Callable[[Orphan], None] | None = None,
        coordination: Coordination | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("MUSICAPI_API_KEY")
        if not key and transport is None:
            raise AuthenticationError(
                "No API key: pass api_key=... or set the MUSICAPI_API_KEY environment variable."
            )
        _check_key(key)
        self.base_url = base_url or os.environ.get("MUSICAPI_BASE_URL") or DEFAULT_BASE_URL
        self.poll_policy = poll or PollPolicy()
        # The policy as given: an announced emulator speed scales it unless already scaled.
        self._poll_given = self.poll_policy
        self.retry_policy = retry or RetryPolicy()
        self.governor = governor or Governor()
        self._speed_seen: str | None = None  # the last X-Emulator-Speed header followed
        # Paid calls whose callers were cancelled after sending (see ``Orphan``).
        self.orphans: list[Orphan] = []
        self._on_orphan = on_orphan
        self.stats = ClientStats()
        self._downloads = anyio.CapacityLimiter(max_concurrent_downloads)
        self._secrets = Secrets(key, webhook_secret)
        self._transport: Transport = transport or AiohttpTransport(
            self.base_url, key or "", timeout=timeout
        )
        if webhook_url is not None and not webhook_secret:
            raise InvalidRequest(
                "webhook_url needs a webhook_secret to verify deliveries with",
                field="webhook_secret",
            )
        if webhook_url is not None:
            check_callback_url(webhook_url)  # said now, not at the first create
        self.webhook_url = webhook_url
        self._webhook_secret = webhook_secret
        # Identical answers of a task endpoint are parsed once, per client (per poller).
        self._snapshots = SnapshotMemo()
        self.poller = Poller(
            self._poll,
            self.poll_policy,
            max_concurrent_polls=max_concurrent_polls,
            push=webhook_url is not None,
            clock=clock,
        )
        self._clock = clock
        # [batch hook] tasks submitted together, polled together (``_batch_polling``);
        # made by the first batch (``_watch_batches``): a client that sends none never
        # imports it, and its polls skip it with one comparison.
        self._batch_watch: BatchWatch | None = None
        self.coordination = coordination
        store = window_store(coordination)  # [redis hook] learned windows, fleet-wide
        self._windows = None if store is None else WindowKeeper(store, self.poller)
        self._group: TaskGroup | None = None
        # Waits in progress (``Job.updates``, ``as_completed``): woken when the client closes.
        self._waiters: set[Waiter] = set()
        # Paid requests running shielded from their callers (``_send_shielded``): the
        # client's exit waits for every one of them before it closes the transport.
        self._paid: set[asyncio.Task[None]] = set()
        self._closing = False
        self.sonic = SonicAPI(self)
        self.lyrics = LyricsAPI(self)
        self.nuro = NuroAPI(self)
        self.studio = StudioAPI(self)

    @functools.cached_property
    def _dedupe(self) -> WebhookDeduplicator:
        """Deliveries already handled, made by the first one (webhooks are rarely used)."""
        from ._webhooks import WebhookDeduplicator

        return WebhookDeduplicator()

    @functools.cached_property
    def producer(self) -> ProducerAPI:
        """The producer endpoints (``api.producer.create(...)``)."""
        from ._resources_fuzz import ProducerAPI  # lazy: producer is rarely used

        return ProducerAPI(self)

    @functools.cached_property
    def riffusion(self) -> RiffusionAPI:
        """The riffusion endpoints (``api.riffusion.create(...)``)."""
        from ._resources_fuzz import RiffusionAPI  # lazy: riffusion is rarely used

        return RiffusionAPI(self)

    def _watch_batches(self) -> BatchWatch:
        """The watch that polls batched tasks together, made when the first batch is sent."""
        watch = self._batch_watch
        if watch is None:  # [batch hook]
            from ._batch_polling import BatchWatch

            watch = self._batch_watch = BatchWatch(self)
        return watch

    def __repr__(self) -> str:
        return f"MusicAPI(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        if self._group is not None:
            raise RuntimeError("this MusicAPI client is already open")
        # The client owns a task group: the poller and bulk producers run in it, and
        # nothing it starts outlives the `async with` block.
        if self.coordination is not None:  # [redis hook] connect before anything is sent
            await self.coordination.open()
        if self._windows is not None:  # [redis hook] start from what the fleet learned
            await self._windows.load()
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        self._closing = False
        group.start_soon(self.poller.run)
        if self.coordination is not None:  # [redis hook] other processes' snapshots
            self.poller.on_close = self.coordination.release
            self.poller.on_watch = self.coordination.watch
            group.start_soon(self.coordination.run, self.poller.publish, self.poller.watching)
        if self._windows is not None:  # [redis hook]
            group.start_soon(self._windows.run)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        group = self._group
        self._closing = True
        try:
            # Waiters in tasks the client does not own would never hear from the poller
            # again: each one ends now with ClientClosed, naming its task.
            for waiter in list(self._waiters):
                waiter.client_closed()
            self._waiters.clear()
            if group is not None:
                group.cancel_scope.cancel()
                # The body's own exception is not handed to the group: it propagates
                # as it is instead of being wrapped in an ExceptionGroup.
                await group.__aexit__(None, None, None)
        finally:
            self._group = None
            if self._paid:  # a paid request is never cut off by the close: it finishes
                with anyio.CancelScope(shield=True):
                    # ``wait``, not ``gather``: a cancelled close must not cancel them.
                    await asyncio.wait(set(self._paid))
            if self._windows is not None:  # [redis hook] what this process learned
                with anyio.CancelScope(shield=True), anyio.move_on_after(2):
                    await self._windows.save()
            if self.coordination is not None:  # [redis hook]
                await self.coordination.aclose()
            await self._transport.aclose()
            self._secrets.release()

    def start_soon(self, func: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run ``func`` in the client's task group (it is cancelled when the client closes).

        Raises:
            RuntimeError: the client is not open (use ``async with MusicAPI(...)``).
        """
        if self._group is None:
            raise RuntimeError("open the client first: `async with MusicAPI(...) as api:`")
        self._group.start_soon(func)

    def _require_open(self) -> None:
        if self._group is None or self._closing:
            raise RuntimeError("open the client first: `async with MusicAPI(...) as api:`")

    # --------------------------------------------------------------------- generation

    async def submit(self, request: GenerationRequest) -> Job:
        """Submit any generation request model and return its ``Job``.

        Raises:
            InvalidRequest: ``request`` is not a generation request model.
        """
        ep = _task_row(request)
        if (
            self.webhook_url is not None
            and _carries_webhook(request)
            and request.webhook_url is None
        ):
            request = attrs.evolve(
                request, webhook_url=self.webhook_url, webhook_secret=self._webhook_secret
            )
        accepted = await self.call(ep, request)
        family = ep.family
        return Job(self, accepted.task_id, family, request=request, submitted_at=self._clock())

    async def feed_webhook(
        self, body: bytes, headers: Mapping[str, str], *, legacy_signatures: bool = False
    ) -> WebhookEvent | None:
        """Verify a webhook delivery and resolve the matching job with it.

        Use it from any web framework; ``webhook_handler()`` wraps it for aiohttp. The
        job's ``updates()`` and ``wait()`` see the delivery exactly as if a poll had.

        Args:
            body: the raw request body.
            headers: the request headers.
            legacy_signatures: also accept the older, timestamp-less ``X-Signature``
                scheme, which a captured delivery can be replayed under forever (see
                ``verify_webhook``).

        Returns:
            The event, or ``None`` if it was a redelivery (or a replay) already handled.

        Raises:
            WebhookVerificationError: the delivery is not authentic or not a task update
                (answer its ``reply_status``, 401 or 400, and drop it).
        """
        from ._webhook_feed import feed_webhook  # lazy: webhooks are rarely used

        return await feed_webhook(self, body, headers, legacy_signatures=legacy_signatures)

    def webhook_handler(
        self, *, legacy_signatures: bool = False
    ) -> Callable[[Any], Awaitable[Any]]:
        """An aiohttp.web handler for the webhook route: ``app.router.add_post(path, h)``.

        It answers 200 for a verified (or repeated) delivery, 401 for a bad signature and
        400 for a malformed delivery (never a 500). ``legacy_signatures`` as in
        ``feed_webhook``.
        """
        from ._webhook_feed import webhook_handler  # lazy: webhooks are rarely used

        return webhook_handler(self, legacy_signatures=legacy_signatures)

    def job(self, task_id: str, family: Family | str = Family.SONIC) -> Job:
        """A ``Job`` for a task submitted earlier (or elsewhere): resume waiting on it.

        Raises:
            InvalidRequest: ``task_id`` cannot name a task, or ``family`` is not one.
        """
        return Job(self, check_task_id(task_id), _family(family))

    def as_completed(
        self, jobs: Iterable[Job], *, timeout: float | None = None
    ) -> AsyncGenerator[Job, None]:
        """Yield ``jobs`` in the order their tasks end (succeeded, failed or errored).

        A yielded job is finished: ``job.result()`` returns its clips or raises its error.
        Polls are shared with every other waiter through the client's poller.

        Args:
            jobs: the jobs to watch.
            timeout: seconds for the whole batch; ``TaskTimeout`` names a late task.
        """
        self._require_open()
        from ._bulk import as_completed  # lazy: a cheap import after the first

        return as_completed(self, jobs, timeout=timeout)

    def generate_many(
        self, requests: Iterable[AnyRequest], **options: Unpack[ManyOptions]
    ) -> AsyncGenerator[Outcome, None]:
        """Run many requests and yield each ``Outcome`` as it finishes.

        At most ``concurrency`` requests are in flight (submitted and not yet finished)
        at once. A failure is an ``Outcome`` with ``error`` set, carrying the request and
        the task id when one exists; it never stops the batch. Leaving the loop early (or
        cancelling it) stops submitting and stops waiting; a submission already sent is
        allowed to finish so that its task id is not lost.

        Args:
            requests: generation requests (``SonicRequest``, ``NuroVocalRequest``, ...)
                and synchronous ones (``PersonaRequest``, ``UploadRequest``,
                ``LyricsRequest``), in any mix; read lazily.
            concurrency: requests in flight at once.
            timeout: seconds each task may take once submitted (30 minutes by default).
            journal: a ``Journal`` (e.g. ``SQLiteJournal("runs.sqlite3")``): each request
                is recorded before it is sent, then its task id and result, so that a
                run killed at any moment and started again resubmits nothing that was
                accepted: finished requests come back from the journal, accepted ones
                are waited on again, and ones whose fate is unknown are reported as
                ``SubmissionOutcomeUnknown`` instead of being sent twice.
            budget: credits this run may commit; a request whose documented cost would
                pass it is not sent (``BudgetExceeded``); later ones that still fit are.
                Once the server answers that the account cannot pay
                (``InsufficientCredits``), no further paid request is sent: each comes
                back as ``InsufficientCredits`` with no ``status`` (not sent).
            preflight: read ``get_credits()`` first and treat the balance as a budget.
            on_accepted: called as ``on_accepted(index, job, resumed)`` the moment a
                generation request has a task (submitted now, or resumed from the
                journal): a progress display can follow ``job.updates()`` from there.
            batch: send queued ``SonicRequest``s up to 10 per ``POST /sonic/batch``
                (``api.sonic.batch``) and poll them together; each keeps its own outcome,
                journal entry and cost. A batch holds at most ``concurrency`` items (they
                are in flight together): pass ``concurrency >= 10`` for full batches. Not
                with a journal shared by processes.
        """
        self._require_open()
        from ._bulk import generate_many  # lazy: a cheap import after the first

        return generate_many(self, requests, **options)

    async def get_task(self, task_id: str, family: Family = Family.SONIC) -> TaskSnapshot:
        """Poll a task once (free) and return what the API said.

        Raises:
            InvalidRequest: ``task_id`` cannot name a task (nothing is sent).
        """
        return await self.call(
            TASK_ENDPOINTS[_family(family)], None, task_id=check_task_id(task_id)
        )

    async def _poll(self, task_id: str, family: Family) -> TaskSnapshot:
        if self.coordination is not None:  # [redis hook] one poller per task, fleet-wide
            return await self.coordination.poll(task_id, family, self._poll_once)
        return await self._poll_once(task_id, family)

    async def _poll_once(self, task_id: str, family: Family) -> TaskSnapshot:
        # The poller's own schedule is its retry: a failed poll is simply tried next tick.
        watch = self._batch_watch
        if watch is not None and family is Family.SONIC and watch.covers(task_id):  # [batch hook]
            return await watch.poll(task_id, lambda: self._poll_task(task_id, family))
        return await self._poll_task(task_id, family)

    async def _poll_task(self, task_id: str, family: Family) -> TaskSnapshot:
        # What ``call(..., retry=False)`` does, one frame shorter: every poll passes here.
        ep = TASK_ENDPOINTS[family]
        request = build_request(ep, None, task_id=task_id)
        try:
            return await self._exchange(ep, request)
        except TransportFailure as failure:  # a poll is free: never an unknown outcome
            raise NetworkError(f"{ep.name}: {failure}") from failure.cause

    async def download(
        self,
        clip: Clip,
        directory: str | os.PathLike[str],
        *,
        kinds: Sequence[MediaKind] = ("audio", "image"),
        max_bytes: int | None = None,
        overwrite: bool = False,
    ) -> list[Path]:
        """Download a clip's files (audio, cover image, video) into ``directory``.

        Each file streams to a temporary file and is renamed into place only when
        complete and of the announced ``Content-Length``; names come from the title and
        clip id, made safe (no path traversal, no control characters, no reserved
        names) and never overwrite another file unless ``overwrite``. At most
        ``max_concurrent_downloads`` files download at once, client-wide. No credentials
        are sent to media hosts.

        Returns:
            The paths written, in the order of ``kinds`` (missing URLs are skipped).

        Raises:
            DownloadTooLarge: a file is larger than ``max_bytes``.
            IncompleteDownload: a file stayed shorter than its ``Content-Length``.
            NetworkError, ServerError: the media host failed after the retries.
        """
        from ._download import DEFAULT_MAX_BYTES, download_clip  # lazy: a cheap import

        if max_bytes is None:
            max_bytes = DEFAULT_MAX_BYTES
        async with self._downloads:
            return await download_clip(
                self._transport,
                clip,
                directory,
                kinds=kinds,
                max_bytes=max_bytes,
                overwrite=overwrite,
                retry=self.retry_policy,
            )

    async def get_credits(self) -> Credits:
        """The account's remaining credits (free)."""
        return await self.call(CREDITS, None)
