"""The daemon and the Zalo bot together, against the fake Zalo Bot API over HTTP: a group
links with a code, an overdue reminder arrives, "1" stops the repeats, "3 …" asks for an
extension that the office approves from the command line, and a stranger is refused."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from conftest import Cli
from daemon_support import at, make_app, simulate
from fakes.smtp import SmtpSink
from fakes.zalo_api import FakeZaloApi
from sqlmodel import col, select

from dondoc.app import App
from dondoc.chat_links import create_invite
from dondoc.models import Agency, Assignment, AuditEntry, ExtensionRequest
from dondoc.store import session_scope
from notifiers.zalo_bot import build_poller

pytest_plugins = ["fakes.fixtures"]

GROUP = "5d41402abc4b2a76b971"  # the Zalo group of Sở Tư pháp
STRANGER = "7e240de74fb1ed08fa08"


def _zalo_app(tmp_path: Path, sink: SmtpSink, fake: FakeZaloApi) -> App:
    return make_app(
        tmp_path, sink, zalo={"token": fake.token, "api_url": fake.url, "max_per_second": 20}
    )


def _says(app: App, fake: FakeZaloApi, chat: str, text: str, chat_type: str = "GROUP") -> str:
    """Someone writes in a chat while the bot polls (the daemon's own poller, as the
    composition root builds it); the bot's answer."""

    async def go() -> str:
        poller = build_poller(
            settings=app.settings, engine=app.engine, clock=app.clock, poll_timeout=1
        )
        await asyncio.sleep(fake.max_poll_wait + 0.1)  # an earlier poll runs out first
        await poller.start()
        try:
            before = len(fake.sent(chat))
            fake.user_says(chat, text, chat_type=chat_type, user="u7", name="Lê Văn Cường")
            await fake.wait_until(lambda: len(fake.sent(chat)) > before, timeout=20)
            return fake.sent(chat)[-1].text
        finally:
            await poller.stop()

    return asyncio.run(go())


def _lead(app: App) -> Assignment:
    with session_scope(app.engine) as session:
        return session.exec(
            select(Assignment)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(Agency.code == "so-tu-phap")
        ).one()


def test_a_zalo_group_links_answers_a_reminder_and_gets_its_extension_approved(
    tmp_path: Path, smtp_sink: SmtpSink, fake_zalo_api: FakeZaloApi, cli: Cli
) -> None:
    app = _zalo_app(tmp_path, smtp_sink, fake_zalo_api)
    with session_scope(app.engine) as session:
        code = create_invite(
            session, agency_code="so-tu-phap", hours=72, actor="cli", now=app.clock.now()
        ).code

    # A group links with its code.
    linked = _says(app, fake_zalo_api, GROUP, f"/start {code}")
    assert linked.startswith("Đã liên kết cuộc trò chuyện này với Sở Tư pháp.")

    # The overdue reminder arrives in the group, ending with the numbered answers.
    daemon = simulate(app, at("2023-01-04"))
    reminders = [m for m in fake_zalo_api.sent(GROUP) if "Xây dựng kế hoạch số hóa hồ sơ" in m.text]
    assert reminders, [m.text for m in fake_zalo_api.sent(GROUP)]
    overdue = reminders[-1].text
    assert "quá hạn" in overdue.lower()
    assert overdue.split("\n\n")[-1].startswith("Trả lời tin nhắn này bằng:\n1 (hoặc")
    assert all(len(m.text) <= 2000 for m in fake_zalo_api.sent(GROUP))

    # "1" acknowledges the task it answers, and says which one.
    said = _says(app, fake_zalo_api, GROUP, "1")
    assert said.startswith("Đã ghi nhận: Sở Tư pháp đã nhận nhiệm vụ STT 1 (kế hoạch test)")
    assert _lead(app).status == "acknowledged"

    # The weekly repeat due on Monday 9 January is not sent: the agency has answered.
    before = len(fake_zalo_api.sent(GROUP))
    simulate(app, at("2023-01-10"), daemon)
    assert len(fake_zalo_api.sent(GROUP)) == before

    # "3 …" asks the office for more time; the office approves it from the command line.
    said = _says(app, fake_zalo_api, GROUP, "3 Chờ ý kiến Bộ, đến 30/06/2026")
    assert "Đã gửi đề nghị gia hạn nhiệm vụ STT 1 (kế hoạch test)" in said
    assert "30/06/2026" in said
    with session_scope(app.engine) as session:
        (request,) = session.exec(select(ExtensionRequest)).all()
    assert (request.proposed_due, request.status) == (date(2026, 6, 30), "pending")
    assert request.reason == "Chờ ý kiến Bộ, đến 30/06/2026"
    approved = cli("--now", "2023-01-10T09:30", "extension", "approve", str(request.id))
    assert approved.exit_code == 0, approved.stderr
    assert _lead(app).due_override == date(2026, 6, 30)

    # The decision reaches the group too.
    simulate(app, at("2023-01-11", 9), daemon)
    assert any("30/06/2026" in m.text for m in fake_zalo_api.sent(GROUP)[before + 1 :])

    # A chat nobody linked is refused politely, and the refusal is audited.
    refused = _says(app, fake_zalo_api, STRANGER, "1", chat_type="PRIVATE")
    assert refused.startswith("Cuộc trò chuyện này chưa được liên kết với cơ quan nào")
    with session_scope(app.engine) as session:
        (audit,) = session.exec(select(AuditEntry).where(AuditEntry.action == "chat.refused")).all()
    assert (audit.detail["chat_id"], audit.detail["reason"]) == (STRANGER, "not_linked")
    assert _lead(app).status == "acknowledged"
