"""Webhooks through the real daemon step, outbox and a real HTTP receiver on 127.0.0.1.

An acknowledgement made through the shared actions (the same function as chat buttons
and email links) becomes an event, the daemon queues it for each subscriber and POSTs
it signed; the receiver checks the signature with the README's code. Time moves on the
daemon's injected clock, never by sleeping.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from daemon_support import at, make_app
from fakes.smtp import SmtpSink
from sqlmodel import col, select
from webhook_support import Receiver

from dondoc.app import App
from dondoc.chat_actions import acknowledge
from dondoc.models import Agency, Assignment, DeliveryAttempt, OutboxMessage
from dondoc.models_webhooks import WebhookSubscription
from dondoc.store import session_scope
from dondoc.webhooks import add_subscription
from scheduler.outcomes import GIVE_UP_AFTER

pytest_plugins = ["fakes.fixtures"]

SECRET = "whsec_test-secret-for-the-receiver"
# Thursday 3 November 2022, 21:00 in Hà Nội: outside office hours, on purpose.
EVENING = at("2022-11-03", 21, 0)


def subscribe(app: App, url: str, *, secret: str = SECRET, types: tuple[str, ...] = ()) -> int:
    with session_scope(app.engine) as session:
        sub, _ = add_subscription(
            session,
            url=url,
            event_types=list(types),
            secret=secret,
            actor="test",
            now=app.clock.now(),
        )
        return sub.id or 0


def acknowledge_lead(app: App, agency: str = "so-tu-phap") -> int:
    """The agency acknowledges its part through a signed email link: the shared action."""
    with session_scope(app.engine) as session:
        found = session.exec(select(Agency).where(Agency.code == agency)).one()
        assignment = session.exec(select(Assignment).where(Assignment.agency_id == found.id)).one()
        outcome = acknowledge(
            session,
            assignment_id=assignment.id or 0,
            actor=f"email:{agency}",
            now=app.clock.now(),
            link_agency_id=found.id,
            channel="email",
        )
        assert outcome.status == "acknowledged"
        return assignment.id or 0


def step(daemon: Any, app: App, *, after: timedelta) -> None:
    app.clock.advance(after)  # type: ignore[attr-defined]
    asyncio.run(daemon.step())


def webhook_rows(app: App) -> list[OutboxMessage]:
    with session_scope(app.engine) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.channel == "webhook")
                .order_by(col(OutboxMessage.id))
            ).all()
        )


def attempts_of(app: App, row: OutboxMessage) -> list[str]:
    with session_scope(app.engine) as session:
        return [
            a.outcome
            for a in session.exec(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.outbox_id == row.id)
                .order_by(col(DeliveryAttempt.id))
            ).all()
        ]


@pytest.fixture
def evening_app(tmp_path: Path, smtp_sink: SmtpSink, store_url: str) -> App:
    app = make_app(tmp_path, smtp_sink, store_url=store_url)
    app.clock.set(EVENING)  # type: ignore[attr-defined]
    return app


def test_an_acknowledgement_reaches_the_receiver_signed_at_any_hour(evening_app: App) -> None:
    app = evening_app
    with Receiver(SECRET, now=lambda: app.clock.now().timestamp()) as receiver:
        sub_id = subscribe(app, receiver.url)
        daemon = app.build_daemon()
        assignment_id = acknowledge_lead(app)
        step(daemon, app, after=timedelta(minutes=1))

        assert len(receiver.received) == 1
        got = receiver.received[0]
        assert got.verified and got.status == 200 and got.path == "/hooks/dondoc"
        event = got.json()
        assert event["type"] == "assignment.acknowledged"
        assert event["assignment_id"] == assignment_id
        assert got.headers["Content-Type"] == "application/json"
        assert got.headers["X-Dondoc-Event"] == "assignment.acknowledged"
        assert got.headers["X-Dondoc-Delivery"] == f"webhook:{sub_id}:{event['id']}"
        assert int(got.headers["X-Dondoc-Timestamp"]) == int(app.clock.now().timestamp())
        assert got.headers["X-Dondoc-Signature"].startswith("sha256=")

        [row] = webhook_rows(app)
        assert row.status == "sent" and row.attempts == 1
        with session_scope(app.engine) as session:
            sub = session.get(WebhookSubscription, sub_id)
            assert sub is not None and sub.last_event_id == event["id"]

        # Further steps send nothing again: the cursor and the outbox key hold.
        step(daemon, app, after=timedelta(minutes=5))
        assert len(receiver.received) == 1 and len(webhook_rows(app)) == 1


def test_three_500s_then_200_is_delivered_once_after_four_attempts(evening_app: App) -> None:
    app = evening_app
    with Receiver(SECRET, now=lambda: app.clock.now().timestamp()) as receiver:
        receiver.script([500, 500, 500])
        subscribe(app, receiver.url)
        daemon = app.build_daemon()
        acknowledge_lead(app)
        step(daemon, app, after=timedelta(minutes=1))
        [row] = webhook_rows(app)
        assert row.status == "pending" and row.attempts == 1
        first_retry = row.next_attempt_at
        assert first_retry is not None and first_retry > app.clock.now()

        # Not before the backoff has passed.
        step(daemon, app, after=timedelta(seconds=30))
        assert len(receiver.received) == 1

        for _ in range(5):  # past every backoff (2, 4, 8 minutes at most)
            step(daemon, app, after=timedelta(minutes=20))

        assert [r.status for r in receiver.received] == [500, 500, 500, 200]
        assert all(r.verified for r in receiver.received)
        assert len(receiver.accepted) == 1
        deliveries = {r.headers["X-Dondoc-Delivery"] for r in receiver.received}
        assert deliveries == {row.key}  # the same delivery id on every try
        stamps = [int(r.headers["X-Dondoc-Timestamp"]) for r in receiver.received]
        assert stamps == sorted(stamps) and len(set(stamps)) == 4  # each try signed afresh
        [row] = webhook_rows(app)
        assert row.status == "sent" and row.attempts == 4
        assert attempts_of(app, row) == ["retry", "retry", "retry", "sent"]


def test_a_receiver_with_another_secret_refuses_and_the_office_is_told(
    evening_app: App, smtp_sink: SmtpSink
) -> None:
    app = evening_app
    other = "whsec_the-receiver-knows-another"
    with Receiver(other, now=lambda: app.clock.now().timestamp()) as receiver:
        subscribe(app, receiver.url)
        daemon = app.build_daemon()
        acknowledge_lead(app)
        step(daemon, app, after=timedelta(minutes=1))
        assert [(r.verified, r.status) for r in receiver.received] == [(False, 401)]
        [row] = webhook_rows(app)
        assert row.status == "failed" and row.attempts == 1  # 401 will not change by itself
        assert "HTTP 401" in (row.last_error or "")
        # Reported to the office by email, at the next office opening (Friday 07:30).
        app.clock.set(at("2022-11-04", 7, 31))  # type: ignore[attr-defined]
        asyncio.run(daemon.step())
        notices = [m for m in smtp_sink.messages if "Lỗi gửi tin" in m.subject]
        assert len(notices) == 1
        assert receiver.url in notices[0].text and "HTTP 401" in notices[0].text
        assert "dondoc webhook" in notices[0].text
        assert SECRET not in notices[0].text
        # Not retried, and the notice's own sending is not sent to the failing receiver
        # (it would fail and be reported again, for ever).
        for _ in range(3):
            step(daemon, app, after=timedelta(hours=1))
        assert len(receiver.received) == 1
        assert len([m for m in smtp_sink.messages if "Lỗi gửi tin" in m.subject]) == 1


def test_retry_after_is_honoured(evening_app: App) -> None:
    app = evening_app
    with Receiver(SECRET, now=lambda: app.clock.now().timestamp()) as receiver:
        receiver.script([429], {"Retry-After": "3600"})
        subscribe(app, receiver.url)
        daemon = app.build_daemon()
        acknowledge_lead(app)
        step(daemon, app, after=timedelta(minutes=1))
        sent_at = app.clock.now()
        [row] = webhook_rows(app)
        assert row.status == "pending" and row.next_attempt_at is not None
        assert row.next_attempt_at >= sent_at + timedelta(seconds=3600)
        step(daemon, app, after=timedelta(minutes=50))
        assert len(receiver.received) == 1  # the receiver asked for an hour
        step(daemon, app, after=timedelta(minutes=15))
        assert [r.status for r in receiver.received] == [429, 200]


def test_a_receiver_that_is_down_loses_nothing(tmp_path: Path, evening_app: App) -> None:
    app = evening_app
    receiver = Receiver(SECRET, now=lambda: app.clock.now().timestamp())
    with receiver:
        url = receiver.url  # a port nobody listens on once this block ends
    subscribe(app, url)
    daemon = app.build_daemon()
    acknowledge_lead(app)
    step(daemon, app, after=timedelta(minutes=1))
    for _ in range(3):
        step(daemon, app, after=timedelta(hours=1))
    rows = webhook_rows(app)
    assert [r.status for r in rows] == ["pending"]
    assert rows[0].attempts == 4 and "kết nối" in (rows[0].last_error or "")
    # The receiver comes back on the same port: the event arrives, once.
    port = int(url.split(":")[2].split("/")[0])
    back = Receiver(SECRET, now=lambda: app.clock.now().timestamp())
    back.bind_port = port
    with back:
        step(daemon, app, after=timedelta(hours=6))
        assert len(back.accepted) == 1 and back.received[0].json()["type"] == (
            "assignment.acknowledged"
        )
    assert [r.status for r in webhook_rows(app)] == ["sent"]


def test_a_receiver_down_for_longer_than_the_limit_is_given_up_and_reported(
    evening_app: App, smtp_sink: SmtpSink
) -> None:
    app = evening_app
    with Receiver(SECRET, now=lambda: app.clock.now().timestamp()) as receiver:
        receiver.script([503] * 200)
        subscribe(app, receiver.url)
        daemon = app.build_daemon()
        acknowledge_lead(app)
        step(daemon, app, after=timedelta(minutes=1))
        start = app.clock.now()
        while app.clock.now() - start < GIVE_UP_AFTER + timedelta(hours=7):
            step(daemon, app, after=timedelta(hours=6))
        [row] = webhook_rows(app)
        assert row.status == "failed"
        tries = len(receiver.received)
        assert tries >= 7 and all(r.status == 503 for r in receiver.received)
        with session_scope(app.engine) as session:
            notice = session.exec(
                select(OutboxMessage).where(OutboxMessage.key == f"failed:{row.key}")
            ).one()
            assert notice.channel == "email" and notice.kind == "notice"
        step(daemon, app, after=timedelta(days=1))
        assert len(receiver.received) == tries  # given up: no more tries


def test_one_receiver_down_does_not_hold_up_another(evening_app: App) -> None:
    app = evening_app
    with Receiver(SECRET, now=lambda: app.clock.now().timestamp()) as down:
        down_url = down.url  # closed when this block ends: connections are refused
    with Receiver(SECRET, now=lambda: app.clock.now().timestamp()) as healthy:
        down_id = subscribe(app, down_url)
        subscribe(app, healthy.url)
        daemon = app.build_daemon()
        acknowledge_lead(app, "so-tu-phap")
        acknowledge_lead(app, "so-noi-vu")
        acknowledge_lead(app, "so-tu-phap")  # renewed: a third event
        step(daemon, app, after=timedelta(minutes=1))

        assert len(healthy.accepted) == 3
        to_down = [r for r in webhook_rows(app) if r.key.startswith(f"webhook:{down_id}:")]
        assert [r.status for r in to_down] == ["pending"] * 3
        # One try paid for the receiver being down; its other deliveries wait uncharged.
        assert sorted(r.attempts for r in to_down) == [0, 0, 1]
        assert all(r.status == "sent" for r in webhook_rows(app) if r not in to_down)
