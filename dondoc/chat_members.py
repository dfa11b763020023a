"""Who may answer in an agency's group chats (`dondoc agency members`).

By default any member of a linked chat may answer for the agency. When the office lists
people for an agency, only they may press its buttons or answer its reminders in a
group; a private chat is always its owner's.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from dondoc.errors import NotFoundError, UserError
from dondoc.models import Agency, AuditEntry
from dondoc.models_chat import ChatMember


def _agency(session: Session, code: str) -> Agency:
    agency = session.exec(select(Agency).where(Agency.code == code)).first()
    if agency is None:
        raise NotFoundError("cơ quan", code)
    return agency


def list_members(session: Session, *, agency_code: str) -> list[ChatMember]:
    agency = _agency(session, agency_code)
    return list(
        session.exec(
            select(ChatMember)
            .where(ChatMember.agency_id == agency.id)
            .order_by(col(ChatMember.user_id))
        ).all()
    )


def add_member(
    session: Session,
    *,
    agency_code: str,
    user_id: int,
    name: str | None,
    actor: str,
    now: datetime,
) -> bool:
    """Allow Telegram user `user_id` to answer; False when already listed."""
    if user_id <= 0:
        raise UserError(f"Mã người dùng Telegram phải là số dương, nhận được {user_id}.")
    agency = _agency(session, agency_code)
    found = session.exec(
        select(ChatMember).where(ChatMember.agency_id == agency.id, ChatMember.user_id == user_id)
    ).first()
    if found is not None:
        return False
    session.add(ChatMember(agency_id=agency.id or 0, user_id=user_id, name=name, added_at=now))
    session.add(
        AuditEntry(at=now, actor=actor, action="chat.member_added", agency_id=agency.id,
                   detail={"user_id": user_id, "name": name})
    )  # fmt: skip
    return True


def remove_member(
    session: Session, *, agency_code: str, user_id: int, actor: str, now: datetime
) -> bool:
    """Stop listing `user_id`; False when it was not listed."""
    agency = _agency(session, agency_code)
    found = session.exec(
        select(ChatMember).where(ChatMember.agency_id == agency.id, ChatMember.user_id == user_id)
    ).first()
    if found is None:
        return False
    session.delete(found)
    session.add(
        AuditEntry(at=now, actor=actor, action="chat.member_removed", agency_id=agency.id,
                   detail={"user_id": user_id})
    )  # fmt: skip
    return True
