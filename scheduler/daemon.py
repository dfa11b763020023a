"""`dondoc run`: steps (scheduler/step.py) run under APScheduler on the wall clock, or
under `--simulate` on a virtual clock that jumps from one due moment to the next
(scheduler/simulate.py), so the demo and the tests drive the real daemon rather than a
stand-in. Here too: signals, the Telegram bot's start and retries, the HTTP side, and a
graceful stop.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine

from config.settings import Settings
from dondoc.clock import Clock
from dondoc.daemon_state import heartbeat_seconds
from notifiers.base import Channel
from notifiers.render import Renderer
from scheduler import reevaluation
from scheduler.chat_side import Bot, ChatSide
from scheduler.http import ASGIApp, HttpServer, LateApp, build_http_app
from scheduler.leader import Leadership
from scheduler.lock import LeaderLock, StoreLock
from scheduler.metrics import Metrics
from scheduler.presence import Heartbeat, stop_presence
from scheduler.queue import release_claim, release_stale
from scheduler.simulate import simulate
from scheduler.summary import start_summary
from scheduler.tick import run_tick

log = logging.getLogger("dondoc.daemon")


class Daemon(ChatSide):
    """A `Stepper` run until stopped, with the bot and the HTTP side it serves."""

    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        clock: Clock,
        channels: Mapping[str, Channel],
        renderer: Renderer,
        bot: Bot | None = None,
        metrics: Metrics | None = None,
        web_app: ASGIApp | None = None,
        late_web: LateApp | None = None,
    ) -> None:
        super().__init__(
            settings=settings,
            engine=engine,
            clock=clock,
            channels=channels,
            renderer=renderer,
            metrics=metrics,
            bot=bot,
        )
        # The office's pages, served on the health port for every path but /healthz and
        # /metrics; built by the composition root, so the daemon knows nothing of them.
        self.web_app = web_app
        # Built after the first tick (it is mounted in `web_app` already): its imports
        # would otherwise hold the first tick back by a second or more.
        self.late_web = late_web
        self._first_tick = asyncio.Event()
        self._catching_up: asyncio.Future[None] | None = None
        self.heartbeat: Heartbeat | None = None
        # Where a re-evaluation pass stands after the last step, for /healthz (read on the
        # HTTP thread, so never a query there).
        self.reevaluation: reevaluation.Progress | None = None

    # --- running ----------------------------------------------------------------------

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)

    def health(self) -> dict[str, Any]:
        """The scheduler and each channel's worker apart: busy is healthy, stuck is not."""
        now = self.clock.now()
        limit = timedelta(seconds=max(3 * self.settings.tick_seconds, 180))
        ticking = self.last_good_tick is not None and now - self.last_good_tick <= limit
        channels = {name: worker.health() for name, worker in self.workers.items()}
        problem = self.bot_problem()
        bot: dict[str, Any] = {
            "ok": self.bot_error is None and problem is None,
            "error": self.bot_error,
            "problem": problem,
        }
        if self.leadership is not None:
            bot["polling"] = self.leadership.leader  # False in every daemon but the leader
        return {
            # A bot that cannot start is reported, not made fatal: restarting the daemon
            # would not bring Telegram back, and would interrupt email.
            "ok": ticking and all(c["ok"] for c in channels.values()),
            "degraded": not bot["ok"],
            "bot": bot if self.bot is not None else None,
            "scheduler": {
                "ok": ticking,
                "last_good_tick": self.last_good_tick,
                "config_error": self.last_error,
                # A pass under way after a rules edit: busy, and healthy.
                "reevaluating_after_id": self._reevaluating_after(),
            },
            "channels": channels,
            "status_error": self.heartbeat.error if self.heartbeat is not None else None,
            # Kept at the top level for probes written against earlier versions.
            "last_good_tick": self.last_good_tick,
            "config_error": self.last_error,
        }

    def presence_detail(self) -> dict[str, Any]:
        detail = super().presence_detail()
        health = self.health()
        detail.update(
            ok=health["ok"],
            scheduler_ok=health["scheduler"]["ok"],
            role=self.chat_role(),
            bot_error=self.bot_error,
            bot_problem=health["bot"]["problem"] if health["bot"] else None,
            channels=health["channels"],
        )
        return detail

    def _reevaluating_after(self) -> int | None:
        progress = self.reevaluation
        return None if progress is None or progress.done else progress.after_id

    def _pass_pending(self) -> bool:
        self.reevaluation = reevaluation.progress(self.engine)
        return self._reevaluating_after() is not None

    async def _safe_step(self) -> None:
        try:
            await self.step()
        except Exception:  # one bad tick must not kill the daemon; /healthz turns red
            log.exception("tick failed")
            return
        finally:
            self._first_tick.set()
        idle = self._catching_up is None or self._catching_up.done()
        if self._pass_pending() and idle and self._continuous:
            self._catching_up = asyncio.ensure_future(self._catch_up())

    async def _catch_up(self) -> None:
        """Batches back to back while a re-evaluation is under way, each on a thread of
        its own: the event loop, and with it every send in flight, keeps turning while a
        batch is evaluated. Run on the loop, each batch held the sends back for its whole
        second, and delivery fell to about one email a second during a pass."""
        while not self._stop.is_set() and self._pass_pending():
            await asyncio.sleep(0.05)
            try:
                async with self._step_lock:
                    batch = asyncio.ensure_future(asyncio.to_thread(self._reevaluation_batch))
                    try:
                        await asyncio.shield(batch)
                    except asyncio.CancelledError:
                        # The thread's writes end before the store is let go.
                        await asyncio.gather(batch, return_exceptions=True)
                        raise
            except Exception:
                log.exception("re-evaluation batch failed; the next tick carries on")
                return
            for worker in self.workers.values():
                worker.wake.set()  # what the batch queued goes out now
        if not self._stop.is_set():
            log.info("every assignment is evaluated under the rules in force")

    def _reevaluation_batch(self) -> None:
        """One batch of the pass: made due, then evaluated as any due assignment is."""
        now = self.clock.now()
        if reevaluation.advance(self.engine, now=now):
            config = self.config  # one read: a reload may replace it meanwhile
            run_tick(
                self.engine,
                config=config,
                calendar=config.calendar(),
                now=now,
                channels=set(self.channels),
                telegram_link=self._telegram_link(),
            )

    async def run(self, *, simulate_until: datetime | None = None, speed: float = 0.0) -> None:
        lock = StoreLock(self.engine)
        lock.acquire()
        server: HttpServer | None = None
        leading: asyncio.Future[None] | None = None
        try:
            # First, so that a port in use stops the start before anything is done.
            # A rehearsal on a virtual clock has no health to probe, and must run next to
            # the real daemon, whose port it would find taken.
            if self.settings.http_port and simulate_until is None:
                app = build_http_app(health=self.health, metrics=self.metrics, mount=self.web_app)
                server = HttpServer(
                    app=app, host=self.settings.http_host, port=self.settings.http_port
                ).start()
            if simulate_until is None:  # a rehearsal publishes at each of its steps
                self.heartbeat = Heartbeat(
                    engine=self.engine,
                    presence=self.presence,
                    detail=self.presence_detail,
                    every=heartbeat_seconds(self.settings.tick_seconds),
                ).start()
            self._reevaluate_all(self.clock.now())
            self._pass_pending()  # /healthz shows a pass under way from the first tick on
            # Alone on the store (SQLite), no other daemon holds rows: a crash's leftovers
            # come back now. Next to other daemons (PostgreSQL), rows still in a live
            # daemon's lease are its own, and only expired leases come back.
            stale_before = self.clock.now() - self.lease if lock.shared else None
            released = release_stale(self.engine, claimed_before=stale_before)
            if released:
                log.warning(
                    "%d messages left in 'sending' by a previous run will be retried", released
                )
            self._install_signals()
            if self.bot is not None and lock.shared:
                self._chat_workers_alone = simulate_until is None
                self.leadership = Leadership(
                    LeaderLock(self.engine), on_gain=self._lead, on_loss=self._follow
                )
                leading = asyncio.ensure_future(self.leadership.run(self._stop))
            elif self.bot is not None:
                await self._start_bot()
            if simulate_until is not None:
                self._log_start(simulate_until)  # a rehearsal's account starts with it
                main = simulate(self, until=simulate_until, speed=speed)
            else:
                main = self._run_scheduled()
            await self._until_stopped(asyncio.ensure_future(main))
        finally:
            try:
                if leading is not None:
                    # The leader stops its pollers and chat workers and closes its lock,
                    # before what it still holds is returned.
                    self._stop.set()
                    await asyncio.gather(leading, return_exceptions=True)
                returned = release_claim(self.engine, self.owner)
                if returned:
                    log.warning("%d claimed messages were returned unsent", returned)
            finally:
                await self._stop_bot()
                if server is not None:
                    server.stop()
                # A clean exit says so in `dondoc status` rather than go silent.
                if self.heartbeat is not None:
                    self.heartbeat.stop()
                else:
                    stop_presence(self.engine, self.presence)
                lock.release()

    async def _until_stopped(self, main: asyncio.Future[None]) -> None:
        """Run `main`; once a stop is asked, give in-flight sends the grace period to
        finish, then cancel what is left (its claims go back to pending)."""
        stop: asyncio.Future[Any] = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait([main, stop], return_when=asyncio.FIRST_COMPLETED)
            if not main.done():
                grace = self.settings.shutdown_grace
                done, _ = await asyncio.wait({main}, timeout=grace)
                if not done:
                    log.warning("in-flight sends did not finish within %g s: stopping them", grace)
                    main.cancel()
                    await asyncio.gather(main, return_exceptions=True)
                    return
            main.result()  # a failure of the daemon itself is raised, not swallowed
        finally:
            stop.cancel()
            if not main.done():
                main.cancel()
                await asyncio.gather(main, return_exceptions=True)

    async def _run_scheduled(self) -> None:
        self._continuous = True
        alone = self._leader_channels()
        workers = [
            asyncio.ensure_future(worker.run(self._stop))
            for name, worker in self.workers.items()
            if name not in alone
        ]
        scheduler = AsyncIOScheduler(timezone=self.settings.timezone)
        scheduler.add_job(
            self._safe_step,
            "interval",
            seconds=self.settings.tick_seconds,
            id="tick",
            next_run_time=datetime.now(self.settings.tz),
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
        scheduler.start()
        try:
            # Counted in a thread while the first tick runs: at a million assignments the
            # count alone takes most of a second, and the first tick need not wait for it.
            await asyncio.to_thread(self._log_start, None)
            if self.late_web is not None:
                waits = [
                    asyncio.ensure_future(self._first_tick.wait()),
                    asyncio.ensure_future(self._stop.wait()),
                ]
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for wait in waits:
                    wait.cancel()
                await asyncio.gather(*waits, return_exceptions=True)
                if not self._stop.is_set():
                    self.late_web.build()
            await self._stop.wait()
            # Workers stop claiming and finish what they have in flight.
            await asyncio.gather(*workers)
        finally:
            scheduler.shutdown(wait=False)
            if self._catching_up is not None:
                self._catching_up.cancel()
                await asyncio.gather(self._catching_up, return_exceptions=True)
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self._continuous = False
            async with self._step_lock:  # let a tick in progress finish its writes
                pass

    def _log_start(self, simulate_until: datetime | None) -> None:
        summary = start_summary(
            engine=self.engine,
            settings=self.settings,
            config=self.config,
            channels=set(self.channels),
            now=self.clock.now(),
            simulate_until=simulate_until,
        )
        log.info("\n".join(summary.lines))
        for warning in summary.warnings:
            log.warning(warning)
