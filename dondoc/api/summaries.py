"""Plans, sections, agencies and groups, each with how their assignments stand.

Lists count assignments per status in SQL, for the rows of the page only; a plan's own
page adds its QĐ 42 categories, which need every assignment judged.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from dondoc.api.judge import Judge
from dondoc.api.schemas import AgencyOut, GroupOut, PlanDetailOut, PlanOut, SectionOut
from dondoc.models import STATUSES, Agency, AgencyGroup, AgencyGroupMember, Assignment, Plan, Task


def _tally(rows: Any) -> dict[Any, dict[str, int]]:
    found: dict[Any, dict[str, int]] = {}
    for row in rows:
        *keys, status, n = row
        key = keys[0] if len(keys) == 1 else tuple(keys)
        counts = found.setdefault(key, dict.fromkeys(STATUSES, 0))
        counts[status] = counts.get(status, 0) + n
    return found


def _status_counts(
    session: Session, groups: list[Any], where: list[Any], agency_id: int | None
) -> dict[Any, dict[str, int]]:
    query = (
        sa.select(*groups, col(Assignment.status), sa.func.count())
        .select_from(Assignment)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(col(Assignment.active), col(Task.active), *where)
        .group_by(*groups, col(Assignment.status))
    )
    if agency_id is not None:
        query = query.where(col(Assignment.agency_id) == agency_id)
    return _tally(session.execute(query).all())


def plan_page(
    session: Session, *, plan_id: int | None, agency_id: int | None, after: int, limit: int
) -> tuple[list[PlanOut], int | None]:
    query = select(Plan).where(col(Plan.id) > after).order_by(col(Plan.id)).limit(limit + 1)
    if plan_id is not None:
        query = query.where(col(Plan.id) == plan_id)
    plans = list(session.exec(query).all())
    more = len(plans) > limit
    plans = plans[:limit]
    ids = [p.id for p in plans]
    tasks: dict[Any, int] = dict(
        session.execute(  # type: ignore[arg-type]
            sa.select(col(Task.plan_id), sa.func.count())
            .where(col(Task.plan_id).in_(ids), col(Task.active))
            .group_by(col(Task.plan_id))
        ).all()
    )
    counts = _status_counts(session, [Task.plan_id], [col(Task.plan_id).in_(ids)], agency_id)
    items = [
        PlanOut(
            id=p.id or 0,
            code=p.code,
            title=p.title,
            document=p.document,
            imported_at=p.imported_at,
            tasks=tasks.get(p.id, 0),
            assignments=counts.get(p.id, dict.fromkeys(STATUSES, 0)),
        )
        for p in plans
    ]
    return items, (plans[-1].id if more and plans else None)


def plan_detail(
    session: Session, judge: Judge, plan: Plan, *, agency_id: int | None
) -> PlanDetailOut:
    items, _ = plan_page(
        session, plan_id=plan.id, agency_id=agency_id, after=(plan.id or 0) - 1, limit=1
    )
    query = (
        select(Assignment, Task)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(col(Task.plan_id) == plan.id, col(Task.active), col(Assignment.active))
    )
    if agency_id is not None:
        query = query.where(col(Assignment.agency_id) == agency_id)
    categories: Counter[str] = Counter()
    for assignment, task in session.exec(query).all():
        standing = judge.standing(assignment, task)
        if standing.category is not None:
            categories[standing.category.value] += 1
    return PlanDetailOut(**items[0].model_dump(), categories=dict(categories))


def section_page(
    session: Session,
    *,
    plan_id: int | None,
    agency_id: int | None,
    after: dict[str, Any],
    limit: int,
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
    counts = _status_counts(
        session,
        [Task.plan_id, Task.section_code],
        [col(Task.plan_id).in_({r[0] for r in rows})],
        agency_id,
    )
    items = [
        SectionOut(
            plan_id=r[0],
            plan=r[1],
            code=r[2],
            title=r[3],
            tasks=r[5],
            assignments=counts.get((r[0], r[2]), dict.fromkeys(STATUSES, 0)),
        )
        for r in rows
    ]
    cursor = {"p": rows[-1][0], "pos": rows[-1][4]} if more and rows else None
    return items, cursor


def agency_page(
    session: Session, *, agency_id: int | None, plan_id: int | None, after: int, limit: int
) -> tuple[list[AgencyOut], int | None]:
    query = select(Agency).where(col(Agency.id) > after).order_by(col(Agency.id)).limit(limit + 1)
    if agency_id is not None:
        query = query.where(col(Agency.id) == agency_id)
    agencies = list(session.exec(query).all())
    more = len(agencies) > limit
    agencies = agencies[:limit]
    ids = [a.id for a in agencies]
    groups: dict[int, list[str]] = {}
    for member, code in session.exec(
        select(AgencyGroupMember.agency_id, AgencyGroup.code)
        .join(AgencyGroup, col(AgencyGroup.id) == AgencyGroupMember.group_id)
        .where(col(AgencyGroupMember.agency_id).in_(ids))
        .order_by(col(AgencyGroup.code))
    ).all():
        groups.setdefault(member, []).append(code)
    where: list[Any] = [col(Assignment.agency_id).in_(ids)]
    if plan_id is not None:
        where.append(col(Task.plan_id) == plan_id)
    counts = _status_counts(session, [Assignment.agency_id], where, None)
    items = [
        AgencyOut(
            id=a.id or 0,
            code=a.code,
            name=a.name,
            kind=a.kind,
            aliases=list(a.aliases),
            groups=groups.get(a.id or 0, []),
            assignments=counts.get(a.id, dict.fromkeys(STATUSES, 0)),
        )
        for a in agencies
    ]
    return items, (agencies[-1].id if more and agencies else None)


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
