"""One step of the daemon: reload config if changed → tick → reports → publish, while a
delivery worker per channel drains the outbox (scheduler/workers.py).

Apart from how steps are run (scheduler/daemon.py: the wall clock, signals, the bot, the
HTTP side; scheduler/simulate.py: the virtual clock) because a step is the same whoever
calls it; the running side builds on this module, never the other way round. On the wall
clock the workers run on their own and a step only wakes them; on the virtual clock each
step drains them, since time stands still until the step ends.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from config.errors import ConfigError
from config.rules_loader import load_rule_config
from config.settings import Settings
from dondoc.clock import Clock
from dondoc.daemon_state import Presence, publish_presence, stale_after
from dondoc.directory import default_office
from dondoc.models import Agency, Assignment, OutboxMessage
from dondoc.outbox import prune_sent
from dondoc.store import session_scope
from dondoc.webhooks import CHANNEL as WEBHOOK
from dondoc.webhooks_dispatch import RoundTheClock, dispatch
from notifiers.base import Channel
from notifiers.render import Renderer
from rules.policy import RuleConfig
from scheduler import reevaluation
from scheduler.metrics import Metrics
from scheduler.outcomes import Tally
from scheduler.queue import fail_unconfigured
from scheduler.reports import enqueue_due_reports, next_report_time
from scheduler.tick import TickResult, run_tick
from scheduler.workers import ChannelWorker, DeliveryContext

log = logging.getLogger("dondoc.daemon")


@dataclass
class StepResult:
    at: datetime
    tick: TickResult
    sent: int
    retried: int
    failed: int


class Stepper:
    """The state a step needs and the step itself; `Daemon` adds the running of it."""

    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        clock: Clock,
        channels: Mapping[str, Channel],
        renderer: Renderer,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.channels = channels
        self.renderer = renderer
        self.metrics = metrics or Metrics()
        self.rules_path = settings.rules_path
        self.config = self._load_config()  # an invalid config at start-up is the user's to fix
        self._config_digest = self._digest()
        # Set by a stop request: a drain under way stops claiming at once.
        self._stop = asyncio.Event()
        self._step_lock = asyncio.Lock()
        self.last_good_tick: datetime | None = None
        self.last_error: str | None = None
        self.started_at = clock.now()
        # Every claim this process makes starts with this: its rows, whatever happens.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}:"
        # This daemon's row for `dondoc status`, one per daemon on a shared store.
        self.presence = Presence(
            instance=self.owner.rstrip(":"),
            host=socket.gethostname(),
            pid=os.getpid(),
            started_at=self.started_at,
            stale_after=stale_after(settings.tick_seconds),
        )
        self.last_tick_at: datetime | None = None
        self.last_tick_seconds: float | None = None
        self.outbox_depth: int | None = None
        self._office: tuple[int | None] | None = None
        self._continuous = False  # True while workers run on their own (the wall clock)
        # How long a claim on outbox rows lasts: a dead daemon's rows come back after it.
        self.lease = timedelta(seconds=settings.delivery_lease)
        self.workers = {
            name: ChannelWorker(
                channel=channel,
                engine=engine,
                clock=clock,
                context=self._webhook_context if name == WEBHOOK else self._delivery_context,
                metrics=self.metrics,
                owner=self.owner,
                lease=self.lease,
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
        return reevaluation.rules_digest(self.rules_path)

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
        version = reevaluation.rules_version(self._config_digest)
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
                telegram_link=self._telegram_link(),
            )
            if WEBHOOK in self.channels:
                dispatch(self.engine, now=now)
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

    def _telegram_link(self) -> str | None:
        if self.settings.telegram.token is None:
            return None
        # Imported only with a bot: python-telegram-bot takes a part of a second to load.
        from notifiers.telegram import chat_link

        return chat_link(self.settings.telegram)

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

    def _webhook_context(self) -> DeliveryContext:
        return replace(self._delivery_context(), calendar=RoundTheClock(self.config.timezone))

    def _office_id(self, *, refresh: bool = False) -> int | None:
        if self._office is None or refresh:
            with session_scope(self.engine) as session:
                office = default_office(session)
                self._office = (office.id if office else None,)
        return self._office[0]

    def _publish(self, now: datetime, seconds: float) -> None:
        self.last_tick_at, self.last_tick_seconds = now, round(seconds, 4)
        with session_scope(self.engine) as session:
            depth = session.exec(
                select(func.count()).where(col(OutboxMessage.status).in_(["pending", "sending"]))
            ).one()
            self.metrics.outbox_depth.set(depth)
            self.outbox_depth = depth
            # This daemon's own row: several daemons on PostgreSQL each have one.
            publish_presence(session, self.presence, self.presence_detail())

    def presence_detail(self) -> dict[str, Any]:
        """What `dondoc status` shows of this daemon (JSON); `Daemon` adds its workers."""
        good, last = self.last_good_tick, self.last_tick_at
        return {
            "last_good_tick": good.isoformat() if good is not None else None,
            "last_tick_at": last.isoformat() if last is not None else None,
            "last_tick_seconds": self.last_tick_seconds,
            "outbox_depth": self.outbox_depth,
            "config_error": self.last_error,
        }

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

    def request_stop(self) -> None:
        self._stop.set()

    def stop_requested(self) -> bool:
        """For loops outside this class (the simulation), which must not set the event."""
        return self._stop.is_set()
