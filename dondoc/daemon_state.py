"""The daemons' facts in the store, written so that daemons side by side on one PostgreSQL
never trip over each other: a read-then-insert of a missing key is a race two daemons
lose with a unique violation; one upsert statement is not.

Key/value facts shared by all daemons live in `DaemonState`; what each daemon says about
itself (heartbeat, role, workers) has a row of its own in `DaemonInstance`, so `dondoc
status` lists them all and tells a silent daemon from a live one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from dondoc.models import DaemonInstance, DaemonState


def _insert(session: Session, values: dict[str, Any]) -> Any:
    table = DaemonState.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(table).values(**values)
    return sqlite_insert(table).values(**values)


def put_state(session: Session, key: str, value: dict[str, Any], *, now: datetime) -> None:
    """Set `key` to `value`, whether or not it exists (last writer wins)."""
    statement = _insert(session, {"key": key, "value": value, "updated_at": now})
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
        )
    )


def add_state(session: Session, key: str, value: dict[str, Any], *, now: datetime) -> bool:
    """Create `key` unless it exists; True when this call created it. On PostgreSQL a
    concurrent creator's uncommitted row makes this wait for its transaction's end, so
    exactly one of several daemons gets True: a claim."""
    statement = _insert(session, {"key": key, "value": value, "updated_at": now})
    table = DaemonState.__table__  # type: ignore[attr-defined]
    created = session.execute(
        statement.on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)
    ).first()
    return created is not None


def get_state(session: Session, key: str) -> dict[str, Any] | None:
    table = DaemonState.__table__  # type: ignore[attr-defined]
    row = session.execute(sa.select(table.c.value).where(table.c.key == key)).first()
    return dict(row[0]) if row is not None else None


# --- one row per running daemon (`dondoc status`) ------------------------------------

RUNNING, STALE, STOPPED = "running", "stale", "stopped"
# A daemon stopped (or silent) longer than this is forgotten.
PRUNE_AFTER = timedelta(days=1)


def heartbeat_seconds(tick_seconds: float) -> float:
    """How often a daemon says it is alive: every tick, at least every 15 s."""
    return max(0.5, min(tick_seconds, 15.0))


def stale_after(tick_seconds: float) -> float:
    """Silence that means a daemon stopped publishing: three missed heartbeats and a
    margin for a loaded machine."""
    return 3 * heartbeat_seconds(tick_seconds) + 5.0


def database_now(session: Session) -> datetime:
    """The database's clock: the one clock daemons on several hosts share, so one host's
    skew never makes another daemon look dead."""
    if session.get_bind().dialect.name == "postgresql":
        value = session.execute(sa.text("SELECT statement_timestamp()")).scalar_one()
        return value.astimezone(UTC)
    text = session.execute(sa.text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
    return datetime.fromisoformat(str(text)).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Presence:
    """Who a daemon is, fixed for its lifetime."""

    instance: str
    host: str
    pid: int
    started_at: datetime
    stale_after: float


def publish_presence(session: Session, presence: Presence, detail: dict[str, Any]) -> None:
    """Upsert this daemon's row with a fresh heartbeat, and forget long-gone daemons."""
    now = database_now(session)
    table = DaemonInstance.__table__  # type: ignore[attr-defined]
    values = {
        "id": presence.instance,
        "host": presence.host,
        "pid": presence.pid,
        "started_at": presence.started_at,
        "heartbeat_at": now,
        "stale_after": presence.stale_after,
        "stopped_at": None,
        "detail": detail,
    }
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = (pg_insert(table) if postgres else sqlite_insert(table)).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={
                "heartbeat_at": statement.excluded.heartbeat_at,
                "stopped_at": None,
                "detail": statement.excluded.detail,
            },
        )
    )
    session.execute(sa.delete(table).where(table.c.heartbeat_at < now - PRUNE_AFTER))


def mark_stopped(session: Session, instance: str) -> bool:
    """A clean exit: the row says so (until pruned) rather than go stale."""
    table = DaemonInstance.__table__  # type: ignore[attr-defined]
    now = database_now(session)
    result = session.execute(
        sa.update(table).where(table.c.id == instance).values(stopped_at=now, heartbeat_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class DaemonView:
    """A daemon as `dondoc status` shows it."""

    instance: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    state: str  # RUNNING | STALE | STOPPED
    silent_seconds: float  # since the last heartbeat
    stale_after: float
    detail: dict[str, Any]


def list_daemons(session: Session) -> list[DaemonView]:
    """Every daemon the store remembers: running ones first, newest start first."""
    now = database_now(session)
    table = DaemonInstance.__table__  # type: ignore[attr-defined]
    views = []
    for row in session.execute(sa.select(table)).mappings():
        silent = max(0.0, (now - row["heartbeat_at"]).total_seconds())
        if row["stopped_at"] is not None:
            state = STOPPED
        elif silent > row["stale_after"]:
            state = STALE
        else:
            state = RUNNING
        views.append(
            DaemonView(
                instance=row["id"],
                host=row["host"],
                pid=row["pid"],
                started_at=row["started_at"],
                heartbeat_at=row["heartbeat_at"],
                stopped_at=row["stopped_at"],
                state=state,
                silent_seconds=round(silent, 1),
                stale_after=row["stale_after"],
                detail=dict(row["detail"] or {}),
            )
        )
    order = {RUNNING: 0, STALE: 1, STOPPED: 2}
    views.sort(key=lambda v: (order[v.state], -v.started_at.timestamp(), v.instance))
    return views
