"""Old sent messages are emptied after the retention; their keys keep evaluation idempotent."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from daemon_support import at, make_app, simulate
from fakes.smtp import SmtpSink
from sqlmodel import col, select

from dondoc.models import AuditEntry, DeliveryAttempt, OutboxMessage
from dondoc.outbox import enqueue, prune_sent
from dondoc.store import session_scope

pytest_plugins = ["fakes.fixtures"]


def test_messages_sent_before_the_retention_are_emptied_but_never_sent_again(
    tmp_path: Path, smtp_sink: SmtpSink, store_url: str
) -> None:
    app = make_app(tmp_path, smtp_sink, store_url=store_url, retention=30)
    simulate(app, at("2023-01-10"))
    with session_scope(app.engine) as session:
        sent = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.sent_at))).all()
        audit_before = len(session.exec(select(AuditEntry)).all())
    cutoff = at("2023-01-05")
    old = [r for r in sent if r.sent_at and r.sent_at < cutoff]
    recent = [r for r in sent if r.sent_at and r.sent_at >= cutoff]
    assert old and recent

    with session_scope(app.engine) as session:
        assert prune_sent(session, before=cutoff, limit=1) == 1  # in batches
        while prune_sent(session, before=cutoff):
            pass
    with session_scope(app.engine) as session:
        rows = {r.id: r for r in session.exec(select(OutboxMessage)).all()}
        attempts = {a.outbox_id for a in session.exec(select(DeliveryAttempt)).all()}
        assert len(session.exec(select(AuditEntry)).all()) == audit_before
        for row in old:
            kept = rows[row.id]
            assert kept.status == "pruned" and kept.context == {} and kept.key == row.key
            assert row.id not in attempts
        for row in recent:
            assert rows[row.id].status == "sent" and rows[row.id].context
        # The key still guards against a second send of the same reminder.
        added = enqueue(
            session,
            key=old[0].key,
            channel="email",
            agency_id=old[0].agency_id,
            stage=old[0].stage,
            template=old[0].template,
            context={"again": True},
            send_after=cutoff,
            now=cutoff,
        )
        assert added is False, (old[0].key, [r.key for r in old])


def test_the_daemon_prunes_after_the_retention_on_its_own(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    app = make_app(tmp_path, smtp_sink, retention=20)
    simulate(app, at("2023-03-01"))
    with session_scope(app.engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    limit = at("2023-03-01") - timedelta(days=20)
    assert any(r.status == "pruned" for r in rows)
    long_ago = limit - timedelta(days=1)
    assert all(r.status == "pruned" for r in rows if r.sent_at and r.sent_at < long_ago)
    assert all(r.context for r in rows if r.status != "pruned")
