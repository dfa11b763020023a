"""One delivery worker per channel: claim due rows in batches, send concurrently, record.

A worker drains its channel's due rows continuously, independent of the tick: email and
Telegram never wait for each other, and a chat at its flood limit is rescheduled rather
than slept on. Outcomes are written in bulk as sends complete, so a crash loses at most
the outcomes of the sends then in flight. A write that fails is kept and retried before
anything new is claimed; meanwhile the worker reports itself unhealthy, and the rows it
holds come back to others when its lease runs out.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dondoc.clock import Clock
from notifiers.base import Channel
from notifiers.render import Renderer
from rules.calendar import WorkCalendar
from scheduler.delivery import Recipients, Sender, channels_down
from scheduler.metrics import Metrics
from scheduler.outcomes import RowOutcome, Tally, record
from scheduler.queue import BATCH, LEASE, Group, backoff, claim, group_rows, release, release_claim

log = logging.getLogger("dondoc.delivery")

# Outcomes are written when this many have gathered, or this often: few transactions,
# and few duplicates after a kill -9.
FLUSH_ROWS = 100
FLUSH_SECONDS = 0.25
# A worker in the middle of a batch that has finished no send for this long is stuck:
# every send has its own timeout far shorter than this.
STUCK_AFTER = 300.0
# The part of its lease a batch may use for sending.
LEASE_USE = 0.8


@dataclass(frozen=True)
class _Batch:
    """Where the outcomes being gathered belong: the claim, its moment, its tally."""

    token: str
    now: datetime
    context: DeliveryContext
    tally: Tally


@dataclass(frozen=True)
class DeliveryContext:
    """What delivery needs from the current rule config (it may be reloaded any time)."""

    calendar: WorkCalendar
    renderer: Renderer
    digest: bool
    office_agency_id: int | None


class ChannelWorker:
    def __init__(
        self,
        *,
        channel: Channel,
        engine: Engine,
        clock: Clock,
        context: Callable[[], DeliveryContext],
        metrics: Metrics,
        owner: str,
        batch: int = BATCH,
        lease: timedelta = LEASE,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self.name = channel.name
        self.engine = engine
        self.clock = clock
        self.context = context
        self.metrics = metrics
        self.owner = owner  # prefix of every claim token: the daemon's rows, at shutdown
        self.batch = batch
        self.lease = lease
        self.rng = rng or random.Random()
        self._monotonic = monotonic
        self._unwritten: list[RowOutcome] = []
        self._batch: _Batch | None = None
        self._last_flush = 0.0
        self.busy_since: float | None = None
        self._claimed_at = monotonic()
        self.last_progress = monotonic()
        self.write_error: str | None = None
        self.wake = asyncio.Event()

    # --- health ------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        now = self._monotonic()
        stuck = self.busy_since is not None and now - self.last_progress > STUCK_AFTER
        ok = not stuck and self.write_error is None
        return {
            "ok": ok,
            "busy": self.busy_since is not None,
            "seconds_since_progress": round(now - self.last_progress, 1),
            "error": self.write_error or ("không tiến triển (stuck)" if stuck else None),
        }

    # --- running -----------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, *, poll: float = 1.0) -> None:
        """Drain whenever woken (after a tick) or every `poll` seconds, until `stop`."""
        while not stop.is_set():
            try:
                await self.drain(stop.is_set)
            except Exception as exc:  # one bad batch must not end delivery on this channel
                log.exception("delivery on %s failed", self.name)
                self.write_error = str(exc) or type(exc).__name__
            self.wake.clear()
            waits = [asyncio.ensure_future(e.wait()) for e in (stop, self.wake)]
            try:
                await asyncio.wait(waits, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waits:
                    waiter.cancel()

    async def drain(self, should_stop: Callable[[], bool]) -> Tally:
        """Send every row of this channel that is due now; stop claiming on `should_stop`."""
        tally = Tally()
        opened = False
        try:
            while not should_stop() and self._flush(force=True):
                context = self.context()
                now = self.clock.now()
                if context.calendar.next_working_time(now) != now:
                    break  # rows wait; the next event is the next office opening
                token = f"{self.owner}:{uuid.uuid4().hex}"
                self._claimed_at = self._monotonic()  # the lease runs from here, not later
                rows = claim(
                    self.engine,
                    now=now,
                    channel=self.name,
                    limit=self.batch,
                    lease=self.lease,
                    token=token,
                )
                if not rows:
                    break
                if not opened:
                    await self.channel.open()
                    opened = True
                down = await self._deliver(rows, token, context, now, should_stop, tally)
                if down or len(rows) < self.batch:
                    break
        finally:
            if opened:
                await self.channel.close()
        return tally

    async def _deliver(
        self,
        rows: list[Any],
        token: str,
        context: DeliveryContext,
        now: datetime,
        should_stop: Callable[[], bool],
        tally: Tally,
    ) -> bool:
        """Send one claimed batch; True when the channel looks down."""
        groups = group_rows(rows, digest=context.digest)
        recipients = Recipients.load(self.engine, (g.agency_id for g in groups), rows)
        sender = Sender(renderer=context.renderer, calendar=context.calendar)
        self.busy_since = self._monotonic()
        self._batch = _Batch(token, now, context, tally)
        try:
            # The first message alone: a channel that is down costs one try, not a batch.
            first = await sender.send(self.channel, groups[0], recipients, now)
            self._collect(first)
            error = channels_down(first)
            if error is not None:
                self._flush(force=True)
                self._postpone(groups[1:], token, now, context, error.retry_after)
                tally.retried += sum(len(g.rows) for g in groups[1:])
                return True
            slots = asyncio.Semaphore(max(1, self.channel.concurrency))

            # Fencing: past most of the lease another worker may take these rows, so
            # what is not sent by then is given back rather than sent twice.
            fence = self._claimed_at + self.lease.total_seconds() * LEASE_USE

            async def one(group: Group) -> None:
                async with slots:
                    if should_stop() or self._monotonic() > fence:
                        return  # released unsent below, uncharged
                    outcomes = await sender.send(self.channel, group, recipients, now)
                    self._collect(outcomes)

            await asyncio.gather(*(one(g) for g in groups[1:]))
            return False
        finally:
            self._flush(force=True)
            self.busy_since = None
            if not self._unwritten:
                tally.interrupted += release_claim(self.engine, token)

    def _collect(self, outcomes: list[RowOutcome]) -> None:
        self._unwritten.extend(outcomes)
        self.last_progress = self._monotonic()
        self._flush(force=False)

    def _flush(self, *, force: bool) -> bool:
        """Write the gathered outcomes; False while the store refuses them."""
        batch = self._batch
        if not self._unwritten or batch is None:
            return True
        due = len(self._unwritten) >= FLUSH_ROWS
        if not (force or due or self._monotonic() - self._last_flush >= FLUSH_SECONDS):
            return True
        context = batch.context
        try:
            written = record(
                self.engine,
                self._unwritten,
                token=batch.token,
                now=batch.now,
                calendar=context.calendar,
                metrics=self.metrics,
                office_agency_id=context.office_agency_id,
                rng=self.rng,
            )
        except sa.exc.SQLAlchemyError as exc:
            # Kept for the next try: the sends happened and must not be repeated.
            self.write_error = f"không ghi được kết quả gửi: {exc.__class__.__name__}"
            log.error("recording %d outcomes failed: %s", len(self._unwritten), exc)
            return False
        self._unwritten = []
        self._last_flush = self._monotonic()
        self.write_error = None
        batch.tally.add(written)
        return True

    def _postpone(
        self,
        groups: list[Group],
        token: str,
        now: datetime,
        context: DeliveryContext,
        retry_after: float | None,
    ) -> None:
        """Put groups back for a later try without counting an attempt against them."""
        ids = [row.id or 0 for group in groups for row in group.rows]
        later = context.calendar.next_working_time(now + backoff(1, retry_after, self.rng))
        release(self.engine, ids, token=token, next_attempt_at=later)
