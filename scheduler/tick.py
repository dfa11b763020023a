"""One tick: evaluate the assignments whose `next_due_at` has come and fill the outbox.

Only due rows are loaded (an indexed column, never a scan of all tasks). Each reminder
becomes one outbox row per recipient and channel, keyed so that evaluating twice adds
nothing; then `next_due_at` is set to the next moment anything can become due.
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dondoc.evaluation import (
    AssignmentContext,
    StateLoader,
    load_states,
    message_key,
    recipients_of,
)
from dondoc.message_facts import Facts, load_facts
from dondoc.models import Agency, Assignment, Contact, OutboxMessage
from dondoc.outbox import enqueue_many
from dondoc.store import session_scope
from rules.calendar import WorkCalendar
from rules.evaluate import Reminder
from rules.policy import RuleConfig
from scheduler.tick_memo import Outcomes

BATCH = 1000
_CHUNK = 900  # bound parameters per IN list (SQLite before 3.32 allows 999)
CHAT_CHANNELS = ("telegram", "zalo")  # reach an agency only through a chat it linked


@dataclass
class TickResult:
    evaluated: int = 0
    enqueued: int = 0
    skipped: list[str] = field(default_factory=list)
    superseded: int = 0
    reused: int = 0  # evaluations answered from another assignment's equal inputs


@dataclass(frozen=True)
class _Agency:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class _Directory:
    """Agencies by code and which of them have a linked chat: read once per tick."""

    by_code: dict[str, _Agency]
    by_id: dict[int, _Agency]
    with_chat: set[tuple[int, str]]  # (agency id, chat channel) of every linked chat
    reply_email: dict[int, str]  # agency id → the address agencies may answer by email
    # (agency id, audience) → a recipient's own part of the context, one dict for all
    # its rows, so the outbox serialises it once.
    parts: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)

    def part(self, agency: _Agency, audience: str) -> dict[str, Any]:
        found = self.parts.get((agency.id, audience))
        if found is None:
            found = self.parts[(agency.id, audience)] = {
                "audience": audience,
                "recipient": {"code": agency.code, "name": agency.name},
            }
        return found

    @classmethod
    def load(cls, session: Session) -> _Directory:
        agencies = [_Agency(*row) for row in session.execute(_AGENCIES)]
        contacts = session.execute(_CONTACTS).all()
        chats = {(c.agency_id, c.channel) for c in contacts if c.channel in CHAT_CHANNELS}
        emails: dict[int, str] = {}
        for contact in sorted(contacts, key=lambda c: (c.is_head, c.id)):
            if contact.channel == "email":
                emails.setdefault(contact.agency_id, contact.address)
        return cls({a.code: a for a in agencies}, {a.id: a for a in agencies}, chats, emails)


_AG = Agency.__table__  # type: ignore[attr-defined]
_C = Contact.__table__  # type: ignore[attr-defined]
_A = Assignment.__table__  # type: ignore[attr-defined]
_O = OutboxMessage.__table__  # type: ignore[attr-defined]
# Fixed statements: compiled once per process, however many batches and ticks.
_AGENCIES = sa.select(_AG.c.id, _AG.c.code, _AG.c.name)
_CONTACTS = sa.select(_C.c.id, _C.c.agency_id, _C.c.channel, _C.c.address, _C.c.is_head).where(
    _C.c.active
)
_DUE = (
    sa.select(_A.c.id)
    .where(_A.c.next_due_at <= sa.bindparam("now"), _A.c.active)
    .order_by(_A.c.next_due_at)
    .limit(sa.bindparam("limit"))
)
_DUE_CLAIM = _DUE.with_for_update(skip_locked=True)
_NEXT_DUE = (
    _A.update().where(_A.c.id == sa.bindparam("a_id")).values(next_due_at=sa.bindparam("next"))
)
_NEXT_DUE_SQLITE = "UPDATE assignment SET next_due_at = ? WHERE id = ?"
_PENDING_REMINDERS = sa.select(_O.c.id, _O.c.assignment_id, _O.c.key).where(
    _O.c.assignment_id.in_(sa.bindparam("ids", expanding=True)),
    _O.c.kind == "reminder",
    _O.c.status == "pending",
)
_SKIP = (
    _O.update()
    .where(_O.c.id == sa.bindparam("o_id"), _O.c.status == "pending")
    .values(status="skipped", last_error=sa.bindparam("why"))
)


def run_tick(
    engine: Engine,
    *,
    config: RuleConfig,
    calendar: WorkCalendar,
    now: datetime,
    channels: Collection[str],
    telegram_link: str | None = None,
    batch: int = BATCH,
) -> TickResult:
    """Evaluate due assignments and queue their reminders; `telegram_link` (the bot's
    t.me address) goes into every message's "how to answer" part."""
    result = TickResult()
    tick: _Tick | None = None
    while True:
        with session_scope(engine) as session:
            ids = claim_due(session, now=now, limit=batch)
            if not ids:
                return result
            tick = tick or _Tick(
                directory=_Directory.load(session),
                loader=StateLoader(config),
                outcomes=Outcomes(now=now, config=config),
                calendar=calendar,
                channels=channels,
                telegram_link=telegram_link,
            )
            with _collector_paused():
                _evaluate_batch(session, ids, tick, result)
            if len(ids) < batch:
                return result


@dataclass
class _Tick:
    """What every batch of one tick shares: read or worked out once."""

    directory: _Directory
    loader: StateLoader
    outcomes: Outcomes
    calendar: WorkCalendar
    channels: Collection[str]
    telegram_link: str | None
    leads: dict[int, tuple[str, ...]] = field(default_factory=dict)  # by task id


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection during one batch: it allocates a few hundred thousand
    short-lived objects and hardly any cycles, and the young-generation passes they set
    off were a tenth of a 10k-due tick. What is left is collected after the batch."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def claim_due(session: Session, *, now: datetime, limit: int) -> list[int]:
    """Up to `limit` due assignments, earliest first, for this transaction alone.

    Several daemons on one PostgreSQL: the rows are taken `FOR UPDATE SKIP LOCKED`, so
    each evaluates a batch no other is evaluating, and a row another holds is left to it
    (its `next_due_at` moves on when that one commits). SQLite has one daemon per store
    (scheduler/lock.py) and no row locks.
    """
    dialect = session.get_bind().dialect.name
    statement = _DUE_CLAIM if dialect == "postgresql" else _DUE
    return list(session.execute(statement, {"now": now, "limit": limit}).scalars())


def _evaluate_batch(session: Session, ids: list[int], tick: _Tick, result: TickResult) -> None:
    # Rows load_states leaves out (their task was dropped) must not come back.
    next_at: dict[int, datetime | None] = dict.fromkeys(ids)
    rows: list[dict[str, Any]] = []
    latest: dict[int, tuple[str, list[str]]] = {}  # assignment → (stage, new keys)
    outcomes = tick.outcomes
    now, config = outcomes.now, outcomes.config
    states = load_states(session, assignment_ids=ids, config=config, loader=tick.loader)
    evaluated = [
        (context, outcomes.evaluate(state, policy_name, policy))
        for context, state, policy_name, policy in states
    ]
    # What a message says beyond its assignment, read only for those that send one.
    facts = load_facts(
        session,
        tasks={c.assignment_id: c.task_id for c, evaluation in evaluated if evaluation.reminders},
        tz=ZoneInfo(config.timezone),
        leads=tick.leads,
    )
    for context, evaluation in evaluated:
        for reminder in evaluation.reminders:
            new = _outbox_rows(
                reminder, context, tick, now, facts.get(context.assignment_id, Facts())
            )
            rows.extend(new)
            # Keys of every reminder due now stay: only older, unsent ones go.
            _, kept = latest.get(reminder.assignment_id, ("", []))
            latest[reminder.assignment_id] = (reminder.stage, kept + [r["key"] for r in new])
        next_at[context.assignment_id] = evaluation.next_at
        result.evaluated += 1
    result.reused = outcomes.hits
    result.enqueued += enqueue_many(session, rows, now=now)
    result.superseded += _supersede_pending(session, latest)
    _set_next_due(session, next_at)


def _set_next_due(session: Session, next_at: dict[int, datetime | None]) -> None:
    """Each assignment's next moment. On SQLite as plain tuples through the driver, each
    distinct moment converted once by the column's own bind processor: SQLAlchemy's
    per-row parameter handling cost more than the update itself."""
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite":
        session.execute(_NEXT_DUE, [{"a_id": i, "next": n} for i, n in next_at.items()])
        return
    convert = _A.c.next_due_at.type.dialect_impl(dialect).bind_processor(dialect)
    stored: dict[datetime | None, Any] = {None: None}
    values = []
    for assignment_id, moment in next_at.items():
        if moment not in stored:
            stored[moment] = convert(moment)
        values.append((stored[moment], assignment_id))
    session.connection().exec_driver_sql(_NEXT_DUE_SQLITE, values)


def _supersede_pending(session: Session, latest: dict[int, tuple[str, list[str]]]) -> int:
    """Drop the unsent reminders a newer stage replaces: only the latest due stage goes out.

    A stage queued for the next office hours (a deadline on a Saturday, then a holiday)
    is still waiting when the next stage comes due; both would reach the agency in the
    same message. Rows already being sent, and notices or reports, are left alone.
    """
    wanted = list(latest)
    skip: list[dict[str, Any]] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for row_id, assignment_id, key in session.execute(_PENDING_REMINDERS, {"ids": chunk}):
            stage, keys = latest[assignment_id]
            if key not in keys:
                skip.append({"o_id": row_id, "why": f"superseded by stage {stage}"})
    if not skip:
        return 0
    counted = getattr(session.execute(_SKIP, skip), "rowcount", -1)
    return int(counted) if counted is not None and counted >= 0 else len(skip)


def _recipients(
    reminder: Reminder, context: AssignmentContext, directory: _Directory
) -> list[tuple[_Agency, str]]:
    """(agency, audience) pairs for a reminder; codes the directory lacks are skipped
    (the config checker refuses them, so only a directory edit can cause that)."""
    return [
        (directory.by_code[code], audience)
        for code, audience in recipients_of(reminder, context)
        if code in directory.by_code
    ]


def _outbox_rows(
    reminder: Reminder, context: AssignmentContext, tick: _Tick, now: datetime, facts: Facts
) -> list[dict[str, Any]]:
    """One outbox row per recipient and channel the reminder can reach; they share one
    render context, and each keeps its recipient's part of it."""
    rows = []
    directory, channels = tick.directory, tick.channels
    send_after = tick.calendar.next_working_time(max(reminder.due_at, now))
    shared: dict[str, Any] | None = None
    for agency, audience in _recipients(reminder, context, directory):
        for channel in reminder.channels:
            if channel not in channels:
                continue  # the channel is not configured in this deployment
            no_chat = audience == "head" or (agency.id, channel) not in directory.with_chat
            if channel in CHAT_CHANNELS and no_chat:
                continue  # no linked chat: email carries the reminder
            if shared is None:
                shared = _shared_context(reminder, context, directory, tick.telegram_link, facts)
            rows.append(
                {
                    "key": message_key(
                        reminder,
                        context,
                        agency_code=agency.code,
                        audience=audience,
                        channel=channel,
                    ),
                    "channel": channel,
                    "agency_id": agency.id,
                    "assignment_id": reminder.assignment_id,
                    "stage": reminder.stage,
                    "template": reminder.template,
                    "shared": shared,
                    "context": directory.part(agency, audience),
                    "due_at": reminder.due_at,
                    "send_after": send_after,
                }
            )
    return rows


def _shared_context(
    reminder: Reminder,
    context: AssignmentContext,
    directory: _Directory,
    telegram_link: str | None,
    facts: Facts,
) -> dict[str, Any]:
    """A reminder's render context, the recipient's part (`audience`, `recipient`) aside."""
    office = directory.by_id.get(context.owner_id or 0)
    explained = facts.explained(reminder.occurrence, context.task.get("deadline"))
    office_email = directory.reply_email.get(context.owner_id or 0)
    return {
        "assignment_id": reminder.assignment_id,
        "role": context.role,
        "stage": reminder.stage,
        "template": reminder.template,
        "repeat": reminder.repeat,
        # Once the agency has explained, no message asks again (nor waits for a reply).
        "ask_explanation": reminder.ask_explanation and not explained,
        "explained": explained,
        "occurrence": reminder.occurrence.isoformat() if reminder.occurrence else None,
        "plan": {"code": context.plan_code, "title": context.plan_title},
        "task": {**context.task, "leads": list(facts.leads)},
        "agency": {"code": context.agency_code, "name": context.agency_name},
        "office": {"code": office.code, "name": office.name} if office else None,
        "answer": {"telegram_link": telegram_link, "reply_email": office_email},
    }
