"""The outbox as a queue: which rows are due, claiming them, grouping them into messages.

A batch is claimed with one conditional UPDATE (only rows still pending are taken), so a
row can never be sent by two workers; due rows are found through the (status,
next_attempt_at) index.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from dondoc.models import OutboxMessage
from dondoc.store import session_scope

BASE_BACKOFF = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=6)
BATCH = 500


@dataclass(frozen=True)
class Group:
    """Rows that go out as one message: same recipient, channel and audience."""

    agency_id: int | None
    channel: str
    audience: str
    rows: tuple[OutboxMessage, ...]


def backoff(attempts: int, retry_after: float | None, rng: random.Random) -> timedelta:
    """Exponential with full jitter, never sooner than the provider asked."""
    exponential = min(MAX_BACKOFF, BASE_BACKOFF * (2 ** max(attempts - 1, 0)))
    delay = timedelta(seconds=rng.uniform(0.5, 1.0) * exponential.total_seconds())
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


def claim(engine: Engine, *, now: datetime, limit: int = BATCH) -> list[OutboxMessage]:
    """Take the pending rows whose time has come; rows another worker took are skipped."""
    token = uuid.uuid4().hex
    with session_scope(engine) as session:
        ids = session.exec(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", col(OutboxMessage.next_attempt_at) <= now)
            .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
            .limit(limit)
        ).all()
        if not ids:
            return []
        session.execute(
            sa.update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) == "pending")
            .values(status="sending", claimed_at=now, claimed_by=token)
        )
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.claimed_by == token, OutboxMessage.status == "sending")
                .order_by(col(OutboxMessage.id))
            ).all()
        )


def release_stale(engine: Engine) -> int:
    """Rows left in 'sending' by a crash go back to pending (called under the daemon lock)."""
    with session_scope(engine) as session:
        result = session.execute(
            sa.update(OutboxMessage)
            .where(col(OutboxMessage.status) == "sending")
            .values(status="pending", claimed_by=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def group_rows(rows: Sequence[OutboxMessage], *, digest: bool) -> list[Group]:
    groups: dict[tuple[Any, ...], list[OutboxMessage]] = {}
    for row in rows:
        audience = str(row.context.get("audience", "agency"))
        if digest and row.kind == "reminder":
            key: tuple[Any, ...] = (row.agency_id, row.channel, audience)
        else:
            key = ("single", row.id)
        groups.setdefault(key, []).append(row)
    return [
        Group(r[0].agency_id, r[0].channel, str(r[0].context.get("audience", "agency")), tuple(r))
        for r in groups.values()
    ]
