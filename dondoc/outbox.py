"""The outbox: everything dondoc sends is first a row here, keyed for idempotency.

Reminders, notices (extension requests, failures reported to the office) and scheduled
reports all enter through `enqueue`; only the daemon's delivery path sends them. Rows
sent longer ago than the retention are emptied by `prune_sent`; their keys stay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from dondoc.models import DeliveryAttempt, OutboxMessage, SentMessage


def enqueue_many(session: Session, rows: list[dict[str, Any]], *, now: datetime) -> int:
    """`enqueue` for many rows in one statement (the tick's path); returns rows added."""
    if not rows:
        return 0
    values = [_row(now=now, **row) for row in rows]
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return sum(enqueue(session, now=now, **row) for row in rows)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values(values).on_conflict_do_nothing(index_elements=["key"])
    # Counted from RETURNING: with it, PostgreSQL's driver reports no rowcount (-1).
    return len(session.execute(statement.returning(table.c.id)).all())


def _row(
    *,
    key: str,
    channel: str,
    agency_id: int | None,
    stage: str,
    template: str,
    context: dict[str, Any],
    send_after: datetime,
    now: datetime,
    kind: str = "reminder",
    assignment_id: int | None = None,
    due_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "kind": kind,
        "assignment_id": assignment_id,
        "agency_id": agency_id,
        "channel": channel,
        "stage": stage,
        "template": template,
        "context": context,
        "due_at": due_at or send_after,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": send_after,
        "created_at": now,
        "delivered_to": [],
    }


def enqueue(
    session: Session,
    *,
    key: str,
    channel: str,
    agency_id: int | None,
    stage: str,
    template: str,
    context: dict[str, Any],
    send_after: datetime,
    now: datetime,
    kind: str = "reminder",
    assignment_id: int | None = None,
    due_at: datetime | None = None,
) -> bool:
    """Add one message unless its key is already there; True when a row was added."""
    values = _row(
        key=key,
        channel=channel,
        agency_id=agency_id,
        stage=stage,
        template=template,
        context=context,
        send_after=send_after,
        now=now,
        kind=kind,
        assignment_id=assignment_id,
        due_at=due_at,
    )
    dialect = session.get_bind().dialect.name
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    statement: Any
    if dialect == "postgresql":
        statement = pg_insert(table).values(**values).on_conflict_do_nothing(index_elements=["key"])
    elif dialect == "sqlite":
        statement = (
            sqlite_insert(table).values(**values).on_conflict_do_nothing(index_elements=["key"])
        )
    else:  # portable fallback: look first (the unique key still guards races)
        exists = session.execute(sa.select(table.c.id).where(table.c.key == key)).first()
        if exists:
            return False
        statement = sa.insert(table).values(**values)
    if dialect in ("postgresql", "sqlite"):
        # rowcount is -1 on PostgreSQL here (an implicit RETURNING): ask for the row.
        return session.execute(statement.returning(table.c.id)).first() is not None
    result = session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


def prune_sent(session: Session, *, before: datetime, limit: int = 1000) -> int:
    """Empty up to `limit` messages sent before `before`: their render context and
    delivery attempts go, their key stays (as status "pruned"), so evaluating again still
    sends nothing twice. Chat message links of that age go too; the audit log stays."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    ids = list(
        session.execute(
            sa.select(table.c.id)
            .where(
                table.c.status == "sent",
                table.c.next_attempt_at < before,  # the (status, next_attempt_at) index
                table.c.sent_at < before,
            )
            .limit(limit)
        ).scalars()
    )
    if ids:
        attempts = DeliveryAttempt.__table__  # type: ignore[attr-defined]
        session.execute(sa.delete(attempts).where(attempts.c.outbox_id.in_(ids)))
        session.execute(
            sa.update(table)
            .where(table.c.id.in_(ids))
            .values(status="pruned", context={}, last_error=None, delivered_to=[])
        )
    links = SentMessage.__table__  # type: ignore[attr-defined]
    stale = list(
        session.execute(sa.select(links.c.id).where(links.c.at < before).limit(limit)).scalars()
    )
    if stale:
        session.execute(sa.delete(links).where(links.c.id.in_(stale)))
    return len(ids)
