"""Writing the daemon's key/value facts (`DaemonState`) so that daemons side by side on
one PostgreSQL never trip over each other: a read-then-insert of a missing key is a race
two daemons lose with a unique violation; one upsert statement is not."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from dondoc.models import DaemonState


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
