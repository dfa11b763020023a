"""Answering reminders from Telegram: the real PTB Application polling a fake Bot API
(the harness is in tests/telegram_support.py)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlmodel import col, select
from telegram_support import (
    NOI_VU_CHAT,
    TU_PHAP_GROUP,
    Harness,
    assignment,
    assignment_id,
    audit,
)

from dondoc.chat_links import create_invite
from dondoc.models import Agency, Assignment, Explanation, ExtensionRequest, OutboxMessage
from dondoc.store import session_scope
from notifiers.telegram_parsing import intent_of, parse_extension

pytest_plugins = ["fakes.fixtures", "telegram_support"]


async def test_a_chat_is_linked_to_its_agency_with_a_one_time_code(bot: Harness) -> None:
    with session_scope(bot.engine) as session:
        invite = create_invite(session, agency_code="so-noi-vu", hours=72, actor="cli",
                               now=bot.clock.now())  # fmt: skip

    answer = await bot.says(NOI_VU_CHAT, f"/start {invite.code.lower()}")
    assert answer.text.startswith("Đã liên kết cuộc trò chuyện này với Sở Nội vụ.")
    again = await bot.says(TU_PHAP_GROUP, f"/start {invite.code}")
    assert again.text.startswith("Mã liên kết này đã được sử dụng.")

    (linked,) = audit(bot.engine, "chat.linked")
    assert linked.detail["chat_id"] == str(NOI_VU_CHAT)
    (refused,) = audit(bot.engine, "chat.refused")
    assert refused.detail["reason"] == "code_used"


async def test_an_expired_or_mistyped_code_links_nothing(bot: Harness) -> None:
    with session_scope(bot.engine) as session:
        invite = create_invite(session, agency_code="so-noi-vu", hours=1, actor="cli",
                               now=bot.clock.now())  # fmt: skip
    bot.clock.advance(timedelta(hours=2))
    expired = await bot.says(NOI_VU_CHAT, f"/start {invite.code}")
    assert expired.text.startswith("Mã liên kết đã hết hạn.")
    wrong = await bot.says(NOI_VU_CHAT, "/start ABCDE-FGHJK")
    assert wrong.text.startswith("Mã liên kết không đúng.")
    tasks = await bot.says(NOI_VU_CHAT, "/tasks")
    assert tasks.text.startswith("Cuộc trò chuyện này chưa được liên kết")


async def test_pressing_received_acknowledges_the_task_and_is_audited(bot: Harness) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1)
    assert reminder.button_labels == ["Đã nhận", "Đã hoàn thành", "Xin gia hạn"]

    bot.clock.advance(timedelta(minutes=5))
    answer = await bot.presses(NOI_VU_CHAT, reminder.message_id, "Đã nhận")
    assert answer["text"] == "Đã ghi nhận."
    await bot.fake.wait_until(lambda: len(bot.fake.sent(NOI_VU_CHAT)) == 3)
    said = bot.fake.sent(NOI_VU_CHAT)[-1]
    assert said.text.startswith("Đã ghi nhận: Sở Nội vụ đã nhận nhiệm vụ STT 1 (kế hoạch nq131)")

    row = assignment(bot.engine, task_1)
    assert row.status == "acknowledged"
    assert row.acknowledged_at == bot.clock.now()
    assert row.next_due_at == bot.clock.now()  # the daemon re-evaluates: repeats stop
    (entry,) = audit(bot.engine, "assignment.acknowledged")
    assert entry.assignment_id == task_1
    assert entry.detail["via"] == "telegram"
    assert "Telegram 1001" in entry.actor


async def test_replying_xong_asks_for_confirmation_then_marks_it_done(bot: Harness) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1)

    question = await bot.says(NOI_VU_CHAT, "Xong!", reply_to=reminder.message_id)
    assert question.text.startswith("Xác nhận nhiệm vụ STT 1 (kế hoạch nq131)")
    assert question.button_labels == ["Xác nhận hoàn thành", "Hủy"]
    assert assignment(bot.engine, task_1).status == "open"

    await bot.presses(NOI_VU_CHAT, question.message_id, "Xác nhận hoàn thành")
    row = assignment(bot.engine, task_1)
    assert row.status == "done"
    assert row.done_at == bot.clock.now()
    edited = bot.fake.message(NOI_VU_CHAT, question.message_id)
    assert edited.text.startswith("Đã ghi nhận: Sở Nội vụ đã hoàn thành nhiệm vụ STT 1")
    assert edited.buttons == []
    assert len(audit(bot.engine, "assignment.done")) == 1


async def test_cancelling_the_confirmation_leaves_the_task_open(bot: Harness) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1)
    await bot.presses(NOI_VU_CHAT, reminder.message_id, "Đã hoàn thành")
    question = bot.fake.sent(NOI_VU_CHAT)[-1]

    await bot.presses(NOI_VU_CHAT, question.message_id, "Hủy")
    assert assignment(bot.engine, task_1).status == "open"
    edited = bot.fake.message(NOI_VU_CHAT, question.message_id)
    assert edited.text.startswith("Đã hủy, nhiệm vụ STT 1")


async def test_a_chat_of_another_agency_pressing_the_same_button_is_refused_and_audited(
    bot: Harness,
) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    await bot.link(TU_PHAP_GROUP, "so-tu-phap")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1)

    copied = reminder.button_data("Đã nhận")
    answer = await bot.presses(TU_PHAP_GROUP, reminder.message_id, data=copied)
    assert answer["show_alert"] is True
    assert answer["text"].startswith("Xin lỗi, nút này không hợp lệ trong cuộc trò chuyện này")
    assert assignment(bot.engine, task_1).status == "open"
    (entry,) = audit(bot.engine, "chat.refused")
    assert entry.detail == {
        "chat_id": str(TU_PHAP_GROUP),
        "reason": "button_signature",  # the check that refused: signed for another chat
        "attempted": "button",
    }


async def test_a_chat_cannot_act_on_a_task_of_another_agency_even_with_a_valid_button(
    bot: Harness,
) -> None:
    await bot.link(TU_PHAP_GROUP, "so-tu-phap")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    misdirected = await bot.remind(TU_PHAP_GROUP, task_1)  # signed for this chat

    answer = await bot.presses(TU_PHAP_GROUP, misdirected.message_id, "Đã nhận")
    assert answer["text"] == (
        "Xin lỗi, cuộc trò chuyện của Sở Tư pháp không được cập nhật nhiệm vụ này vì nhiệm vụ "
        "không giao cho Sở Tư pháp. Yêu cầu đã được ghi lại."
    )
    assert assignment(bot.engine, task_1).status == "open"
    (entry,) = audit(bot.engine, "chat.refused")
    assert entry.assignment_id == task_1
    assert entry.detail["reason"] == "not_assigned"


async def test_an_unlinked_chat_is_asked_to_link_first(bot: Harness) -> None:
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1)
    answer = await bot.presses(NOI_VU_CHAT, reminder.message_id, "Đã nhận")
    assert answer["text"].startswith("Cuộc trò chuyện này chưa được liên kết với cơ quan nào")
    assert assignment(bot.engine, task_1).status == "open"


async def test_an_extension_request_goes_to_the_office_with_reason_and_date(
    bot: Harness,
) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1)

    await bot.presses(NOI_VU_CHAT, reminder.message_id, "Xin gia hạn")
    prompt = bot.fake.sent(NOI_VU_CHAT)[-1]
    assert prompt.text.startswith("Đề nghị gia hạn nhiệm vụ STT 1 (kế hoạch nq131)")
    assert prompt.reply_markup == {"force_reply": True}

    no_date = await bot.says(NOI_VU_CHAT, "Chờ ý kiến của Bộ", reply_to=prompt.message_id)
    assert no_date.text.startswith("Chưa thấy ngày đề nghị gia hạn.")
    sent = await bot.says(
        NOI_VU_CHAT,
        "Chờ ý kiến của Bộ Nội vụ, đề nghị gia hạn đến 31/01/2023",
        reply_to=prompt.message_id,
    )
    assert sent.text == (
        "Đã gửi đề nghị gia hạn nhiệm vụ STT 1 (kế hoạch nq131): "
        + sent.text.split(": ", 1)[1].split(" đến ngày")[0]
        + " đến ngày 31/01/2023 tới Văn phòng UBND tỉnh. Kết quả sẽ được thông báo lại."
    )
    with session_scope(bot.engine) as session:
        (request,) = session.exec(select(ExtensionRequest)).all()
        notices = session.exec(
            select(OutboxMessage).where(OutboxMessage.template == "extension_request")
        ).all()
        office = session.exec(select(Agency).where(Agency.code == "vp-ubnd")).one()
    assert request.status == "pending"
    assert request.proposed_due == date(2023, 1, 31)
    assert request.reason == "Chờ ý kiến của Bộ Nội vụ, đề nghị gia hạn đến 31/01/2023"
    assert [(n.channel, n.agency_id, n.kind) for n in notices] == [("email", office.id, "notice")]
    assert notices[0].context["extension"]["proposed_due"] == "2023-01-31"
    assert len(audit(bot.engine, "extension.requested")) == 1


async def test_a_late_task_explanation_is_recorded_from_a_reply(bot: Harness) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_14 = assignment_id(bot.engine, "14", "so-noi-vu", role="coordinator")
    reminder = await bot.remind(
        NOI_VU_CHAT, task_14, template="explanation_request", ask_explanation=True
    )
    assert "Gửi giải trình" in reminder.button_labels

    said = await bot.says(
        NOI_VU_CHAT,
        "Chậm do chờ hướng dẫn của Bộ; dự kiến hoàn thành trong tháng 12.",
        reply_to=reminder.message_id,
    )
    assert said.text.startswith("Đã ghi nhận giải trình về nhiệm vụ STT 14")
    with session_scope(bot.engine) as session:
        (explanation,) = session.exec(select(Explanation)).all()
        notices = session.exec(
            select(OutboxMessage).where(OutboxMessage.template == "explanation_received")
        ).all()
    assert explanation.assignment_id == task_14
    assert explanation.via == "telegram"
    assert explanation.text == "Chậm do chờ hướng dẫn của Bộ; dự kiến hoàn thành trong tháng 12."
    assert len(notices) == 1


async def test_the_explanation_button_asks_for_the_text_first(bot: Harness) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1, template="overdue", ask_explanation=True)
    await bot.presses(NOI_VU_CHAT, reminder.message_id, "Gửi giải trình")
    prompt = bot.fake.sent(NOI_VU_CHAT)[-1]
    assert prompt.text.startswith("Giải trình về nhiệm vụ STT 1")

    # In a private chat an answer without "reply" still answers the open question.
    said = await bot.says(NOI_VU_CHAT, "Thiếu nhân lực, sẽ hoàn thành trước 15/12.")
    assert said.text.startswith("Đã ghi nhận giải trình về nhiệm vụ STT 1")
    with session_scope(bot.engine) as session:
        assert [e.assignment_id for e in session.exec(select(Explanation)).all()] == [task_1]


async def test_any_other_reply_to_a_reminder_is_kept_as_a_progress_note(bot: Harness) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1)

    said = await bot.says(
        NOI_VU_CHAT, "Đã trình dự thảo kế hoạch, chờ ký ban hành.", reply_to=reminder.message_id
    )
    assert said.text.startswith("Đã ghi nhận tiến độ của nhiệm vụ STT 1")
    (note,) = audit(bot.engine, "assignment.note")
    assert note.detail["text"] == "Đã trình dự thảo kế hoạch, chờ ký ban hành."
    assert assignment(bot.engine, task_1).status == "open"


async def test_ok_in_a_private_chat_acknowledges_the_latest_reminder(bot: Harness) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    await bot.remind(NOI_VU_CHAT, task_1)
    said = await bot.says(NOI_VU_CHAT, "OK")
    assert said.text.startswith("Đã ghi nhận: Sở Nội vụ đã nhận nhiệm vụ STT 1")
    assert assignment(bot.engine, task_1).status == "acknowledged"


async def test_done_for_a_quarterly_task_closes_only_the_current_quarter(bot: Harness) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_3 = assignment_id(bot.engine, "3", "so-noi-vu")  # "Hàng quý"
    reminder = await bot.remind(NOI_VU_CHAT, task_3, occurrence="2022-12-31")
    assert reminder.button_data("Đã hoàn thành").startswith(f"d:{task_3}:20221231:")

    await bot.presses(NOI_VU_CHAT, reminder.message_id, "Đã hoàn thành")
    question = bot.fake.sent(NOI_VU_CHAT)[-1]
    assert question.text.startswith("Xác nhận đã hoàn thành kỳ hạn 31/12/2022 của nhiệm vụ STT 3")
    await bot.presses(NOI_VU_CHAT, question.message_id, "Xác nhận hoàn thành")

    row = assignment(bot.engine, task_3)
    assert row.done_through == date(2022, 12, 31)
    assert row.status == "open"
    assert bot.fake.message(NOI_VU_CHAT, question.message_id).text.startswith(
        "Đã ghi nhận hoàn thành kỳ hạn 31/12/2022 của nhiệm vụ STT 3"
    )


async def test_tasks_lists_the_open_tasks_of_the_linked_agency(bot: Harness) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    listing = await bot.says(NOI_VU_CHAT, "/tasks")
    lines = listing.text.splitlines()
    assert lines[0] == "Nhiệm vụ chưa hoàn thành của Sở Nội vụ:"
    assert lines[1].startswith("1. STT 1 (kế hoạch nq131): Xây dựng Kế hoạch")
    assert lines[1].endswith("– chủ trì, hạn 31/12/2022")
    assert len(lines) == 1 + 23
    help_text = await bot.says(NOI_VU_CHAT, "/help")
    assert help_text.text.startswith("Tôi là trợ lý đôn đốc nhiệm vụ của Sở Nội vụ.")


async def test_an_english_speaking_agency_is_answered_in_english(bot: Harness) -> None:
    with session_scope(bot.engine) as session:
        agency = session.exec(select(Agency).where(Agency.code == "so-noi-vu")).one()
        agency.locale = "en"
        session.add(agency)
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    task_1 = assignment_id(bot.engine, "1", "so-noi-vu")
    reminder = await bot.remind(NOI_VU_CHAT, task_1)
    assert reminder.button_labels == ["Received", "Done", "Ask for extension"]
    answer = await bot.presses(NOI_VU_CHAT, reminder.message_id, "Received")
    assert answer["text"] == "Recorded."


async def test_xong_after_a_digest_names_the_buttons_the_digest_shows(bot: Harness) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    tasks = [assignment_id(bot.engine, number, "so-noi-vu") for number in ("1", "3")]
    digest = await bot.remind_all(NOI_VU_CHAT, tasks, template="overdue")

    said = await bot.says(NOI_VU_CHAT, "xong", reply_to=digest.message_id)
    quoted = re.findall(r'"(\d+: [^"]+)"', said.text)
    assert quoted == ["1: Đã hoàn thành", "3: Đã hoàn thành"]
    assert all(label in digest.button_labels for label in quoted), (
        quoted,
        digest.button_labels,
    )
    assert 'bấm nút "Đã hoàn thành" có số thứ tự' in said.text
    help_text = await bot.says(NOI_VU_CHAT, "/help")
    for label in re.findall(r'bấm "([^"]+)"', help_text.text):
        assert any(b.endswith(label) for b in [*digest.button_labels, "Gửi giải trình"]), label


async def test_a_long_digest_is_split_between_its_items_never_inside_one(
    bot: Harness,
) -> None:
    await bot.link(NOI_VU_CHAT, "so-noi-vu")
    with session_scope(bot.engine) as session:
        rows = session.exec(
            select(Assignment)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(Agency.code == "so-noi-vu")
        ).all()
        ids = [row.id or 0 for row in rows]
    digest = await bot.remind_all(NOI_VU_CHAT, ids, template="overdue")
    pieces = [m.text for m in bot.fake.sent(NOI_VU_CHAT)[1:]]
    assert digest.text == pieces[-1]
    assert len(pieces) >= 2 and all(len(piece) <= 4096 for piece in pieces)
    # Each item ("N. [stage]" up to the next blank line) arrives whole in one piece.
    items = [part for part in re.split(r"\n\n", "\n\n".join(pieces)) if re.match(r"\d+\. \[", part)]
    assert len(items) == len(ids)
    for item in items:
        assert any(item in piece for piece in pieces), item[:200]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Chờ ý kiến của Bộ, đề nghị gia hạn đến 30/6/2023", (date(2023, 6, 30), True)),
        ("Thiếu kinh phí; xin đến 2023-06-30", (date(2023, 6, 30), True)),
        ("đề nghị gia hạn đến ngày 30.06.2023", (date(2023, 6, 30), False)),
        ("Chờ ý kiến của Bộ", (None, True)),
        ("Chờ Bộ, đến 31/02/2023", (None, True)),
    ],
)
def test_an_extension_reply_gives_its_date_and_whether_it_has_a_reason(
    text: str, expected: tuple[date | None, bool]
) -> None:
    assert parse_extension(text) == expected


@pytest.mark.parametrize(
    ("text", "intent"),
    [("Đã nhận!", "ack"), ("da nhan", "ack"), ("OK.", "ack"), ("Xong", "done"),
     ("đã hoàn thành", "done"), ("ok, sẽ làm ngay", None), ("xong phần 1", None)],
)  # fmt: skip
def test_short_answers_are_read_whatever_the_accents_and_punctuation(
    text: str, intent: str | None
) -> None:
    assert intent_of(text) == intent
