"""Scheduled reports: the daemon asks which are due and queues them like any message."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from dondoc.errors import UserError
from dondoc.models import DaemonState
from dondoc.reports.schedule import due_report_jobs, enqueue_report
from dondoc.store import session_scope
from rules.calendar import WorkCalendar
from rules.policy import RuleConfig

log = logging.getLogger("dondoc.reports")


def _first_run(engine: Engine, now: datetime) -> datetime:
    """When the daemon first ran on this store: older report moments are not caught up."""
    with session_scope(engine) as session:
        state = session.get(DaemonState, "first_run")
        if state is None:
            state = DaemonState(key="first_run", value={"at": now.isoformat()}, updated_at=now)
            session.add(state)
        return datetime.fromisoformat(state.value["at"])


def enqueue_due_reports(
    engine: Engine,
    *,
    config: RuleConfig,
    calendar: WorkCalendar,
    now: datetime,
    data_dir: Path,
    office_agency_id: int | None,
) -> int:
    schedule = config.reports
    if not (schedule.late_list or schedule.quarter_report):
        return 0
    tz = ZoneInfo(config.timezone)
    jobs = due_report_jobs(schedule=schedule, now=now, tz=tz, since=_first_run(engine, now))
    added = 0
    for job in jobs:
        try:
            with session_scope(engine) as session:
                added += enqueue_report(
                    session,
                    job=job,
                    data_dir=data_dir,
                    now=now,
                    tz=tz,
                    office_agency_id=office_agency_id,
                    milestone_for=config.milestone_for,
                )
        except UserError as exc:  # e.g. no office in the directory: visible in status
            log.error("report %s not queued: %s", job.key, exc.message)
    return added


def next_report_time(
    *, config: RuleConfig, calendar: WorkCalendar, now: datetime
) -> datetime | None:
    """The next scheduled report moment after `now` (the simulator jumps there)."""
    schedule = config.reports
    if not (schedule.late_list or schedule.quarter_report):
        return None
    tz = ZoneInfo(config.timezone)
    current = {job.key for job in due_report_jobs(schedule=schedule, now=now, tz=tz)}
    # Reports are at most monthly: probe day by day for the first new job key.
    for days in range(1, 93):
        probe = now + timedelta(days=days)
        for job in due_report_jobs(schedule=schedule, now=probe, tz=tz):
            if job.key not in current:
                return max(job.scheduled_at, now)
    return None
