"""The event feed read by the API and the webhooks: ordered, stable ids, filters, sends,
and no id passed while a lower one may still commit (PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from daemon_support import at, make_app, simulate
from fakes.smtp import SmtpSink
from sqlmodel import select

from dondoc.actions import set_status
from dondoc.events import SETTLE, UnknownEventType, event_json, list_events
from dondoc.models import Agency, Assignment, AuditEntry, OutboxMessage
from dondoc.reports.explanations import record_explanation
from dondoc.store import session_scope

pytest_plugins = ["fakes.fixtures"]


def lead_of(session, code: str) -> Assignment:  # type: ignore[no-untyped-def]
    agency = session.exec(select(Agency).where(Agency.code == code)).one()
    return session.exec(select(Assignment).where(Assignment.agency_id == agency.id)).one()


def test_answers_and_sends_come_out_in_order_with_their_places(
    tmp_path: Path, smtp_sink: SmtpSink, store_url: str
) -> None:
    app = make_app(tmp_path, smtp_sink, store_url=store_url)
    simulate(app, at("2022-12-19", 12, 0))  # the "upcoming" reminders go out
    now = app.clock.now()
    with session_scope(app.engine) as session:
        lead = lead_of(session, "so-tu-phap")
        set_status(session, assignment=lead, status="acknowledged", actor="cli:an", now=now)
    with session_scope(app.engine) as session:
        lead = lead_of(session, "so-tu-phap")
        set_status(session, assignment=lead, status="open", actor="cli:an", now=now)
        record_explanation(
            session,
            assignment=lead,
            text="Chờ ý kiến Bộ",
            author="Sở Tư pháp",
            actor="cli:an",
            now=now,
            via="paper",
        )

    with session_scope(app.engine) as session:
        events = list_events(session, now=now + SETTLE * 2)
        sent_rows = session.exec(select(OutboxMessage).where(OutboxMessage.status == "sent")).all()
        lead_id = lead_of(session, "so-tu-phap").id

    types = [e.type for e in events]
    sends = [e for e in events if e.type == "message.sent"]
    assert len(sends) == len(sent_rows) >= 2
    assert {e.data["outbox_id"] for e in sends} == {r.id for r in sent_rows}
    about_tasks = [e for e in sends if e.assignment_id is not None]
    assert about_tasks and all(e.plan_id and e.task_id for e in about_tasks)
    assert types[len(sends) :] == [
        "assignment.acknowledged",
        "assignment.reopened",
        "assignment.explanation",
    ]
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert events[-1].assignment_id == lead_id and events[-1].actor == "cli:an"

    with session_scope(app.engine) as session:
        after = list_events(session, after=events[len(sends)].id, now=now + SETTLE * 2)
        only = list_events(session, types=["assignment.reopened"], now=now + SETTLE * 2)
        theirs = list_events(session, agency_id=sends[0].agency_id, now=now + SETTLE * 2)
        two = list_events(session, limit=2, now=now + SETTLE * 2)
    assert [e.type for e in after] == ["assignment.reopened", "assignment.explanation"]
    assert [e.type for e in only] == ["assignment.reopened"]
    expected = [e.id for e in events if e.agency_id == sends[0].agency_id]
    assert [e.id for e in theirs] == expected and len(expected) < len(events)
    assert [e.id for e in two] == [e.id for e in events[:2]]

    body = event_json(events[-1])
    assert body["type"] == "assignment.explanation"
    assert body["at"] == events[-1].at.isoformat()
    assert body["data"]["via"] == "paper"


def test_an_unknown_type_is_named(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(sqlite_engine) as session, pytest.raises(UnknownEventType) as caught:
        list_events(session, types=["assignment.done", "task.exploded"])
    assert "task.exploded" in str(caught.value)


def test_the_feed_waits_at_a_young_gap_in_the_ids_on_postgresql(postgres_url: str) -> None:
    from dondoc.store import make_engine, migrate

    engine = make_engine(postgres_url)
    migrate(engine)
    now = at("2023-01-02", 9, 0)

    def entry(id_: int, when: object) -> AuditEntry:
        return AuditEntry(id=id_, at=when, actor="t", action="assignment.note", detail={})

    with session_scope(engine) as session:
        # Id 2 was taken by a transaction that has not committed (or never will).
        session.add_all([entry(1, now), entry(3, now), entry(4, now)])
    with session_scope(engine) as session:
        young = list_events(session, now=now + timedelta(seconds=1))
        settled = list_events(session, now=now + SETTLE + timedelta(seconds=1))
        no_clock = list_events(session)
    engine.dispose()
    assert [e.id for e in young] == [1]
    assert [e.id for e in settled] == [1, 3, 4]
    assert [e.id for e in no_clock] == [1]


def test_many_other_audit_rows_between_events_do_not_stall_the_feed(postgres_url: str) -> None:
    """Thousands of refused logins after the cursor: the next event still comes out, and
    a young gap before a row that is not an event still holds the feed back."""
    from dondoc.store import make_engine, migrate

    engine = make_engine(postgres_url)
    migrate(engine)
    now = at("2023-01-02", 9, 0)
    old = now - SETTLE * 10
    noise = [
        AuditEntry(id=n, at=old, actor="web", action="web.login_failed", detail={})
        for n in range(2, 2503)
    ]
    with session_scope(engine) as session:
        session.add(AuditEntry(id=1, at=old, actor="t", action="assignment.note", detail={}))
        session.add_all(noise)
        session.add(AuditEntry(id=2503, at=old, actor="t", action="assignment.done", detail={}))
        # 2504 is still in flight; 2505 (not an event) and 2506 committed just now.
        session.add(AuditEntry(id=2505, at=now, actor="web", action="web.login", detail={}))
        session.add(AuditEntry(id=2506, at=now, actor="t", action="assignment.note", detail={}))
    with session_scope(engine) as session:
        first = list_events(session, now=now)
        later = list_events(session, after=2503, now=now + SETTLE * 2)
    engine.dispose()
    assert [e.id for e in first] == [1, 2503]
    assert [e.id for e in later] == [2506]
