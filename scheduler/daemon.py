"""`dondoc run`: one step = reload config if changed → tick → reports → publish, while a
delivery worker per channel drains the outbox (scheduler/workers.py).

The same `step()` runs under APScheduler on the wall clock, and under `--simulate` on a
virtual clock that jumps from one due moment to the next, so the demo and the tests drive
the real daemon rather than a stand-in. On the wall clock the workers run on their own
and a step only wakes them; on the virtual clock each step drains them, since time
stands still until the step ends.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from config.errors import ConfigError
from config.rules_loader import load_rule_config
from config.settings import Settings
from dondoc.clock import Clock, ManualClock
from dondoc.directory import default_office
from dondoc.models import Agency, Assignment, DaemonState, OutboxMessage
from dondoc.outbox import prune_sent
from dondoc.store import session_scope
from notifiers.base import Channel, ChannelError
from notifiers.render import Renderer
from notifiers.telegram import chat_link
from rules.policy import RuleConfig
from scheduler import reevaluation
from scheduler.http import ASGIApp, HttpServer, build_http_app
from scheduler.lock import StoreLock
from scheduler.metrics import Metrics
from scheduler.outcomes import Tally
from scheduler.queue import fail_unconfigured, release_claim, release_stale
from scheduler.reports import enqueue_due_reports, next_report_time
from scheduler.summary import simulation_summary, start_summary
from scheduler.tick import TickResult, run_tick
from scheduler.workers import ChannelWorker, DeliveryContext

log = logging.getLogger("dondoc.daemon")


# A bot that could not start is tried again after this, then twice as long each time.
BOT_RETRY_FIRST = 15.0
BOT_RETRY_MAX = 600.0


def _dondoc_version() -> str:
    try:
        return importlib.metadata.version("dondoc")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class Bot(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass
class StepResult:
    at: datetime
    tick: TickResult
    sent: int
    retried: int
    failed: int


class Daemon:
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
    ) -> None:
        # The office's pages, served on the health port for every path but /healthz and
        # /metrics; built by the composition root, so the daemon knows nothing of them.
        self.web_app = web_app
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.channels = channels
        self.renderer = renderer
        self.bot = bot
        self.metrics = metrics or Metrics()
        self.rules_path = settings.rules_path
        self.config = self._load_config()  # an invalid config at start-up is the user's to fix
        self._config_digest = self._digest()
        self._stop = asyncio.Event()
        self._step_lock = asyncio.Lock()
        self.last_good_tick: datetime | None = None
        self.last_error: str | None = None
        self.started_at = clock.now()
        # Every claim this process makes starts with this: its rows, whatever happens.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}:"
        self._office: tuple[int | None] | None = None
        self._continuous = False  # True while workers run on their own (the wall clock)
        self._catching_up: asyncio.Future[None] | None = None
        self.bot_error: str | None = None
        self._bot_retry: asyncio.Future[None] | None = None
        self.workers = {
            name: ChannelWorker(
                channel=channel,
                engine=engine,
                clock=clock,
                context=self._delivery_context,
                metrics=self.metrics,
                owner=self.owner,
            )
            for name, channel in channels.items()
        }

    # --- configuration ----------------------------------------------------------------

    def _load_config(self) -> RuleConfig:
        with session_scope(self.engine) as session:
            agencies = set(session.exec(select(Agency.code)).all())
        return load_rule_config(
            self.rules_path, agencies=agencies, templates=self.renderer.available()
        )

    def _digest(self) -> str:
        try:
            return hashlib.sha256(Path(self.rules_path).read_bytes()).hexdigest()
        except OSError:
            return ""

    def maybe_reload(self, now: datetime) -> bool:
        """Apply an edited rule config if it is valid; otherwise keep the last good one."""
        digest = self._digest()
        if digest == self._config_digest:
            return False
        self._config_digest = digest
        try:
            config = self._load_config()
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("config rejected, the previous rules stay in force: %s", problem)
            self.last_error = exc.problems[0] if exc.problems else str(exc)
            return False
        self.config = config
        self.last_error = None  # /healthz and `dondoc status` stop reporting the fixed error
        self._reevaluate_all(now)
        log.info("config reloaded from %s", self.rules_path)
        return True

    def _reevaluate_all(self, now: datetime) -> None:
        """Evaluate every active assignment again, in batches, when the rules in force are
        not those its `next_due_at` was computed under (an edit, an upgrade, a first run);
        a start under unchanged rules evaluates only what is due."""
        version = f"{self._config_digest}:{_dondoc_version()}"
        if reevaluation.require(self.engine, version=version, now=now):
            log.info("the rules changed: every assignment is evaluated again, in batches")

    # --- one step ---------------------------------------------------------------------

    async def step(self) -> StepResult:
        async with self._step_lock:
            started = time.perf_counter()
            now = self.clock.now()
            self.maybe_reload(now)
            # On the wall clock one batch a step (more steps follow at once, see
            # _catch_up); on the virtual clock time waits, so all of it now.
            while reevaluation.advance(self.engine, now=now) and not self._continuous:
                pass
            calendar = self.config.calendar()
            tick = run_tick(
                self.engine,
                config=self.config,
                calendar=calendar,
                now=now,
                channels=set(self.channels),
                telegram_link=chat_link(self.settings.telegram),
            )
            office = self._office_id(refresh=True)
            enqueue_due_reports(
                self.engine,
                config=self.config,
                calendar=calendar,
                now=now,
                data_dir=self.settings.data_dir,
                office_agency_id=office,
            )
            fail_unconfigured(self.engine, channels=list(self.workers), now=now)
            delivered = await self._deliver()
            with session_scope(self.engine) as session:  # a batch a step: never a long stall
                prune_sent(session, before=now - timedelta(days=self.settings.retention))
            self._publish(now, time.perf_counter() - started)
            # Stamped only after the last write: a store that refuses writes turns health red.
            self.metrics.tick_seconds.observe(time.perf_counter() - started)
            self.metrics.last_good_tick.set(time.time())
            self.last_good_tick = now
            return StepResult(now, tick, delivered.sent, delivered.retried, delivered.failed)

    async def _deliver(self) -> Tally:
        """On the virtual clock, drain every channel now; on the wall clock, wake them."""
        tally = Tally()
        if self._continuous:
            for worker in self.workers.values():
                worker.wake.set()
            return tally
        drains = [w.drain(self._stop.is_set) for w in self.workers.values()]
        for result in await asyncio.gather(*drains):
            tally.add(result)
        return tally

    def _delivery_context(self) -> DeliveryContext:
        return DeliveryContext(
            calendar=self.config.calendar(),
            renderer=self.renderer,
            digest=self.config.digest,
            office_agency_id=self._office_id(),
        )

    def _office_id(self, *, refresh: bool = False) -> int | None:
        if self._office is None or refresh:
            with session_scope(self.engine) as session:
                office = default_office(session)
                self._office = (office.id if office else None,)
        return self._office[0]

    def _publish(self, now: datetime, seconds: float) -> None:
        with session_scope(self.engine) as session:
            depth = session.exec(
                select(func.count()).where(col(OutboxMessage.status).in_(["pending", "sending"]))
            ).one()
            self.metrics.outbox_depth.set(depth)
            state = session.get(DaemonState, "daemon") or DaemonState(key="daemon")
            state.value = {
                "pid": os.getpid(),
                "started_at": self.started_at.isoformat(),
                "last_tick_at": now.isoformat(),
                "last_tick_seconds": round(seconds, 4),
                "outbox_depth": depth,
                "config_error": self.last_error,
            }
            state.updated_at = now
            session.add(state)

    def next_event(self, now: datetime) -> datetime | None:
        """The earliest moment anything can happen: due evaluations, retries, office hours."""
        with session_scope(self.engine) as session:
            due = session.exec(
                select(func.min(Assignment.next_due_at)).where(col(Assignment.active))
            ).one()
            retry = session.exec(
                select(func.min(OutboxMessage.next_attempt_at)).where(
                    OutboxMessage.status == "pending"
                )
            ).one()
        calendar = self.config.calendar()
        candidates = [max(due, now)] if due is not None else []
        if retry is not None:
            # Rows that wait for office hours are due at the next opening, not before.
            candidates.append(calendar.next_working_time(max(retry, now)))
        report = next_report_time(config=self.config, calendar=calendar, now=now)
        if report is not None:
            candidates.append(report)
        return min(candidates) if candidates else None

    # --- running ----------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stop.set()

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
        bot = {"ok": self.bot_error is None, "error": self.bot_error}
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
            },
            "channels": channels,
            # Kept at the top level for probes written against earlier versions.
            "last_good_tick": self.last_good_tick,
            "config_error": self.last_error,
        }

    async def _safe_step(self) -> None:
        try:
            await self.step()
        except Exception:  # one bad tick must not kill the daemon; /healthz turns red
            log.exception("tick failed")
            return
        idle = self._catching_up is None or self._catching_up.done()
        if idle and self._continuous and reevaluation.pending(self.engine):
            self._catching_up = asyncio.ensure_future(self._catch_up())

    async def _catch_up(self) -> None:
        """Steps back to back while a re-evaluation is under way, each one batch; the
        pause between them lets the delivery workers and the HTTP side run."""
        while not self._stop.is_set() and reevaluation.pending(self.engine):
            await asyncio.sleep(0.05)
            try:
                await self.step()
            except Exception:
                log.exception("tick failed")
                return

    async def run(self, *, simulate_until: datetime | None = None, speed: float = 0.0) -> None:
        lock = StoreLock(self.engine)
        lock.acquire()
        server: HttpServer | None = None
        try:
            # First, so that a port in use stops the start before anything is done.
            # A rehearsal on a virtual clock has no health to probe, and must run next to
            # the real daemon, whose port it would find taken.
            if self.settings.http_port and simulate_until is None:
                app = build_http_app(
                    health=self.health, metrics=self.metrics, mount=self.web_app
                )
                server = HttpServer(
                    app=app, host=self.settings.http_host, port=self.settings.http_port
                ).start()
            self._reevaluate_all(self.clock.now())
            # Under the lock no other daemon holds rows: a crash's leftovers come back now
            # rather than when their lease runs out.
            released = release_stale(self.engine)
            if released:
                log.warning(
                    "%d messages left in 'sending' by a previous run will be retried", released
                )
            self._install_signals()
            if self.bot is not None:
                await self._start_bot()
            self._log_start(simulate_until)
            if simulate_until is not None:
                main = self._simulate(simulate_until, speed)
            else:
                main = self._run_scheduled()
            await self._until_stopped(asyncio.ensure_future(main))
        finally:
            try:
                returned = release_claim(self.engine, self.owner)
                if returned:
                    log.warning("%d claimed messages were returned unsent", returned)
            finally:
                if self._bot_retry is not None:
                    self._bot_retry.cancel()
                    await asyncio.gather(self._bot_retry, return_exceptions=True)
                if self.bot is not None:
                    await self.bot.stop()
                if server is not None:
                    server.stop()
                lock.release()

    async def _start_bot(self) -> None:
        """A bot that cannot start (Bot API down, wrong token) is reported and retried in
        the background: email and the rest of the daemon go on without it."""
        if self.bot is None:
            return
        try:
            await self.bot.start()
        except ChannelError as exc:
            self.bot_error = exc.message
            log.error("%s; retrying in the background", exc.message)
            self._bot_retry = asyncio.ensure_future(self._retry_bot())
            return
        self.bot_error = None

    async def _retry_bot(self, first: float = BOT_RETRY_FIRST) -> None:
        delay = first
        while self.bot is not None and not self._stop.is_set():
            await asyncio.sleep(delay)
            try:
                await self.bot.start()
            except ChannelError as exc:
                self.bot_error = exc.message
                delay = min(delay * 2, BOT_RETRY_MAX)
                continue
            self.bot_error = None
            log.info("the Telegram bot has started")
            return

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
        workers = [
            asyncio.ensure_future(worker.run(self._stop)) for worker in self.workers.values()
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

    def _warn_if_assigned_later(self, start: datetime) -> None:
        with session_scope(self.engine) as session:
            first = session.exec(
                select(func.min(Assignment.created_at)).where(col(Assignment.active))
            ).one()
        if first is not None and first > start:
            log.warning(
                "the plan was imported at %s, after the simulation start: nothing is owed "
                "before an agency was assigned. Import it as of the start instead: "
                "dondoc --now %s plan import FILE",
                first.isoformat(),
                start.date().isoformat(),
            )

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

    async def _simulate(self, until: datetime, speed: float) -> None:
        clock = self.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("--simulate needs a ManualClock")
        start = clock.now()
        try:
            await self._simulate_steps(clock, until, speed)
        finally:
            lines = simulation_summary(
                engine=self.engine, start=start, until=until, tz=self.settings.tz
            )
            log.info("\n".join(lines))

    async def _simulate_steps(self, clock: ManualClock, until: datetime, speed: float) -> None:
        self._warn_if_assigned_later(clock.now())
        max_jump = timedelta(days=1)
        while not self._stop.is_set() and clock.now() <= until:
            await self.step()
            now = clock.now()
            following = self.next_event(now)
            target = min(following or now + max_jump, now + max_jump, until + timedelta(seconds=1))
            target = max(target, now + timedelta(seconds=self.settings.tick_seconds))
            if speed > 0:
                await asyncio.sleep((target - now).total_seconds() / speed)
            else:
                await asyncio.sleep(0)
            clock.set(target)
