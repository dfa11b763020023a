"""`dondoc run`: one step = reload config if changed → tick → deliver → reports → publish.

The same `step()` runs under APScheduler on the wall clock, and under `--simulate` on a
virtual clock that jumps from one due moment to the next, so the demo and the tests drive
the real daemon rather than a stand-in.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
import time
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
from dondoc.store import session_scope
from notifiers.base import Channel
from notifiers.render import Renderer
from notifiers.telegram import chat_link
from rules.policy import RuleConfig
from scheduler.delivery import Deliverer
from scheduler.lock import StoreLock
from scheduler.metrics import HealthServer, Metrics
from scheduler.queue import release_stale
from scheduler.reports import enqueue_due_reports, next_report_time
from scheduler.summary import simulation_summary, start_summary
from scheduler.tick import TickResult, run_tick

log = logging.getLogger("dondoc.daemon")


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
    ) -> None:
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
        """Evaluate every active assignment at the next tick: after an edit of the rules,
        and at start-up (the rules or the clock may have changed while we were down)."""
        table = Assignment.__table__  # type: ignore[attr-defined]
        with session_scope(self.engine) as session:
            session.execute(table.update().where(table.c.active.is_(True)).values(next_due_at=now))

    # --- one step ---------------------------------------------------------------------

    async def step(self) -> StepResult:
        async with self._step_lock:
            started = time.perf_counter()
            now = self.clock.now()
            self.maybe_reload(now)
            calendar = self.config.calendar()
            tick = run_tick(
                self.engine,
                config=self.config,
                calendar=calendar,
                now=now,
                channels=set(self.channels),
                telegram_link=chat_link(self.settings.telegram),
            )
            office = self._office_id()
            enqueue_due_reports(
                self.engine,
                config=self.config,
                calendar=calendar,
                now=now,
                data_dir=self.settings.data_dir,
                office_agency_id=office,
            )
            deliverer = Deliverer(
                engine=self.engine,
                channels=self.channels,
                renderer=self.renderer,
                calendar=calendar,
                metrics=self.metrics,
                office_agency_id=office,
                digest=self.config.digest,
            )
            delivered = await deliverer.deliver(now=now, should_stop=self._stop.is_set)
            self.metrics.tick_seconds.observe(time.perf_counter() - started)
            self.metrics.last_good_tick.set(time.time())
            self.last_good_tick = now
            self._publish(now, time.perf_counter() - started)
            return StepResult(now, tick, delivered.sent, delivered.retried, delivered.failed)

    def _office_id(self) -> int | None:
        with session_scope(self.engine) as session:
            office = default_office(session)
            return office.id if office else None

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
        now = self.clock.now()
        limit = timedelta(seconds=max(3 * self.settings.tick_seconds, 180))
        ok = self.last_good_tick is not None and now - self.last_good_tick <= limit
        return {"ok": ok, "last_good_tick": self.last_good_tick, "config_error": self.last_error}

    async def _safe_step(self) -> None:
        try:
            await self.step()
        except Exception:  # one bad tick must not kill the daemon; /healthz turns red
            log.exception("tick failed")

    async def run(self, *, simulate_until: datetime | None = None, speed: float = 0.0) -> None:
        lock = StoreLock(self.engine)
        lock.acquire()
        server: HealthServer | None = None
        try:
            self._reevaluate_all(self.clock.now())
            released = release_stale(self.engine)
            if released:
                log.warning(
                    "%d messages left in 'sending' by a previous run will be retried", released
                )
            self._install_signals()
            if self.settings.http_port:
                server = HealthServer(
                    host=self.settings.http_host,
                    port=self.settings.http_port,
                    metrics=self.metrics,
                    health=self.health,
                )
                server.start()
            if self.bot is not None:
                await self.bot.start()
            self._log_start(simulate_until)
            if simulate_until is not None:
                await self._simulate(simulate_until, speed)
            else:
                await self._run_scheduled()
        finally:
            if self.bot is not None:
                await self.bot.stop()
            if server is not None:
                server.stop()
            lock.release()

    async def _run_scheduled(self) -> None:
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
        finally:
            scheduler.shutdown(wait=False)
            async with self._step_lock:  # let the in-flight step finish its sends
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
