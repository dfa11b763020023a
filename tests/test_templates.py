"""Reminder templates: what an official reads in the email and in Telegram."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from notifiers.render import Renderer, RenderError

NOV_27 = date(2022, 11, 27)


def item(**changes: Any) -> dict[str, Any]:
    """One reminder's context, as the daemon puts it in the outbox."""
    context: dict[str, Any] = {
        "assignment_id": 12,
        "role": "lead",
        "stage": "before",
        "template": "upcoming",
        "repeat": 0,
        "ask_explanation": False,
        "occurrence": None,
        "audience": "agency",
        "plan": {"code": "nq131", "title": "Kế hoạch thực hiện Nghị quyết số 131/NQ-CP"},
        "task": {
            "id": 5,
            "number": "5",
            "section": "I",
            "title": "Rà soát, đơn giản hóa thủ tục hành chính nội bộ",
            "product": "Báo cáo",
            "deadline_text": "Tháng 11/2022",
            "deadline_explained": "hạn cuối ngày 30/11/2022",
            "due": "2022-11-30",
            "target": None,
        },
        "agency": {"code": "so-noi-vu", "name": "Sở Nội vụ"},
        "recipient": {"code": "so-noi-vu", "name": "Sở Nội vụ"},
        "office": {"code": "vp-ubnd", "name": "Văn phòng UBND tỉnh"},
        "answer": {
            "telegram_link": "https://t.me/dondoc_bot",
            "reply_email": "vp-ubnd@tinhmau.example",
        },
    }
    for key, value in changes.items():
        if key == "task":
            context["task"] = {**context["task"], **value}
        else:
            context[key] = value
    return context


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def test_an_upcoming_reminder_shows_everything_needed_to_act(renderer: Renderer) -> None:
    out = renderer.render("upcoming", items=[item()], locale="vi", today=NOV_27)

    assert out.subject == "[Nhắc việc] STT 5 sắp đến hạn (còn 3 ngày) – nq131"
    for text in (out.text, out.telegram):
        assert "Kính gửi: Sở Nội vụ" in text
        assert "Kế hoạch thực hiện Nghị quyết số 131/NQ-CP" in text
        assert "STT 5: Rà soát, đơn giản hóa thủ tục hành chính nội bộ" in text
        assert "chủ trì" in text
        assert "Tháng 11/2022" in text
        assert "hạn cuối ngày 30/11/2022" in text
        assert "30/11/2022 (còn 3 ngày)" in text
    assert "Cơ quan chủ trì: Sở Nội vụ" in out.text
    assert "https://t.me/dondoc_bot" in out.text
    assert "vp-ubnd@tinhmau.example" in out.text
    assert "Bấm nút bên dưới" in out.telegram
    assert '<a href="https://t.me/dondoc_bot">' in out.html


def test_the_days_are_counted_from_today_to_the_due_date(renderer: Renderer) -> None:
    def days_text(today: date) -> str:
        return renderer.render("overdue", items=[item()], locale="vi", today=today).text

    assert "(hạn là hôm nay)" in days_text(date(2022, 11, 30))
    assert "(còn 1 ngày, hạn là ngày mai)" in days_text(date(2022, 11, 29))
    assert "(đã quá hạn 5 ngày)" in days_text(date(2022, 12, 5))


def test_a_recurring_task_counts_to_the_occurrence_not_the_plan_end(renderer: Renderer) -> None:
    recurring = item(
        occurrence="2023-03-31",
        task={"deadline_text": "Hàng quý", "due": "2025-12-31", "deadline_explained": None},
    )
    out = renderer.render("upcoming", items=[recurring], locale="vi", today=date(2023, 3, 24))
    assert "31/03/2023 (còn 7 ngày)" in out.text
    assert "Cách hiểu thời hạn" not in out.text
    assert out.buttons[0][1].data == "d:12:20230331"


def test_a_coordinating_agency_is_told_its_role(renderer: Renderer) -> None:
    out = renderer.render("upcoming", items=[item(role="coordinator")], locale="vi", today=NOV_27)
    assert "Cơ quan phối hợp: Sở Nội vụ" in out.text
    assert "Vai trò của Sở Nội vụ: phối hợp" in out.telegram


def test_task_text_that_looks_like_a_template_or_html_is_shown_as_written(
    renderer: Renderer,
) -> None:
    title = "Báo cáo {{ config }} {% for x in y %} <script>alert(1)</script> & <b>đậm</b>"
    out = renderer.render(
        "upcoming", items=[item(task={"title": title})], locale="vi", today=NOV_27
    )

    assert title in out.text
    assert title in out.telegram
    assert (
        "Báo cáo {{ config }} {% for x in y %} &lt;script&gt;alert(1)&lt;/script&gt; "
        "&amp; &lt;b&gt;đậm&lt;/b&gt;"
    ) in out.html
    assert "<script>" not in out.html


def test_telegram_buttons_offer_receipt_done_and_extension(renderer: Renderer) -> None:
    out = renderer.render("upcoming", items=[item()], locale="vi", today=NOV_27)
    labels = [[b.text for b in row] for row in out.buttons]
    data = [[b.data for b in row] for row in out.buttons]
    assert labels == [["Đã nhận", "Đã hoàn thành"], ["Xin gia hạn"]]
    assert data == [["a:12", "d:12"], ["e:12"]]


def test_a_late_task_asking_for_an_explanation_gets_the_explanation_button(
    renderer: Renderer,
) -> None:
    late = item(template="explanation_request", ask_explanation=True)
    out = renderer.render("explanation_request", items=[late], locale="vi", today=date(2022, 12, 5))
    assert out.subject == "[Đề nghị giải trình] STT 5 đã quá hạn 5 ngày – nq131"
    assert "gửi giải trình lý do chậm trễ" in out.text
    assert [b.text for b in out.buttons[1]] == ["Xin gia hạn", "Gửi giải trình"]


def test_an_escalation_to_the_office_names_the_late_agency_and_has_no_buttons(
    renderer: Renderer,
) -> None:
    to_office = item(
        template="escalation",
        audience="office",
        recipient={"code": "vp-ubnd", "name": "Văn phòng UBND tỉnh"},
    )
    out = renderer.render("escalation", items=[to_office], locale="vi", today=date(2022, 12, 2))
    assert out.subject == "[Báo cáo chậm tiến độ] Sở Nội vụ – STT 5 – nq131"
    assert "Kính gửi: Văn phòng UBND tỉnh" in out.text
    assert "do Sở Nội vụ chủ trì đã quá hạn 2 ngày" in out.text
    assert out.buttons == ()
    assert "Cách trả lời" not in out.text


def test_several_reminders_to_one_agency_become_one_digest(renderer: Renderer) -> None:
    items = [
        item(),
        item(
            assignment_id=13,
            template="overdue",
            ask_explanation=True,
            task={"number": "8", "title": "Số hóa hồ sơ", "due": "2022-11-20"},
        ),
    ]
    out = renderer.render("upcoming", items=items, locale="vi", today=NOV_27)

    assert out.subject == "[Nhắc việc] 2 nhiệm vụ cần quan tâm – Sở Nội vụ"
    assert "1. [Sắp đến hạn]" in out.text
    assert "2. [Quá hạn]" in out.text
    assert "STT 8: Số hóa hồ sơ" in out.telegram
    assert "20/11/2022 (đã quá hạn 7 ngày)" in out.text
    assert [b.text for b in out.buttons[0]] == ["5: Đã nhận", "5: Đã hoàn thành", "5: Xin gia hạn"]
    assert [b.data for b in out.buttons[1]] == ["a:13", "d:13", "e:13", "g:13"]


def test_an_agency_with_english_locale_reads_english(renderer: Renderer) -> None:
    out = renderer.render("overdue", items=[item()], locale="en", today=date(2022, 12, 1))
    assert out.subject == "[Reminder] Task no. 5 is 1 day overdue – nq131"
    assert "Dear Sở Nội vụ," in out.text
    assert "Lead agency: Sở Nội vụ" in out.text
    assert "Due: 30 Nov 2022 (1 day overdue)" in out.text
    assert [b.text for row in out.buttons for b in row] == [
        "Received",
        "Done",
        "Ask for extension",
    ]


def test_every_stage_the_rules_may_name_exists_in_both_languages(renderer: Renderer) -> None:
    assert {
        "upcoming",
        "due_today",
        "overdue",
        "escalation",
        "explanation_request",
        "checkin",
        "set_deadline",
        "digest",
        "late_report",
        "quarter_report",
        "extension_request",
        "extension_decision",
        "explanation_received",
        "delivery_failed",
    } <= renderer.available()
    assert "chat" not in renderer.available()
    assert not any(name.startswith("_") for name in renderer.available())


@pytest.mark.parametrize("locale", ["vi", "en"])
@pytest.mark.parametrize(
    "template",
    ["upcoming", "due_today", "overdue", "escalation", "explanation_request", "checkin",
     "set_deadline"],
)  # fmt: skip
def test_each_stage_renders_for_an_agency_and_for_the_office(
    renderer: Renderer, template: str, locale: str
) -> None:
    for audience in ("agency", "head", "office"):
        context = item(template=template, audience=audience, ask_explanation=True)
        if audience == "office":
            context["recipient"] = {"code": "vp-ubnd", "name": "Văn phòng UBND tỉnh"}
        out = renderer.render(template, items=[context], locale=locale, today=NOV_27)
        assert "STT 5" in out.subject or "no. 5" in out.subject
        assert "Rà soát, đơn giản hóa thủ tục hành chính nội bộ" in out.text
        assert "{{" not in out.text and "{%" not in out.text
        assert out.html.startswith("<!DOCTYPE html>")


def test_a_task_without_a_deadline_asks_the_office_to_set_one(renderer: Renderer) -> None:
    undated = item(
        template="set_deadline",
        audience="office",
        recipient={"code": "vp-ubnd", "name": "Văn phòng UBND tỉnh"},
        task={"deadline_text": None, "deadline_explained": None, "due": None},
    )
    out = renderer.render("set_deadline", items=[undated], locale="vi", today=NOV_27)
    assert out.subject == "[Cần đặt thời hạn] STT 5 – nq131"
    assert "Thời hạn ghi trong kế hoạch: (chưa có)" in out.text
    assert "Hạn hoàn thành" not in out.text
    assert "ấn định thời hạn" in out.text


def test_a_context_without_office_or_explained_deadline_still_renders(renderer: Renderer) -> None:
    context = item(office=None)
    del context["task"]["deadline_explained"]
    context["task"]["deadline"] = {
        "version": 1,
        "phrase": "Tháng 12/2022",
        "kind": "once",
        "due": "2022-12-31",
    }
    del context["task"]["due"]
    out = renderer.render("upcoming", items=[context], locale="vi", today=date(2022, 12, 26))
    assert "31/12/2022 (còn 5 ngày)" in out.text
    assert "Trân trọng,\nVăn phòng UBND tỉnh" in out.text


def test_a_report_email_quotes_the_figures(renderer: Renderer) -> None:
    report = {
        "report": {
            "kind": "late",
            "period": "2023-03",
            "period_label": "tháng 03/2023",
            "title": "Danh sách nhiệm vụ chậm tiến độ tháng 03/2023",
            "as_of": "2023-03-31",
            "html_path": "/tmp/x.html",
            "csv_path": "/tmp/x.csv",
            "summary": {"late": 7, "missing_explanation": 3},
        },
        "recipient": {"code": "vp-ubnd", "name": "Văn phòng UBND tỉnh"},
        "office": {"code": "vp-ubnd", "name": "Văn phòng UBND tỉnh"},
    }
    out = renderer.render("late_report", items=[report], locale="vi", today=date(2023, 4, 3))
    assert out.subject == "[Báo cáo] Danh sách nhiệm vụ chậm tiến độ tháng 03/2023"
    assert "- Số nhiệm vụ chậm: 7" in out.text
    assert "- Chưa có giải trình: 3" in out.text
    assert out.buttons == ()


def test_an_office_can_override_one_template_and_keep_the_others(
    renderer: Renderer, tmp_path: Path
) -> None:
    (tmp_path / "vi").mkdir()
    (tmp_path / "vi" / "upcoming.j2").write_text(
        '{% extends "vi/_base.j2" %}\n'
        "{% block subject %}Sở {{ agency.name }} lưu ý STT {{ task.number }}{% endblock %}\n"
        "{% block intro %}Lời nhắc riêng của tỉnh.{% endblock %}\n",
        encoding="utf-8",
    )
    custom = Renderer(templates_dir=tmp_path)
    out = custom.render("upcoming", items=[item()], locale="vi", today=NOV_27)
    assert out.subject == "Sở Sở Nội vụ lưu ý STT 5"
    assert "Lời nhắc riêng của tỉnh." in out.text
    overdue = custom.render("overdue", items=[item()], locale="vi", today=date(2022, 12, 5))
    assert overdue.subject == "[Nhắc việc] STT 5 đã quá hạn 5 ngày – nq131"


def test_a_template_using_an_unknown_value_fails_loudly_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "vi").mkdir()
    (tmp_path / "vi" / "upcoming.j2").write_text(
        '{% extends "vi/_base.j2" %}{% block subject %}{{ task.nguoi_ky }}{% endblock %}',
        encoding="utf-8",
    )
    with pytest.raises(RenderError) as caught:
        Renderer(templates_dir=tmp_path).render(
            "upcoming", items=[item()], locale="vi", today=NOV_27
        )
    assert "vi/upcoming.j2" in str(caught.value)
    assert "nguoi_ky" in str(caught.value)


def test_the_bot_speaks_vietnamese_and_english(renderer: Renderer) -> None:
    assert renderer.chat("code_expired", locale="vi") == (
        "Mã liên kết đã hết hạn. Vui lòng đề nghị Văn phòng UBND tỉnh cấp mã mới."
    )
    assert renderer.chat("code_expired", locale="en") == (
        "This link code has expired. Please ask the office for a new one."
    )
    with pytest.raises(RenderError):
        renderer.chat("no_such_phrase", locale="vi")


def test_the_office_is_told_when_a_message_could_not_be_delivered(renderer: Renderer) -> None:
    failed = item(
        audience="office",
        failure={
            "channel": "telegram",
            "error": "Telegram không cho gửi tới cuộc trò chuyện 1001: bot đã bị chặn",
            "key": "a12:before:-:0/so-noi-vu/telegram",
            "recipient": {"code": "so-noi-vu", "name": "Sở Nội vụ"},
        },
    )
    out = renderer.render("delivery_failed", items=[failed], locale="vi", today=NOV_27)
    assert out.subject == (
        "[Lỗi gửi tin] Không gửi được tin nhắn Telegram tới Sở Nội vụ – STT 5 – nq131"
    )
    assert "Kính gửi: Văn phòng UBND tỉnh" in out.text
    assert "bot đã bị chặn" in out.text
    assert "STT 5: Rà soát" in out.text

    report = {
        "report": {"kind": "late", "title": "Danh sách chậm tháng 03/2023"},
        "recipient": {"code": "vp-ubnd", "name": "Văn phòng UBND tỉnh"},
        "office": None,
        "audience": "office",
        "failure": {"channel": "email", "error": "550 mailbox unavailable", "key": "r",
                    "recipient": None},
    }  # fmt: skip
    out = renderer.render("delivery_failed", items=[report], locale="en", today=NOV_27)
    assert out.subject == "[Delivery failed] Could not send an email to (unknown recipient)"
    assert "550 mailbox unavailable" in out.text


def test_a_named_milestone_is_named_next_to_its_due_date(renderer: Renderer) -> None:
    from rules.deadline import parse_deadline

    phrase = "- Sơ kết: Tháng 6/2026\n- Tổng kết: Tháng 12/2026"
    stored = parse_deadline(phrase).to_dict()
    milestone = item(
        occurrence="2026-12-31",
        task={"deadline_text": phrase, "deadline": stored, "due": "2026-12-31"},
    )
    out = renderer.render("upcoming", items=[milestone], locale="vi", today=date(2026, 12, 24))
    assert "Hạn hoàn thành (Tổng kết): 31/12/2026 (còn 7 ngày)" in out.text
    assert "Hạn hoàn thành (Tổng kết): 31/12/2026" in out.telegram
    english = renderer.render("upcoming", items=[milestone], locale="en", today=date(2026, 12, 24))
    assert "Due (Tổng kết): 31 Dec 2026 (7 days left)" in english.text
