"""The outbox: everything dondoc sends is first a row here, keyed for idempotency.

Reminders, notices (extension requests, failures reported to the office) and scheduled
reports all enter through `enqueue` (the tick's reminders through `enqueue_many`, which
stores the context a message's copies share once, in `message_context`); only the
daemon's delivery path sends them. Rows sent longer ago than the retention are emptied
by `prune_sent`; their keys stay.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from dondoc.models import DeliveryAttempt, MessageContext, OutboxMessage, SentMessage

# SQLite before 3.32 allows 999 bound parameters per statement.
_CHUNK = 900
_CONTEXT_IDS = sa.select(
    MessageContext.__table__.c.digest,  # type: ignore[attr-defined]
    MessageContext.__table__.c.id,  # type: ignore[attr-defined]
)


def enqueue_many(session: Session, rows: list[dict[str, Any]], *, now: datetime) -> int:
    """`enqueue` for many rows (the tick's path); returns rows added.

    A row may carry `shared`: the part of its render context every copy of the message
    has (all its recipients and channels: pass the same dict). It is stored once, in
    `message_context`, and the row's own `context` keeps only what differs. The
    statements are fixed, executed with many parameter sets, so SQLAlchemy compiles them
    once per process, not once per batch. A key already queued adds nothing.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return sum(enqueue(session, now=now, **_whole(row)) for row in rows)
    shared = _store_shared(session, rows, dialect)
    if dialect == "sqlite":
        added = _insert_sqlite(session, rows, shared, now)
        if added < len(rows) and shared:
            _drop_unused(session, list(set(shared.values())))
        return added
    values = [
        _row(now=now, context_id=shared.get(id(row.get("shared"))), **_own(row)) for row in rows
    ]
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    statement = _insert(dialect, table).returning(table.c.id)
    # Counted from RETURNING: PostgreSQL's driver reports no rowcount (-1) for it.
    added = len(session.execute(statement, values).all())
    if added < len(values) and shared:
        _drop_unused(session, list(set(shared.values())))
    return added


def _insert(dialect: str, table: sa.Table) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=["key"])


_COLUMNS = (
    "key",
    "kind",
    "assignment_id",
    "agency_id",
    "channel",
    "stage",
    "template",
    "context",
    "context_id",
    "due_at",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
    "delivered_to",
)
_SQLITE_INSERT = (
    f"INSERT INTO outbox ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (key) DO NOTHING"
)
_SQLITE_SHARED = (
    "INSERT INTO message_context (digest, body) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING"
)


def _insert_sqlite(
    session: Session, rows: list[dict[str, Any]], shared: dict[int, int], now: datetime
) -> int:
    """The outbox rows as plain tuples through the driver: SQLAlchemy's per-row work
    (a dict of parameters, a bind processor per value) was most of a 10k-due tick.

    Values are written by the columns' own bind processors, so they are stored exactly
    as the ORM stores them; each distinct timestamp and context is converted once.
    """
    dialect = session.get_bind().dialect
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    moment = table.c.due_at.type.dialect_impl(dialect).bind_processor(dialect)
    as_json = table.c.context.type.dialect_impl(dialect).bind_processor(dialect)
    moments: dict[datetime | None, Any] = {None: None}
    texts: dict[int, Any] = {}  # by the Python id of a context dict: rows often share one
    empty = as_json([])

    def at(value: datetime | None) -> Any:
        found = moments.get(value, _MISSING)
        if found is _MISSING:
            found = moments[value] = moment(value)
        return found

    created = at(now)
    values = []
    for row in rows:
        context = row["context"]
        text = texts.get(id(context))
        if text is None:
            text = texts[id(context)] = as_json(context)
        send_after = row["send_after"]
        values.append(
            (
                row["key"],
                row.get("kind", "reminder"),
                row.get("assignment_id"),
                row["agency_id"],
                row["channel"],
                row["stage"],
                row["template"],
                text,
                shared.get(id(row.get("shared"))),
                at(row.get("due_at") or send_after),
                "pending",
                0,
                at(send_after),
                created,
                empty,
            )
        )
    result = session.connection().exec_driver_sql(_SQLITE_INSERT, values)
    return int(result.rowcount)


_MISSING = object()


def _own(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name != "shared"}


def _whole(row: dict[str, Any]) -> dict[str, Any]:
    own = _own(row)
    own["context"] = {**(row.get("shared") or {}), **row["context"]}
    return own


def canonical(body: dict[str, Any]) -> str:
    """The stored form of a shared context: one JSON text per content, whatever the order
    its keys were built in. Byte for byte what `json.dumps(body, sort_keys=True,
    ensure_ascii=False, separators=(",", ":"))` writes (so digests stored before still
    match), at an eighth of the cost."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()


def _store_shared(session: Session, rows: list[dict[str, Any]], dialect: str) -> dict[int, int]:
    """Store each distinct `shared` context once; its id by the Python id of the dict."""
    digests: dict[int, str] = {}
    texts: dict[str, str] = {}
    for row in rows:
        body = row.get("shared")
        if body is not None and id(body) not in digests:
            text = canonical(body)
            digests[id(body)] = digest = hashlib.sha256(text.encode()).hexdigest()
            texts[digest] = text
    if not texts:
        return {}
    table = MessageContext.__table__  # type: ignore[attr-defined]
    if dialect == "sqlite":
        session.connection().exec_driver_sql(_SQLITE_SHARED, list(texts.items()))
    else:
        session.execute(
            pg_insert(table).on_conflict_do_nothing(index_elements=["digest"]),
            [{"digest": digest, "body": text} for digest, text in texts.items()],
        )
    ids: dict[str, int] = {}
    wanted = list(texts)
    for start in range(0, len(wanted), _CHUNK):
        query = _CONTEXT_IDS.where(table.c.digest.in_(wanted[start : start + _CHUNK]))
        ids.update((digest, i) for digest, i in session.execute(query))
    return {python_id: ids[digest] for python_id, digest in digests.items()}


def _drop_unused(session: Session, context_ids: list[int]) -> None:
    """Shared contexts among `context_ids` that no outbox row refers to (their rows were
    already queued, or pruned): a content-addressed store keeps only what is used."""
    table = MessageContext.__table__  # type: ignore[attr-defined]
    outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
    for start in range(0, len(context_ids), _CHUNK):
        chunk = context_ids[start : start + _CHUNK]
        used = sa.select(outbox.c.id).where(outbox.c.context_id == table.c.id).exists()
        session.execute(sa.delete(table).where(table.c.id.in_(chunk), ~used))


def with_shared_context(session: Session, rows: Sequence[OutboxMessage]) -> None:
    """Lay each row's own context over its shared one, in memory only (never written
    back): what the delivery path renders from."""
    table = MessageContext.__table__  # type: ignore[attr-defined]
    wanted = list({row.context_id for row in rows if row.context_id is not None})
    bodies: dict[int, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = sa.select(table.c.id, table.c.body).where(table.c.id.in_(chunk))
        bodies.update((i, b) for i, b in session.execute(query))
    for row in rows:
        if row.context_id is not None:
            merged = {**json.loads(bodies.get(row.context_id, "{}")), **row.context}
            set_committed_value(row, "context", merged)


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
    context_id: int | None = None,
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
        "context_id": context_id,
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
    if dialect in ("postgresql", "sqlite"):
        # rowcount is -1 on PostgreSQL here (an implicit RETURNING): ask for the row.
        statement = _insert(dialect, table).returning(table.c.id)
        return session.execute(statement, values).first() is not None
    # Portable fallback: look first (the unique key still guards races).
    if session.execute(sa.select(table.c.id).where(table.c.key == key)).first():
        return False
    result = session.execute(sa.insert(table).values(**values))
    return bool(getattr(result, "rowcount", 0))


def prune_sent(session: Session, *, before: datetime, limit: int = 1000) -> int:
    """Empty up to `limit` messages sent before `before`: their render context (the
    shared one too, once no other row uses it) and delivery attempts go, their key stays
    (as status "pruned"), so evaluating again still sends nothing twice. Chat message
    links of that age go too; the audit log stays."""
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
        shared = session.execute(
            sa.select(table.c.context_id)
            .where(table.c.id.in_(ids), table.c.context_id.is_not(None))
            .distinct()
        ).scalars()
        shared_ids = list(shared)
        session.execute(
            sa.update(table)
            .where(table.c.id.in_(ids))
            .values(status="pruned", context={}, context_id=None, last_error=None, delivered_to=[])
        )
        _drop_unused(session, shared_ids)
    links = SentMessage.__table__  # type: ignore[attr-defined]
    stale = list(
        session.execute(sa.select(links.c.id).where(links.c.at < before).limit(limit)).scalars()
    )
    if stale:
        session.execute(sa.delete(links).where(links.c.id.in_(stale)))
    return len(ids)
