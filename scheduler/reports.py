"""Scheduled reports: the daemon asks which are due and queues them like any message.

Several daemons may share one PostgreSQL, and each asks at every tick. A report's rows
have unique keys, so it is never queued twice; on top of that each report run is claimed
(a row of its own in `daemonstate`, locked `FOR UPDATE SKIP LOCKED` for the transaction
that builds and queues it), so exactly one daemon builds its files, and a daemon that
dies half-way leaves no claim behind: its transaction, claim included, is rolled back.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dondoc.daemon_state import add_state, get_state
from dondoc.errors import UserError
from dondoc.models import DaemonState
from dondoc.reports.schedule import ReportJob, due_report_jobs, enqueue_report
from dondoc.store import session_scope
from rules.calendar import WorkCalendar
from rules.policy import RuleConfig

log = logging.getLogger("dondoc.reports")


def _first_run(engine: Engine, now: datetime) -> datetime:
    """When the daemon first ran on this store: older report moments are not caught up."""
    with session_scope(engine) as session:
        add_state(session, "first_run", {"at": now.isoformat()}, now=now)
        value = get_state(session, "first_run") or {"at": now.isoformat()}
        return datetime.fromisoformat(value["at"])


def claim_key(job: ReportJob) -> str:
    key = f"report-run:{job.key}"
    if len(key) <= 64:  # the column's width
        return key
    return "report-run:" + hashlib.sha256(job.key.encode()).hexdigest()[:48]


def _claim(session: Session, key: str) -> bool:
    """Lock the report run's claim row for this transaction; False while another daemon
    holds it (it is building that report now)."""
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: one daemon per store
    table = DaemonState.__table__  # type: ignore[attr-defined]
    found = session.execute(
        sa.select(table.c.key).where(table.c.key == key).with_for_update(skip_locked=True)
    ).first()
    return found is not None


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
        key = claim_key(job)
        with session_scope(engine) as session:  # committed at once: others can lock it
            add_state(session, key, {"job": job.key}, now=now)
        try:
            with session_scope(engine) as session:
                if not _claim(session, key):
                    log.info("report %s is being queued by another daemon", job.key)
                    continue
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
