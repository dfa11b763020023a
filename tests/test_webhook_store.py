"""Webhook subscriptions and dispatch on a real store (SQLite file and PostgreSQL).

Events come from the shared actions (the audit log), through dondoc/events.py; each
becomes one outbox row per subscriber, exactly once, with the cursor moving in the same
transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dondoc import events
from dondoc.actions import set_status
from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.errors import UserError
from dondoc.models import Assignment, OutboxMessage
from dondoc.models_webhooks import WebhookSubscription
from dondoc.outbox import enqueue
from dondoc.plan_import import import_plan
from dondoc.store import session_scope
from dondoc.webhooks import (
    add_subscription,
    list_subscriptions,
    parse_event_types,
    remove_subscription,
    validate_url,
)
from dondoc.webhooks_dispatch import dispatch

T0 = datetime(2022, 11, 1, 2, 0, tzinfo=UTC)
PLAN = """STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Sản phẩm,Thời gian hoàn thành
1,Xây dựng kế hoạch số hóa hồ sơ,Sở Tư pháp,Sở Nội vụ,Kế hoạch,Tháng 12/2022
2,Rà soát thủ tục hành chính,Sở Nội vụ,Sở Tư pháp,Báo cáo,Tháng 12/2022
"""


@pytest.fixture
def store(engine: Engine, tmp_path: Path) -> Engine:
    plan = tmp_path / "plan.csv"
    plan.write_text(PLAN, encoding="utf-8")
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
        import_plan(session, path=plan, now=T0, plan_code="test")
    return engine


def subscribe(engine: Engine, url: str, types: list[str], now: datetime = T0) -> int:
    with session_scope(engine) as session:
        sub, _ = add_subscription(
            session, url=url, event_types=types, secret=None, actor="test", now=now
        )
        return sub.id or 0


def assignments(session: Session) -> list[Assignment]:
    return list(session.exec(select(Assignment).order_by(col(Assignment.id))).all())


def change_all(engine: Engine, status: str, now: datetime) -> int:
    with session_scope(engine) as session:
        found = assignments(session)
        for assignment in found:
            set_status(session, assignment=assignment, status=status, actor="test", now=now)
        return len(found)


def webhook_keys(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(OutboxMessage.key)
                .where(OutboxMessage.channel == "webhook")
                .order_by(col(OutboxMessage.id))
            ).all()
        )


def cursor(engine: Engine, sub_id: int) -> int:
    with session_scope(engine) as session:
        sub = session.get(WebhookSubscription, sub_id)
        return sub.last_event_id if sub else -1


def test_each_event_is_queued_once_per_subscriber_in_batches(store: Engine) -> None:
    every = subscribe(store, "https://a.tinhmau.test/hook", [])
    done_only = subscribe(store, "https://b.tinhmau.test/hook", ["assignment.done"])
    count = change_all(store, "acknowledged", T0 + timedelta(minutes=1))
    change_all(store, "done", T0 + timedelta(minutes=2))
    assert count == 4

    later = T0 + timedelta(minutes=10)
    added = dispatch(store, now=later, batch=3)  # several batches per subscriber
    assert added == 2 * count + count
    keys = webhook_keys(store)
    assert len(keys) == len(set(keys)) == 12
    assert sum(k.startswith(f"webhook:{every}:") for k in keys) == 8
    assert sum(k.startswith(f"webhook:{done_only}:") for k in keys) == 4

    with session_scope(store) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.channel == "webhook")).all()
        types = {r.key: r.context["event"]["type"] for r in rows}
        ids = [r.context["event"]["id"] for r in rows if r.key.startswith(f"webhook:{every}:")]
        assert all(r.status == "pending" and r.next_attempt_at == later for r in rows)
        assert all("secret" not in str(r.context) for r in rows)
        assert all(r.context["webhook"]["url"].endswith(".tinhmau.test/hook") for r in rows)
    assert {t for k, t in types.items() if k.startswith(f"webhook:{done_only}:")} == {
        "assignment.done"
    }
    assert ids == sorted(ids)  # queued in event order
    assert cursor(store, every) == max(ids)
    assert cursor(store, done_only) == max(ids)  # the last done event is the last event

    # Nothing new: nothing queued, however often the daemon steps.
    assert dispatch(store, now=later + timedelta(minutes=1)) == 0
    assert len(webhook_keys(store)) == 12


def test_a_subscription_gets_only_the_events_after_it_was_added(store: Engine) -> None:
    change_all(store, "acknowledged", T0 + timedelta(minutes=1))
    sub = subscribe(store, "https://a.tinhmau.test/hook", [], now=T0 + timedelta(minutes=2))
    assert dispatch(store, now=T0 + timedelta(minutes=5)) == 0
    change_all(store, "done", T0 + timedelta(minutes=6))
    assert dispatch(store, now=T0 + timedelta(minutes=10)) == 4
    with session_scope(store) as session:
        types = {
            r.context["event"]["type"]
            for r in session.exec(select(OutboxMessage).where(OutboxMessage.channel == "webhook"))
        }
    assert types == {"assignment.done"} and cursor(store, sub) > 0


def test_the_cursor_passes_events_a_subscriber_does_not_want(store: Engine) -> None:
    sub = subscribe(store, "https://a.tinhmau.test/hook", ["extension.requested"])
    change_all(store, "acknowledged", T0 + timedelta(minutes=1))
    assert dispatch(store, now=T0 + timedelta(minutes=5), batch=3) == 0
    with session_scope(store) as session:
        last = max(e.id for e in events.list_events(session, after=0, limit=1000))
    assert cursor(store, sub) == last


def test_removing_drops_queued_deliveries_and_keeps_the_rest(store: Engine) -> None:
    gone = subscribe(store, "https://a.tinhmau.test/hook", [])
    kept = subscribe(store, "https://b.tinhmau.test/hook", [])
    change_all(store, "acknowledged", T0 + timedelta(minutes=1))
    dispatch(store, now=T0 + timedelta(minutes=10))
    with session_scope(store) as session:
        url, dropped = remove_subscription(
            session, ref=str(gone), actor="test", now=T0 + timedelta(minutes=11)
        )
        assert (url, dropped) == ("https://a.tinhmau.test/hook", 4)
        statuses = {
            r.key: r.status
            for r in session.exec(select(OutboxMessage).where(OutboxMessage.channel == "webhook"))
        }
        listed = list_subscriptions(session)
    assert {s for k, s in statuses.items() if k.startswith(f"webhook:{gone}:")} == {"skipped"}
    assert {s for k, s in statuses.items() if k.startswith(f"webhook:{kept}:")} == {"pending"}
    assert [(r["id"], r["queued"], r["events"]) for r in listed] == [(kept, 4, ["all"])]
    assert all("secret" not in r for r in listed)


def test_list_counts_sent_and_failed_per_subscription(store: Engine) -> None:
    sub = subscribe(store, "https://a.tinhmau.test/hook", [])
    with session_scope(store) as session:
        for n, status in enumerate(["sent", "failed", "pending"]):
            enqueue(
                session,
                key=f"webhook:{sub}:{n + 100}",
                kind="webhook",
                channel="webhook",
                agency_id=None,
                stage="assignment.done",
                template="webhook",
                context={},
                send_after=T0,
                now=T0,
            )
            session.execute(
                OutboxMessage.__table__.update()  # type: ignore[attr-defined]
                .where(OutboxMessage.__table__.c.key == f"webhook:{sub}:{n + 100}")  # type: ignore[attr-defined]
                .values(status=status)
            )
        [row] = list_subscriptions(session)
    assert (row["queued"], row["sent"], row["failed"]) == (1, 1, 1)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://files.tinhmau.test/x", "chỉ nhận địa chỉ http:// hoặc https://"),
        ("hethong.tinhmau.test/hook", "chỉ nhận địa chỉ http:// hoặc https://"),
        ("https://", "thiếu tên máy"),
        ("https://hethong.tinhmau.test:99999/", "không phải địa chỉ hợp lệ"),
        ("https://user:pw@hethong.tinhmau.test/", "không ghi tên đăng nhập hay mật khẩu"),
        ("https://hethong.tinhmau.test/#frag", "bỏ phần '#frag'"),
        ("", "chưa nhập địa chỉ"),
        ("https://hethong.tinhmau.test/" + "a" * 2000, "dài quá 2000"),
    ],
)
def test_bad_urls_are_refused_naming_the_url(url: str, expected: str) -> None:
    with pytest.raises(UserError) as caught:
        validate_url(url)
    assert caught.value.message.startswith("URL") and expected in caught.value.message


def test_good_urls_and_event_lists() -> None:
    assert validate_url(" https://hethong.tinhmau.test:8443/a?b=1 ") == (
        "https://hethong.tinhmau.test:8443/a?b=1"
    )
    assert validate_url("http://127.0.0.1:9000/hook") == "http://127.0.0.1:9000/hook"
    assert parse_event_types("all") == parse_event_types(None) == []
    assert parse_event_types("assignment.done, assignment.done,extension.requested") == [
        "assignment.done",
        "extension.requested",
    ]
    with pytest.raises(UserError, match=r"--events: 'assignment\.deleted'"):
        parse_event_types("assignment.done,assignment.deleted")
    with pytest.raises(UserError, match="--events: chưa chọn"):
        parse_event_types(" , ")


def test_a_given_secret_is_checked_and_kept_as_given(store: Engine) -> None:
    with session_scope(store) as session:
        with pytest.raises(UserError, match="--secret"):
            add_subscription(
                session, url="https://a.tinhmau.test/", event_types=[], secret="short",
                actor="t", now=T0,
            )  # fmt: skip
        sub, secret = add_subscription(
            session, url="https://a.tinhmau.test/", event_types=[],
            secret="an-agreed-secret-1234", actor="t", now=T0,
        )  # fmt: skip
        assert secret == sub.secret == "an-agreed-secret-1234"
        other, generated = add_subscription(
            session, url="https://b.tinhmau.test/", event_types=[], secret=None, actor="t", now=T0
        )
        assert generated.startswith("whsec_") and len(generated) > 40
        assert generated == other.secret
