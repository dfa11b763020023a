"""The bot keeps listening: answers after a restart, unreadable and unexpected updates.

The real PTB stack polls the fake Bot API over HTTP; updates are delivered in the shapes
Telegram sends (tests/fakes/bot_api_events.py).
"""

from __future__ import annotations

import pytest
from fakes.bot_api_events import (
    channel_posts,
    group_migrates,
    push_raw,
    user_edits,
    user_sends_photo,
)
from sqlmodel import select
from telegram_support import (
    NOI_VU_CHAT,
    TU_PHAP_GROUP,
    Harness,
    assignment,
    assignment_id,
    audit,
    start_bot,
)

from dondoc.chat_links import create_invite
from dondoc.models import Contact, Explanation, ExtensionRequest
from dondoc.store import make_engine, session_scope

pytest_plugins = ["fakes.fixtures", "telegram_support"]

SUPERGROUP = -1002002


async def restart(bot: Harness) -> None:
    """The daemon stops and another process starts on the same store (a new engine)."""
    await bot.runner.stop()
    engine = make_engine(str(bot.engine.url))
    bot.runner = await start_bot(bot.settings, engine, bot.clock)


async def test_an_extension_reason_typed_after_a_restart_reaches_the_office(
    bot: Harness,
) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1)
    await bot.presses(NOI_VU_CHAT, reminder.message_id, "Xin gia hạn")
    prompt = bot.fake.sent(NOI_VU_CHAT)[-1]

    await restart(bot)
    said = await bot.says(
        NOI_VU_CHAT, "Chờ ý kiến của Bộ Nội vụ, đề nghị gia hạn đến 31/01/2023",
        reply_to=prompt.message_id,
    )  # fmt: skip
    assert said.text.startswith("Đã gửi đề nghị gia hạn nhiệm vụ STT 1 (kế hoạch nq131)")
    with session_scope(bot.engine) as session:
        (request,) = session.exec(select(ExtensionRequest)).all()
    assert request.assignment_id == task_1
    (entry,) = audit(bot.engine, "extension.requested")
    assert entry.detail["reason"] == "Chờ ý kiến của Bộ Nội vụ, đề nghị gia hạn đến 31/01/2023"

    # Answered once: a second reply to the same question is no longer an extension.
    again = await bot.says(NOI_VU_CHAT, "Đề nghị đến 28/02/2023 vì thiếu người",
                           reply_to=prompt.message_id)  # fmt: skip
    assert not again.text.startswith("Đã gửi đề nghị gia hạn")
    assert len(audit(bot.engine, "extension.requested")) == 1


async def test_an_explanation_typed_after_a_restart_without_reply_is_recorded(
    bot: Harness,
) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1, template="overdue", ask_explanation=True)
    await bot.presses(NOI_VU_CHAT, reminder.message_id, "Gửi giải trình")

    await restart(bot)
    said = await bot.says(NOI_VU_CHAT, "Thiếu nhân lực, sẽ hoàn thành trước 15/12.")
    assert said.text.startswith("Đã ghi nhận giải trình về nhiệm vụ STT 1")
    with session_scope(bot.engine) as session:
        (explanation,) = session.exec(select(Explanation)).all()
    assert explanation.assignment_id == task_1
    assert explanation.text == "Thiếu nhân lực, sẽ hoàn thành trước 15/12."


async def test_an_unreadable_update_is_answered_audited_and_polling_goes_on(
    bot: Harness,
) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    # A message whose reply_markup has no inline_keyboard: PTB cannot read it.
    push_raw(bot.fake, {"message": {
        "message_id": 900, "date": 1669341600, "text": "xong",
        "chat": {"id": NOI_VU_CHAT, "type": "private", "first_name": "An"},
        "from": {"id": NOI_VU_CHAT, "is_bot": False, "first_name": "An"},
        "reply_markup": {"force_reply": True},
    }})  # fmt: skip
    await bot.fake.wait_until(lambda: len(bot.fake.sent(NOI_VU_CHAT)) == 2)
    assert bot.fake.sent(NOI_VU_CHAT)[-1].text.startswith(
        "Xin lỗi, hệ thống không đọc được tin nhắn vừa gửi."
    )
    (entry,) = audit(bot.engine, "chat.error")
    assert entry.detail["reason"] == "unreadable_update"
    assert entry.detail["chat_id"] == str(NOI_VU_CHAT)
    assert entry.detail["error"] == "KeyError"

    # The next update of any chat is handled: nothing is stuck.
    help_text = await bot.says(TU_PHAP_GROUP, "/help")
    assert help_text.text.startswith("Tôi là trợ lý đôn đốc nhiệm vụ.")


async def test_a_failing_handler_is_logged_audited_answered_and_polling_goes_on(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    bot.fake.fail_next("sendMessage", status=400, description="Bad Request: can't parse entities")
    bot.fake.user_says(NOI_VU_CHAT, "/tasks")
    await bot.fake.wait_until(lambda: len(bot.fake.sent(NOI_VU_CHAT)) == 2)
    assert bot.fake.sent(NOI_VU_CHAT)[-1].text.startswith(
        "Xin lỗi, hệ thống gặp sự cố khi xử lý yêu cầu này"
    )
    (entry,) = audit(bot.engine, "chat.error")
    assert entry.detail == {
        "chat_id": str(NOI_VU_CHAT),
        "reason": "handler_error",
        "attempted": "/tasks",
        "error": "BadRequest",
    }
    assert any("could not be handled" in r.getMessage() for r in caplog.records)
    listing = await bot.says(NOI_VU_CHAT, "/tasks")
    assert listing.text.startswith("Nhiệm vụ chưa hoàn thành của Sở Nội vụ:")


async def test_an_edited_message_is_not_acted_on_and_the_person_is_told(bot: Harness) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1)
    before = len(bot.fake.sent(NOI_VU_CHAT))
    note = bot.fake.user_says(NOI_VU_CHAT, "Đang làm", reply_to=reminder.message_id)
    await bot.fake.wait_until(lambda: len(bot.fake.sent(NOI_VU_CHAT)) > before)
    before = len(bot.fake.sent(NOI_VU_CHAT))

    user_edits(bot.fake, NOI_VU_CHAT, note.message_id, "xong")
    await bot.fake.wait_until(lambda: len(bot.fake.sent(NOI_VU_CHAT)) > before)
    assert bot.fake.sent(NOI_VU_CHAT)[-1].text.startswith(
        "Tin nhắn đã sửa không được ghi nhận lại."
    )
    assert len(audit(bot.engine, "assignment.note")) == 1
    assert len(audit(bot.engine, "assignment.done")) == 0


async def test_a_channel_cannot_be_linked_and_its_posts_are_left_alone(bot: Harness) -> None:
    channel = -1003003
    with session_scope(bot.engine) as session:
        invite = create_invite(session, agency_code="so-noi-vu", hours=72, actor="cli",
                               now=bot.clock.now())  # fmt: skip
    channel_posts(bot.fake, channel, "Thông báo: họp giao ban sáng thứ hai")
    channel_posts(bot.fake, channel, f"/start {invite.code}")
    await bot.fake.wait_until(lambda: len(bot.fake.sent(channel)) == 1)
    assert bot.fake.sent(channel)[0].text.startswith("Không thể liên kết kênh (channel)")
    with session_scope(bot.engine) as session:
        assert session.exec(select(Contact).where(Contact.address == str(channel))).all() == []


async def test_a_photo_with_a_caption_answers_the_explanation_question(bot: Harness) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1, template="overdue", ask_explanation=True)
    await bot.presses(NOI_VU_CHAT, reminder.message_id, "Gửi giải trình")
    prompt = bot.fake.sent(NOI_VU_CHAT)[-1]

    before = len(bot.fake.sent(NOI_VU_CHAT))
    user_sends_photo(bot.fake, NOI_VU_CHAT, "Ảnh công văn xin ý kiến Bộ; chờ trả lời.",
                     reply_to=prompt.message_id)  # fmt: skip
    await bot.fake.wait_until(lambda: len(bot.fake.sent(NOI_VU_CHAT)) > before)
    assert bot.fake.sent(NOI_VU_CHAT)[-1].text.startswith("Đã ghi nhận giải trình")
    with session_scope(bot.engine) as session:
        (explanation,) = session.exec(select(Explanation)).all()
    assert explanation.text == "Ảnh công văn xin ý kiến Bộ; chờ trả lời."


async def test_the_longest_message_telegram_allows_is_kept_as_a_note(bot: Harness) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1)
    huge = ("Tiến độ: " + "đã rà soát hồ sơ, " * 400)[:4096]
    said = await bot.says(NOI_VU_CHAT, huge, reply_to=reminder.message_id)
    assert said.text.startswith("Đã ghi nhận tiến độ của nhiệm vụ STT 1")
    (note,) = audit(bot.engine, "assignment.note")
    assert huge.startswith(note.detail["text"]) and len(note.detail["text"]) >= 4000


async def test_a_group_that_becomes_a_supergroup_keeps_its_link(bot: Harness) -> None:
    await bot.link(TU_PHAP_GROUP, "so-tu-phap")
    task_1 = assignment_id(bot.engine, "1", "so-tu-phap")
    before = await bot.remind(TU_PHAP_GROUP, task_1)
    group_migrates(bot.fake, TU_PHAP_GROUP, SUPERGROUP)
    await bot.fake.wait_until(lambda: len(audit(bot.engine, "chat.migrated")) == 1)
    (entry,) = audit(bot.engine, "chat.migrated")
    assert entry.detail == {"chat_id": str(SUPERGROUP), "from_chat_id": str(TU_PHAP_GROUP)}
    with session_scope(bot.engine) as session:
        (contact,) = session.exec(select(Contact).where(Contact.channel == "telegram")).all()
    assert contact.address == str(SUPERGROUP)

    # The supergroup is the agency's chat now: reminders reach it and it may answer.
    task_2 = assignment_id(bot.engine, "2", "so-tu-phap")
    reminder = await bot.remind(SUPERGROUP, task_2)
    answer = await bot.presses(SUPERGROUP, reminder.message_id, "Đã nhận")
    assert answer["text"] == "Đã ghi nhận."
    listing = await bot.says(SUPERGROUP, "/tasks")
    assert listing.text.startswith("Nhiệm vụ chưa hoàn thành của Sở Tư pháp:")
    # A reminder sent to the group before the upgrade, pressed in the supergroup.
    old_button = before.button_data("Đã nhận")
    answer = await bot.presses(SUPERGROUP, before.message_id, data=old_button)
    assert answer["text"] == "Đã ghi nhận."
    assert assignment(bot.engine, task_1).status == "acknowledged"
