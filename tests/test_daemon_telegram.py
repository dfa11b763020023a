"""The daemon and the Telegram bot together, against the fake Bot API over HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

from daemon_support import at, make_app, simulate
from fakes.bot_api_events import push_raw
from fakes.smtp import SmtpSink
from fakes.telegram_api import FakeBotApi
from sqlmodel import col, select

from dondoc.app import App
from dondoc.chat_links import create_invite, link_chat
from dondoc.models import Agency, Assignment, AuditEntry
from dondoc.store import session_scope
from notifiers.telegram_bot import build_bot

pytest_plugins = ["fakes.fixtures"]

CHAT = 5550001  # a private chat with a clerk of Sở Tư pháp


def _telegram_app(tmp_path: Path, sink: SmtpSink, fake: FakeBotApi) -> App:
    app = make_app(
        tmp_path,
        sink,
        telegram={"token": fake.token, "api_url": fake.url, "bot_username": fake.username},
    )
    with session_scope(app.engine) as session:
        invite = create_invite(
            session, agency_code="so-tu-phap", hours=72, actor="test", now=app.clock.now()
        )
        link_chat(
            session,
            code=invite.code,
            chat_id=str(CHAT),
            chat_title="Sở Tư pháp",
            actor="test",
            now=app.clock.now(),
        )
    return app


def _press(app: App, fake: FakeBotApi, message_id: int, label: str) -> None:
    """A person presses a button while the bot is running; wait until it has answered."""

    async def go() -> None:
        runner = build_bot(
            settings=app.settings, engine=app.engine, clock=app.clock, poll_timeout=1
        )
        await runner.start()
        try:
            before = len(fake.callback_answers())
            fake.user_presses(CHAT, message_id, label)
            await fake.wait_until(lambda: len(fake.callback_answers()) > before, timeout=20)
        finally:
            await runner.stop()

    asyncio.run(go())


def _lead(app: App) -> Assignment:
    with session_scope(app.engine) as session:
        return session.exec(
            select(Assignment)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(Agency.code == "so-tu-phap")
        ).one()


def test_a_reminder_answered_in_chat_stops_its_repeats_until_the_acknowledgement_lapses(
    tmp_path: Path, smtp_sink: SmtpSink, fake_bot_api: FakeBotApi
) -> None:
    app = _telegram_app(tmp_path, smtp_sink, fake_bot_api)
    daemon = simulate(app, at("2023-01-04"))

    # The overdue reminder reached the linked chat with its buttons, and email too.
    reminders = [m for m in fake_bot_api.sent(CHAT) if m.buttons]
    assert reminders, [m.text for m in fake_bot_api.sent(CHAT)]
    latest = reminders[-1]
    labels = [button["text"] for row in latest.buttons for button in row]
    # A digest numbers its items' buttons ("1: Đã nhận"); a single reminder does not.
    for action in ("Đã nhận", "Đã hoàn thành", "Xin gia hạn"):
        assert any(label.endswith(action) for label in labels), labels
    received = next(label for label in labels if label.endswith("Đã nhận"))
    assert "Xây dựng kế hoạch số hóa hồ sơ" in latest.text
    emails_before = len(
        [m for m in smtp_sink.messages if m.recipients == ["so-tu-phap@tinhmau.example"]]
    )

    _press(app, fake_bot_api, latest.message_id, received)
    assert _lead(app).status == "acknowledged"
    with session_scope(app.engine) as session:
        audit = session.exec(
            select(AuditEntry).where(AuditEntry.action == "assignment.acknowledged")
        ).all()
    assert audit

    # The weekly repeats due on 9, 16 and 23 January are not sent: the agency has
    # answered, and the acknowledgement holds for `ack_timeout` (45 days by default).
    chat_before = len(fake_bot_api.sent(CHAT))
    simulate(app, at("2023-01-25"), daemon)
    assert len(fake_bot_api.sent(CHAT)) == chat_before
    emails_after = [m for m in smtp_sink.messages if m.recipients == ["so-tu-phap@tinhmau.example"]]
    assert len(emails_after) == emails_before
    # Not done when it lapses, the repeats resume: rules-level in tests/test_evaluate.py
    # (test_an_acknowledgement_lapses_after_the_timeout_and_the_repeats_resume).


def test_an_unreadable_update_does_not_stop_the_daemon_or_the_chat(
    tmp_path: Path, smtp_sink: SmtpSink, fake_bot_api: FakeBotApi
) -> None:
    app = _telegram_app(tmp_path, smtp_sink, fake_bot_api)
    # Waiting when the daemon starts: a shape PTB cannot read, then an ordinary command.
    push_raw(fake_bot_api, {"message": {
        "message_id": 50, "date": 1669341600, "text": "ok",
        "chat": {"id": CHAT, "type": "private", "first_name": "Bình"},
        "from": {"id": CHAT, "is_bot": False, "first_name": "Bình"},
        "reply_markup": {"remove_keyboard": True},
    }})  # fmt: skip
    fake_bot_api.user_says(CHAT, "/tasks")
    simulate(app, at("2023-01-04"))  # reminders go out meanwhile; nothing raises

    said = [m.text for m in fake_bot_api.sent(CHAT)]
    assert any(t.startswith("Xin lỗi, hệ thống không đọc được tin nhắn vừa gửi.") for t in said)
    assert any(t.startswith("Nhiệm vụ chưa hoàn thành của Sở Tư pháp:") for t in said)
    with session_scope(app.engine) as session:
        (error,) = session.exec(select(AuditEntry).where(AuditEntry.action == "chat.error")).all()
    assert error.detail["reason"] == "unreadable_update"
