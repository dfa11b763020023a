"""Read endpoints: plans, sections, tasks, assignments, agencies and groups.

A token limited to a plan or an agency sees only that part: its limits are folded into
every query, a filter naming another plan or agency is refused (and audited), and one
object outside the limits answers 403 like a filter would.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from sqlmodel import Session, select

from dondoc.api.deps import ApiContext, api, caller, db, refuse
from dondoc.api.judge import Judge
from dondoc.api.pagination import (
    CursorQuery,
    LimitQuery,
    after_id,
    decode_cursor,
    encode_cursor,
    next_link,
)
from dondoc.api.problems import Problem
from dondoc.api.queries import Filters, assignment_page, one_assignment, task_page
from dondoc.api.schemas import (
    AgencyDetailOut,
    AgencyOut,
    AssignmentOut,
    GroupOut,
    Page,
    PlanDetailOut,
    PlanOut,
    SectionOut,
    Status,
    TaskDetailOut,
    TaskOut,
)
from dondoc.api.summaries import (
    agency_detail,
    agency_page,
    group_page,
    plan_detail,
    plan_page,
    section_page,
)
from dondoc.api.tokens import Caller
from dondoc.models import Agency, Plan, Task
from rules.status import Category

router = APIRouter()

PlanQuery = Query(None, description="Mã kế hoạch, ví dụ nq131")
AgencyQuery = Query(None, description="Mã cơ quan, ví dụ STP")


def judge_for(ctx: ApiContext) -> Judge:
    config = ctx.rules.current(ctx.settings.rules_path)
    return Judge(
        today=ctx.today(),
        tz=ctx.settings.tz,
        milestone_for=config.milestone_for if config else None,
    )


def _plan_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    plan = session.exec(select(Plan).where(Plan.code == code)).first()
    if plan is None:
        raise Problem(404, f"Không tìm thấy kế hoạch '{code}'.")
    return plan.id


def _agency_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    agency = session.exec(select(Agency).where(Agency.code == code)).first()
    if agency is None:
        raise Problem(404, f"Không tìm thấy cơ quan '{code}'.")
    return agency.id


def limited(
    request: Request, who: Caller, *, plan_id: int | None, agency_id: int | None
) -> tuple[int | None, int | None]:
    """The plan and agency a query keeps to: the token's limits, or the asked ones inside
    them; asking outside them is refused."""
    if who.plan_id is not None:
        if plan_id is not None and plan_id != who.plan_id:
            refuse(request, who, "plan_limit", asked_plan_id=plan_id)
        plan_id = who.plan_id
    if who.agency_id is not None:
        if agency_id is not None and agency_id != who.agency_id:
            refuse(request, who, "agency_limit", asked_agency_id=agency_id)
        agency_id = who.agency_id
    return plan_id, agency_id


@router.get("/plans", response_model=Page[PlanOut], summary="Danh sách kế hoạch")
def list_plans(
    request: Request,
    limit: int = LimitQuery,
    cursor: str | None = CursorQuery,
    who: Caller = Depends(caller),
    session: Session = Depends(db, scope="function"),
) -> Page[PlanOut]:
    plan_id, _ = limited(request, who, plan_id=None, agency_id=None)
    items, last = plan_page(session, plan_id=plan_id, after=after_id(cursor), limit=limit)
    return Page(items=items, next=next_link(request, encode_cursor(id=last) if last else None))


@router.get("/plans/{plan_id}", response_model=PlanDetailOut, summary="Một kế hoạch")
def get_plan(
    request: Request,
    plan_id: int,
    who: Caller = Depends(caller),
    session: Session = Depends(db, scope="function"),
) -> PlanDetailOut:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise Problem(404, f"Không tìm thấy kế hoạch #{plan_id}.")
    _, agency_id = limited(request, who, plan_id=plan_id, agency_id=None)
    return plan_detail(session, judge_for(api(request)), plan, agency_id=agency_id)


@router.get("/sections", response_model=Page[SectionOut], summary="Các mục của kế hoạch")
def list_sections(
    request: Request,
    plan: str | None = PlanQuery,
    limit: int = LimitQuery,
    cursor: str | None = CursorQuery,
    who: Caller = Depends(caller),
    session: Session = Depends(db, scope="function"),
) -> Page[SectionOut]:
    plan_id, _ = limited(request, who, plan_id=_plan_id(session, plan), agency_id=None)
    items, last = section_page(session, plan_id=plan_id, after=decode_cursor(cursor), limit=limit)
    return Page(items=items, next=next_link(request, encode_cursor(**last) if last else None))


_STATUS = Query(None, description="open | acknowledged | done")
_CATEGORY = Query(None, description="Phân loại QĐ 42 hôm nay")
_BEFORE = Query(None, description="Hạn vào hoặc trước ngày này (YYYY-MM-DD)")
_AFTER = Query(None, description="Hạn vào hoặc sau ngày này (YYYY-MM-DD)")


def list_filters(
    request: Request,
    plan: str | None = PlanQuery,
    agency: str | None = AgencyQuery,
    status: Status | None = _STATUS,
    category: Category | None = _CATEGORY,
    due_before: date | None = _BEFORE,
    due_after: date | None = _AFTER,
    who: Caller = Depends(caller),
    session: Session = Depends(db, scope="function"),
) -> Filters:
    """The filters of the task and assignment lists, inside the token's limits."""
    plan_id, agency_id = limited(
        request, who, plan_id=_plan_id(session, plan), agency_id=_agency_id(session, agency)
    )
    return Filters(
        plan_id=plan_id,
        agency_id=agency_id,
        status=status,
        category=category,
        due_before=due_before,
        due_after=due_after,
    )


@router.get("/tasks", response_model=Page[TaskOut], summary="Danh sách nhiệm vụ")
def list_tasks(
    request: Request,
    filters: Filters = Depends(list_filters),
    limit: int = LimitQuery,
    cursor: str | None = CursorQuery,
    session: Session = Depends(db, scope="function"),
) -> Page[TaskOut]:
    items, last = task_page(
        session, judge_for(api(request)), filters, after=after_id(cursor), limit=limit
    )
    return Page(items=items, next=next_link(request, encode_cursor(id=last) if last else None))


@router.get("/tasks/{task_id}", response_model=TaskDetailOut, summary="Một nhiệm vụ")
def get_task(
    request: Request,
    task_id: int,
    who: Caller = Depends(caller),
    session: Session = Depends(db, scope="function"),
) -> TaskOut:
    task = session.get(Task, task_id)
    if task is None:
        raise Problem(404, f"Không tìm thấy nhiệm vụ #{task_id}.")
    plan_id, agency_id = limited(request, who, plan_id=task.plan_id, agency_id=None)
    items, _ = task_page(
        session,
        judge_for(api(request)),
        Filters(plan_id=plan_id, agency_id=agency_id, task_id=task_id),
        after=0,
        limit=1,
        detail=True,
    )
    if not items:
        refuse(request, who, "agency_limit", task_id=task_id)
    return items[0]


@router.get("/assignments", response_model=Page[AssignmentOut], summary="Danh sách phân công")
def list_assignments(
    request: Request,
    filters: Filters = Depends(list_filters),
    task: int | None = Query(None, description="Id nhiệm vụ"),
    limit: int = LimitQuery,
    cursor: str | None = CursorQuery,
    session: Session = Depends(db, scope="function"),
) -> Page[AssignmentOut]:
    if task is not None:
        filters = replace(filters, task_id=task)
    items, last = assignment_page(
        session, judge_for(api(request)), filters, after=after_id(cursor), limit=limit
    )
    return Page(items=items, next=next_link(request, encode_cursor(id=last) if last else None))


def visible_assignment(
    request: Request, session: Session, who: Caller, assignment_id: int
) -> AssignmentOut:
    """One assignment the token may see; 404 when there is none, 403 outside its limits."""
    found = one_assignment(session, judge_for(api(request)), assignment_id)
    if found is None:
        raise Problem(404, f"Không tìm thấy phân công #{assignment_id}.")
    limited(request, who, plan_id=found.plan_id, agency_id=found.agency_id)
    return found


@router.get("/assignments/{assignment_id}", response_model=AssignmentOut, summary="Một phân công")
def get_assignment(
    request: Request,
    assignment_id: int,
    who: Caller = Depends(caller),
    session: Session = Depends(db, scope="function"),
) -> AssignmentOut:
    return visible_assignment(request, session, who, assignment_id)


@router.get("/agencies", response_model=Page[AgencyOut], summary="Danh bạ cơ quan")
def list_agencies(
    request: Request,
    limit: int = LimitQuery,
    cursor: str | None = CursorQuery,
    who: Caller = Depends(caller),
    session: Session = Depends(db, scope="function"),
) -> Page[AgencyOut]:
    _, agency_id = limited(request, who, plan_id=None, agency_id=None)
    items, last = agency_page(session, agency_id=agency_id, after=after_id(cursor), limit=limit)
    return Page(items=items, next=next_link(request, encode_cursor(id=last) if last else None))


@router.get("/agencies/{agency_id}", response_model=AgencyDetailOut, summary="Một cơ quan")
def get_agency(
    request: Request,
    agency_id: int,
    who: Caller = Depends(caller),
    session: Session = Depends(db, scope="function"),
) -> AgencyDetailOut:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise Problem(404, f"Không tìm thấy cơ quan #{agency_id}.")
    plan_id, _ = limited(request, who, plan_id=None, agency_id=agency_id)
    return agency_detail(session, judge_for(api(request)), agency, plan_id=plan_id)


@router.get("/groups", response_model=Page[GroupOut], summary="Nhóm cơ quan")
def list_groups(
    request: Request,
    limit: int = LimitQuery,
    cursor: str | None = CursorQuery,
    who: Caller = Depends(caller),
    session: Session = Depends(db, scope="function"),
) -> Page[GroupOut]:
    _, agency_id = limited(request, who, plan_id=None, agency_id=None)
    items, last = group_page(session, agency_id=agency_id, after=after_id(cursor), limit=limit)
    return Page(items=items, next=next_link(request, encode_cursor(id=last) if last else None))
