"""Recording a reorganisation: an agency merged into another, or renamed.

A merger moves the old agency's open assignments to the successor (history, statuses,
explanations and audit stay with the assignment rows), moves its Telegram chat links
(the same people now answer for the successor) and its group memberships, and records
the old name as a former name of the successor, so plans naming it keep resolving.
Email contacts stay with the old agency, as history. Every row touched is remembered in
the `AgencyChange`, so the change can be undone, but only before the day it takes effect:
from then on, reports name the successor and undoing would rewrite what they said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlmodel import Session, col, select

from dondoc.directory import succession_note
from dondoc.errors import NotFoundError, UserError
from dondoc.models import Agency, AgencyGroupMember, Assignment, AuditEntry, Contact
from dondoc.models_agency_history import AgencyChange, AgencyFormerName


@dataclass(frozen=True)
class ChangeReport:
    kind: str
    old: str
    new: str
    effective_on: date
    moved: int
    merged_into_existing: int
    chats: int
    undone: bool = False

    @property
    def note(self) -> str:
        return succession_note(self.old, self.new, self.effective_on)


def merge_agency(
    session: Session, *, old: str, into: str, on: date, now: datetime, actor: str
) -> ChangeReport:
    source, target = _agency(session, old), _agency(session, into)
    if source.id == target.id:
        raise UserError(f"Không thể sáp nhập '{old}' vào chính nó.")
    earlier = _active_merge(session, source)
    if earlier is not None:
        successor = session.get(Agency, earlier.new_agency_id)
        raise UserError(
            f"'{old}' đã được sáp nhập vào '{successor.code if successor else '?'}' từ "
            f"{earlier.effective_on:%d/%m/%Y}; muốn sửa thì hoàn tác trước bằng --undo."
        )
    moved: dict[str, list[int]] = {"assignments": [], "deactivated": [], "reactivated": []}
    successor_rows = {
        (a.task_id, a.role): a
        for a in session.exec(select(Assignment).where(Assignment.agency_id == target.id))
    }
    open_rows = session.exec(
        select(Assignment).where(
            Assignment.agency_id == source.id, col(Assignment.active), Assignment.status != "done"
        )
    ).all()
    for row in open_rows:
        existing = successor_rows.get((row.task_id, row.role))
        if existing is None:
            row.agency_id = target.id or 0
            moved["assignments"].append(row.id or 0)
        else:
            # The successor already has this part of the task: the old row is closed.
            row.active = False
            moved["deactivated"].append(row.id or 0)
            if not existing.active:
                existing.active = True
                moved["reactivated"].append(existing.id or 0)
            session.add(existing)
        session.add(row)
    chats = session.exec(
        select(Contact).where(Contact.agency_id == source.id, Contact.channel == "telegram")
    ).all()
    moved["chats"] = []
    for chat in chats:
        chat.agency_id = target.id or 0
        moved["chats"].append(chat.id or 0)
        session.add(chat)
    moved.update(_move_memberships(session, source, target))
    change = _record(session, "merge", source, target, source.name, target.name, on, now, actor)
    change.moved = moved
    session.add(
        AgencyFormerName(
            agency_id=target.id,
            name=source.name,
            aliases=list(source.aliases),
            until=on,
            former_code=source.code,
            change_id=change.id,
        )
    )
    _audit(session, "agency.merge", change, now, actor)
    return ChangeReport(
        "merge",
        source.name,
        target.name,
        on,
        len(moved["assignments"]),
        len(moved["deactivated"]),
        len(chats),
    )


def rename_agency(
    session: Session, *, code: str, name: str, on: date, now: datetime, actor: str
) -> ChangeReport:
    agency = _agency(session, code)
    name = name.strip()
    if len(name) < 2 or name == agency.name:
        raise UserError(f"--name: hãy ghi tên mới của '{code}' (khác tên hiện tại).")
    taken = session.exec(select(Agency).where(Agency.name == name)).first()
    if taken is not None:
        raise UserError(f"--name: tên '{name}' đang là tên của '{taken.code}'.")
    ids = session.exec(
        select(Assignment.id).where(Assignment.agency_id == agency.id, col(Assignment.active))
    ).all()
    old_name = agency.name
    agency.name = name
    session.add(agency)
    change = _record(session, "rename", agency, agency, old_name, name, on, now, actor)
    change.moved = {"assignments": [i for i in ids if i is not None]}
    session.add(AgencyFormerName(agency_id=agency.id, name=old_name, until=on, change_id=change.id))
    _audit(session, "agency.rename", change, now, actor)
    return ChangeReport("rename", old_name, name, on, len(ids), 0, 0)


def undo_change(
    session: Session, *, kind: str, code: str, today: date, now: datetime, actor: str
) -> ChangeReport:
    """Undo the latest merger of `code` (or renaming of it) that has not taken effect."""
    agency = _agency(session, code)
    change = session.exec(
        select(AgencyChange)
        .where(
            AgencyChange.kind == kind,
            AgencyChange.old_agency_id == agency.id,
            col(AgencyChange.undone_at).is_(None),
        )
        .order_by(col(AgencyChange.id).desc())
    ).first()
    what = "sáp nhập" if kind == "merge" else "đổi tên"
    if change is None:
        raise UserError(f"Không có việc {what} nào của '{code}' để hoàn tác.")
    if today >= change.effective_on:
        raise UserError(
            f"Việc {what} '{code}' đã có hiệu lực từ {change.effective_on:%d/%m/%Y}, không hoàn "
            "tác được nữa; nếu cần, hãy ghi một thay đổi mới."
        )
    moved = change.moved
    old_id, new_id = change.old_agency_id, change.new_agency_id
    for row in _rows(session, Assignment, moved.get("assignments", [])):
        if kind == "merge" and row.agency_id == new_id:
            row.agency_id = old_id
        session.add(row)
    for row in _rows(session, Assignment, moved.get("deactivated", [])):
        row.active = True
        session.add(row)
    for row in _rows(session, Assignment, moved.get("reactivated", [])):
        row.active = False
        session.add(row)
    for chat in _rows(session, Contact, moved.get("chats", [])):
        chat.agency_id = old_id
        session.add(chat)
    for group_id in moved.get("groups", []):
        session.add(AgencyGroupMember(group_id=group_id, agency_id=old_id))
    for group_id in moved.get("groups_added", []):
        member = session.get(AgencyGroupMember, (group_id, new_id))
        if member is not None:
            session.delete(member)
    if kind == "rename":
        agency.name = change.old_name
        session.add(agency)
    for former in session.exec(
        select(AgencyFormerName).where(AgencyFormerName.change_id == change.id)
    ).all():
        session.delete(former)
    change.undone_at = now
    session.add(change)
    _audit(session, f"agency.{kind}.undo", change, now, actor)
    return ChangeReport(
        kind, change.old_name, change.new_name, change.effective_on,
        len(moved.get("assignments", [])), len(moved.get("deactivated", [])),
        len(moved.get("chats", [])), undone=True,
    )  # fmt: skip


def _agency(session: Session, code: str) -> Agency:
    agency = session.exec(select(Agency).where(Agency.code == code)).first()
    if agency is None:
        raise NotFoundError("cơ quan", code)
    return agency


def _active_merge(session: Session, agency: Agency) -> AgencyChange | None:
    return session.exec(
        select(AgencyChange).where(
            AgencyChange.kind == "merge",
            AgencyChange.old_agency_id == agency.id,
            col(AgencyChange.undone_at).is_(None),
        )
    ).first()


def _move_memberships(session: Session, source: Agency, target: Agency) -> dict[str, list[int]]:
    """The old agency's groups now list the successor instead."""
    left: list[int] = []
    added: list[int] = []
    for member in session.exec(
        select(AgencyGroupMember).where(AgencyGroupMember.agency_id == source.id)
    ).all():
        left.append(member.group_id)
        session.delete(member)
        if session.get(AgencyGroupMember, (member.group_id, target.id)) is None:
            session.add(AgencyGroupMember(group_id=member.group_id, agency_id=target.id or 0))
            added.append(member.group_id)
    session.flush()
    return {"groups": left, "groups_added": added}


def _record(
    session: Session,
    kind: str,
    old: Agency,
    new: Agency,
    old_name: str,
    new_name: str,
    on: date,
    now: datetime,
    actor: str,
) -> AgencyChange:
    change = AgencyChange(
        kind=kind,
        old_agency_id=old.id or 0,
        new_agency_id=new.id or 0,
        old_name=old_name,
        new_name=new_name,
        effective_on=on,
        recorded_at=now,
        recorded_by=actor,
    )
    session.add(change)
    session.flush()
    return change


def _audit(session: Session, action: str, change: AgencyChange, now: datetime, actor: str) -> None:
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=action,
            agency_id=change.new_agency_id,
            detail={
                "change": change.id,
                "old": change.old_name,
                "new": change.new_name,
                "effective_on": change.effective_on.isoformat(),
                "moved": change.moved,
            },
        )
    )


_Row = TypeVar("_Row", Assignment, Contact)


def _rows(session: Session, model: type[_Row], ids: list[int]) -> list[_Row]:
    return [row for i in ids if (row := session.get(model, i)) is not None]
