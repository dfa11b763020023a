"""`dondoc run --simulate`: steps on a virtual clock that jumps from one due moment to
the next, so a rehearsal of weeks runs in seconds through the real step.

Apart from the daemon (scheduler/daemon.py) because nothing of the wall-clock running
(APScheduler, the bot's retries, the HTTP side) takes part in it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlmodel import col, func, select

from dondoc.clock import ManualClock
from dondoc.models import Assignment
from dondoc.store import session_scope
from scheduler.step import Stepper
from scheduler.summary import simulation_summary

# The daemon's logger: operators filter on it, and a rehearsal is the daemon running.
log = logging.getLogger("dondoc.daemon")


async def simulate(stepper: Stepper, *, until: datetime, speed: float) -> None:
    """Step until `until` (virtual time), `speed` times faster than real time, or as fast
    as possible when 0; a summary is logged however the run ends."""
    clock = stepper.clock
    if not isinstance(clock, ManualClock):
        raise TypeError("--simulate needs a ManualClock")
    start = clock.now()
    try:
        await _simulate_steps(stepper, clock, until, speed)
    finally:
        lines = simulation_summary(
            engine=stepper.engine, start=start, until=until, tz=stepper.settings.tz
        )
        log.info("\n".join(lines))


async def _simulate_steps(
    stepper: Stepper, clock: ManualClock, until: datetime, speed: float
) -> None:
    _warn_if_assigned_later(stepper, clock.now())
    max_jump = timedelta(days=1)
    while not stepper.stop_requested() and clock.now() <= until:
        await stepper.step()
        now = clock.now()
        following = stepper.next_event(now)
        target = min(following or now + max_jump, now + max_jump, until + timedelta(seconds=1))
        target = max(target, now + timedelta(seconds=stepper.settings.tick_seconds))
        if speed > 0:
            await asyncio.sleep((target - now).total_seconds() / speed)
        else:
            await asyncio.sleep(0)
        clock.set(target)


def _warn_if_assigned_later(stepper: Stepper, start: datetime) -> None:
    with session_scope(stepper.engine) as session:
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
