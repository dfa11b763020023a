"""The overview's figures: each plan's counts per QĐ 42 category and agencies ranked by
overdue items, judged exactly as the reports judge them (rules.status.assess).

The reports load every assignment as objects; at 100k assignments that takes seconds.
Here only the columns that decide a category are read, and assess() runs once per
distinct combination of them (the assignments of one task mostly share one), so the
page stays fast on a large store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from dondoc.models import Agency, Assignment, Plan, Task
from rules.deadline import Deadline
from rules.status import Category, Counts, assess


@dataclass
class Overview:
    per_plan: dict[str, Counts] = field(default_factory=dict)
    overdue_by_agency: Counter[int] = field(default_factory=Counter)
    agency_names: dict[int, tuple[str, str]] = field(default_factory=dict)

    def ranked(self, limit: int) -> list[tuple[tuple[str, str], int]]:
        return [
            (self.agency_names[agency_id], n)
            for agency_id, n in self.overdue_by_agency.most_common(limit)
        ]


def overview_figures(
    session: Session,
    *,
    today: date,
    period_start: date,
    tz: tzinfo,
    milestone_for: Callable[[str], date | None] | None,
) -> Overview:
    plans: dict[int | None, str] = dict(session.exec(select(Plan.id, Plan.code)).all())
    deadlines: dict[int, tuple[int, Deadline | None]] = {}
    for task_id, plan_id, stored in session.exec(
        select(Task.id, Task.plan_id, Task.deadline).where(col(Task.active))
    ).all():
        try:
            deadline = Deadline.from_dict(stored) if stored else None
        except ValueError:
            deadline = None  # the reports name such a task; the overview just leaves it undated
        deadlines[task_id or 0] = (plan_id, deadline)
    result = Overview()
    # Raw rows (no per-value type conversion) grouped in Python: one pass, then assess()
    # once per distinct combination of the columns that decide a category.
    table = Assignment.__table__  # type: ignore[attr-defined]
    query = sa.select(
        table.c.task_id,
        table.c.status,
        table.c.due_override,
        table.c.done_at,
        table.c.done_through,
        table.c.created_at,
        table.c.agency_id,
    ).where(table.c.active)
    connection = session.connection()
    compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
    # The driver's own cursor: plain tuples, without SQLAlchemy's per-row wrapping.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled))
        tally: Counter[tuple[Any, ...]] = Counter(cursor.fetchall())
    finally:
        cursor.close()
    judged: dict[tuple[Any, ...], tuple[str, list[Category]]] = {}
    for row, n in tally.items():
        key = row[:6]
        found = judged.get(key)
        if found is None:
            found = judged[key] = _judge(
                key, deadlines, plans, today, period_start, tz, milestone_for
            )
        plan_code, categories = found
        if not plan_code:
            continue  # the task is no longer tracked
        counts = result.per_plan.get(plan_code)
        if counts is None:
            counts = result.per_plan[plan_code] = Counts()
        for category in categories:
            counts.add(category, n)
            if category == Category.OVERDUE:
                result.overdue_by_agency[row[6]] += n
    if result.overdue_by_agency:
        for agency in session.exec(
            select(Agency).where(col(Agency.id).in_(list(result.overdue_by_agency)))
        ).all():
            result.agency_names[agency.id or 0] = (agency.code, agency.name)
    return result


def _judge(
    key: tuple[Any, ...],
    deadlines: dict[int, tuple[int, Deadline | None]],
    plans: dict[int | None, str],
    today: date,
    period_start: date,
    tz: tzinfo,
    milestone_for: Callable[[str], date | None] | None,
) -> tuple[str, list[Category]]:
    task_id, status, due_override, done_at, done_through, created_at = key
    found = deadlines.get(task_id)
    if found is None:
        return "", []
    plan_id, deadline = found
    milestone = (
        milestone_for(deadline.depends_on)
        if milestone_for and deadline and deadline.depends_on
        else None
    )
    created = _aware(created_at)
    obligations = assess(
        deadline=deadline,
        due_override=_day(due_override),
        milestone=milestone,
        status=status,
        done_at=_aware(done_at),
        done_through=_day(done_through),
        as_of=today,
        tz=tz,
        since=created.astimezone(tz).date() if created else None,
        period_start=period_start,
    )
    return plans.get(plan_id, ""), [o.category for o in obligations]


def _aware(value: object) -> datetime | None:
    """A timestamp as the driver returns it (SQLite: naive UTC text) made aware."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
