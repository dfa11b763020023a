"""Scheduled reports: which are due, and putting them in the outbox with their files.

The daemon asks `due_report_jobs` at every tick and hands each job to `enqueue_report`.
A job's key names its report and period ("report:late:2023-03"), so asking again the
same month is a no-op: the outbox already holds the rows, and the files are not rebuilt.
Only the latest scheduled moment is due; after downtime, one report per kind is caught
up, never a backlog of stale ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any, Literal

from sqlmodel import Session, col, func, select

from dondoc.errors import UserError
from dondoc.models import Agency, Assignment, OutboxMessage, Plan, Task
from dondoc.outbox import enqueue
from dondoc.reports.files import write_atomic
from dondoc.reports.late import build_late_report
from dondoc.reports.periods import Period, month_of, quarter_of
from dondoc.reports.quarter import build_quarter_report
from dondoc.reports.render_html import render_late_html, render_quarter_html
from dondoc.reports.tables import late_csv, quarter_csv
from rules.policy import ReportSchedule

TEMPLATES = {"late": "late_report", "quarter": "quarter_report"}
FILE_STEMS = {"late": "danh-sach-cham-muon", "quarter": "bao-cao-quy"}


@dataclass(frozen=True)
class ReportJob:
    kind: Literal["late", "quarter"]
    period: Period
    scheduled_at: datetime
    to: tuple[str, ...]
    channels: tuple[str, ...]
    plan: str | None = None

    @property
    def key(self) -> str:
        plan = f":{self.plan}" if self.plan else ""
        return f"report:{self.kind}:{self.period.key}{plan}"


def _moment(day: date, at: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def due_report_jobs(
    *, schedule: ReportSchedule, now: datetime, tz: tzinfo, since: datetime | None = None
) -> list[ReportJob]:
    """The reports whose latest scheduled moment has come by `now`.

    The late list of month M is due on `late_list_day` of month M+1; the quarterly
    report on `quarter_report_day` of the quarter's last month. A moment before `since`
    (when the daemon first ran on this store) is not due, so a new installation does not
    open with last month's report.
    """
    local = now.astimezone(tz)
    today = local.date()
    jobs: list[ReportJob] = []
    common: dict[str, Any] = {
        "to": tuple(schedule.to),
        "channels": tuple(schedule.channels),
        "plan": schedule.plan,
    }
    if schedule.late_list:
        this_month = month_of(today)
        moment = _moment(
            this_month.start.replace(day=schedule.late_list_day), schedule.late_list_time, tz
        )
        if moment > local:
            this_month = this_month.previous()
            moment = _moment(
                this_month.start.replace(day=schedule.late_list_day), schedule.late_list_time, tz
            )
        jobs.append(ReportJob("late", this_month.previous(), moment, **common))
    if schedule.quarter_report:
        quarter = quarter_of(today)
        moment = _moment(
            quarter.last_month_start.replace(day=schedule.quarter_report_day),
            schedule.quarter_report_time,
            tz,
        )
        if moment > local:
            quarter = quarter.previous()
            moment = _moment(
                quarter.last_month_start.replace(day=schedule.quarter_report_day),
                schedule.quarter_report_time,
                tz,
            )
        jobs.append(ReportJob("quarter", quarter, moment, **common))
    return [job for job in jobs if since is None or job.scheduled_at >= since]


def _recipients(session: Session, job: ReportJob, office_agency_id: int | None) -> list[Agency]:
    agencies: list[Agency] = []
    for name in job.to:
        if name == "office":
            agency = session.get(Agency, office_agency_id) if office_agency_id else None
            if agency is None:
                raise UserError(
                    f"Báo cáo {job.key}: không xác định được Văn phòng (cơ quan 'office') "
                    "để gửi; hãy khai báo cơ quan loại office trong danh bạ."
                )
        else:
            agency = session.exec(select(Agency).where(Agency.code == name)).first()
            if agency is None:
                raise UserError(f"Báo cáo {job.key}: không có cơ quan '{name}' trong danh bạ.")
        if agency not in agencies:
            agencies.append(agency)
    return agencies


def _tracked_during(session: Session, job: ReportJob, tz: tzinfo) -> bool:
    """Whether anything was tracked by the period's end: a list of late agencies for a
    month before the plan was imported would be an empty report the office must read."""
    query = select(func.min(Assignment.created_at), func.count()).join(
        Task, col(Task.id) == Assignment.task_id
    )
    if job.plan is not None:
        query = query.join(Plan, col(Plan.id) == Task.plan_id).where(Plan.code == job.plan)
    first, count = session.exec(query).one()
    if first is None:
        return count > 0  # rows older than `created_at` itself: nothing to go by
    return _aware(first).astimezone(tz).date() <= job.period.end


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive UTC timestamps.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _row_key(job: ReportJob, agency: Agency, channel: str) -> str:
    return f"{job.key}:{agency.code}:{channel}"


def enqueue_report(
    session: Session,
    *,
    job: ReportJob,
    data_dir: Path,
    now: datetime,
    office_agency_id: int | None,
    tz: tzinfo | None = None,
    milestone_for: Callable[[str], date | None] | None = None,
) -> int:
    """Build the job's HTML and CSV under data_dir/reports/ and queue one email per
    recipient; returns how many outbox rows were added (0 when all were already there).
    """
    zone = tz or job.scheduled_at.tzinfo
    if zone is None:
        raise ValueError("a report job needs a time zone: pass tz or an aware scheduled_at")
    if not _tracked_during(session, job, zone):
        return 0
    recipients = _recipients(session, job, office_agency_id)
    wanted = {_row_key(job, a, c): (a, c) for a in recipients for c in job.channels}
    existing = set(
        session.exec(select(OutboxMessage.key).where(col(OutboxMessage.key).in_(list(wanted))))
    )
    if existing >= set(wanted):
        return 0
    office = session.get(Agency, office_agency_id) if office_agency_id else None
    office_name = office.name if office else None
    stem = f"{FILE_STEMS[job.kind]}-{job.period.key}" + (f"-{job.plan}" if job.plan else "")
    html_path = data_dir / "reports" / f"{stem}.html"
    csv_path = data_dir / "reports" / f"{stem}.csv"
    report: Any
    if job.kind == "late":
        report = build_late_report(
            session, period=job.period, now=now, tz=zone, plan=job.plan, milestone_for=milestone_for
        )
        html = render_late_html(report, tz=zone, office_name=office_name)
        table = late_csv(report, tz=zone)
    else:
        report = build_quarter_report(
            session, period=job.period, now=now, tz=zone, plan=job.plan, milestone_for=milestone_for
        )
        html = render_quarter_html(report, tz=zone, office_name=office_name)
        table = quarter_csv(report, tz=zone)
    write_atomic(html_path, html)
    write_atomic(csv_path, "\ufeff" + table)
    details = {
        "kind": job.kind,
        "period": job.period.key,
        "period_label": job.period.label("vi"),
        "title": report.title,
        "as_of": report.data.as_of.isoformat(),
        "html_path": str(html_path.resolve()),
        "csv_path": str(csv_path.resolve()),
        "summary": report.summary(),
    }
    office_view = {"code": office.code, "name": office.name} if office else None
    added = 0
    for key, (agency, channel) in wanted.items():
        if key in existing:
            continue
        added += enqueue(
            session,
            key=key,
            kind="report",
            channel=channel,
            agency_id=agency.id,
            stage="report",
            template=TEMPLATES[job.kind],
            context={
                "report": details,
                "recipient": {"code": agency.code, "name": agency.name},
                "office": office_view,
            },
            send_after=now,
            due_at=job.scheduled_at,
            now=now,
        )
    return added
