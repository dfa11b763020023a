"""The rows behind the list endpoints, a page at a time, in id order.

Filters the store can apply (plan, agency, status, task) are SQL; the QĐ 42 category and
the due date are judged in Python (dondoc.api.judge), so those filters scan forward in
batches from the cursor until the page is full.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from dondoc.api.judge import Judge, Standing, combined, combined_status
from dondoc.api.schemas import (
    AssignmentOut,
    ExplanationOut,
    Tally,
    TaskAssignmentOut,
    TaskDetailOut,
    TaskOut,
)
from dondoc.models import STATUSES, Agency, Assignment, Explanation, Plan, Task
from rules.status import Category

Row = TypeVar("Row")
Out = TypeVar("Out")
_BATCH = 500


@dataclass(frozen=True)
class Filters:
    """What a list asks for, the token's limits already folded in."""

    plan_id: int | None = None
    agency_id: int | None = None
    status: str | None = None
    category: Category | None = None
    due_before: date | None = None
    due_after: date | None = None
    task_id: int | None = None

    @property
    def judged(self) -> bool:
        return (
            self.category is not None or self.due_before is not None or (self.due_after is not None)
        )

    def keeps(self, status: str, standing: Standing) -> bool:
        if self.status is not None and status != self.status:
            return False
        if self.category is not None and standing.category != self.category:
            return False
        if self.due_before is not None and (standing.due is None or standing.due > self.due_before):
            return False
        return not (
            self.due_after is not None and (standing.due is None or standing.due < self.due_after)
        )


def scan(
    fetch: Callable[[int, int], Sequence[Row]],
    key: Callable[[Row], int],
    build: Callable[[Sequence[Row]], list[tuple[Out, bool]]],
    *,
    after: int,
    limit: int,
    filtered: bool,
) -> tuple[list[Out], int | None]:
    """Up to `limit` kept outputs after id `after`, and the cursor id of the next page.

    `fetch(after, n)` returns the next n rows in id order; `build` turns a batch into
    (output, kept) pairs. Without Python-side filters (`filtered`) one fetch of limit+1
    rows does; with them, larger batches until the page is full."""
    found: list[tuple[int, Out]] = []
    batch = max(limit + 1, _BATCH) if filtered else limit + 1
    while True:
        rows = fetch(after, batch)
        for row, (out, kept) in zip(rows, build(rows), strict=True):
            if kept:
                found.append((key(row), out))
        if len(found) > limit or len(rows) < batch:
            break
        after = key(rows[-1])
    if len(found) > limit:
        return [out for _, out in found[:limit]], found[limit - 1][0]
    return [out for _, out in found], None


def explanations_of(session: Session, ids: list[int]) -> dict[int, list[ExplanationOut]]:
    found: dict[int, list[ExplanationOut]] = {}
    if not ids:
        return found
    for row in session.exec(
        select(Explanation)
        .where(col(Explanation.assignment_id).in_(ids))
        .order_by(col(Explanation.at), col(Explanation.id))
    ).all():
        found.setdefault(row.assignment_id, []).append(
            ExplanationOut(id=row.id or 0, text=row.text, author=row.author, via=row.via, at=row.at)
        )
    return found


AssignmentRow = tuple[Assignment, Task, Plan, Agency]


def assignment_query(filters: Filters) -> Any:
    query = (
        select(Assignment, Task, Plan, Agency)
        .join(Task, col(Task.id) == Assignment.task_id)
        .join(Plan, col(Plan.id) == Task.plan_id)
        .join(Agency, col(Agency.id) == Assignment.agency_id)
        .where(col(Assignment.active), col(Task.active))
    )
    if filters.plan_id is not None:
        query = query.where(col(Task.plan_id) == filters.plan_id)
    if filters.agency_id is not None:
        query = query.where(col(Assignment.agency_id) == filters.agency_id)
    if filters.status is not None:
        query = query.where(col(Assignment.status) == filters.status)
    if filters.task_id is not None:
        query = query.where(col(Assignment.task_id) == filters.task_id)
    return query


def assignment_out(
    row: AssignmentRow, standing: Standing, explanations: list[ExplanationOut]
) -> AssignmentOut:
    assignment, task, plan, agency = row
    return AssignmentOut(
        id=assignment.id or 0,
        plan_id=plan.id or 0,
        plan=plan.code,
        task_id=task.id or 0,
        task_number=task.number,
        task_title=task.title,
        section_code=task.section_code,
        agency_id=agency.id or 0,
        agency_code=agency.code,
        agency_name=agency.name,
        role=assignment.role,  # type: ignore[arg-type]
        status=assignment.status,  # type: ignore[arg-type]
        status_at=assignment.status_at,
        acknowledged_at=assignment.acknowledged_at,
        done_at=assignment.done_at,
        done_through=assignment.done_through,
        category=standing.category,
        category_label=standing.label,
        due=standing.due,
        due_override=assignment.due_override,
        days_late=standing.days_late,
        deadline_text=task.deadline_text,
        active=assignment.active and task.active,
        explanations=explanations,
    )


def assignment_page(
    session: Session, judge: Judge, filters: Filters, *, after: int, limit: int
) -> tuple[list[AssignmentOut], int | None]:
    base = assignment_query(filters)

    def fetch(start: int, n: int) -> Sequence[AssignmentRow]:
        return session.exec(
            base.where(col(Assignment.id) > start).order_by(col(Assignment.id)).limit(n)
        ).all()

    def build(rows: Sequence[AssignmentRow]) -> list[tuple[AssignmentOut, bool]]:
        judged = [(row, judge.standing(row[0], row[1])) for row in rows]
        kept = [filters.keeps(row[0].status, standing) for row, standing in judged]
        explained = explanations_of(
            session, [row[0].id or 0 for (row, _), keep in zip(judged, kept, strict=True) if keep]
        )
        return [
            (assignment_out(row, standing, explained.get(row[0].id or 0, [])), keep)
            for (row, standing), keep in zip(judged, kept, strict=True)
        ]

    return scan(
        fetch, lambda row: row[0].id or 0, build, after=after, limit=limit, filtered=filters.judged
    )


def one_assignment(session: Session, judge: Judge, assignment_id: int) -> AssignmentOut | None:
    row = session.exec(
        select(Assignment, Task, Plan, Agency)
        .join(Task, col(Task.id) == Assignment.task_id)
        .join(Plan, col(Plan.id) == Task.plan_id)
        .join(Agency, col(Agency.id) == Assignment.agency_id)
        .where(col(Assignment.id) == assignment_id)
    ).first()
    if row is None:
        return None
    explained = explanations_of(session, [assignment_id])
    return assignment_out(row, judge.standing(row[0], row[1]), explained.get(assignment_id, []))


TaskRow = tuple[Task, Plan]


def task_page(
    session: Session,
    judge: Judge,
    filters: Filters,
    *,
    after: int,
    limit: int,
    detail: bool = False,
) -> tuple[list[TaskOut], int | None]:
    base = select(Task, Plan).join(Plan, col(Plan.id) == Task.plan_id).where(col(Task.active))
    if filters.plan_id is not None:
        base = base.where(col(Task.plan_id) == filters.plan_id)
    if filters.task_id is not None:
        base = base.where(col(Task.id) == filters.task_id)
    if filters.agency_id is not None:
        base = base.where(
            col(Task.id).in_(
                select(Assignment.task_id).where(
                    col(Assignment.agency_id) == filters.agency_id, col(Assignment.active)
                )
            )
        )

    def fetch(start: int, n: int) -> Sequence[TaskRow]:
        return session.exec(base.where(col(Task.id) > start).order_by(col(Task.id)).limit(n)).all()

    def build(rows: Sequence[TaskRow]) -> list[tuple[TaskOut, bool]]:
        return tasks_out(session, judge, filters, rows, detail=detail)

    # A task's status is its assignments' together: that filter is judged in Python too.
    filtered = filters.judged or filters.status is not None
    return scan(
        fetch, lambda row: row[0].id or 0, build, after=after, limit=limit, filtered=filtered
    )


def tasks_out(
    session: Session,
    judge: Judge,
    filters: Filters,
    rows: Sequence[TaskRow],
    *,
    detail: bool = False,
) -> list[tuple[TaskOut, bool]]:
    """Each task with how its assignments stand (only the token's agency's, when limited);
    `detail` lists the assignments themselves, with their explanations."""
    ids = [task.id or 0 for task, _ in rows]
    # Plain columns, not objects: a page of 100 tasks may hold thousands of assignments.
    query = (
        sa.select(
            col(Assignment.id),
            col(Assignment.task_id),
            col(Assignment.role),
            col(Assignment.status),
            col(Assignment.due_override),
            col(Assignment.done_at),
            col(Assignment.done_through),
            col(Assignment.created_at),
            col(Agency.code),
            col(Agency.name),
        )
        .join(Agency, col(Agency.id) == Assignment.agency_id)
        .where(col(Assignment.task_id).in_(ids), col(Assignment.active))
        .order_by(col(Assignment.task_id), col(Assignment.role).desc(), col(Agency.code))
    )
    if filters.agency_id is not None:
        query = query.where(col(Assignment.agency_id) == filters.agency_id)
    by_task: dict[int, list[Any]] = {}
    for part in session.execute(query).all():
        by_task.setdefault(part.task_id, []).append(part)
    explained = (
        explanations_of(session, [p.id for parts in by_task.values() for p in parts])
        if detail
        else {}
    )
    result: list[tuple[TaskOut, bool]] = []
    for task, plan in rows:
        parts = by_task.get(task.id or 0, [])
        standings = [
            judge.standing_of(
                task,
                status=p.status,
                due_override=p.due_override,
                done_at=p.done_at,
                done_through=p.done_through,
                created_at=p.created_at,
            )
            for p in parts
        ]
        whole = combined(standings)
        status = combined_status(p.status for p in parts)
        deadline = judge.deadline(task)
        values: dict[str, Any] = {
            "id": task.id or 0,
            "plan_id": plan.id or 0,
            "plan": plan.code,
            "number": task.number,
            "section_code": task.section_code,
            "section_title": task.section_title,
            "title": task.title,
            "product": task.product,
            "deadline_text": task.deadline_text,
            "deadline": deadline.to_dict() if deadline else None,
            "status": status,
            "category": whole.category,
            "category_label": whole.label,
            "due": whole.due,
            "days_late": whole.days_late,
            "active": task.active,
            "leads": [p.code for p in parts if p.role == "lead"],
            "counts": Tally(
                assignments={s: sum(1 for p in parts if p.status == s) for s in STATUSES},
                categories=dict(Counter(s.category.value for s in standings if s.category)),
            ),
        }
        out: TaskOut
        if detail:
            out = TaskDetailOut(
                **values,
                assignments=[
                    TaskAssignmentOut(
                        id=p.id,
                        agency_code=p.code,
                        agency_name=p.name,
                        role=p.role,
                        status=p.status,
                        category=standing.category,
                        due=standing.due,
                        explanations=explained.get(p.id, []),
                    )
                    for p, standing in zip(parts, standings, strict=True)
                ],
            )
        else:
            out = TaskOut(**values)
        result.append((out, filters.keeps(status, whole)))
    return result
