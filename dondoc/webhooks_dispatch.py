"""Turning new events into webhook deliveries: one outbox row per (subscription, event).

Run by the daemon at each step. For each active subscription the events after its
cursor are read in batches; their rows are added and the cursor advanced in the same
transaction, so a crash in between loses nothing and adds nothing twice (the rows' keys
would refuse a second copy anyway). Delivery then goes through the outbox like any
reminder: retried with backoff, given up and reported to the office after the same limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from dondoc import events
from dondoc.models_webhooks import WebhookSubscription
from dondoc.outbox import enqueue_many
from dondoc.store import session_scope
from dondoc.webhooks import CHANNEL, delivery_key
from rules.calendar import OfficeHours, WorkCalendar

BATCH = 500


def dispatch(engine: Engine, *, now: datetime, batch: int = BATCH) -> int:
    """Queue every new event for every active subscription; returns rows added."""
    with session_scope(engine) as session:
        ids = [
            i
            for i in session.exec(
                select(WebhookSubscription.id)
                .where(col(WebhookSubscription.active))
                .order_by(col(WebhookSubscription.id))
            ).all()
            if i is not None
        ]
    added = 0
    for sub_id in ids:
        while True:
            count, more = _dispatch_batch(engine, sub_id, now=now, batch=batch)
            added += count
            if not more:
                break
    return added


def _dispatch_batch(engine: Engine, sub_id: int, *, now: datetime, batch: int) -> tuple[int, bool]:
    """One batch for one subscription: (rows added, whether more events may follow)."""
    with session_scope(engine) as session:
        sub = session.get(WebhookSubscription, sub_id)
        if sub is None or not sub.active:
            return 0, False
        cursor = sub.last_event_id
        # With `now`, the feed stops before an id that may still be committing
        # (PostgreSQL), so the cursor never steps over an event. Every type is read and
        # filtered here, so that the cursor also passes the events this subscriber
        # does not want: a rare type must not leave it reading the same ids each step.
        found = events.list_events(session, after=cursor, limit=batch, now=now)
        if not found:
            return 0, False
        wanted = set(sub.event_types)
        ready = [e for e in found if (not wanted or e.type in wanted) and not _own_echo(e)]
        rows = [_row(sub_id, sub.url, e, now) for e in ready]
        added = enqueue_many(session, rows, now=now)
        # Only forward: another daemon that went further keeps its cursor (the keys make
        # the rows it added and these the same ones).
        session.execute(
            sa.update(WebhookSubscription)
            .where(
                col(WebhookSubscription.id) == sub_id,
                col(WebhookSubscription.last_event_id) < found[-1].id,
            )
            .values(last_event_id=found[-1].id)
        )
        return added, len(found) == batch


def _own_echo(event: events.Event) -> bool:
    """The sending of an office notice about a failed delivery. A receiver that refuses
    everything would otherwise be sent the news of its own failure, fail again, and so
    on for ever: such notices stay between dondoc and the office."""
    return event.type == "message.sent" and event.data.get("stage") == "delivery_failed"


def _row(sub_id: int, url: str, event: events.Event, now: datetime) -> dict[str, Any]:
    return {
        "key": delivery_key(sub_id, event.id),
        "kind": CHANNEL,
        "channel": CHANNEL,
        "agency_id": None,
        "stage": event.type[:64],
        "template": CHANNEL,
        # The URL is here for the office's failure notice; the secret never is.
        "context": {
            "webhook": {"subscription_id": sub_id, "url": url, "event_id": event.id},
            "event": events.event_json(event),
        },
        "send_after": now,
    }


class RoundTheClock(WorkCalendar):
    """Machines answer at night and on holidays: webhooks do not wait for office hours."""

    def next_working_time(self, dt: datetime, office_hours: OfficeHours | None = None) -> datetime:
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError(f"next_working_time needs a time-zone-aware datetime, got {dt!r}")
        return dt
