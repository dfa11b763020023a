"""What agencies and the office do to an assignment: acknowledge, complete, reopen.

Every change is audited and asks the daemon to re-evaluate the assignment
(`next_due_at` = now), whether it came from the CLI, a chat button or a reply.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from dondoc.errors import NotFoundError, UserError
from dondoc.models import Agency, Assignment, AuditEntry, Task


def find_assignment(session: Session, *, task_id: int, agency_code: str) -> Assignment:
    agency = session.exec(select(Agency).where(Agency.code == agency_code)).first()
    if agency is None:
        raise NotFoundError("cơ quan", agency_code)
    assignment = session.exec(
        select(Assignment).where(
            Assignment.task_id == task_id, Assignment.agency_id == agency.id, Assignment.active
        )
    ).first()
    if assignment is None:
        raise UserError(f"Cơ quan '{agency_code}' không được giao nhiệm vụ #{task_id}.")
    return assignment


def set_status(
    session: Session,
    *,
    assignment: Assignment,
    status: str,
    actor: str,
    now: datetime,
    via: str = "cli",
) -> bool:
    """Move an assignment to `status`; returns False when it already was there."""
    if status not in ("open", "acknowledged", "done"):
        raise ValueError(f"unknown status {status!r}")
    if assignment.status == status:
        return False
    previous = assignment.status
    assignment.status, assignment.status_at, assignment.status_by = status, now, actor
    if status == "acknowledged":
        assignment.acknowledged_at = now
    elif status == "done":
        assignment.done_at = now
    else:
        assignment.acknowledged_at = assignment.done_at = None
    assignment.next_due_at = now
    session.add(assignment)
    task = session.get(Task, assignment.task_id)
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=f"assignment.{status}",
            plan_id=task.plan_id if task else None,
            task_id=assignment.task_id,
            assignment_id=assignment.id,
            agency_id=assignment.agency_id,
            detail={"from": previous, "to": status, "via": via},
        )
    )
    return True
