"""One tick: evaluate the assignments whose `next_due_at` has come and fill the outbox.

Only due rows are loaded (an indexed column, never a scan of all tasks). Each reminder
becomes one outbox row per recipient and channel, keyed so that evaluating twice adds
nothing; then `next_due_at` is set to the next moment anything can become due.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dondoc.evaluation import load_states
from dondoc.models import Agency, Assignment, Contact
from dondoc.outbox import enqueue_many
from dondoc.store import session_scope
from rules.calendar import WorkCalendar
from rules.evaluate import Reminder, evaluate
from rules.policy import RuleConfig

BATCH = 1000
TASK_LEVEL_TEMPLATE = "set_deadline"


@dataclass
class TickResult:
    evaluated: int = 0
    enqueued: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Directory:
    """Agencies by code and which of them have a linked chat: read once per tick."""

    by_code: dict[str, Agency]
    by_id: dict[int, Agency]
    with_chat: set[int]

    @classmethod
    def load(cls, session: Session) -> _Directory:
        agencies = session.exec(select(Agency)).all()
        chats = session.exec(
            select(Contact.agency_id).where(Contact.channel == "telegram", Contact.active)
        ).all()
        return cls({a.code: a for a in agencies}, {a.id or 0: a for a in agencies}, set(chats))


def run_tick(
    engine: Engine,
    *,
    config: RuleConfig,
    calendar: WorkCalendar,
    now: datetime,
    channels: Collection[str],
) -> TickResult:
    result = TickResult()
    while True:
        with session_scope(engine) as session:
            ids = list(
                session.exec(
                    select(Assignment.id)
                    .where(col(Assignment.next_due_at) <= now, col(Assignment.active))
                    .order_by(col(Assignment.next_due_at))
                    .limit(BATCH)
                ).all()
            )
            if not ids:
                return result
            directory = _Directory.load(session)
            # Rows load_states leaves out (their task was dropped) must not come back.
            updates: list[dict[str, Any]] = [{"a_id": i, "next": None} for i in ids]
            rows: list[dict[str, Any]] = []
            position = {i: n for n, i in enumerate(ids)}
            for context, state, _policy_name, policy in load_states(
                session, assignment_ids=[i for i in ids if i is not None], config=config
            ):
                evaluation = evaluate(state, policy, now, config=config)
                for reminder in evaluation.reminders:
                    rows.extend(_outbox_rows(reminder, context, directory, calendar, now, channels))
                updates[position[state.assignment_id]]["next"] = evaluation.next_at
                result.evaluated += 1
            result.enqueued += enqueue_many(session, rows, now=now)
            if updates:
                table = Assignment.__table__  # type: ignore[attr-defined]
                session.connection().execute(
                    table.update()
                    .where(table.c.id == sa.bindparam("a_id"))
                    .values(next_due_at=sa.bindparam("next")),
                    updates,
                )
            if len(ids) < BATCH:
                return result


def _recipients(
    reminder: Reminder, context: Any, directory: _Directory
) -> list[tuple[Agency, str]]:
    """(agency, audience) pairs for a reminder's symbolic `to` list."""
    out: list[tuple[Agency, str]] = []
    own = directory.by_id.get(context.agency_id)
    for target in reminder.to:
        if target == "self" and own is not None:
            out.append((own, "agency"))
        elif target == "head" and own is not None:
            out.append((own, "head"))
        elif target == "office":
            office = directory.by_id.get(context.owner_id or 0)
            if office is not None:
                out.append((office, "office"))
        elif target in directory.by_code:
            out.append((directory.by_code[target], "agency"))
    return out


def _outbox_rows(
    reminder: Reminder,
    context: Any,
    directory: _Directory,
    calendar: WorkCalendar,
    now: datetime,
    channels: Collection[str],
) -> list[dict[str, Any]]:
    """One outbox row per recipient and channel the reminder can reach."""
    rows = []
    send_after = calendar.next_working_time(max(reminder.due_at, now))
    key = reminder.key
    if reminder.template == TASK_LEVEL_TEMPLATE:
        # Setting a date is one decision per task, however many agencies share it:
        # a task-level key lets the outbox keep one such message.
        key = f"t{context.task_id}:" + key.split(":", 1)[1]
    for agency, audience in _recipients(reminder, context, directory):
        for channel in reminder.channels:
            if channel not in channels:
                continue  # the channel is not configured in this deployment
            no_chat = audience == "head" or agency.id not in directory.with_chat
            if channel == "telegram" and no_chat:
                continue  # no linked chat: email carries the reminder
            suffix = f"{agency.code}#head" if audience == "head" else agency.code
            rows.append(
                {
                    "key": f"{key}/{suffix}/{channel}",
                    "channel": channel,
                    "agency_id": agency.id,
                    "assignment_id": reminder.assignment_id,
                    "stage": reminder.stage,
                    "template": reminder.template,
                    "context": _render_context(reminder, context, agency, audience, directory),
                    "due_at": reminder.due_at,
                    "send_after": send_after,
                }
            )
    return rows


def _render_context(
    reminder: Reminder, context: Any, recipient: Agency, audience: str, directory: _Directory
) -> dict[str, Any]:
    office = directory.by_id.get(context.owner_id or 0)
    office_email = None
    return {
        "assignment_id": reminder.assignment_id,
        "role": context.role,
        "stage": reminder.stage,
        "template": reminder.template,
        "repeat": reminder.repeat,
        "ask_explanation": reminder.ask_explanation,
        "occurrence": reminder.occurrence.isoformat() if reminder.occurrence else None,
        "audience": audience,
        "plan": {"code": context.plan_code, "title": context.plan_title},
        "task": dict(context.task),
        "agency": {"code": context.agency_code, "name": context.agency_name},
        "recipient": {"code": recipient.code, "name": recipient.name},
        "office": {"code": office.code, "name": office.name} if office else None,
        "answer": {"telegram_link": None, "reply_email": office_email},
    }
