"""An agency's due dates as an iCalendar feed (icalendar package): one all-day event per
open assignment's due date, and the coming year's occurrences of a recurring task."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import islice

from icalendar import Calendar, Event
from sqlmodel import Session, col, select

from dondoc.extensions import effective_due
from dondoc.models import Agency, Assignment, Plan, Task
from rules.deadline import Deadline

HORIZON = timedelta(days=366)
MAX_OCCURRENCES = 60


def agency_calendar(
    session: Session, *, agency: Agency, host: str, now: datetime, today: date
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//dondoc//Lịch hạn hoàn thành//VI")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Hạn hoàn thành nhiệm vụ: {agency.name}")
    rows = session.exec(
        select(Assignment, Task, Plan)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .join(Plan, col(Plan.id) == col(Task.plan_id))
        .where(
            Assignment.agency_id == agency.id,
            col(Assignment.active),
            col(Task.active),
            Assignment.status != "done",
        )
        .order_by(col(Plan.code), col(Task.position))
    ).all()
    for assignment, task, plan in rows:
        for day in _days(assignment, task, today):
            event = Event()
            # Stable ids: a calendar app updates the event instead of adding a copy.
            event.add("uid", f"dondoc-{assignment.id}-{day.isoformat()}@{host}")
            event.add("dtstamp", now)
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add("summary", f"Hạn: STT {task.number} {task.title}"[:250])
            event.add(
                "description",
                f"{plan.title}\nThời hạn trong kế hoạch: {task.deadline_text or '(chưa có)'}",
            )
            calendar.add_component(event)
    return calendar.to_ical()


def _days(assignment: Assignment, task: Task, today: date) -> list[date]:
    deadline = Deadline.from_dict(task.deadline) if task.deadline else None
    if deadline is not None and deadline.series and assignment.due_override is None:
        after = (assignment.done_through or today - timedelta(days=1)) + timedelta(days=1)
        return [
            day
            for day in islice(deadline.occurrences(after), MAX_OCCURRENCES)
            if day <= today + HORIZON
        ]
    due = effective_due(assignment, task)
    return [due] if due is not None else []
