"""A chat cannot flood the bot or replay its buttons; an agency may say who answers.

The real PTB stack polls the fake Bot API over HTTP, on a real SQLite store.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from conftest import Cli
from sqlmodel import select
from telegram import Update
from telegram_support import NOI_VU_CHAT, TU_PHAP_GROUP, Harness, assignment, assignment_id, audit

from dondoc.chat_links import create_invite
from dondoc.chat_members import add_member
from dondoc.models import AuditEntry
from dondoc.store import session_scope
from notifiers.telegram_updates import PerChatProcessor

pytest_plugins = ["fakes.fixtures", "telegram_support"]

FLOODER = 6006  # a private chat sending wrong codes by script
OTHER = 7007


async def test_wrong_codes_are_throttled_per_chat_with_one_audit_row_per_burst(
    bot: Harness,
) -> None:
    for number in range(300):
        bot.fake.user_says(FLOODER, f"/start WRONG-{number:05d}")
    help_text = await bot.says(NOI_VU_CHAT, "/help")  # another chat is answered meanwhile
    assert help_text.text.startswith("Tôi là trợ lý đôn đốc nhiệm vụ.")

    await bot.fake.wait_until(lambda: len(bot.fake.sent(FLOODER)) >= 7, timeout=20)
    await asyncio.sleep(1)  # whatever else the 300 updates would say has had time to come
    said = [m.text for m in bot.fake.sent(FLOODER)]
    assert [t.split(".")[0] for t in said[:5]] == ["Mã liên kết không đúng"] * 5
    assert said[5].startswith("Đã nhập sai mã liên kết quá nhiều lần. Vui lòng chờ 15 phút")
    assert said[6].startswith("Cuộc trò chuyện này đang gửi quá nhiều yêu cầu")
    assert len(said) == 7

    with session_scope(bot.engine) as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == "chat.refused")).all()
    reasons = [r.detail["reason"] for r in rows if r.detail["chat_id"] == str(FLOODER)]
    assert reasons == ["code_invalid"] * 5 + ["too_many_wrong_codes", "too_many_messages"]


async def test_chats_are_answered_side_by_side_each_in_its_own_order(bot: Harness) -> None:
    with session_scope(bot.engine) as session:
        invite = create_invite(session, agency_code="so-noi-vu", hours=72, actor="cli",
                               now=bot.clock.now())  # fmt: skip
    # Another process holds the store's write lock: linking must wait for it.
    blocker = sqlite3.connect(str(bot.engine.url.database), timeout=5)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        bot.fake.user_says(NOI_VU_CHAT, f"/start {invite.code}")
        bot.fake.user_says(NOI_VU_CHAT, "/tasks")
        # A chat that only reads is answered while the first chat waits.
        help_text = await bot.says(TU_PHAP_GROUP, "/help")
        assert help_text.text.startswith("Tôi là trợ lý đôn đốc nhiệm vụ.")
        assert bot.fake.sent(NOI_VU_CHAT) == []
    finally:
        blocker.rollback()
        blocker.close()
    await bot.fake.wait_until(lambda: len(bot.fake.sent(NOI_VU_CHAT)) == 2, timeout=20)
    linked, listing = (m.text for m in bot.fake.sent(NOI_VU_CHAT))
    assert linked.startswith("Đã liên kết cuộc trò chuyện này với Sở Nội vụ.")
    # /tasks ran after the link it follows, not beside it.
    assert listing.startswith("Nhiệm vụ chưa hoàn thành của Sở Nội vụ:")


async def test_an_old_confirm_button_pressed_after_reopen_does_nothing(
    bot: Harness, cli: Cli
) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1)
    await bot.presses(NOI_VU_CHAT, reminder.message_id, "Đã hoàn thành")
    question = bot.fake.sent(NOI_VU_CHAT)[-1]
    confirm = question.button_data("Xác nhận hoàn thành")
    await bot.presses(NOI_VU_CHAT, question.message_id, "Xác nhận hoàn thành")
    assert assignment(bot.engine, task_1).status == "done"

    cli.env["DONDOC_DATABASE_URL"] = str(bot.engine.url)
    reopened = cli("task", "reopen", "nq131/1", "--agency", "so-noi-vu")
    assert reopened.exit_code == 0, reopened.stderr
    assert assignment(bot.engine, task_1).status == "open"

    answer = await bot.presses(NOI_VU_CHAT, question.message_id, data=confirm)
    assert answer["show_alert"] is True
    assert answer["text"].startswith("Nút này đã được sử dụng")
    assert assignment(bot.engine, task_1).status == "open"
    assert len(audit(bot.engine, "assignment.done")) == 1
    refused = [e.detail["reason"] for e in audit(bot.engine, "chat.refused")]
    assert refused == ["button_used"]


async def test_received_pressed_twice_on_one_reminder_is_recorded_once(bot: Harness) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1)
    first = await bot.presses(NOI_VU_CHAT, reminder.message_id, "Đã nhận")
    second = await bot.presses(NOI_VU_CHAT, reminder.message_id, "Đã nhận")
    assert first["text"] == "Đã ghi nhận."
    assert second["text"].startswith("Nút này đã được sử dụng")
    assert len(audit(bot.engine, "assignment.acknowledged")) == 1


async def test_by_default_any_member_of_a_linked_group_may_answer(bot: Harness) -> None:
    await bot.link(TU_PHAP_GROUP, "so-tu-phap")
    task_2 = assignment_id(bot.engine, "2", "so-tu-phap")
    reminder = await bot.remind(TU_PHAP_GROUP, task_2)
    bot.fake.user_presses(TU_PHAP_GROUP, reminder.message_id, "Đã nhận", user_id=424242)
    await bot.fake.wait_until(lambda: len(bot.fake.callback_answers()) == 1)
    assert bot.fake.callback_answers()[0]["text"] == "Đã ghi nhận."
    assert assignment(bot.engine, task_2).status == "acknowledged"


async def test_a_group_limited_to_listed_members_refuses_anyone_else(
    bot: Harness, cli: Cli, tmp_path: Path
) -> None:
    await bot.link(TU_PHAP_GROUP, "so-tu-phap")
    cli.env["DONDOC_DATABASE_URL"] = str(bot.engine.url)
    listed = cli("agency", "members", "so-tu-phap", "--add", "515151", "--name", "Chánh VP")
    assert listed.exit_code == 0, listed.stderr
    assert "515151 (Chánh VP)" in listed.stdout
    task_2 = assignment_id(bot.engine, "2", "so-tu-phap")
    reminder = await bot.remind(TU_PHAP_GROUP, task_2)

    bot.fake.user_presses(TU_PHAP_GROUP, reminder.message_id, "Đã nhận", user_id=424242)
    await bot.fake.wait_until(lambda: len(bot.fake.callback_answers()) == 1)
    refused = bot.fake.callback_answers()[0]
    assert refused["text"].startswith("Xin lỗi, Sở Tư pháp chỉ cho phép những thành viên")
    assert assignment(bot.engine, task_2).status == "open"
    (entry,) = audit(bot.engine, "chat.refused")
    assert entry.detail["reason"] == "not_member"

    # The refused press did not spend the button: the listed member's press counts.
    bot.fake.user_presses(TU_PHAP_GROUP, reminder.message_id, "Đã nhận", user_id=515151)
    await bot.fake.wait_until(lambda: len(bot.fake.callback_answers()) == 2)
    assert bot.fake.callback_answers()[1]["text"] == "Đã ghi nhận."
    assert assignment(bot.engine, task_2).status == "acknowledged"
    with session_scope(bot.engine) as session:
        assert add_member(session, agency_code="so-tu-phap", user_id=515151, name=None,
                          actor="test", now=bot.clock.now()) is False  # fmt: skip


def _update(update_id: int, chat: int) -> Update:
    return Update.de_json(
        {"update_id": update_id, "message": {
            "message_id": update_id, "date": 0, "text": "x",
            "chat": {"id": chat, "type": "private", "first_name": "A"},
        }},
        None,
    )  # fmt: skip


async def test_a_flooding_chat_holds_at_most_its_share_of_the_update_slots() -> None:
    processor = PerChatProcessor(max_concurrent_updates=8, max_per_chat=3)
    release, handled = asyncio.Event(), []

    async def slow(tag: str) -> None:
        await release.wait()
        handled.append(tag)

    async def quick(tag: str) -> None:
        handled.append(tag)

    flood = [
        asyncio.create_task(processor.process_update(_update(n, FLOODER), slow(f"a{n}")))
        for n in range(10)
    ]
    await asyncio.sleep(0.05)
    other = asyncio.create_task(processor.process_update(_update(99, OTHER), quick("b")))
    await asyncio.wait_for(other, timeout=2)  # not stuck behind the flood's slots
    assert handled == ["b"]
    release.set()
    await asyncio.gather(*flood)
    assert handled == ["b", "a0", "a1", "a2"]  # the chat's first updates, in order
    assert processor.dropped == 7
