"""What a chat may do to assignments: acknowledge, complete, note, explain, ask for time.

A chat acts only for the agency it is linked to (dondoc/chat_links.py) and only on that
agency's assignments; anything else is refused politely and audited. Every function
returns a `ChatOutcome` committed together with its audit entry.

The same functions serve the signed email links of the web app (dondoc/web): there
`link_agency_id` names the agency the verified link speaks for instead of a chat, and
the audit says `via: email`. One code path whatever the door. Who may act, and the
shape of answers and audit entries, is dondoc/chat_access.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from dondoc.actions import set_status
from dondoc.chat_access import answer_via, audit_action, authorize, outcome_for
from dondoc.chat_links import ChatOutcome
from dondoc.errors import UserError
from dondoc.extensions import extension_view, notify_office
from dondoc.models import Assignment, ExtensionRequest
from dondoc.reports.explanations import record_explanation
from rules.deadline import Deadline

# --- acting on an assignment ------------------------------------------------------------


def acknowledge(
    session: Session,
    *,
    chat_id: str = "",
    assignment_id: int,
    actor: str,
    now: datetime,
    user_id: int | None = None,
    link_agency_id: int | None = None,
    channel: str = "telegram",
) -> ChatOutcome:
    found = authorize(
        session,
        chat_id=chat_id,
        assignment_id=assignment_id,
        action="acknowledge",
        actor=actor,
        now=now,
        user_id=user_id,
        link_agency_id=link_agency_id,
        channel=channel,
    )
    if isinstance(found, ChatOutcome):
        return found
    assignment = found.assignment
    if assignment.status == "done":
        return outcome_for("already_done", found)
    changed = set_status(
        session,
        assignment=assignment,
        status="acknowledged",
        actor=actor,
        now=now,
        via=answer_via(link_agency_id, channel),
    )
    if not changed:
        # Acknowledging again renews it: an acknowledgement lapses after a while.
        assignment.acknowledged_at = assignment.status_at = assignment.next_due_at = now
        session.add(assignment)
        audit_action(
            session,
            found,
            "assignment.acknowledged",
            actor,
            now,
            renewed=True,
            via=answer_via(link_agency_id, channel),
        )
    return outcome_for("acknowledged", found)


def check(
    session: Session,
    *,
    chat_id: str,
    assignment_id: int,
    action: str,
    actor: str,
    now: datetime,
    user_id: int | None = None,
    channel: str = "telegram",
) -> ChatOutcome:
    """Whether this chat may act on the assignment, before the bot asks it a question."""
    found = authorize(
        session,
        chat_id=chat_id,
        assignment_id=assignment_id,
        action=action,
        actor=actor,
        now=now,
        user_id=user_id,
        channel=channel,
    )
    return found if isinstance(found, ChatOutcome) else outcome_for("allowed", found)


def can_complete(
    session: Session,
    *,
    chat_id: str = "",
    assignment_id: int,
    actor: str,
    now: datetime,
    user_id: int | None = None,
    link_agency_id: int | None = None,
    channel: str = "telegram",
) -> ChatOutcome:
    """The check before asking "are you sure?": authorized and not done yet."""
    found = authorize(
        session,
        chat_id=chat_id,
        assignment_id=assignment_id,
        action="complete",
        actor=actor,
        now=now,
        user_id=user_id,
        link_agency_id=link_agency_id,
        channel=channel,
    )
    if isinstance(found, ChatOutcome):
        return found
    if found.assignment.status == "done":
        return outcome_for("already_done", found)
    return outcome_for("can_complete", found)


def complete(
    session: Session,
    *,
    chat_id: str = "",
    assignment_id: int,
    occurrence: date | None,
    actor: str,
    now: datetime,
    user_id: int | None = None,
    link_agency_id: int | None = None,
    channel: str = "telegram",
) -> ChatOutcome:
    """Done: the whole assignment, or for a recurring task the occurrence being worked on."""
    found = authorize(
        session,
        chat_id=chat_id,
        assignment_id=assignment_id,
        action="complete",
        actor=actor,
        now=now,
        user_id=user_id,
        link_agency_id=link_agency_id,
        channel=channel,
    )
    if isinstance(found, ChatOutcome):
        return found
    assignment, task = found.assignment, found.task
    if assignment.status == "done":
        return outcome_for("already_done", found)
    deadline = Deadline.from_dict(task.deadline) if task.deadline else None
    if deadline is not None and deadline.series:
        occurrence = occurrence or _open_occurrence(deadline, assignment)
    else:
        occurrence = None
    if occurrence is None:
        set_status(
            session,
            assignment=assignment,
            status="done",
            actor=actor,
            now=now,
            via=answer_via(link_agency_id, channel),
        )
        return outcome_for("done", found)
    if assignment.done_through is not None and occurrence <= assignment.done_through:
        return outcome_for("already_done", found, occurrence=occurrence)
    assignment.done_through, assignment.next_due_at = occurrence, now
    session.add(assignment)
    audit_action(
        session,
        found,
        "assignment.done_occurrence",
        actor,
        now,
        occurrence=occurrence.isoformat(),
        via=answer_via(link_agency_id, channel),
    )
    return outcome_for("occurrence_done", found, occurrence=occurrence)


def _open_occurrence(deadline: Deadline, assignment: Assignment) -> date | None:
    """The oldest occurrence not yet complete: the cycle the agency is working on."""
    if assignment.done_through is not None:
        after = assignment.done_through + timedelta(days=1)
    elif assignment.created_at is not None:
        after = assignment.created_at.date()
    else:
        after = date.min
    return deadline.first_occurrence(after)


def add_note(
    session: Session,
    *,
    chat_id: str = "",
    assignment_id: int,
    text: str,
    actor: str,
    now: datetime,
    user_id: int | None = None,
    link_agency_id: int | None = None,
    channel: str = "telegram",
) -> ChatOutcome:
    """A progress note: kept in the audit trail, where reports and the office read it."""
    found = authorize(
        session,
        chat_id=chat_id,
        assignment_id=assignment_id,
        action="note",
        actor=actor,
        now=now,
        user_id=user_id,
        link_agency_id=link_agency_id,
        channel=channel,
    )
    if isinstance(found, ChatOutcome):
        return found
    audit_action(
        session,
        found,
        "assignment.note",
        actor,
        now,
        via=answer_via(link_agency_id, channel),
        text=text.strip()[:4000],
    )
    return outcome_for("note_saved", found)


def submit_explanation(
    session: Session,
    *,
    chat_id: str = "",
    assignment_id: int,
    text: str,
    actor: str,
    now: datetime,
    user_id: int | None = None,
    link_agency_id: int | None = None,
    channel: str = "telegram",
) -> ChatOutcome:
    found = authorize(
        session,
        chat_id=chat_id,
        assignment_id=assignment_id,
        action="explanation",
        actor=actor,
        now=now,
        user_id=user_id,
        link_agency_id=link_agency_id,
        channel=channel,
    )
    if isinstance(found, ChatOutcome):
        return found
    try:
        explanation = record_explanation(
            session,
            assignment=found.assignment,
            text=text,
            author=actor,
            via=answer_via(link_agency_id, channel),
            actor=actor,
            now=now,
        )
    except UserError as exc:
        return outcome_for("explanation_invalid", found, message=exc.message)
    notify_office(
        session,
        parts=found,
        template="explanation_received",
        now=now,
        key=f"notice:explanation:{explanation.id}",
        extra={"explanation": {"text": explanation.text, "author": actor}},
    )
    return outcome_for("explanation_saved", found)


def request_extension(
    session: Session,
    *,
    chat_id: str = "",
    assignment_id: int,
    reason: str,
    proposed_due: date,
    today: date,
    actor: str,
    now: datetime,
    user_id: int | None = None,
    link_agency_id: int | None = None,
    channel: str = "telegram",
) -> ChatOutcome:
    """A request the office decides (`dondoc extension`); one pending request at a time."""
    found = authorize(
        session,
        chat_id=chat_id,
        assignment_id=assignment_id,
        action="extension",
        actor=actor,
        now=now,
        user_id=user_id,
        link_agency_id=link_agency_id,
        channel=channel,
    )
    if isinstance(found, ChatOutcome):
        return found
    if proposed_due <= today:
        return outcome_for("extension_date_not_future", found, proposed=proposed_due)
    pending = session.exec(
        select(ExtensionRequest).where(
            ExtensionRequest.assignment_id == assignment_id, ExtensionRequest.status == "pending"
        )
    ).first()
    if pending is not None:
        return outcome_for("extension_pending", found, proposed=pending.proposed_due)
    request = ExtensionRequest(
        assignment_id=assignment_id,
        requested_by=actor,
        reason=reason.strip(),
        proposed_due=proposed_due,
        created_at=now,
    )
    session.add(request)
    session.flush()
    audit_action(
        session,
        found,
        "extension.requested",
        actor,
        now,
        request_id=request.id,
        proposed_due=proposed_due.isoformat(),
        reason=request.reason,
        via=answer_via(link_agency_id, channel),
    )
    office = notify_office(
        session,
        parts=found,
        template="extension_request",
        now=now,
        key=f"notice:extension:{request.id}",
        extra={"extension": extension_view(request, found)},
    )
    return outcome_for(
        "extension_sent", found, proposed=proposed_due, office=office.name if office else None
    )
