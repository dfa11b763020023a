"""What every report reads from the store: each assignment's obligations, judged as of a day.

One query per table, then `rules.status` does the judging; the report modules only
select, group and lay out the `Item`s gathered here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlmodel import Session, col, select

from dondoc.agency_history import formers_by_agency, moved_by_changes, named_as, responsible_on
from dondoc.errors import NotFoundError, UserError
from dondoc.models import Agency, Assignment, Explanation, Plan, Task
from rules.deadline import Deadline
from rules.status import Category, Obligation, assess


@dataclass(frozen=True)
class ExplanationView:
    text: str
    author: str
    via: str
    at: datetime


@dataclass(frozen=True)
class Item:
    """One obligation of one assignment, with what a report prints next to it."""

    plan_code: str
    section_code: str | None
    section_title: str | None
    task_id: int
    task_number: str
    task_title: str
    task_position: int
    deadline_text: str | None
    assignment_id: int
    agency_code: str
    agency_name: str
    role: str
    status: str
    obligation: Obligation
    explanation: ExplanationView | None
    # The name the plan gave, when the agency has since been merged or renamed.
    former_name: str | None = None

    @property
    def agency_label(self) -> str:
        """'Sở Khoa học và Công nghệ (Sở Thông tin và Truyền thông)'."""
        return f"{self.agency_name} ({self.former_name})" if self.former_name else self.agency_name

    @property
    def category(self) -> Category:
        return self.obligation.category

    @property
    def is_late(self) -> bool:
        return self.obligation.is_late


@dataclass(frozen=True)
class PlanInfo:
    code: str
    title: str
    document: str | None


@dataclass
class ReportData:
    period_start: date
    period_end: date
    as_of: date
    generated_at: datetime
    plans: list[PlanInfo]
    items: list[Item]


def report_as_of(period_end: date, now: datetime, tz: tzinfo) -> date:
    """A report describes its period's last day, or today while the period is running."""
    return min(period_end, now.astimezone(tz).date())


def _deadline(task: Task, plan: Plan) -> Deadline | None:
    if task.deadline is None:
        return None
    try:
        return Deadline.from_dict(task.deadline)
    except ValueError as exc:
        raise UserError(
            f"Nhiệm vụ {plan.code}/{task.number}: thời hạn lưu trong cơ sở dữ liệu không đọc "
            f"được ({exc}); hãy nhập lại kế hoạch."
        ) from None


def _matching_explanation(
    explanations: list[Explanation], obligation: Obligation, tz: tzinfo
) -> ExplanationView | None:
    # Sorted newest first, so the first match is the latest word from the agency.
    for row in explanations:
        if obligation.explain_from is None or row.at.astimezone(tz).date() >= (
            obligation.explain_from
        ):
            return ExplanationView(row.text, row.author, row.via, row.at)
    return None


def gather(
    session: Session,
    *,
    period_start: date,
    period_end: date,
    now: datetime,
    tz: tzinfo,
    plan: str | None = None,
    milestone_for: Callable[[str], date | None] | None = None,
) -> ReportData:
    """Every active assignment's obligations for the period, judged as of its last day.

    Explanations count up to `now`: a late list for March published in April shows the
    explanations received by the day it is published. `milestone_for` gives the date the
    office set for an external reference (the rule config's `milestone_for`).
    """
    as_of = report_as_of(period_end, now, tz)
    plan_query = select(Plan).order_by(col(Plan.code))
    if plan is not None:
        plan_query = plan_query.where(Plan.code == plan)
    plans = list(session.exec(plan_query).all())
    if plan is not None and not plans:
        raise NotFoundError("kế hoạch", plan)
    plans_by_id = {p.id: p for p in plans}
    rows = session.exec(
        select(Assignment, Task, Agency)
        .join(Task, col(Task.id) == Assignment.task_id)
        .join(Agency, col(Agency.id) == Assignment.agency_id)
        .where(
            col(Task.plan_id).in_(list(plans_by_id)),
            col(Task.active),
            col(Assignment.active),
        )
        .order_by(
            col(Task.plan_id), col(Task.position), col(Assignment.role).desc(), col(Agency.code)
        )
    ).all()
    explanations: dict[int, list[Explanation]] = {}
    ids = [a.id for a, _, _ in rows]
    for row in session.exec(
        select(Explanation)
        .where(col(Explanation.assignment_id).in_(ids), col(Explanation.at) <= now)
        .order_by(col(Explanation.at).desc(), col(Explanation.id).desc())
    ).all():
        explanations.setdefault(row.assignment_id, []).append(row)

    # Each item goes under the agency responsible on the report's day (mergers, renamings).
    formers = formers_by_agency(session, {agency.id or 0 for _, _, agency in rows})
    moved = moved_by_changes(session)
    items: list[Item] = []
    deadlines: dict[int, Deadline | None] = {}
    for assignment, task, agency in rows:
        plan_row = plans_by_id[task.plan_id]
        task_id = task.id or 0
        if task_id not in deadlines:
            deadlines[task_id] = _deadline(task, plan_row)
        deadline = deadlines[task_id]
        since = assignment.created_at.astimezone(tz).date() if assignment.created_at else None
        obligations = assess(
            deadline=deadline,
            due_override=assignment.due_override,
            milestone=milestone_for(deadline.depends_on)
            if milestone_for and deadline and deadline.depends_on
            else None,
            status=assignment.status,
            done_at=assignment.done_at,
            done_through=assignment.done_through,
            as_of=as_of,
            tz=tz,
            since=since,
            period_start=period_start,
        )
        own = explanations.get(assignment.id or 0, [])
        former = named_as(assignment, task, formers.get(agency.id or 0, []), moved)
        responsible = responsible_on(agency, former, as_of)
        for obligation in obligations:
            items.append(
                Item(
                    plan_code=plan_row.code,
                    section_code=task.section_code,
                    section_title=task.section_title,
                    task_id=task_id,
                    task_number=task.number,
                    task_title=task.title,
                    task_position=task.position,
                    deadline_text=task.deadline_text,
                    assignment_id=assignment.id or 0,
                    agency_code=agency.code,
                    agency_name=responsible[0],
                    former_name=responsible[1],
                    role=assignment.role,
                    status=assignment.status,
                    obligation=obligation,
                    explanation=_matching_explanation(own, obligation, tz)
                    if obligation.is_late
                    else None,
                )
            )
    return ReportData(
        period_start=period_start,
        period_end=period_end,
        as_of=as_of,
        generated_at=now,
        plans=[PlanInfo(p.code, p.title, p.document) for p in plans],
        items=items,
    )
