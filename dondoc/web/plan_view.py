"""The plan page's rows: one page of tasks, grouped by section, with each agency's part.

A plan of thousands of tasks is read a page at a time (TASKS_PER_PAGE), and the
agencies' parts as plain columns, not ORM objects: the page costs the same on a store
of any size.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from dondoc.models import Agency, Assignment, Plan, Task
from rules.deadline import Deadline

TASKS_PER_PAGE = 50


class Part(NamedTuple):
    """One agency's part in a task, as the page shows it."""

    code: str
    name: str
    role: str
    status: str
    due: date | None


@dataclass
class Section:
    code: str | None
    title: str | None
    tasks: list[dict[str, Any]] = field(default_factory=list)
    page: int = 1  # in the index: the page where the section starts


def section_index(session: Session, *, plan: Plan) -> list[Section]:
    """Every section of the plan with the page it starts on, so that a plan of many pages
    can be entered at the section one looks for."""
    firsts = session.execute(
        sa.select(col(Task.section_code), col(Task.section_title), sa.func.min(Task.position))
        .where(col(Task.plan_id) == plan.id, col(Task.active))
        .group_by(col(Task.section_code), col(Task.section_title))
    ).all()
    if len(firsts) < 2:
        return []
    positions = list(
        session.exec(
            select(Task.position)
            .where(Task.plan_id == plan.id, col(Task.active))
            .order_by(col(Task.position))
        ).all()
    )
    return [
        Section(code, title, page=bisect_left(positions, first) // TASKS_PER_PAGE + 1)
        for code, title, first in sorted(firsts, key=lambda row: row[2])
    ]


def plan_sections(
    session: Session, *, plan: Plan, page: int, locale: str
) -> tuple[list[Section], int, int]:
    """(sections of the page, the page shown, how many pages)."""
    total = session.exec(
        select(func.count()).select_from(Task).where(Task.plan_id == plan.id, col(Task.active))
    ).one()
    pages = max(1, -(-total // TASKS_PER_PAGE))
    page = min(max(page, 1), pages)
    tasks = session.exec(
        select(Task)
        .where(Task.plan_id == plan.id, col(Task.active))
        .order_by(col(Task.position))
        .offset((page - 1) * TASKS_PER_PAGE)
        .limit(TASKS_PER_PAGE)
    ).all()
    parts: dict[int, list[tuple[str, str, str, str, date | None]]] = {}
    for task_id, code, name, role, status, override in session.execute(
        sa.select(
            col(Assignment.task_id),
            col(Agency.code),
            col(Agency.name),
            col(Assignment.role),
            col(Assignment.status),
            col(Assignment.due_override),
        )
        .join(Agency, col(Agency.id) == col(Assignment.agency_id))
        .where(col(Assignment.task_id).in_([t.id for t in tasks]), col(Assignment.active))
        .order_by(col(Assignment.role).desc(), col(Agency.code))
    ).all():
        parts.setdefault(task_id, []).append((code, name, role, status, override))
    sections: list[Section] = []
    for task in tasks:
        if not sections or sections[-1].code != task.section_code:
            sections.append(Section(task.section_code, task.section_title))
        deadline = Deadline.from_dict(task.deadline) if task.deadline else None
        planned = _planned_due(task)
        sections[-1].tasks.append(
            {
                "task": task,
                "explained": deadline.describe(locale) if deadline else None,
                # An approved extension, else the plan's due date (extensions.effective_due).
                "assignments": [
                    Part(code, name, role, status, override or planned)
                    for code, name, role, status, override in parts.get(task.id or 0, [])
                ],
            }
        )
    return sections, page, pages


def _planned_due(task: Task) -> date | None:
    due = (task.deadline or {}).get("due")
    return date.fromisoformat(due) if isinstance(due, str) else None
