"""``Emulator``: a MusicAPI server in the current event loop, for tests and development."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Self

from aiohttp import web

from ._app import build_app
from ._clock import DEFAULT_CREATE_INTERVAL, DEFAULT_SPEED
from ._control import task_summary
from ._faults import Fault, FaultPlan
from ._ledger import Balance
from ._state import Config, EmulatorState, Stats
from ._webhooks import DEFAULT_WEBHOOK_SECRET, Delivery

__all__ = ["Emulator"]


class Emulator:
    """A faithful local MusicAPI, served on a loopback port of the running loop.

    Use it as ``async with Emulator() as emu:`` and point a client at ``emu.url`` with
    ``emu.api_key``. Tasks live on a virtual clock: ``speed`` emulated seconds pass per
    wall second, and ``advance()`` jumps ahead. Every answer announces the speed in an
    ``X-Emulator-Speed`` header, which ``MusicAPI`` follows: its poll schedule and create
    pacing run that much faster with no ``PollPolicy().scaled(...)``.

    Like the real API it refuses creates sent faster than one per 3 (emulated) seconds
    per key; ``create_interval=None`` turns that off.

    Args:
        api_key: the key that authenticates (more with ``add_account``).
        speed: emulated seconds per wall second (default 30: a 3-minute song in 6 s); 0
            stops time so only ``advance()`` moves it.
        credits: the key's subscription credits.
        extra_credits: one-time credits, spent first.
        lyrics_credits: the separate pool lyrics calls draw from.
        faults: fault rules (``Fault``) or a whole ``FaultPlan``.
        strict: reject unknown request keys and unknown models (MusicAPI itself may
            ignore them; strictness makes a typo fail loudly).
        failure_rate: the chance that a task fails (its credits are refunded).
        seed: seeds ids, timelines, texts, failures and fault probabilities, so a run
            repeats; ``None`` (the default) draws a fresh seed, so two emulators never
            hand out the same task ids (a journal resumed against a new one finds none).
        webhooks: deliver webhooks to loopback ``webhook_url`` targets.
        webhook_duplicates: send every webhook twice (tests deduplication).
        webhook_secret: signs webhooks of creates that gave no ``webhook_secret``.
        create_interval: emulated seconds a key must wait between creates (default 3, the
            documented pace); faster ones get ``rate_limit_status``. ``None`` or 0: no
            limit.
        rate_limit_status: 429 (with ``Retry-After`` in emulated seconds) or 403 ``API
            QPS limit exceeded``.
        banned_words: words that make moderation answer the documented 403s.
        copyrighted: phrases whose presence in lyrics draws the copyrighted-content 403.
        producer_tags: words whose presence in a description draws the producer-tags 403.
        review_words: words that send a description to "needs moderation review" (403).
        failure_style: ``"clips"`` (failed tasks show ``state: failed`` clips) or
            ``"http_504"`` (their sonic polls answer the documented 504).
        not_ready_status: HTTP status of the first polls' ``{"type": "not_ready"}``:
            202 (what the vendor's SDK expects) or 200.
        retire_nuro: answer nuro create and get with 410 Gone (never billed), as the
            newest docs do, to test a migration to sonic and producer.
        host: a loopback address to bind.
        port: 0 picks a free port.
    """

    def __init__(
        self,
        api_key: str = "test-key",
        *,
        speed: float = DEFAULT_SPEED,
        credits: int = 1000,
        extra_credits: int = 0,
        lyrics_credits: int = 100,
        faults: Iterable[Fault] | FaultPlan | None = None,
        strict: bool = True,
        failure_rate: float = 0.0,
        seed: int | None = None,
        webhooks: bool = True,
        webhook_duplicates: bool = False,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        create_interval: float | None = DEFAULT_CREATE_INTERVAL,
        rate_limit_status: int = 429,
        banned_words: Sequence[str] = (),
        copyrighted: Sequence[str] = (),
        producer_tags: Sequence[str] = (),
        review_words: Sequence[str] = (),
        failure_style: str = "clips",
        not_ready_status: int = 202,
        retire_nuro: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if not create_interval:  # 0 means off, as on the command line
            create_interval = None
        config = Config(
            api_key=api_key,
            speed=speed,
            credits=credits,
            extra_credits=extra_credits,
            lyrics_credits=lyrics_credits,
            strict=strict,
            failure_rate=failure_rate,
            seed=seed,
            webhooks=webhooks,
            webhook_duplicates=webhook_duplicates,
            webhook_secret=webhook_secret,
            create_interval=create_interval,
            rate_limit_status=rate_limit_status,
            banned_words=tuple(banned_words),
            copyrighted=tuple(copyrighted),
            producer_tags=tuple(producer_tags),
            review_words=tuple(review_words),
            failure_style=failure_style,
            not_ready_status=not_ready_status,
            retire_nuro=retire_nuro,
        )
        plan = faults if isinstance(faults, FaultPlan) else FaultPlan(faults or (), seed=seed)
        self._state = EmulatorState(config, plan)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    def __repr__(self) -> str:
        return f"Emulator(url={self._url!r}, speed={self._state.config.speed})"

    # -------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind the port and start serving (``async with`` does this)."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        runner = web.AppRunner(build_app(self._state), access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port, reuse_address=True)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        self._url = f"http://{shown}:{port}"
        self._state.generator.base_url = self._url
        self._state.webhooks.start()

    async def aclose(self) -> None:
        """Stop serving and drop pending webhooks; the state stays readable."""
        await self._state.webhooks.aclose()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ---------------------------------------------------------------------- surface

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:38123`` (no trailing slash)."""
        if self._url is None:
            raise RuntimeError("the emulator is not running: use `async with Emulator()`")
        return self._url

    @property
    def api_key(self) -> str:
        """The key created with the emulator."""
        return self._state.config.api_key

    @property
    def faults(self) -> FaultPlan:
        """The fault plan; ``emu.faults.add(Fault(...))`` applies from the next request."""
        return self._state.faults

    @property
    def stats(self) -> Stats:
        """Request, billing, task, fault and webhook numbers (``GET /_emulator/stats``)."""
        return self._state.stats()

    @property
    def now(self) -> float:
        """The emulated time, in seconds since start."""
        return self._state.clock.now()

    def advance(self, seconds: float) -> float:
        """Jump the virtual clock ``seconds`` ahead; returns the new emulated time."""
        return self._state.advance(seconds)

    def fail_next(self, count: int = 1, *, partial: bool = False) -> None:
        """Make the next ``count`` tasks fail (only their last clip, if ``partial``)."""
        self._state.generator.fail_next(count, partial=partial)

    def add_account(
        self,
        api_key: str,
        *,
        credits: int = 0,
        extra_credits: int = 0,
        lyrics_credits: int = 0,
        subscription_active: bool = True,
    ) -> None:
        """Create another valid key, or set an existing key's balances."""
        self._state.ledger.open(
            api_key,
            credits=credits,
            extra_credits=extra_credits,
            lyrics_credits=lyrics_credits,
            subscription_active=subscription_active,
        )

    def balance(self, api_key: str | None = None) -> Balance:
        """The balances of ``api_key`` (default: ``self.api_key``), refunds applied."""
        self._state.settle()
        return self._state.ledger.balance(api_key or self.api_key)

    def task_status(self, task_id: str) -> str:
        """``not_ready``, ``pending``, ``running``, ``streaming``, ``succeeded`` or ``failed``.

        Raises:
            KeyError: no such task.
        """
        task = self._state.store.tasks[task_id]
        return str(task_summary(self._state, task, self._state.settle())["status"])

    def task_ids(self) -> tuple[str, ...]:
        """Every task id, oldest first."""
        return tuple(self._state.store.tasks)

    @property
    def webhook_deliveries(self) -> tuple[Delivery, ...]:
        """The last 1000 webhook deliveries and refusals."""
        return tuple(self._state.webhooks.deliveries)

    async def drain_webhooks(self, timeout: float = 5.0) -> None:
        """Wait until every webhook due by now has been sent.

        Raises:
            TimeoutError: deliveries were still going after ``timeout`` seconds.
        """
        await self._state.webhooks.drain(timeout)

    def reset_stats(self) -> None:
        """Zero the request, status, billing and drop counters."""
        self._state.reset_counters()
