"""Read side of the store: tasks with their assignments, as plain dicts for CLI and reports."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from dondoc.errors import NotFoundError, UserError
from dondoc.models import Agency, Assignment, Plan, Task

STATUS_LABELS = {"open": "chưa xong", "acknowledged": "đã nhận", "done": "đã hoàn thành"}
ROLE_LABELS = {"lead": "chủ trì", "coordinator": "phối hợp"}


def task_view(task: Task, plan: Plan, rows: list[tuple[Assignment, Agency]]) -> dict[str, Any]:
    return {
        "id": task.id,
        "plan": plan.code,
        "section": task.section_code,
        "section_title": task.section_title,
        "number": task.number,
        "short_number": short_number(task),
        "full_number": full_number(task),
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
    number: str | None = None,
) -> list[dict[str, Any]]:
    """Active tasks; `number` (short or full STT) picks one task of `plan`."""
    if number is not None:
        if plan is None:
            raise UserError("--number cần đi kèm --plan (STT chỉ duy nhất trong một kế hoạch).")
        if session.exec(select(Plan).where(Plan.code == plan)).first() is None:
            raise NotFoundError("kế hoạch", plan)
        wanted = find_task(session, plan_code=plan, number=number)
        return [
            v
            for v in list_tasks(session, plan=plan, agency=agency, status=status)
            if v["id"] == wanted.id
        ]
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
        if status is not None and not any(a.status == status for a, _ in task_rows):
            continue
        views.append(task_view(task, plan_row, task_rows))
    return views


def short_number(task: Task) -> str:
    """The STT as the plan prints it: "1.1" for the task stored as "A.I.1.1"."""
    prefix = f"{task.section_code}." if task.section_code else ""
    return task.number.removeprefix(prefix) if prefix else task.number


def full_number(task: Task) -> str:
    """The STT with its section path: "A.I.1.1", unique within the plan."""
    if not task.section_code or task.number.startswith(f"{task.section_code}."):
        return task.number
    return f"{task.section_code}.{task.number}"


def find_task(session: Session, *, plan_code: str, number: str) -> Task:
    """A task by its stored, short ("1.1") or full ("A.I.1.1") number, when unambiguous."""
    tasks = session.exec(
        select(Task).join(Plan, col(Plan.id) == Task.plan_id).where(Plan.code == plan_code)
    ).all()
    exact = [t for t in tasks if t.number == number]
    if exact:
        return exact[0]
    matches = [t for t in tasks if number in (short_number(t), full_number(t))]
    active = [t for t in matches if t.active] or matches
    if len(active) > 1:
        full = ", ".join(full_number(t) for t in active)
        raise UserError(
            f"STT '{number}' có ở nhiều mục của kế hoạch {plan_code}: {full}. Hãy ghi đủ số "
            f"kèm mục, ví dụ {plan_code}/{full_number(active[0])}."
        )
    if not active:
        raise NotFoundError("nhiệm vụ", f"{plan_code}/{number}")
    return active[0]


def get_task(session: Session, ref: str) -> dict[str, Any]:
    """A task by id ("12") or by plan and STT ("nq131/5", "kh/A.I.1.1" or "kh/1.1")."""
    task: Task | None = None
    if ref.isdigit():
        task = session.get(Task, int(ref))
    elif "/" in ref:
        plan_code, number = ref.rsplit("/", 1)
        task = find_task(session, plan_code=plan_code, number=number)
    if task is None:
        raise NotFoundError("nhiệm vụ", ref)
    plan = session.get(Plan, task.plan_id)
    if plan is None:
        raise NotFoundError("kế hoạch của nhiệm vụ", ref)
    rows = session.exec(
        select(Assignment, Agency)
        .join(Agency, col(Agency.id) == Assignment.agency_id)
        .where(Assignment.task_id == task.id, Assignment.active)
    ).all()
    return task_view(task, plan, list(rows))
