"""A chat and the agency it works for: linking with invite codes, the messages it answers.

The office runs `dondoc agency invite AGENCY`; someone of that agency sends `/start CODE`
to the bot (or opens the t.me link) in the chat that should receive its reminders. Only
the code's hash is stored, and a chat works for one agency only. Everything a chat is
told comes back as a `ChatOutcome`: refusals are audited and committed, not raised, and
the bot turns the outcome into a sentence (`status` names a phrase of
notifiers/templates/<locale>/chat.j2).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from dondoc.errors import NotFoundError, UserError
from dondoc.extensions import Parts, effective_due
from dondoc.models import (
    Agency,
    Assignment,
    AuditEntry,
    Contact,
    InviteCode,
    Plan,
    SentMessage,
    Task,
)
from dondoc.models_chat import ChatMember, ChatMigration, ChatPrompt
from dondoc.tasks import status_now

# Outcomes that refuse; the audit row names the check that refused (`reason`).
REFUSALS = (
    "not_linked",
    "refused",
    "task_gone",
    "refused_button",
    "button_used",
    "not_member",
    "throttled",
)


@dataclass(frozen=True)
class TaskRef:
    """An assignment as the chat talks about it."""

    assignment_id: int
    plan: str
    number: str
    title: str
    role: str
    status: str
    due: date | None


@dataclass(frozen=True)
class ChatOutcome:
    status: str
    locale: str = "vi"
    agency: str | None = None  # the chat's agency, by name
    task: TaskRef | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.status in REFUSALS


# --- who is asking, about what ----------------------------------------------------------


def chat_agency(session: Session, *, chat_id: str, channel: str = "telegram") -> Agency | None:
    contact = session.exec(
        select(Contact).where(
            Contact.channel == channel, Contact.address == chat_id, Contact.active
        )
    ).first()
    return session.get(Agency, contact.agency_id) if contact else None


def may_answer(session: Session, *, agency: Agency, user_id: int) -> bool:
    """Any member of a linked chat may answer, unless the office listed who may
    (`dondoc agency members`, dondoc/chat_members.py)."""
    listed = session.exec(select(ChatMember).where(ChatMember.agency_id == agency.id)).all()
    return not listed or any(member.user_id == user_id for member in listed)


def migrate_chat(
    session: Session, *, old_chat_id: str, new_chat_id: str, actor: str, now: datetime
) -> bool:
    """A group that became a supergroup gets a new id: its link, the messages its replies
    point at and its open questions follow. False when the old chat was not linked."""
    contacts = session.exec(
        select(Contact).where(Contact.channel == "telegram", Contact.address == old_chat_id)
    ).all()
    for contact in contacts:
        contact.address = new_chat_id
        session.add(contact)
    for sent in session.exec(
        select(SentMessage).where(
            SentMessage.channel == "telegram", SentMessage.chat_id == old_chat_id
        )
    ):
        sent.chat_id = new_chat_id
        session.add(sent)
    for prompt in session.exec(select(ChatPrompt).where(ChatPrompt.chat_id == old_chat_id)):
        prompt.chat_id = new_chat_id
        session.add(prompt)
    known = session.exec(
        select(ChatMigration).where(ChatMigration.old_chat_id == old_chat_id)
    ).first()
    if known is None:
        session.add(ChatMigration(old_chat_id=old_chat_id, new_chat_id=new_chat_id, at=now))
    linked = next((c for c in contacts if c.active), None)
    if linked is not None:
        session.add(
            AuditEntry(
                at=now,
                actor=actor,
                action="chat.migrated",
                agency_id=linked.agency_id,
                detail={"chat_id": new_chat_id, "from_chat_id": old_chat_id},
            )
        )
    return linked is not None


def former_chat_ids(session: Session, *, chat_id: str) -> list[str]:
    """The ids a supergroup had as a group: its older buttons are signed for them."""
    rows = session.exec(select(ChatMigration).where(ChatMigration.new_chat_id == chat_id))
    return [row.old_chat_id for row in rows]


def sent_message(session: Session, *, chat_id: str, message_id: str) -> SentMessage | None:
    return session.exec(
        select(SentMessage).where(
            SentMessage.channel == "telegram",
            SentMessage.chat_id == chat_id,
            SentMessage.message_id == message_id,
        )
    ).first()


def latest_sent_message(
    session: Session, *, chat_id: str, channel: str = "telegram"
) -> SentMessage | None:
    return session.exec(
        select(SentMessage)
        .where(SentMessage.channel == channel, SentMessage.chat_id == chat_id)
        .order_by(col(SentMessage.at).desc(), col(SentMessage.id).desc())
    ).first()


def open_tasks(
    session: Session,
    *,
    chat_id: str,
    channel: str = "telegram",
    now: datetime | None = None,
    ack_timeout: timedelta | None = None,
) -> tuple[ChatOutcome, list[TaskRef]]:
    """The linked agency's assignments that are not done, in plan order; with `now` and
    the rule config's `ack_timeout`, an acknowledgement that has lapsed reads "open"
    (the reminders have started again, so "đã nhận" would mislead)."""
    agency = chat_agency(session, chat_id=chat_id, channel=channel)
    if agency is None:
        return ChatOutcome("not_linked"), []
    rows = session.exec(
        select(Assignment, Task, Plan)
        .join(Task, col(Task.id) == Assignment.task_id)
        .join(Plan, col(Plan.id) == Task.plan_id)
        .where(
            Assignment.agency_id == agency.id,
            Assignment.active,
            Task.active,
            Assignment.status != "done",
        )
        .order_by(col(Plan.code), col(Task.position))
    ).all()
    outcome = ChatOutcome("tasks", locale=agency.locale, agency=agency.name)
    return outcome, [
        task_ref_of(Parts(agency, a, t, p), status=status_now(a, now=now, ack_timeout=ack_timeout))
        for a, t, p in rows
    ]


def task_ref(session: Session, *, assignment_id: int) -> TaskRef | None:
    assignment = session.get(Assignment, assignment_id)
    task = session.get(Task, assignment.task_id) if assignment else None
    plan = session.get(Plan, task.plan_id) if task else None
    agency = session.get(Agency, assignment.agency_id) if assignment else None
    if assignment is None or task is None or plan is None or agency is None:
        return None
    return task_ref_of(Parts(agency, assignment, task, plan))


def task_ref_of(parts: Parts, *, status: str | None = None) -> TaskRef:
    return TaskRef(
        assignment_id=parts.assignment.id or 0,
        plan=parts.plan.code,
        number=parts.task.number,
        title=parts.task.title,
        role=parts.assignment.role,
        status=status or parts.assignment.status,
        due=effective_due(parts.assignment, parts.task),
    )


def refuse(
    session: Session,
    *,
    chat_id: str,
    reason: str,
    action: str,
    actor: str,
    now: datetime,
    status: str | None = None,
    event: str = "chat.refused",
    channel: str = "telegram",
    **detail: Any,
) -> ChatOutcome:
    """Record a refusal decided before the store was asked (a forged button, a flood):
    `reason` names the check for the audit, `status` the phrase the chat reads."""
    agency = chat_agency(session, chat_id=chat_id, channel=channel)
    if channel != "telegram":
        detail["channel"] = channel
    audit_refusal(
        session,
        chat_id=chat_id,
        agency=agency,
        reason=reason,
        action=action,
        actor=actor,
        now=now,
        event=event,
        **detail,
    )
    locale, name = (agency.locale, agency.name) if agency else ("vi", None)
    return ChatOutcome(status or reason, locale=locale, agency=name)


def audit_refusal(
    session: Session,
    *,
    chat_id: str,
    agency: Agency | None,
    reason: str,
    action: str,
    actor: str,
    now: datetime,
    assignment: Assignment | None = None,
    event: str = "chat.refused",
    **detail: Any,
) -> None:
    task = session.get(Task, assignment.task_id) if assignment else None
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=event,
            plan_id=task.plan_id if task else None,
            task_id=task.id if task else None,
            assignment_id=assignment.id if assignment else None,
            agency_id=agency.id if agency else None,
            detail={"chat_id": chat_id, "reason": reason, "attempted": action, **detail},
        )
    )


# --- invite codes ----------------------------------------------------------------------

# No 0/O, 1/I/L: codes are read out on the phone and typed by hand.
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_LENGTH = 10
MAX_INVITE_HOURS = 24 * 30


@dataclass(frozen=True)
class Invite:
    code: str
    agency_code: str
    agency_name: str
    expires_at: datetime


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def create_invite(
    session: Session, *, agency_code: str, hours: int, actor: str, now: datetime
) -> Invite:
    if not 1 <= hours <= MAX_INVITE_HOURS:
        raise UserError(f"--hours phải từ 1 đến {MAX_INVITE_HOURS} giờ.")
    agency = session.exec(select(Agency).where(Agency.code == agency_code)).first()
    if agency is None:
        raise NotFoundError("cơ quan", agency_code)
    raw = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
    code = f"{raw[:5]}-{raw[5:]}"
    invite = InviteCode(
        code_hash=_hash(code),
        agency_id=agency.id or 0,
        expires_at=now + timedelta(hours=hours),
        created_at=now,
    )
    session.add(invite)
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action="invite.created",
            agency_id=agency.id,
            detail={"expires_at": invite.expires_at.isoformat(), "hours": hours},
        )
    )
    return Invite(code, agency.code, agency.name, invite.expires_at)


def link_chat(
    session: Session,
    *,
    code: str,
    chat_id: str,
    chat_title: str,
    actor: str,
    now: datetime,
    channel: str = "telegram",
) -> ChatOutcome:
    """Spend `code` on this `channel`'s chat. Outcomes: linked, already_linked,
    linked_elsewhere, code_invalid, code_used, code_expired."""
    current = chat_agency(session, chat_id=chat_id, channel=channel)
    invite = session.exec(select(InviteCode).where(InviteCode.code_hash == _hash(code))).first()
    agency = session.get(Agency, invite.agency_id) if invite else None
    if invite is None or agency is None:
        return _refused(session, "code_invalid", chat_id, current, actor, now, channel)
    if current is not None:
        status = "already_linked" if current.id == agency.id else "linked_elsewhere"
        return ChatOutcome(status, locale=current.locale, agency=current.name)
    if invite.used_at is not None:
        return _refused(session, "code_used", chat_id, agency, actor, now, channel)
    if invite.expires_at <= now:
        return _refused(session, "code_expired", chat_id, agency, actor, now, channel)
    invite.used_at, invite.used_by = now, chat_id
    session.add(invite)
    contact = session.exec(
        select(Contact).where(
            Contact.agency_id == agency.id,
            Contact.channel == channel,
            Contact.address == chat_id,
        )
    ).first()
    contact = contact or Contact(agency_id=agency.id or 0, channel=channel, address=chat_id)
    contact.active, contact.name = True, chat_title[:200] or None
    session.add(contact)
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action="chat.linked",
            agency_id=agency.id,
            detail={"chat_id": chat_id, "chat": chat_title, "channel": channel},
        )
    )
    return ChatOutcome("linked", locale=agency.locale, agency=agency.name)


def _refused(
    session: Session,
    status: str,
    chat_id: str,
    agency: Agency | None,
    actor: str,
    now: datetime,
    channel: str,
) -> ChatOutcome:
    audit_refusal(
        session,
        chat_id=chat_id,
        agency=agency,
        reason=status,
        action="link",
        actor=actor,
        now=now,
        channel=channel,
    )
    return ChatOutcome(status, locale=agency.locale if agency else "vi")
