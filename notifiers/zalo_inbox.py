"""Zalo webhook pushes, kept in the store (`zalo_push`) between the daemon that received
one and the chat leader that answers it.

Any daemon takes a push: it is stored under a key unique to the Zalo event, so a push the
platform retries (or sends to two daemons behind a load balancer) is one row, before and
after a restart. The leader claims rows in arrival order, at most the oldest unfinished
row of each chat at a time, so one chat's messages are answered in the order they came.
A claim is a lease: rows claimed by a leader that died are claimed again once it expires.
On PostgreSQL the claim skips rows another claimer has locked; on SQLite one daemon runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dondoc.models import AuditEntry, ZaloPush
from dondoc.store import session_scope

LEASE = timedelta(seconds=60)  # an answer takes well under a second
MAX_ATTEMPTS = 5  # a push whose answer kills the leader every time is given up on
BATCH = 50
OPEN = ("pending", "processing")


def _table() -> sa.Table:
    return ZaloPush.__table__  # type: ignore[attr-defined]


def event_key(update: dict[str, Any]) -> str:
    """The event's identity: its name and message id, else a hash of the whole update."""
    message = update.get("message")
    message_id = message.get("message_id") if isinstance(message, dict) else None
    if message_id:
        return f"{update.get('event_name')}:{message_id}"[:200]
    canonical = json.dumps(update, sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def store_push(
    engine: Engine, update: dict[str, Any], *, chat_id: str, now: datetime, received_by: str
) -> bool:
    """Keep the push; True when it is new, False when this event was stored before."""
    table = _table()
    values = {
        "event_key": event_key(update),
        "chat_id": chat_id[:64],
        "payload": update,
        "received_at": now,
        "received_by": received_by[:160],
        "status": "pending",
        "attempts": 0,
    }
    with session_scope(engine) as session:
        insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(table).values(**values).on_conflict_do_nothing(index_elements=["event_key"])
        )
        stored = session.execute(statement.returning(table.c.id)).first()
    return stored is not None


@dataclass(frozen=True)
class ClaimedPush:
    id: int
    update: dict[str, Any]


def claim_pushes(
    engine: Engine, *, token: str, now: datetime, lease: timedelta = LEASE, limit: int = BATCH
) -> list[ClaimedPush]:
    """Up to `limit` pushes for `token` alone, oldest first, the oldest open one per chat."""
    table = _table()
    expired = sa.and_(table.c.status == "processing", table.c.claimed_at < now - lease)
    claimable = sa.or_(table.c.status == "pending", expired)
    earlier = table.alias("earlier")
    first_of_chat = ~sa.exists().where(
        earlier.c.chat_id == table.c.chat_id,
        earlier.c.id < table.c.id,
        earlier.c.status.in_(OPEN),
    )
    with session_scope(engine) as session:
        _give_up(session, table, expired, now)
        query = (
            sa.select(table.c.id).where(claimable, first_of_chat).order_by(table.c.id).limit(limit)
        )
        if engine.dialect.name == "postgresql":
            query = query.with_for_update(of=table, skip_locked=True)
        ids = list(session.execute(query).scalars())
        if not ids:
            return []
        # The condition again: on SQLite another writer may have taken a row since.
        session.execute(
            sa.update(table)
            .where(table.c.id.in_(ids), claimable)
            .values(
                status="processing",
                claimed_by=token,
                claimed_at=now,
                attempts=table.c.attempts + 1,
            )
        )
        rows = session.execute(
            sa.select(table.c.id, table.c.payload)
            .where(table.c.id.in_(ids), table.c.claimed_by == token,
                   table.c.status == "processing")
            .order_by(table.c.id)
        ).all()  # fmt: skip
    return [ClaimedPush(row.id, dict(row.payload)) for row in rows]


def _give_up(session: Session, table: sa.Table, expired: Any, now: datetime) -> None:
    """A push that took its claimer down MAX_ATTEMPTS times is not tried again; each one
    is audited (`chat.error`), so the office sees which chat's message went unanswered."""
    doomed = session.execute(
        sa.select(table.c.id, table.c.chat_id, table.c.event_key, table.c.attempts).where(
            expired, table.c.attempts >= MAX_ATTEMPTS
        )
    ).all()
    if not doomed:
        return
    session.execute(
        sa.update(table)
        .where(table.c.id.in_([row.id for row in doomed]), expired)
        .values(status="failed", done_at=now, claimed_by=None)
    )
    for row in doomed:
        session.add(
            AuditEntry(
                at=now,
                actor="zalo",
                action="chat.error",
                detail={
                    "channel": "zalo",
                    "reason": "push_given_up",
                    "chat_id": row.chat_id,
                    "event_key": row.event_key,
                    "attempts": row.attempts,
                },
            )
        )


def finish_push(engine: Engine, push_id: int, *, token: str, now: datetime) -> bool:
    """Mark a push answered; only while `token` still holds it (a fence: once the lease
    is gone another leader owns the row)."""
    table = _table()
    with session_scope(engine) as session:
        result = session.execute(
            sa.update(table)
            .where(table.c.id == push_id, table.c.claimed_by == token,
                   table.c.status == "processing")
            .values(status="done", done_at=now)
        )  # fmt: skip
    return bool(getattr(result, "rowcount", 0))


def release_pushes(engine: Engine, *, token: str) -> int:
    """Give back what `token` claimed and did not answer (a leader stepping down)."""
    table = _table()
    with session_scope(engine) as session:
        result = session.execute(
            sa.update(table)
            .where(table.c.claimed_by == token, table.c.status == "processing")
            .values(status="pending", claimed_by=None)
        )
    return int(getattr(result, "rowcount", 0) or 0)


def prune_pushes(engine: Engine, *, before: datetime, limit: int = 1000) -> int:
    """Forget answered pushes finished before `before` (the delivery retention), a batch
    at a time; a retry that old is not the platform's any more."""
    table = _table()
    with session_scope(engine) as session:
        ids = (
            sa.select(table.c.id)
            .where(table.c.status.in_(("done", "failed")), table.c.done_at < before)
            .limit(limit)
        )
        result = session.execute(sa.delete(table).where(table.c.id.in_(ids)))
    return int(getattr(result, "rowcount", 0) or 0)


def open_pushes(engine: Engine) -> int:
    """Pushes not yet answered, for /healthz and `dondoc status`."""
    table = _table()
    with session_scope(engine) as session:
        return int(
            session.execute(
                sa.select(sa.func.count()).select_from(table).where(table.c.status.in_(OPEN))
            ).scalar_one()
        )
