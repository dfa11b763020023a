"""Read side of the store: tasks with their assignments, as plain dicts for CLI and reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from dondoc.errors import NotFoundError, UserError
from dondoc.models import Agency, Assignment, ExtensionRequest, Plan, Task

STATUS_LABELS = {"open": "chưa xong", "acknowledged": "đã nhận", "done": "đã hoàn thành"}
ROLE_LABELS = {"lead": "chủ trì", "coordinator": "phối hợp"}


def task_status(view: dict[str, Any]) -> str:
    """One line for a task's progress, as its lead agencies report it."""
    items = [a for a in view["assignments"] if a["role"] == "lead"] or view["assignments"]
    statuses = [a.get("current_status", a["status"]) for a in items]
    if not statuses:
        return "—"
    done = statuses.count("done")
    if done == len(statuses):
        return STATUS_LABELS["done"]
    if done:
        return f"{done}/{len(statuses)} xong"
    if "acknowledged" in statuses:
        return STATUS_LABELS["acknowledged"]
    return STATUS_LABELS["open"]


def acknowledged_until(assignment: Assignment, ack_timeout: timedelta) -> datetime | None:
    """When an acknowledgement stops silencing the repeats; None when there is none."""
    if assignment.status != "acknowledged":
        return None
    since = assignment.acknowledged_at or assignment.status_at
    return None if since is None else since + ack_timeout


def status_now(
    assignment: Assignment, *, now: datetime | None, ack_timeout: timedelta | None
) -> str:
    """The status a person should read: a lapsed acknowledgement is open again."""
    if now is None or ack_timeout is None:
        return assignment.status
    until = acknowledged_until(assignment, ack_timeout)
    return "open" if until is not None and until <= now else assignment.status


def task_view(
    task: Task,
    plan: Plan,
    rows: list[tuple[Assignment, Agency]],
    *,
    now: datetime | None = None,
    ack_timeout: timedelta | None = None,
) -> dict[str, Any]:
    """A task as plain data; with `now` and `ack_timeout`, each assignment also says what
    its status means now (`current_status`: a lapsed acknowledgement reads "open")."""
    return {
        "id": task.id,
        "plan": plan.code,
        "section": task.section_code,
        "section_title": task.section_title,
        "number": task.number,
        "title": task.title,
        "product": task.product,
        "deadline_text": task.deadline_text,
        "deadline": task.deadline,
        "notes": task.notes,
        # False once a re-import dropped the task: its history stays, nobody is reminded.
        "active": task.active,
        "assignments": [
            {
                "agency": agency.code,
                "agency_name": agency.name,
                "role": assignment.role,
                "status": assignment.status,
                "status_at": assignment.status_at.isoformat() if assignment.status_at else None,
                "status_by": assignment.status_by,
                "current_status": status_now(assignment, now=now, ack_timeout=ack_timeout),
                "acknowledged_until": _iso(
                    acknowledged_until(assignment, ack_timeout) if ack_timeout else None
                ),
                "due_override": (
                    assignment.due_override.isoformat() if assignment.due_override else None
                ),
            }
            for assignment, agency in sorted(rows, key=lambda r: (r[0].role != "lead", r[0].id))
        ],
    }


def list_tasks(
    session: Session,
    *,
    plan: str | None = None,
    agency: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
    ack_timeout: timedelta | None = None,
) -> list[dict[str, Any]]:
    """Active tasks; `status` filters on the status as it reads at `now` (see task_view)."""
    if status is not None and status not in STATUS_LABELS:
        raise UserError(f"--status phải là một trong: {', '.join(STATUS_LABELS)}.")
    query = select(Task, Plan).join(Plan, col(Plan.id) == Task.plan_id).where(Task.active)
    if plan is not None:
        if session.exec(select(Plan).where(Plan.code == plan)).first() is None:
            raise NotFoundError("kế hoạch", plan)
        query = query.where(Plan.code == plan)
    if (
        agency is not None
        and session.exec(select(Agency).where(Agency.code == agency)).first() is None
    ):
        raise NotFoundError("cơ quan", agency)
    tasks = session.exec(query.order_by(col(Plan.code), col(Task.position))).all()
    ids = [t.id for t, _ in tasks]
    rows = session.exec(
        select(Assignment, Agency)
        .join(Agency, col(Agency.id) == Assignment.agency_id)
        .where(col(Assignment.task_id).in_(ids), Assignment.active)
    ).all()
    by_task: dict[int, list[tuple[Assignment, Agency]]] = {}
    for assignment, agency_row in rows:
        by_task.setdefault(assignment.task_id, []).append((assignment, agency_row))
    views = []
    for task, plan_row in tasks:
        task_rows = by_task.get(task.id or 0, [])
        if agency is not None:
            task_rows = [r for r in task_rows if r[1].code == agency]
            if not task_rows:
                continue
        if status is not None and not any(
            status_now(a, now=now, ack_timeout=ack_timeout) == status for a, _ in task_rows
        ):
            continue
        views.append(task_view(task, plan_row, task_rows, now=now, ack_timeout=ack_timeout))
    return views


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def find_task(session: Session, ref: str) -> tuple[Task, Plan]:
    """A task by id ("12") or by plan and STT ("nq131/5")."""
    task: Task | None = None
    if ref.isdigit():
        task = session.get(Task, int(ref))
    elif "/" in ref:
        plan_code, number = ref.rsplit("/", 1)
        task = session.exec(
            select(Task)
            .join(Plan, col(Plan.id) == Task.plan_id)
            .where(Plan.code == plan_code, Task.number == number)
        ).first()
    if task is None:
        raise NotFoundError("nhiệm vụ", ref)
    plan = session.get(Plan, task.plan_id)
    if plan is None:
        raise NotFoundError("kế hoạch của nhiệm vụ", ref)
    return task, plan


def get_task(
    session: Session,
    ref: str,
    *,
    now: datetime | None = None,
    ack_timeout: timedelta | None = None,
) -> dict[str, Any]:
    """A task by id ("12") or by plan and STT ("nq131/5"), with its approved extensions."""
    task, plan = find_task(session, ref)
    rows = sorted(
        session.exec(
            select(Assignment, Agency)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(Assignment.task_id == task.id, Assignment.active)
        ).all(),
        key=lambda r: (r[0].role != "lead", r[0].id),
    )
    view = task_view(task, plan, rows, now=now, ack_timeout=ack_timeout)
    ids = [a.id for a, _ in rows]
    approved = session.exec(
        select(ExtensionRequest)
        .where(col(ExtensionRequest.assignment_id).in_(ids), ExtensionRequest.status == "approved")
        .order_by(col(ExtensionRequest.decided_at))
    ).all()
    by_assignment = {a.id: item for (a, _), item in zip(rows, view["assignments"], strict=True)}
    for request in approved:
        item = by_assignment[request.assignment_id]
        item.setdefault("extensions", []).append(
            {
                "proposed_due": request.proposed_due.isoformat(),
                "decided_at": _iso(request.decided_at),
                "decided_by": request.decided_by,
            }
        )
    return view
