"""Who may act on an assignment, and how an action is answered and audited.

Split from dondoc/chat_actions.py so the one authorization rule, and the outcome and
audit shapes every action shares, live apart from the actions themselves; the actions
depend on this module, never the other way round.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from dondoc.chat_links import ChatOutcome, audit_refusal, chat_agency, may_answer, task_ref_of
from dondoc.extensions import Parts
from dondoc.models import Agency, Assignment, AuditEntry, Plan, Task


def answer_via(link_agency_id: int | None, channel: str) -> str:
    """The door the audit names: a verified email link speaks for its agency, not a chat;
    the API (channel "api") names itself."""
    return channel if link_agency_id is None or channel == "api" else "email"


def authorize(
    session: Session,
    *,
    chat_id: str,
    assignment_id: int,
    action: str,
    actor: str,
    now: datetime,
    user_id: int | None = None,
    link_agency_id: int | None = None,
    channel: str = "telegram",
) -> Parts | ChatOutcome:
    """The assignment's parts when this `channel`'s chat (and, where the agency lists who
    may answer, this person `user_id`) may act on it; else a refusal, audited with its
    reason. A signed email link names its agency (`link_agency_id`) instead of a chat."""
    if link_agency_id is not None:
        agency = session.get(Agency, link_agency_id)
    else:
        agency = chat_agency(session, chat_id=chat_id, channel=channel)
    assignment = session.get(Assignment, assignment_id)
    task = session.get(Task, assignment.task_id) if assignment else None
    plan = session.get(Plan, task.plan_id) if task else None
    # Each check refuses with its own name in the audit trail.
    if agency is None:
        reason, status = "not_linked", "not_linked"
    elif assignment is None:
        reason, status = "unknown_assignment", "refused"
    elif assignment.agency_id != agency.id:
        reason, status = "not_assigned", "refused"
    elif task is None or plan is None or not task.active:
        reason, status = "task_removed", "task_gone"
    elif not assignment.active:
        reason, status = "assignment_removed", "task_gone"
    elif user_id is not None and not may_answer(session, agency=agency, user_id=user_id):
        reason, status = "not_member", "not_member"
    else:
        return Parts(agency, assignment, task, plan)
    audit_refusal(
        session,
        chat_id=chat_id,
        agency=agency,
        reason=reason,
        action=action,
        actor=actor,
        now=now,
        assignment=assignment,
        **({"channel": channel} if channel != "telegram" else {}),
    )
    if agency is None:
        return ChatOutcome(status)
    return ChatOutcome(status, locale=agency.locale, agency=agency.name)


def outcome_for(status: str, parts: Parts, **detail: Any) -> ChatOutcome:
    return ChatOutcome(
        status,
        locale=parts.agency.locale,
        agency=parts.agency.name,
        task=task_ref_of(parts),
        detail=detail,
    )


def audit_action(
    session: Session,
    parts: Parts,
    action: str,
    actor: str,
    now: datetime,
    *,
    via: str,
    **detail: Any,
) -> None:
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=action,
            plan_id=parts.plan.id,
            task_id=parts.task.id,
            assignment_id=parts.assignment.id,
            agency_id=parts.agency.id,
            detail={"via": via, **detail},
        )
    )
