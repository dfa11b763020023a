"""What the office and the agencies are told is right (issue 11, item 5): every lead of a
task is named, an approved extension shows the real old date, the office is never asked
to explain a delay itself, and an explanation once received is not asked for again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from conftest import Cli
from daemon_support import at, make_app, simulate
from fakes.smtp import SmtpSink
from fakes.telegram_api import FakeBotApi
from sqlmodel import col, select

from dondoc.chat_actions import request_extension, submit_explanation
from dondoc.chat_links import create_invite, link_chat
from dondoc.models import Agency, Assignment, Task
from dondoc.store import make_engine, session_scope
from notifiers.render import Renderer

CHAT = 5550001

pytest_plugins = ["fakes.fixtures"]

LEADS = ["Sở Nội vụ", "Sở Tư pháp", "Sở Tài chính", "Sở Y tế"]
MANY_LEADS_PLAN = (
    "STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Sản phẩm,Thời gian hoàn thành\n"
    f'1,Triển khai kết nối dữ liệu dân cư,"{"; ".join(LEADS)}",,Báo cáo,'
    "Theo tiến độ của Đề án 06\n"
)
OFFICE = "vp-ubnd@tinhmau.example"


def test_a_set_deadline_email_names_every_lead_agency(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    app = make_app(tmp_path, smtp_sink, plan=MANY_LEADS_PLAN)
    simulate(app, at("2022-12-02"))
    notices = [m for m in smtp_sink.messages if "[Cần đặt thời hạn]" in m.subject]
    assert notices, [m.subject for m in smtp_sink.messages]
    assert {tuple(m.recipients) for m in notices} == {(OFFICE,)}
    for mail in notices:
        assert f"Cơ quan chủ trì (4): {', '.join(LEADS)}" in (mail.text or "")
        assert all(name in (mail.html or "") for name in LEADS)


def test_a_long_list_of_leads_gives_the_count_and_the_first_ten() -> None:
    leads = [f"UBND xã {n}" for n in range(1, 28)]
    item = {
        "assignment_id": 1,
        "template": "set_deadline",
        "audience": "office",
        "role": "lead",
        "plan": {"code": "kh", "title": "Kế hoạch"},
        "task": {"number": "3", "title": "Rà soát", "leads": leads},
        "agency": {"code": "xa-1", "name": leads[0]},
        "recipient": {"code": "vp", "name": "Văn phòng"},
        "office": {"code": "vp", "name": "Văn phòng"},
    }
    out = Renderer().render("set_deadline", items=[item], locale="vi", today=at("2023-01-02"))
    assert f"Cơ quan chủ trì (27): {', '.join(leads[:10])} và 17 cơ quan khác" in out.text, out.text


def test_extension_approve_prints_the_new_date_and_the_real_old_one(
    initialized_cli: Cli, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'dondoc.db'}")
    now = at("2022-11-25", 9)
    with session_scope(engine) as session:
        code = create_invite(session, agency_code="so-noi-vu", hours=2, actor="t", now=now).code
        link_chat(session, code=code, chat_id="7", chat_title="", actor="t", now=now)
        assignment = session.exec(
            select(Assignment)
            .join(Task, col(Task.id) == Assignment.task_id)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(Task.number == "1", Agency.code == "so-noi-vu", Assignment.role == "lead")
        ).one()
        outcome = request_extension(
            session,
            chat_id="7",
            assignment_id=assignment.id or 0,
            reason="Chờ ý kiến của Bộ",
            proposed_due=now.date() + timedelta(days=110),  # 15/03/2023
            today=now.date(),
            actor="An",
            now=now,
        )
    engine.dispose()
    assert outcome.status == "extension_sent", outcome
    approved = initialized_cli("extension", "approve", "1")
    assert approved.exit_code == 0, approved.stderr
    # Task 1 of the example plan is due in December 2022.
    assert "hạn mới 15/03/2023 (trước đây 31/12/2022)" in approved.stdout


def _assignment(app_engine: object, agency: str) -> int:
    with session_scope(app_engine) as session:  # type: ignore[arg-type]
        return (
            session.exec(
                select(Assignment)
                .join(Agency, col(Agency.id) == Assignment.agency_id)
                .where(Agency.code == agency, Assignment.role == "lead")
            )
            .one()
            .id
            or 0
        )


def test_the_office_is_not_asked_to_explain_and_an_explanation_is_not_asked_again(
    tmp_path: Path, smtp_sink: SmtpSink, fake_bot_api: FakeBotApi
) -> None:
    # Task 1: Sở Tư pháp leads, due 31/12/2022; its chat is linked.
    app = make_app(
        tmp_path,
        smtp_sink,
        telegram={
            "token": fake_bot_api.token,
            "api_url": fake_bot_api.url,
            "bot_username": fake_bot_api.username,
        },
    )
    with session_scope(app.engine) as session:
        code = create_invite(
            session, agency_code="so-tu-phap", hours=2, actor="t", now=at("2022-11-01")
        ).code
        link_chat(
            session, code=code, chat_id=str(CHAT), chat_title="", actor="t", now=at("2022-11-01")
        )
    daemon = simulate(app, at("2023-01-04"))  # overdue since 03/01 (02/01 is a holiday)
    lead = ["so-tu-phap@tinhmau.example"]
    to_office = [
        m for m in smtp_sink.messages if m.recipients == [OFFICE] and "quá hạn" in m.subject
    ]
    to_lead = [m for m in smtp_sink.messages if m.recipients == lead]
    assert to_office and to_lead
    for mail in to_office:
        text = mail.text or ""
        assert "đề nghị quý cơ quan gửi giải trình" not in text.lower()
        assert "Sở Tư pháp đã được đề nghị gửi giải trình lý do chậm trễ." in text
    assert "đề nghị quý cơ quan gửi giải trình lý do chậm trễ." in (to_lead[-1].text or "").lower()
    assert any(label.endswith("Gửi giải trình") for label in _labels(fake_bot_api.sent(CHAT)))

    with session_scope(app.engine) as session:
        saved = submit_explanation(
            session,
            chat_id=str(CHAT),
            assignment_id=_assignment(app.engine, "so-tu-phap"),
            text="Chờ ý kiến thẩm định của Bộ Tư pháp.",
            actor="Nguyễn Văn A",
            now=at("2023-01-05", 9),
        )
    assert saved.status == "explanation_saved"
    emails_before, chat_before = len(smtp_sink.messages), len(fake_bot_api.sent(CHAT))
    simulate(app, at("2023-01-12"), daemon)  # the weekly repeat of "overdue" goes out on 10/01
    later = [m for m in smtp_sink.messages[emails_before:] if "quá hạn" in m.subject]
    assert later, [m.subject for m in smtp_sink.messages[emails_before:]]
    for mail in later:
        assert "gửi giải trình lý do" not in (mail.text or "")
    lead_repeat = next(m for m in later if m.recipients == lead)
    assert "đã nhận giải trình của quý cơ quan" in (lead_repeat.text or "")
    in_chat = fake_bot_api.sent(CHAT)[chat_before:]
    assert in_chat and any(m.buttons for m in in_chat)
    assert not any(label.endswith("Gửi giải trình") for label in _labels(in_chat))
    assert not any("Gửi giải trình" in m.text for m in in_chat)


def _labels(messages: list[Any]) -> list[str]:
    return [button["text"] for m in messages for row in m.buttons or [] for button in row]
