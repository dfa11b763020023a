"""The Zalo bot: linking with codes and numbered answers, through the real poller against
the fake Zalo Bot API over HTTP, on a real store (the example plan)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from conftest import Cli
from fakes.zalo_api import FakeZaloApi
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from config.settings import Settings, ZaloSettings
from dondoc.chat_links import create_invite
from dondoc.clock import ManualClock
from dondoc.models import (
    Agency,
    Assignment,
    AuditEntry,
    Contact,
    Explanation,
    ExtensionRequest,
    SentMessage,
    Task,
)
from dondoc.store import session_scope
from notifiers.telegram_updates import Limit, Throttle
from notifiers.zalo_bot import build_poller, incoming_of

pytest_plugins = ["fakes.fixtures"]

NOW = datetime(2022, 11, 25, 2, 0, tzinfo=UTC)
GROUP = "9f8e7d6c5b4a39281706"
STRANGER = "0a1b2c3d4e5f60718293"


def invite(engine: Engine, agency: str, *, hours: int = 1) -> str:
    with session_scope(engine) as session:
        return create_invite(session, agency_code=agency, hours=hours, actor="cli", now=NOW).code


def lead(engine: Engine, number: str, agency: str) -> int:
    with session_scope(engine) as session:
        row = session.exec(
            select(Assignment)
            .join(Task, col(Task.id) == Assignment.task_id)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(Task.number == number, Agency.code == agency, Assignment.role == "lead")
        ).one()
        return row.id or 0


def reminded(engine: Engine, chat: str, *assignment_ids: int) -> None:
    """A reminder the daemon sent to `chat` about these assignments (as delivery records)."""
    with session_scope(engine) as session:
        session.add(
            SentMessage(
                channel="zalo",
                chat_id=chat,
                message_id=f"m{len(assignment_ids)}{assignment_ids[0]}",
                assignment_ids=list(assignment_ids),
                asks_explanation=True,
                at=NOW,
            )
        )


def audits(engine: Engine, action: str) -> list[AuditEntry]:
    with session_scope(engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


def talk(
    engine: Engine,
    fake: FakeZaloApi,
    *lines: tuple[str, str],
    chat_type: str = "GROUP",
    messages: Throttle | None = None,
) -> list[str]:
    """People write `lines` ((chat, text) pairs) one after the other while the real poller
    runs; the bot's answer to each, in order."""

    async def go() -> list[str]:
        settings = Settings(
            zalo=ZaloSettings(token=SecretStr(fake.token), api_url=fake.url, max_per_second=50)
        )
        poller = build_poller(
            settings=settings, engine=engine, clock=ManualClock(NOW), poll_timeout=1
        )
        if messages is not None:
            poller.answers.messages = messages
        # A poll left waiting by an earlier poller would take the next update and answer
        # into a closed connection (as the platform would): let it run out first.
        await asyncio.sleep(fake.max_poll_wait + 0.1)
        await poller.start()
        answers = []
        try:
            for chat, text in lines:
                before = len(fake.sent(chat))
                fake.user_says(chat, text, chat_type=chat_type, user="u42", name="Trần Thị Bình")
                await fake.wait_until(lambda c=chat, b=before: len(fake.sent(c)) > b, timeout=20)
                answers.append(fake.sent(chat)[-1].text)
        finally:
            await poller.stop()
        return answers

    return asyncio.run(go())


def test_a_group_links_with_a_code_and_one_chat_works_for_one_agency(
    plan_store: Engine, fake_zalo_api: FakeZaloApi
) -> None:
    code, other = invite(plan_store, "so-tu-phap"), invite(plan_store, "so-noi-vu")
    said = talk(plan_store, fake_zalo_api, (GROUP, f"/start {code}"), (GROUP, other))
    assert said[0].startswith("Đã liên kết cuộc trò chuyện này với Sở Tư pháp.")
    assert said[1].startswith("Cuộc trò chuyện này đang làm việc cho Sở Tư pháp")
    with session_scope(plan_store) as session:
        (contact,) = session.exec(select(Contact).where(Contact.channel == "zalo")).all()
    assert contact.address == GROUP
    (linked,) = audits(plan_store, "chat.linked")
    assert linked.detail["channel"] == "zalo"


def test_wrong_and_used_codes_are_refused_and_audited(
    plan_store: Engine, fake_zalo_api: FakeZaloApi
) -> None:
    used = invite(plan_store, "so-tu-phap")
    talk(plan_store, fake_zalo_api, (GROUP, used))  # spent here

    said = talk(
        plan_store,
        fake_zalo_api,
        (STRANGER, "/start ABCDE-FGHJK"),
        (STRANGER, used),
    )
    assert said[0].startswith("Mã liên kết không đúng.")
    assert said[1].startswith("Mã liên kết này đã được sử dụng.")
    reasons = [a.detail["reason"] for a in audits(plan_store, "chat.refused")]
    assert reasons == ["code_invalid", "code_used"]
    assert all(a.detail["channel"] == "zalo" for a in audits(plan_store, "chat.refused"))


def test_an_expired_code_is_refused(plan_store: Engine, fake_zalo_api: FakeZaloApi) -> None:
    with session_scope(plan_store) as session:
        code = create_invite(
            session, agency_code="so-noi-vu", hours=1, actor="cli", now=NOW - timedelta(hours=2)
        ).code
    (said,) = talk(plan_store, fake_zalo_api, (GROUP, f"/start {code}"))
    assert said.startswith("Mã liên kết đã hết hạn.")
    (refusal,) = audits(plan_store, "chat.refused")
    assert refusal.detail["reason"] == "code_expired"


def test_numbered_answers_act_on_the_latest_reminder_and_name_its_task(
    plan_store: Engine, fake_zalo_api: FakeZaloApi
) -> None:
    task = lead(plan_store, "1", "so-tu-phap")
    talk(plan_store, fake_zalo_api, (GROUP, invite(plan_store, "so-tu-phap")))
    reminded(plan_store, GROUP, task)

    said = talk(
        plan_store,
        fake_zalo_api,
        (GROUP, "1"),
        (GROUP, "4 Chậm do chờ ý kiến thẩm định của Bộ"),
        (GROUP, "3 Chờ ý kiến Bộ, đến 30/06/2026"),
        (GROUP, "2"),
        (GROUP, "đồng ý"),
    )
    assert said[0].startswith("Đã ghi nhận: Sở Tư pháp đã nhận nhiệm vụ STT 1 (kế hoạch nq131)")
    assert "STT 1 (kế hoạch nq131)" in said[1] and "giải trình" in said[1]
    assert "đến ngày 30/06/2026" in said[2]
    assert said[3].startswith("Xác nhận nhiệm vụ STT 1 (kế hoạch nq131)")
    assert 'Trả lời "đồng ý"' in said[3]
    assert "STT 1" in said[4]
    with session_scope(plan_store) as session:
        row = session.get(Assignment, task)
        (request,) = session.exec(select(ExtensionRequest)).all()
        (explanation,) = session.exec(select(Explanation)).all()
    assert row is not None and row.status == "done"
    assert (request.proposed_due, request.status) == (date(2026, 6, 30), "pending")
    assert (explanation.via, explanation.text) == ("zalo", "Chậm do chờ ý kiến thẩm định của Bộ")
    (done,) = audits(plan_store, "assignment.done")
    assert done.detail["via"] == "zalo"


def test_done_is_not_recorded_when_the_confirmation_is_cancelled(
    plan_store: Engine, fake_zalo_api: FakeZaloApi
) -> None:
    task = lead(plan_store, "1", "so-tu-phap")
    talk(plan_store, fake_zalo_api, (GROUP, invite(plan_store, "so-tu-phap")))
    reminded(plan_store, GROUP, task)
    said = talk(plan_store, fake_zalo_api, (GROUP, "xong"), (GROUP, "hủy"))
    assert said[1].startswith("Đã hủy")
    with session_scope(plan_store) as session:
        row = session.get(Assignment, task)
    assert row is not None and row.status == "open"


def test_another_agencys_task_and_a_stranger_chat_are_refused_politely_and_audited(
    plan_store: Engine, fake_zalo_api: FakeZaloApi
) -> None:
    theirs = lead(plan_store, "1", "so-tu-phap")
    with session_scope(plan_store) as session:
        foreign = session.exec(
            select(Assignment.id)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(Agency.code != "so-tu-phap")
        ).first()
    assert foreign is not None and foreign != theirs
    talk(plan_store, fake_zalo_api, (GROUP, invite(plan_store, "so-tu-phap")))

    said = talk(plan_store, fake_zalo_api, (GROUP, f"1 #{foreign}"), (STRANGER, "1"))
    assert said[0].startswith("Xin lỗi, cuộc trò chuyện của Sở Tư pháp không được cập nhật")
    assert said[1].startswith("Cuộc trò chuyện này chưa được liên kết với cơ quan nào")
    reasons = [
        (a.detail["reason"], a.detail["chat_id"]) for a in audits(plan_store, "chat.refused")
    ]
    assert reasons == [("not_assigned", GROUP), ("not_linked", STRANGER)]
    with session_scope(plan_store) as session:
        row = session.get(Assignment, foreign)
    assert row is not None and row.status == "open"


def test_a_digest_answer_without_a_task_code_asks_for_one(
    plan_store: Engine, fake_zalo_api: FakeZaloApi
) -> None:
    first, second = lead(plan_store, "1", "so-tu-phap"), lead(plan_store, "6", "so-tu-phap")
    talk(plan_store, fake_zalo_api, (GROUP, invite(plan_store, "so-tu-phap")))
    reminded(plan_store, GROUP, first, second)
    said = talk(plan_store, fake_zalo_api, (GROUP, "2"), (GROUP, f"2 #{second}"))
    assert f"#{first} = STT 1" in said[0] and f"#{second} = STT 6" in said[0]
    assert said[1].startswith("Xác nhận nhiệm vụ STT 6")


def test_group_chatter_is_ignored_and_odd_updates_are_skipped() -> None:
    assert incoming_of({"event_name": "message.sticker.received", "message": {}}) is None
    assert incoming_of({"event_name": "message.text.received"}) is None
    bot_said = {
        "event_name": "message.text.received",
        "message": {"text": "1", "chat": {"id": GROUP}, "from": {"id": "b", "is_bot": True}},
    }
    assert incoming_of(bot_said) is None


def test_the_invite_command_shows_the_zalo_way_when_zalo_is_set_up(
    initialized_cli: Cli, tmp_path: Path
) -> None:
    initialized_cli.env["DONDOC_ZALO__TOKEN"] = "1234:secret-token"
    shown = initialized_cli("agency", "invite", "so-noi-vu")
    assert shown.exit_code == 0, shown.stderr
    code = shown.stdout.splitlines()[0].rsplit(" ", 1)[1]
    assert f"/start {code} hoặc chỉ gửi mã {code}" in shown.stdout
    assert "secret-token" not in shown.stdout


def test_a_flooding_chat_is_told_to_slow_down_and_audited(
    plan_store: Engine, fake_zalo_api: FakeZaloApi
) -> None:
    talk(plan_store, fake_zalo_api, (GROUP, invite(plan_store, "so-tu-phap")))
    flood = Throttle(Limit(3, timedelta(minutes=1)))  # MESSAGE_LIMIT, made small
    said = talk(plan_store, fake_zalo_api, *[(GROUP, "/help")] * 4, messages=flood)
    assert said[2].startswith("Tôi là trợ lý đôn đốc nhiệm vụ của Sở Tư pháp")
    assert said[3] != said[2]
    (refusal,) = audits(plan_store, "chat.refused")
    assert (refusal.detail["reason"], refusal.detail["channel"]) == ("too_many_messages", "zalo")


def test_a_message_that_cannot_be_handled_is_audited_and_the_chat_told(
    plan_store: Engine, fake_zalo_api: FakeZaloApi
) -> None:
    talk(plan_store, fake_zalo_api, (GROUP, invite(plan_store, "so-tu-phap")))
    with plan_store.begin() as connection:  # the store loses the table of open questions
        connection.exec_driver_sql("DROP TABLE chatprompt")
    said = talk(plan_store, fake_zalo_api, (GROUP, "1"), (GROUP, "/help"))
    assert said[0].startswith("Xin lỗi, hệ thống gặp sự cố khi xử lý yêu cầu này")
    assert said[1].startswith("Tôi là trợ lý đôn đốc nhiệm vụ của Sở Tư pháp")  # polling goes on
    (error,) = audits(plan_store, "chat.error")
    assert (error.detail["reason"], error.detail["chat_id"]) == ("handler_error", GROUP)
    assert error.detail["error"] == "OperationalError"
