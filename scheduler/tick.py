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
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dondoc.evaluation import AssignmentContext, load_states, message_key, recipients_of
from dondoc.message_facts import Facts, load_facts
from dondoc.models import Agency, Assignment, Contact, OutboxMessage
from dondoc.outbox import enqueue_many
from dondoc.store import session_scope
from rules.calendar import WorkCalendar
from rules.evaluate import Reminder, evaluate
from rules.policy import RuleConfig

BATCH = 1000
CHAT_CHANNELS = ("telegram", "zalo")  # reach an agency only through a chat it linked


@dataclass
class TickResult:
    evaluated: int = 0
    enqueued: int = 0
    skipped: list[str] = field(default_factory=list)
    superseded: int = 0


@dataclass(frozen=True)
class _Directory:
    """Agencies by code and which of them have a linked chat: read once per tick."""

    by_code: dict[str, Agency]
    by_id: dict[int, Agency]
    with_chat: set[tuple[int, str]]  # (agency id, chat channel) of every linked chat
    reply_email: dict[int, str]  # agency id → the address agencies may answer by email

    @classmethod
    def load(cls, session: Session) -> _Directory:
        agencies = session.exec(select(Agency)).all()
        contacts = session.exec(select(Contact).where(Contact.active)).all()
        chats = {(c.agency_id, c.channel) for c in contacts if c.channel in CHAT_CHANNELS}
        emails: dict[int, str] = {}
        for contact in sorted(contacts, key=lambda c: (c.is_head, c.id or 0)):
            if contact.channel == "email":
                emails.setdefault(contact.agency_id, contact.address)
        return cls({a.code: a for a in agencies}, {a.id or 0: a for a in agencies}, chats, emails)


def run_tick(
    engine: Engine,
    *,
    config: RuleConfig,
    calendar: WorkCalendar,
    now: datetime,
    channels: Collection[str],
    telegram_link: str | None = None,
) -> TickResult:
    """Evaluate due assignments and queue their reminders; `telegram_link` (the bot's
    t.me address) goes into every message's "how to answer" part."""
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
            latest: dict[int, tuple[str, list[str]]] = {}  # assignment → (stage, new keys)
            position = {i: n for n, i in enumerate(ids)}
            states = list(
                load_states(
                    session, assignment_ids=[i for i in ids if i is not None], config=config
                )
            )
            facts = load_facts(
                session,
                assignment_ids=[context.assignment_id for context, *_ in states],
                task_ids={context.task_id for context, *_ in states},
                tz=ZoneInfo(config.timezone),
            )
            for context, state, _policy_name, policy in states:
                evaluation = evaluate(state, policy, now, config=config)
                for reminder in evaluation.reminders:
                    new = _outbox_rows(
                        reminder,
                        context,
                        directory,
                        calendar,
                        now,
                        channels,
                        telegram_link,
                        facts.get(context.assignment_id, Facts()),
                    )
                    rows.extend(new)
                    # Keys of every reminder due now stay: only older, unsent ones go.
                    _, kept = latest.get(reminder.assignment_id, ("", []))
                    latest[reminder.assignment_id] = (
                        reminder.stage,
                        kept + [r["key"] for r in new],
                    )
                updates[position[state.assignment_id]]["next"] = evaluation.next_at
                result.evaluated += 1
            result.enqueued += enqueue_many(session, rows, now=now)
            result.superseded += _supersede_pending(session, latest)
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


def _supersede_pending(session: Session, latest: dict[int, tuple[str, list[str]]]) -> int:
    """Drop the unsent reminders a newer stage replaces: only the latest due stage goes out.

    A stage queued for the next office hours (a deadline on a Saturday, then a holiday)
    is still waiting when the next stage comes due; both would reach the agency in the
    same message. Rows already being sent, and notices or reports, are left alone.
    """
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    count = 0
    for assignment_id, (stage, keys) in latest.items():
        statement = (
            table.update()
            .where(
                table.c.assignment_id == assignment_id,
                table.c.kind == "reminder",
                table.c.status == "pending",
                table.c.key.not_in(keys),
            )
            .values(status="skipped", last_error=f"superseded by stage {stage}")
        )
        count += int(session.connection().execute(statement).rowcount or 0)
    return count


def _recipients(
    reminder: Reminder, context: AssignmentContext, directory: _Directory
) -> list[tuple[Agency, str]]:
    """(agency, audience) pairs for a reminder; codes the directory lacks are skipped
    (the config checker refuses them, so only a directory edit can cause that)."""
    return [
        (directory.by_code[code], audience)
        for code, audience in recipients_of(reminder, context)
        if code in directory.by_code
    ]


def _outbox_rows(
    reminder: Reminder,
    context: AssignmentContext,
    directory: _Directory,
    calendar: WorkCalendar,
    now: datetime,
    channels: Collection[str],
    telegram_link: str | None,
    facts: Facts,
) -> list[dict[str, Any]]:
    """One outbox row per recipient and channel the reminder can reach."""
    rows = []
    send_after = calendar.next_working_time(max(reminder.due_at, now))
    for agency, audience in _recipients(reminder, context, directory):
        for channel in reminder.channels:
            if channel not in channels:
                continue  # the channel is not configured in this deployment
            no_chat = audience == "head" or (agency.id, channel) not in directory.with_chat
            if channel in CHAT_CHANNELS and no_chat:
                continue  # no linked chat: email carries the reminder
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
                    "context": _render_context(
                        reminder, context, agency, audience, directory, telegram_link, facts
                    ),
                    "due_at": reminder.due_at,
                    "send_after": send_after,
                }
            )
    return rows


def _render_context(
    reminder: Reminder,
    context: AssignmentContext,
    recipient: Agency,
    audience: str,
    directory: _Directory,
    telegram_link: str | None,
    facts: Facts,
) -> dict[str, Any]:
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
        "audience": audience,
        "plan": {"code": context.plan_code, "title": context.plan_title},
        "task": {**context.task, "leads": list(facts.leads)},
        "agency": {"code": context.agency_code, "name": context.agency_name},
        "recipient": {"code": recipient.code, "name": recipient.name},
        "office": {"code": office.code, "name": office.name} if office else None,
        "answer": {"telegram_link": telegram_link, "reply_email": office_email},
    }
