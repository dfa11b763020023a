"""The outbox as a queue: claiming due rows with a lease, returning them, grouping them.

A claim marks rows `sending` with the claimer's token and the time: on PostgreSQL the
rows are picked `FOR UPDATE SKIP LOCKED`, so several workers (and daemons) never wait
for each other; on SQLite one conditional UPDATE takes only rows still claimable. A row
whose claim is older than the lease belongs to a worker that died: it is claimable again.
Due rows are found through the (channel, status, next_attempt_at) index.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from dondoc.models import OutboxMessage
from dondoc.outbox import with_shared_context
from dondoc.store import session_scope

BASE_BACKOFF = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=6)
BATCH = 500
# Longer than any batch can take at a channel's own rate (500 Telegram sends at 30/s is
# 17 s), so a live worker never loses its rows; short enough that a dead one's come back.
LEASE = timedelta(minutes=5)


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


def _claimable(now: datetime, lease: timedelta) -> Any:
    pending = sa.and_(
        col(OutboxMessage.status) == "pending", col(OutboxMessage.next_attempt_at) <= now
    )
    abandoned = sa.and_(
        col(OutboxMessage.status) == "sending", col(OutboxMessage.claimed_at) < now - lease
    )
    return sa.or_(pending, abandoned)


def claim(
    engine: Engine,
    *,
    now: datetime,
    channel: str | None = None,
    limit: int = BATCH,
    lease: timedelta = LEASE,
    token: str | None = None,
) -> list[OutboxMessage]:
    """Take up to `limit` due rows (of one channel, when given) for the caller alone."""
    token = token or uuid.uuid4().hex
    where = [_claimable(now, lease)]
    if channel is not None:
        where.append(col(OutboxMessage.channel) == channel)
    with session_scope(engine) as session:
        query = (
            select(OutboxMessage.id)
            .where(*where)
            .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
            .limit(limit)
        )
        if engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = session.exec(query).all()
        if not ids:
            return []
        # The condition is repeated: on SQLite another writer may have taken a row since.
        session.execute(
            sa.update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids), *where)
            .values(status="sending", claimed_at=now, claimed_by=token)
        )
        rows = list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.claimed_by == token, OutboxMessage.status == "sending")
                .order_by(col(OutboxMessage.id))
            ).all()
        )
        with_shared_context(session, rows)  # each row carries its whole render context
        return rows


def release(
    engine: Engine,
    ids: Collection[int],
    *,
    token: str,
    next_attempt_at: datetime | None = None,
) -> int:
    """Give claimed rows back (no attempt is counted); only rows `token` still holds."""
    if not ids:
        return 0
    values: dict[str, Any] = {"status": "pending", "claimed_by": None}
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    with session_scope(engine) as session:
        result = session.execute(
            sa.update(OutboxMessage)
            .where(
                col(OutboxMessage.id).in_(list(ids)),
                col(OutboxMessage.status) == "sending",
                col(OutboxMessage.claimed_by) == token,
            )
            .values(**values)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def release_claim(engine: Engine, token: str) -> int:
    """Every row `token` (or, with a trailing ':', any token of that owner) still holds."""
    where = (
        col(OutboxMessage.claimed_by).startswith(token, autoescape=True)
        if token.endswith(":")
        else col(OutboxMessage.claimed_by) == token
    )
    with session_scope(engine) as session:
        result = session.execute(
            sa.update(OutboxMessage)
            .where(where, col(OutboxMessage.status) == "sending")
            .values(status="pending", claimed_by=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def fail_unconfigured(engine: Engine, *, channels: Collection[str], now: datetime) -> int:
    """Due rows of a channel this deployment no longer has can never go out: say so."""
    due = sa.and_(
        col(OutboxMessage.status) == "pending",
        col(OutboxMessage.next_attempt_at) <= now,
        col(OutboxMessage.channel).not_in(list(channels)),
    )
    failed = 0
    with session_scope(engine) as session:
        for name in session.exec(select(OutboxMessage.channel).where(due).distinct()).all():
            result = session.execute(
                sa.update(OutboxMessage)
                .where(due, col(OutboxMessage.channel) == name)
                .values(status="failed", last_error=f"Kênh '{name}' chưa được cấu hình.")
            )
            failed += int(getattr(result, "rowcount", 0) or 0)
    return failed


def release_stale(engine: Engine, *, claimed_before: datetime | None = None) -> int:
    """Rows left in 'sending' by a crash go back to pending: all of them when this daemon
    is alone on the store, else only those claimed before `claimed_before` (expired
    leases), never rows a live daemon is sending."""
    where = [col(OutboxMessage.status) == "sending"]
    if claimed_before is not None:
        where.append(col(OutboxMessage.claimed_at) < claimed_before)
    with session_scope(engine) as session:
        result = session.execute(
            sa.update(OutboxMessage).where(*where).values(status="pending", claimed_by=None)
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
