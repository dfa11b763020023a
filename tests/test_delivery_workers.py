"""Delivery workers: batches with a lease, concurrency within the channel's limits, an
outcome per address. Real store, real SMTP server, the real PTB stack against the fake."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from daemon_support import at, make_app, simulate
from fakes.smtp import SmtpSink
from fakes.telegram_api import FakeBotApi, Limits
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from config.rules_loader import load_rule_config
from config.settings import BUNDLED_RULES
from dondoc.app import App
from dondoc.models import Agency, Contact, OutboxMessage
from dondoc.outbox import enqueue
from dondoc.store import session_scope
from notifiers.registry import build_channels
from notifiers.render import Renderer
from scheduler.metrics import Metrics
from scheduler.queue import claim
from scheduler.workers import ChannelWorker, DeliveryContext

pytest_plugins = ["fakes.fixtures"]

MONDAY_MORNING = at("2022-12-19", 9, 0)


def add_contact(app: App, agency: str, channel: str, address: str) -> int:
    with session_scope(app.engine) as session:
        found = session.exec(select(Agency).where(Agency.code == agency)).one()
        session.add(Contact(agency_id=found.id or 0, channel=channel, address=address))
        return found.id or 0


def notice(app: App, *, key: str, channel: str, agency_id: int) -> None:
    """A single (never digested) message: the notice the office gets about a failure."""
    with session_scope(app.engine) as session:
        enqueue(
            session,
            key=key,
            kind="notice",
            channel=channel,
            agency_id=agency_id,
            stage="delivery_failed",
            template="delivery_failed",
            context={
                "audience": "agency",
                "failure": {"channel": channel, "error": "thử", "key": key, "recipient": None},
                "office": {"code": "vp-ubnd", "name": "Văn phòng UBND tỉnh"},
            },
            send_after=app.clock.now(),
            now=app.clock.now(),
        )


def worker_for(app: App, channel_name: str, **kwargs: object) -> ChannelWorker:
    config = load_rule_config(BUNDLED_RULES, agencies=None, templates=None)
    channels = build_channels(app.settings, clock=app.clock)
    return ChannelWorker(
        channel=channels[channel_name],
        engine=app.engine,
        clock=app.clock,
        context=lambda: DeliveryContext(
            calendar=config.calendar(), renderer=Renderer(), digest=True, office_agency_id=None
        ),
        metrics=Metrics(),
        owner="test:",
        **kwargs,  # type: ignore[arg-type]
    )


def statuses(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        found: dict[str, int] = {}
        for status in session.exec(select(OutboxMessage.status)).all():
            found[status] = found.get(status, 0) + 1
        return found


def test_a_temporary_refusal_of_one_address_is_retried_for_that_address_alone(
    tmp_path: Path, smtp_sink: SmtpSink, store_url: str
) -> None:
    app = make_app(tmp_path, smtp_sink, store_url=store_url)
    add_contact(app, "so-tu-phap", "email", "vanthu.so-tu-phap@tinhmau.example")
    smtp_sink.refuse("vanthu.so-tu-phap@tinhmau.example", code=451)
    daemon = simulate(app, at("2022-12-19", 12, 0))
    with session_scope(app.engine) as session:
        query = select(OutboxMessage).where(OutboxMessage.stage == "upcoming")
        upcoming = session.exec(query).one()
    assert upcoming.status == "pending"  # not "sent": one address still lacks it
    assert upcoming.delivered_to == ["so-tu-phap@tinhmau.example"]

    smtp_sink.accept("vanthu.so-tu-phap@tinhmau.example")
    simulate(app, at("2022-12-21"), daemon)
    received = [m.recipients[0] for m in smtp_sink.messages if "Xây dựng kế hoạch" in m.text]
    assert received.count("so-tu-phap@tinhmau.example") == 1  # never twice
    assert received.count("vanthu.so-tu-phap@tinhmau.example") == 1
    with session_scope(app.engine) as session:
        row = session.get(OutboxMessage, upcoming.id)
    assert row is not None and row.status == "sent"


async def test_a_worker_drains_every_due_row_in_batches_not_one_batch_per_tick(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    app = make_app(tmp_path, smtp_sink, start="2022-12-19")
    app.clock.set(MONDAY_MORNING)  # type: ignore[attr-defined]
    office = add_contact(app, "so-noi-vu", "email", "so-noi-vu.2@tinhmau.example")
    for n in range(45):
        notice(app, key=f"n{n}", channel="email", agency_id=office)
    worker = worker_for(app, "email", batch=10)
    tally = await worker.drain(lambda: False)
    assert tally.sent == 45
    assert statuses(app.engine) == {"sent": 45}
    # Two addresses each: every notice reached both, over a pool of connections.
    assert len(smtp_sink.messages) == 90
    assert 1 < smtp_sink.connections <= worker.channel.concurrency


async def test_a_group_at_its_limit_is_rescheduled_while_other_chats_go_on(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with FakeBotApi(limits=Limits()) as fake:
        app = make_app(
            tmp_path,
            smtp_sink,
            start="2022-12-19",
            telegram={"token": fake.token, "api_url": fake.url},
        )
        app.clock.set(MONDAY_MORNING)  # type: ignore[attr-defined]
        group = add_contact(app, "so-tu-phap", "telegram", "-100500")
        for n in range(4):
            notice(app, key=f"group{n}", channel="telegram", agency_id=group)
        with session_scope(app.engine) as session:
            others = [a.id or 0 for a in session.exec(select(Agency).limit(40)).all()]
        for n, agency_id in enumerate(a for a in others if a != group):
            with session_scope(app.engine) as session:
                session.add(Contact(agency_id=agency_id, channel="telegram", address=str(7000 + n)))
            notice(app, key=f"chat{n}", channel="telegram", agency_id=agency_id)
        chats = len(others) - 1
        worker = worker_for(app, "telegram")
        tally = await worker.drain(lambda: False)
        await worker.channel.shutdown()  # type: ignore[attr-defined]

    assert fake.limit_violations == 0
    assert tally.sent == chats + 1 and tally.deferred == 3
    # A drain that slept on the group would have sent all four before returning.
    assert len(fake.sent(-100500)) == 1
    with session_scope(app.engine) as session:
        waiting = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.key).startswith("group"))
        ).all()
    later = [r for r in waiting if r.status == "pending"]
    assert len(later) == 3 and all(r.attempts == 0 for r in later)
    assert all(r.next_attempt_at and r.next_attempt_at > MONDAY_MORNING for r in later)


def test_a_claim_is_exclusive_until_its_lease_runs_out(
    tmp_path: Path, smtp_sink: SmtpSink, store_url: str
) -> None:
    app = make_app(tmp_path, smtp_sink, store_url=store_url, start="2022-12-19")
    app.clock.set(MONDAY_MORNING)  # type: ignore[attr-defined]
    agency = add_contact(app, "so-noi-vu", "email", "x@tinhmau.example")
    for n in range(5):
        notice(app, key=f"n{n}", channel="email", agency_id=agency)
    now = MONDAY_MORNING
    first = claim(app.engine, now=now, channel="email", limit=3, token="a")
    second = claim(app.engine, now=now, channel="email", token="b")
    assert len(first) == 3 and len(second) == 2
    assert not {r.id for r in first} & {r.id for r in second}
    assert claim(app.engine, now=now + timedelta(minutes=1), channel="email", token="c") == []
    assert claim(app.engine, now=now, channel="telegram", token="d") == []
    # Whoever claimed them died: after the lease, the rows come back.
    again = claim(app.engine, now=now + timedelta(minutes=6), channel="email", token="e")
    assert {r.id for r in again} == {r.id for r in first} | {r.id for r in second}


@pytest.mark.postgres
async def test_concurrent_claims_on_postgresql_never_share_a_row(
    tmp_path: Path, smtp_sink: SmtpSink, postgres_url: str
) -> None:
    app = make_app(tmp_path, smtp_sink, store_url=postgres_url, start="2022-12-19")
    app.clock.set(MONDAY_MORNING)  # type: ignore[attr-defined]
    agency = add_contact(app, "so-noi-vu", "email", "x@tinhmau.example")
    for n in range(200):
        notice(app, key=f"n{n}", channel="email", agency_id=agency)

    def take(token: str) -> list[int]:
        return [r.id or 0 for r in claim(app.engine, now=MONDAY_MORNING, limit=30, token=token)]

    batches = await asyncio.gather(*(asyncio.to_thread(take, f"t{n}") for n in range(8)))
    ids = [i for batch in batches for i in batch]
    assert len(ids) == len(set(ids)) == 200  # 8 × 30 places for 200 rows: all taken once


async def test_a_batch_past_most_of_its_lease_gives_the_rest_back_unsent(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    app = make_app(tmp_path, smtp_sink, start="2022-12-19")
    app.clock.set(MONDAY_MORNING)  # type: ignore[attr-defined]
    agency = add_contact(app, "so-noi-vu", "email", "so-noi-vu.2@tinhmau.example")
    for n in range(12):
        notice(app, key=f"n{n}", channel="email", agency_id=agency)
    smtp_sink.answer_delay = 0.3  # 4 connections, 2 addresses: ~0.15 s a message
    worker = worker_for(app, "email", lease=timedelta(seconds=1), batch=20)
    tally = await worker.drain(lambda: False)  # one batch: it holds fewer rows than 20
    # Within 0.8 s only part of the batch could go; the rest was returned, uncharged.
    assert 0 < tally.sent < 12 and tally.interrupted == 12 - tally.sent
    with session_scope(app.engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    unsent = [r for r in rows if r.status == "pending"]
    assert len(unsent) == 12 - tally.sent and all(r.attempts == 0 for r in unsent)
    assert all(r.claimed_by is None for r in rows)
