"""The ordered feed of what happened to assignments, read from the audit log.

The API's `/api/v1/events` and the outbound webhooks both read it. An event's id is its
audit entry's id, so ids are stable and increase; a consumer keeps the last id it saw and
asks for what came after.

On PostgreSQL ids are taken from a sequence when a row is inserted, not when its
transaction commits, so id 11 can become visible before id 10. A consumer that moved its
cursor past 11 would never see 10. The feed therefore stops before a gap in the ids while
the row after the gap is younger than `SETTLE`: by then the missing id has committed or
was rolled back for good. SQLite takes ids under its single write lock, in commit order,
so it never has such gaps.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from dondoc.models import AuditEntry

# Audit actions that are events, and the public name of each.
_ACTIONS: dict[str, str] = {
    "message.sent": "message.sent",
    "assignment.acknowledged": "assignment.acknowledged",
    "assignment.done": "assignment.done",
    "assignment.open": "assignment.reopened",
    "assignment.done_occurrence": "assignment.done_occurrence",
    "assignment.note": "assignment.note",
    "assignment.explanation": "assignment.explanation",
    "extension.requested": "extension.requested",
    "extension.approved": "extension.approved",
    "extension.denied": "extension.denied",
}
EVENT_TYPES: tuple[str, ...] = tuple(_ACTIONS.values())
_ACTION_OF = {event_type: action for action, event_type in _ACTIONS.items()}

# How long an id gap may be an uncommitted transaction. Transactions that write audit
# entries are short (one delivery batch, one answer); a minute is a wide margin.
SETTLE = timedelta(seconds=60)


class UnknownEventType(ValueError):
    def __init__(self, name: str) -> None:
        self.name = name
        known = ", ".join(EVENT_TYPES)
        super().__init__(f"loại sự kiện không có: {name!r} (các loại: {known})")


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    at: datetime
    actor: str
    plan_id: int | None
    task_id: int | None
    assignment_id: int | None
    agency_id: int | None
    data: dict[str, Any]


def check_types(types: Collection[str]) -> list[str]:
    """The given event types, in order; raises UnknownEventType for a name not in the feed."""
    for name in types:
        if name not in _ACTION_OF:
            raise UnknownEventType(name)
    return list(dict.fromkeys(types))


def list_events(
    session: Session,
    *,
    after: int = 0,
    limit: int = 100,
    types: Collection[str] | None = None,
    plan_id: int | None = None,
    agency_id: int | None = None,
    now: datetime | None = None,
) -> list[Event]:
    """Events with id > `after`, oldest first, at most `limit`.

    `now` (the caller's clock) turns on the settle check on PostgreSQL; without it the
    feed stops before every gap it cannot prove is closed."""
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    actions = [_ACTION_OF[t] for t in check_types(types)] if types else list(_ACTIONS)
    query = (
        sa.select(table)
        .where(table.c.id > after, table.c.action.in_(actions))
        .order_by(table.c.id)
        .limit(max(0, limit))
    )
    if plan_id is not None:
        query = query.where(table.c.plan_id == plan_id)
    if agency_id is not None:
        query = query.where(table.c.agency_id == agency_id)
    rows = session.connection().execute(query).mappings().all()
    if rows:
        horizon = _horizon(session, after=after, last=rows[-1]["id"], now=now)
        if horizon is not None:
            rows = [row for row in rows if row["id"] < horizon]
    return [
        Event(
            id=row["id"],
            type=_ACTIONS[row["action"]],
            at=row["at"],
            actor=row["actor"],
            plan_id=row["plan_id"],
            task_id=row["task_id"],
            assignment_id=row["assignment_id"],
            agency_id=row["agency_id"],
            data=dict(row["detail"] or {}),
        )
        for row in rows
    ]


def _horizon(session: Session, *, after: int, last: int, now: datetime | None) -> int | None:
    """The first id in (after, last] the feed may not pass yet, or None.

    A gap matters only while the row after it is young, and young rows are few (the
    `at` index finds them), so this never walks the rows between the events."""
    if session.get_bind().dialect.name == "sqlite":
        return None
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    young, before = table.alias("young"), table.alias("before")
    after_gap = sa.select(sa.func.min(young.c.id)).where(
        young.c.id > after + 1,
        young.c.id <= last,
        ~sa.exists().where(before.c.id == young.c.id - 1),
    )
    if now is not None:
        after_gap = after_gap.where(young.c.at > now - SETTLE)
    connection = session.connection()
    first = connection.execute(after_gap).scalar()
    if first is None:
        return None
    previous = connection.execute(
        sa.select(sa.func.max(table.c.id)).where(table.c.id > after, table.c.id < first)
    ).scalar()
    return int(previous if previous is not None else after) + 1


def event_json(event: Event) -> dict[str, Any]:
    """The public shape of an event, in the API and in webhook bodies."""
    return {
        "id": event.id,
        "type": event.type,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "plan_id": event.plan_id,
        "task_id": event.task_id,
        "assignment_id": event.assignment_id,
        "agency_id": event.agency_id,
        "data": event.data,
    }
