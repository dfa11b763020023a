"""Extension requests as the office sees them, and the notices a chat answer triggers.

An agency asks for more time from chat (dondoc.chat_actions.request_extension); the
office is told through the outbox and decides with `dondoc extension approve|deny`.
Approval replaces that assignment's due date (`due_override`) and asks the daemon to
re-evaluate it; either decision is audited and told back to the agency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from dondoc.directory import default_office
from dondoc.errors import NotFoundError, UserError
from dondoc.models import Agency, Assignment, AuditEntry, Contact, ExtensionRequest, Plan, Task
from dondoc.outbox import enqueue
from rules.deadline import Deadline

EXTENSION_STATUSES = ("pending", "approved", "denied")


@dataclass(frozen=True)
class Parts:
    """An assignment with what every message about it names."""

    agency: Agency
    assignment: Assignment
    task: Task
    plan: Plan


def load_parts(session: Session, assignment_id: int) -> Parts:
    assignment = session.get(Assignment, assignment_id)
    task = session.get(Task, assignment.task_id) if assignment else None
    plan = session.get(Plan, task.plan_id) if task else None
    agency = session.get(Agency, assignment.agency_id) if assignment else None
    if assignment is None or task is None or plan is None or agency is None:
        raise NotFoundError("phân công", assignment_id)
    return Parts(agency, assignment, task, plan)


def effective_due(assignment: Assignment, task: Task) -> date | None:
    """An approved extension, else the plan's due date."""
    if assignment.due_override is not None:
        return assignment.due_override
    due = (task.deadline or {}).get("due")
    return date.fromisoformat(due) if isinstance(due, str) else None


def office_of(session: Session, plan: Plan) -> Agency | None:
    if plan.owner_agency_id is not None:
        return session.get(Agency, plan.owner_agency_id)
    return default_office(session)


# --- notices ----------------------------------------------------------------------------


def notify(
    session: Session,
    *,
    parts: Parts,
    recipient: Agency,
    template: str,
    key: str,
    now: datetime,
    extra: dict[str, Any],
) -> int:
    """Queue a notice about `parts` to `recipient` on every channel it can be reached on."""
    channels = set(
        session.exec(
            select(Contact.channel).where(
                Contact.agency_id == recipient.id, Contact.active, ~col(Contact.is_head)
            )
        ).all()
    )
    context = notice_context(session, parts=parts, recipient=recipient, template=template)
    context.update(extra)
    return sum(
        enqueue(
            session,
            key=f"{key}:{channel}",
            kind="notice",
            channel=channel,
            agency_id=recipient.id,
            assignment_id=parts.assignment.id,
            stage=template,
            template=template,
            context=context,
            send_after=now,
            now=now,
        )
        for channel in sorted(channels)
    )


def notify_office(
    session: Session, *, parts: Parts, template: str, key: str, now: datetime, extra: dict[str, Any]
) -> Agency | None:
    office = office_of(session, parts.plan)
    if office is not None:
        notify(
            session, parts=parts, recipient=office, template=template, key=key, now=now, extra=extra
        )
    return office


def notice_context(
    session: Session, *, parts: Parts, recipient: Agency, template: str
) -> dict[str, Any]:
    """The same shape as a reminder's context, so the same templates can show the task."""
    task, plan, assignment, agency = parts.task, parts.plan, parts.assignment, parts.agency
    office = office_of(session, plan)
    due = effective_due(assignment, task)
    deadline = Deadline.from_dict(task.deadline) if task.deadline else None
    return {
        "assignment_id": assignment.id,
        "role": assignment.role,
        "stage": template,
        "template": template,
        "repeat": 0,
        "ask_explanation": False,
        "occurrence": None,
        "audience": "agency" if recipient.id == agency.id else "office",
        "plan": {"code": plan.code, "title": plan.title},
        "task": {
            "id": task.id,
            "number": task.number,
            "section": task.section_code,
            "title": task.title,
            "product": task.product,
            "deadline_text": task.deadline_text,
            "deadline_explained": deadline.describe(recipient.locale) if deadline else None,
            "due": due.isoformat() if due else None,
            "target": deadline.target.isoformat() if deadline and deadline.target else None,
        },
        "agency": {"code": agency.code, "name": agency.name},
        "recipient": {"code": recipient.code, "name": recipient.name},
        "office": {"code": office.code, "name": office.name} if office else None,
        "answer": {"telegram_link": None, "reply_email": None},
    }


# --- the office's decisions -------------------------------------------------------------


def extension_view(request: ExtensionRequest, parts: Parts) -> dict[str, Any]:
    due = effective_due(parts.assignment, parts.task)
    return {
        "id": request.id,
        "plan": parts.plan.code,
        "number": parts.task.number,
        "title": parts.task.title,
        "agency": parts.agency.code,
        "agency_name": parts.agency.name,
        "reason": request.reason,
        "proposed_due": request.proposed_due.isoformat(),
        "current_due": due.isoformat() if due else None,
        "requested_by": request.requested_by,
        "requested_at": request.created_at.isoformat(),
        "status": request.status,
        "decided_by": request.decided_by,
        "note": request.decision_note,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def list_extensions(session: Session, *, status: str | None = "pending") -> list[dict[str, Any]]:
    if status is not None and status not in EXTENSION_STATUSES:
        raise UserError(f"--status phải là một trong: {', '.join(EXTENSION_STATUSES)}, all.")
    query = select(ExtensionRequest).order_by(col(ExtensionRequest.id))
    if status is not None:
        query = query.where(ExtensionRequest.status == status)
    return [
        extension_view(request, load_parts(session, request.assignment_id))
        for request in session.exec(query).all()
    ]


class ExtensionDecidedError(UserError):
    def __init__(self, request_id: int, status: str) -> None:
        word = "đã được duyệt" if status == "approved" else "đã bị từ chối"
        super().__init__(f"Đề nghị gia hạn #{request_id} {word} trước đó.")


def decide_extension(
    session: Session,
    *,
    request_id: int,
    approve: bool,
    note: str | None,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """Approve (the assignment's deadline becomes the proposed date) or deny a request."""
    request = session.get(ExtensionRequest, request_id)
    if request is None:
        raise NotFoundError("đề nghị gia hạn", request_id)
    if request.status != "pending":
        raise ExtensionDecidedError(request_id, request.status)
    parts = load_parts(session, request.assignment_id)
    previous = effective_due(parts.assignment, parts.task)
    request.status = "approved" if approve else "denied"
    request.decided_by, request.decided_at = actor, now
    request.decision_note = note.strip() if note and note.strip() else None
    session.add(request)
    if approve:
        parts.assignment.due_override = request.proposed_due
        parts.assignment.next_due_at = now  # the daemon re-evaluates it at the next tick
        session.add(parts.assignment)
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=f"extension.{request.status}",
            plan_id=parts.plan.id,
            task_id=parts.task.id,
            assignment_id=parts.assignment.id,
            agency_id=parts.agency.id,
            detail={
                "request_id": request.id,
                "from": previous.isoformat() if previous else None,
                "to": request.proposed_due.isoformat() if approve else None,
                "note": request.decision_note,
            },
        )
    )
    # The view's current_due is the new date once approved; the office must see both.
    view = {**extension_view(request, parts), "previous_due": _iso(previous)}
    notify(
        session,
        parts=parts,
        recipient=parts.agency,
        template="extension_decision",
        key=f"notice:extension-decision:{request.id}",
        now=now,
        extra={"extension": view},
    )
    return view
