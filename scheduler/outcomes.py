"""Recording what happened to sent messages: one transaction for many rows.

Each recipient address of a row has its own outcome. A row is `sent` once every address
has it (or refused it for good), `failed` when none can ever get it, and otherwise goes
back to `pending` for the addresses still owed: a temporary refusal by one address is
retried for that address alone. A row is written only while the writer still holds its
claim, so a worker whose lease ran out cannot overwrite the row's new owner.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dondoc.models import (
    Agency,
    Assignment,
    AuditEntry,
    DeliveryAttempt,
    OutboxMessage,
    SentMessage,
    Task,
)
from dondoc.outbox import enqueue
from dondoc.store import session_scope
from notifiers.base import ChannelError
from rules.calendar import WorkCalendar
from scheduler.metrics import Metrics
from scheduler.queue import backoff

log = logging.getLogger("dondoc.delivery")

# A message is given up by age, not by count: a mail server down over a long holiday
# weekend must not cost a single reminder. Backoff is capped, so retries stay frequent.
GIVE_UP_AFTER = timedelta(days=7)


@dataclass
class AddressOutcome:
    """One address of one message: delivered (provider id), refused (error) or told to
    wait (`wait` seconds, the channel's own limit for that chat; not an attempt)."""

    address: str
    provider_id: str | None = None
    error: ChannelError | None = None
    wait: float | None = None


@dataclass
class RowOutcome:
    row: OutboxMessage
    addresses: list[AddressOutcome] = field(default_factory=list)
    error: ChannelError | None = None  # the message could not even be built


@dataclass
class Tally:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    interrupted: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.deferred += other.deferred
        self.interrupted += other.interrupted
        self.errors.extend(other.errors)


@dataclass
class _Decision:
    values: dict[str, Any]
    outcome: str | None  # the DeliveryAttempt outcome; None when nothing was tried
    error: str | None
    provider_id: str | None
    notify_office: bool = False


def _decide(
    outcome: RowOutcome, *, now: datetime, calendar: WorkCalendar, rng: random.Random
) -> _Decision:
    row = outcome.row
    delivered = list(row.delivered_to or [])
    provider_ids = [a.provider_id for a in outcome.addresses if a.provider_id]
    delivered += [a.address for a in outcome.addresses if a.provider_id]
    errors = [a.error for a in outcome.addresses if a.error is not None]
    if outcome.error is not None:
        errors.append(outcome.error)
    temporary = [e for e in errors if not e.permanent]
    waits = [a.wait for a in outcome.addresses if a.wait is not None]
    note = "; ".join(str(e) for e in errors) or None
    provider_id = ",".join(provider_ids)[:300] or None
    values: dict[str, Any] = {
        "delivered_to": delivered,
        "provider_id": provider_id or row.provider_id,
        "last_error": note,
        "attempts": row.attempts + (1 if provider_ids or errors else 0),
        "sent_at": now if provider_ids else row.sent_at,
    }
    age = now - (row.created_at or now)
    if temporary and age < GIVE_UP_AFTER:
        retry_after = max((e.retry_after or 0.0 for e in temporary), default=0.0)
        delay = backoff(values["attempts"], retry_after or None, rng)
        if waits:
            delay = max(delay, timedelta(seconds=max(waits)))
        later = calendar.next_working_time(now + delay)
        return _Decision(
            {**values, "status": "pending", "next_attempt_at": later}, "retry", note, provider_id
        )
    if waits and not temporary:
        later = calendar.next_working_time(now + timedelta(seconds=max(waits)))
        outcome_name = "sent" if provider_ids else None  # a deferral alone is no attempt
        return _Decision(
            {**values, "status": "pending", "next_attempt_at": later},
            outcome_name,
            note,
            provider_id,
        )
    if delivered:
        return _Decision({**values, "status": "sent"}, "sent", note, provider_id)
    return _Decision({**values, "status": "failed"}, "failed", note or "không gửi được", None, True)


def record(
    engine: Engine,
    outcomes: Sequence[RowOutcome],
    *,
    token: str,
    now: datetime,
    calendar: WorkCalendar,
    metrics: Metrics,
    office_agency_id: int | None,
    rng: random.Random,
) -> Tally:
    """Write every outcome in one transaction; rows another claimer took are left alone."""
    tally = Tally()
    if not outcomes:
        return tally
    decisions = [(o, _decide(o, now=now, calendar=calendar, rng=rng)) for o in outcomes]
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    columns = (
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "provider_id",
        "last_error",
        "delivered_to",
    )
    statement = (
        table.update()
        .where(
            table.c.id == sa.bindparam("w_id"),
            table.c.claimed_by == sa.bindparam("w_token"),
            table.c.status == "sending",
        )
        .values(
            claimed_by=None,
            **{name: sa.bindparam(f"w_{name}", type_=table.c[name].type) for name in columns},
        )
    )
    parameters = []
    for outcome, decision in decisions:
        row = outcome.row
        merged = {
            "status": row.status,
            "next_attempt_at": row.next_attempt_at,
            **decision.values,
        }
        parameters.append(
            {"w_id": row.id, "w_token": token, **{f"w_{n}": merged[n] for n in columns}}
        )
    with session_scope(engine) as session:
        session.connection().execute(statement, parameters)
        attempts = [
            {
                "outbox_id": o.row.id,
                "at": now,
                "outcome": d.outcome,
                "error": d.error,
                "provider_id": d.provider_id,
            }
            for o, d in decisions
            if d.outcome is not None
        ]
        if attempts:
            session.connection().execute(
                DeliveryAttempt.__table__.insert(),  # type: ignore[attr-defined]
                attempts,
            )
        _record_chat_messages(session, outcomes, now)
        _audit_sends(session, outcomes, now)
        for outcome, decision in decisions:
            if decision.notify_office:
                _notify_office(session, outcome.row, decision, calendar, now, office_agency_id)
    for outcome, decision in decisions:
        _log_and_count(outcome, decision, metrics, tally)
    return tally


def _log_and_count(
    outcome: RowOutcome, decision: _Decision, metrics: Metrics, tally: Tally
) -> None:
    row = outcome.row
    status = decision.values["status"]
    name = {"sent": "sent", "failed": "failed"}.get(status, "retry")
    if status == "pending" and decision.outcome in (None, "sent") and not decision.error:
        name = "deferred"
    line = "send channel=%s agency=%s task=%s key=%s outcome=%s"
    args: list[Any] = [
        row.channel,
        row.agency_id,
        row.context.get("task", {}).get("number"),
        row.key,
        name,
    ]
    if decision.error:
        line += " error=%s"
        args.append(decision.error)
    (log.info if name in ("sent", "deferred") else log.warning)(line, *args)
    if name == "sent":
        tally.sent += 1
        metrics.sent.labels(row.channel).inc()
    elif name == "deferred":
        tally.deferred += 1
    else:
        permanent = name == "failed"
        tally.failed += permanent
        tally.retried += not permanent
        metrics.failed.labels(row.channel, str(permanent).lower()).inc()
        if decision.error:
            tally.errors.append(decision.error)


# Channels whose sent messages are remembered, so that replies can be matched to them.
CHAT_CHANNELS = ("telegram", "zalo")


def _record_chat_messages(session: Session, outcomes: Sequence[RowOutcome], now: datetime) -> None:
    """Remember which assignments a chat message was about, for replies and buttons."""
    by_message: dict[tuple[str, str], list[OutboxMessage]] = {}
    for outcome in outcomes:
        if outcome.row.channel not in CHAT_CHANNELS:
            continue
        for address in outcome.addresses:
            if address.provider_id:
                key = (outcome.row.channel, address.provider_id)
                by_message.setdefault(key, []).append(outcome.row)
    for (channel, provider_id), rows in by_message.items():
        chat_id, _, message_id = provider_id.rpartition(":")
        if not (chat_id and message_id):
            continue
        session.add(
            SentMessage(
                channel=channel,
                chat_id=chat_id,
                message_id=message_id,
                agency_id=rows[0].agency_id,
                assignment_ids=[r.assignment_id for r in rows if r.assignment_id is not None],
                asks_explanation=any(r.context.get("ask_explanation") for r in rows),
                at=now,
            )
        )


def _audit_sends(session: Session, outcomes: Sequence[RowOutcome], now: datetime) -> None:
    """Each delivery is an event in the audit log (the API's feed and the webhooks read it).

    Webhook deliveries are not: each would be an event that makes another webhook."""
    sent = [
        (o.row, [a for a in o.addresses if a.provider_id])
        for o in outcomes
        if o.row.channel != "webhook" and any(a.provider_id for a in o.addresses)
    ]
    if not sent:
        return
    assignment_ids = {row.assignment_id for row, _ in sent if row.assignment_id is not None}
    places: dict[int, tuple[int, int]] = {}
    if assignment_ids:
        query = (
            sa.select(Assignment.id, Task.id, Task.plan_id)  # type: ignore[call-overload]
            .join(Task, Task.id == Assignment.task_id)
            .where(Assignment.id.in_(assignment_ids))  # type: ignore[union-attr]
        )
        places = {a: (t, p) for a, t, p in session.connection().execute(query)}
    entries = []
    for row, addresses in sent:
        task_id, plan_id = places.get(row.assignment_id or 0, (None, None))
        entries.append(
            {
                "at": now,
                "actor": "dondoc",
                "action": "message.sent",
                "plan_id": plan_id,
                "task_id": task_id,
                "assignment_id": row.assignment_id,
                "agency_id": row.agency_id,
                "detail": {
                    "outbox_id": row.id,
                    "kind": row.kind,
                    "channel": row.channel,
                    "stage": row.stage,
                    "recipients": len(addresses),
                },
            }
        )
    session.connection().execute(AuditEntry.__table__.insert(), entries)  # type: ignore[attr-defined]


def _notify_office(
    session: Session,
    row: OutboxMessage,
    decision: _Decision,
    calendar: WorkCalendar,
    now: datetime,
    office_agency_id: int | None,
) -> None:
    """A message that cannot be delivered is reported to the office, by email, once."""
    if row.kind == "notice" or office_agency_id is None:
        return  # never report a failed report-of-a-failure: it would loop
    office = session.get(Agency, office_agency_id)
    recipient = session.get(Agency, row.agency_id) if row.agency_id else None
    enqueue(
        session,
        key=f"failed:{row.key}",
        kind="notice",
        channel="email",
        agency_id=office_agency_id,
        stage="delivery_failed",
        template="delivery_failed",
        context={
            **row.context,
            "audience": "office",
            "failure": {
                "channel": row.channel,
                "error": decision.error,
                "key": row.key,
                "recipient": {"code": recipient.code, "name": recipient.name}
                if recipient
                else None,
            },
            "office": {"code": office.code, "name": office.name} if office else None,
        },
        send_after=calendar.next_working_time(now),
        now=now,
    )
