"""Plans, sections, agencies and groups. Lists stay light (a page of rows and their task
counts); the page of one plan or one agency adds how its assignments stand, by status
and by QĐ 42 category, judged as the reports judge them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from dondoc.api.judge import Judge
from dondoc.api.schemas import (
    AgencyDetailOut,
    AgencyOut,
    GroupOut,
    PlanDetailOut,
    PlanOut,
    SectionOut,
    SectionTally,
    Tally,
)
from dondoc.models import STATUSES, Agency, AgencyGroup, AgencyGroupMember, Assignment, Plan, Task


def _tally(session: Session, judge: Judge, where: list[Any], key: Any = None) -> dict[Any, Tally]:
    """Assignments by status and by category, grouped by `key(task)` (one group: None)."""
    statuses: dict[Any, Counter[str]] = {}
    categories: dict[Any, Counter[str]] = {}
    for assignment, task in session.exec(
        select(Assignment, Task)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(col(Assignment.active), col(Task.active), *where)
    ).all():
        group = key(task) if key else None
        statuses.setdefault(group, Counter())[assignment.status] += 1
        standing = judge.standing(assignment, task)
        if standing.category is not None:
            categories.setdefault(group, Counter())[standing.category.value] += 1
    return {
        group: Tally(
            assignments={s: counts.get(s, 0) for s in STATUSES},
            categories=dict(categories.get(group, Counter())),
        )
        for group, counts in statuses.items()
    }


def _task_counts(session: Session, plan_ids: list[Any]) -> dict[Any, int]:
    rows = session.execute(
        sa.select(col(Task.plan_id), sa.func.count())
        .where(col(Task.plan_id).in_(plan_ids), col(Task.active))
        .group_by(col(Task.plan_id))
    ).all()
    return {plan_id: n for plan_id, n in rows}


def _plan_out(plan: Plan, tasks: int) -> PlanOut:
    return PlanOut(
        id=plan.id or 0,
        code=plan.code,
        title=plan.title,
        document=plan.document,
        imported_at=plan.imported_at,
        tasks=tasks,
    )


def plan_page(
    session: Session, *, plan_id: int | None, after: int, limit: int
) -> tuple[list[PlanOut], int | None]:
    query = select(Plan).where(col(Plan.id) > after).order_by(col(Plan.id)).limit(limit + 1)
    if plan_id is not None:
        query = query.where(col(Plan.id) == plan_id)
    plans = list(session.exec(query).all())
    more = len(plans) > limit
    plans = plans[:limit]
    tasks = _task_counts(session, [p.id for p in plans])
    items = [_plan_out(p, tasks.get(p.id, 0)) for p in plans]
    return items, (plans[-1].id if more and plans else None)


def plan_detail(
    session: Session, judge: Judge, plan: Plan, *, agency_id: int | None
) -> PlanDetailOut:
    where: list[Any] = [col(Task.plan_id) == plan.id]
    if agency_id is not None:
        where.append(col(Assignment.agency_id) == agency_id)
    whole = _tally(session, judge, where).get(None, Tally())
    by_section = _tally(session, judge, where, key=lambda task: task.section_code)
    sections = []
    for code, title, tasks in session.execute(
        sa.select(col(Task.section_code), col(Task.section_title), sa.func.count())
        .where(col(Task.plan_id) == plan.id, col(Task.active))
        .group_by(col(Task.section_code), col(Task.section_title))
        .order_by(sa.func.min(Task.position))
    ).all():
        tally = by_section.get(code, Tally())
        sections.append(SectionTally(code=code, title=title, tasks=tasks, **tally.model_dump()))
    tasks = _task_counts(session, [plan.id]).get(plan.id, 0)
    return PlanDetailOut(
        **_plan_out(plan, tasks).model_dump(), **whole.model_dump(), sections=sections
    )


def section_page(
    session: Session, *, plan_id: int | None, after: dict[str, Any], limit: int
) -> tuple[list[SectionOut], dict[str, Any] | None]:
    """Sections (Mục) in plan order: a cursor holds the plan id and the section's first
    task position."""
    first = sa.func.min(Task.position)
    query = (
        sa.select(
            col(Task.plan_id),
            col(Plan.code),
            col(Task.section_code),
            col(Task.section_title),
            first,
            sa.func.count(),
        )
        .join(Plan, col(Plan.id) == Task.plan_id)
        .where(col(Task.active))
        .group_by(
            col(Task.plan_id), col(Plan.code), col(Task.section_code), col(Task.section_title)
        )
    )
    if plan_id is not None:
        query = query.where(col(Task.plan_id) == plan_id)
    if after:
        p, pos = int(after.get("p", 0)), int(after.get("pos", -1))
        query = query.having(
            sa.or_(col(Task.plan_id) > p, sa.and_(col(Task.plan_id) == p, first > pos))
        )
    rows = list(session.execute(query.order_by(col(Task.plan_id), first).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    items = [SectionOut(plan_id=r[0], plan=r[1], code=r[2], title=r[3], tasks=r[5]) for r in rows]
    cursor = {"p": rows[-1][0], "pos": rows[-1][4]} if more and rows else None
    return items, cursor


def _groups_of(session: Session, agency_ids: list[Any]) -> dict[int, list[str]]:
    groups: dict[int, list[str]] = {}
    for member, code in session.exec(
        select(AgencyGroupMember.agency_id, AgencyGroup.code)
        .join(AgencyGroup, col(AgencyGroup.id) == AgencyGroupMember.group_id)
        .where(col(AgencyGroupMember.agency_id).in_(agency_ids))
        .order_by(col(AgencyGroup.code))
    ).all():
        groups.setdefault(member, []).append(code)
    return groups


def _agency_out(agency: Agency, groups: list[str]) -> AgencyOut:
    return AgencyOut(
        id=agency.id or 0,
        code=agency.code,
        name=agency.name,
        kind=agency.kind,
        aliases=list(agency.aliases),
        groups=groups,
    )


def agency_page(
    session: Session, *, agency_id: int | None, after: int, limit: int
) -> tuple[list[AgencyOut], int | None]:
    query = select(Agency).where(col(Agency.id) > after).order_by(col(Agency.id)).limit(limit + 1)
    if agency_id is not None:
        query = query.where(col(Agency.id) == agency_id)
    agencies = list(session.exec(query).all())
    more = len(agencies) > limit
    agencies = agencies[:limit]
    groups = _groups_of(session, [a.id for a in agencies])
    items = [_agency_out(a, groups.get(a.id or 0, [])) for a in agencies]
    return items, (agencies[-1].id if more and agencies else None)


def agency_detail(
    session: Session, judge: Judge, agency: Agency, *, plan_id: int | None
) -> AgencyDetailOut:
    where: list[Any] = [col(Assignment.agency_id) == agency.id]
    if plan_id is not None:
        where.append(col(Task.plan_id) == plan_id)
    whole = _tally(session, judge, where).get(None, Tally())
    groups = _groups_of(session, [agency.id]).get(agency.id or 0, [])
    return AgencyDetailOut(**_agency_out(agency, groups).model_dump(), **whole.model_dump())


def group_page(
    session: Session, *, agency_id: int | None, after: int, limit: int
) -> tuple[list[GroupOut], int | None]:
    query = (
        select(AgencyGroup)
        .where(col(AgencyGroup.id) > after)
        .order_by(col(AgencyGroup.id))
        .limit(limit + 1)
    )
    if agency_id is not None:
        query = query.where(
            col(AgencyGroup.id).in_(
                select(AgencyGroupMember.group_id).where(
                    col(AgencyGroupMember.agency_id) == agency_id
                )
            )
        )
    groups = list(session.exec(query).all())
    more = len(groups) > limit
    groups = groups[:limit]
    members: dict[int, list[str]] = {}
    for group_id, code in session.exec(
        select(AgencyGroupMember.group_id, Agency.code)
        .join(Agency, col(Agency.id) == AgencyGroupMember.agency_id)
        .where(col(AgencyGroupMember.group_id).in_([g.id for g in groups]))
        .order_by(col(Agency.code))
    ).all():
        members.setdefault(group_id, []).append(code)
    items = [
        GroupOut(
            id=g.id or 0,
            code=g.code,
            name=g.name,
            aliases=list(g.aliases),
            members=members.get(g.id or 0, []),
        )
        for g in groups
    ]
    return items, (groups[-1].id if more and groups else None)
