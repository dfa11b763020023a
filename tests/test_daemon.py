"""The daemon on a virtual clock, a real store (SQLite and PostgreSQL) and a real SMTP server."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from daemon_support import VN, arrivals, at, make_app, outbox_statuses, sent_rows, simulate
from fakes.smtp import SmtpSink
from sqlmodel import col, select

from dondoc.actions import set_status
from dondoc.models import Agency, Assignment, DeliveryAttempt, OutboxMessage
from dondoc.store import session_scope

pytest_plugins = ["fakes.fixtures"]


def test_reminders_arrive_on_the_expected_virtual_days_in_office_hours(
    tmp_path: Path, smtp_sink: SmtpSink, store_url: str
) -> None:
    app = make_app(tmp_path, smtp_sink, store_url=store_url)
    simulate(app, at("2023-01-10"))
    found = arrivals(app)

    # 14 days before 31/12/2022 is Saturday 17/12: it waits for Monday 07:30.
    assert found[("upcoming", "so-tu-phap")] == {at("2022-12-19", 7, 30)}
    # The coordinator hears three days ahead, a Wednesday.
    assert found[("coordinators", "so-noi-vu")] == {at("2022-12-28", 7, 30)}
    # Due on Saturday 31/12; 1 and 2 January are the New Year holiday and its
    # substitute day, so "due today" waits until Tuesday, by which time "overdue" came
    # due too: only the latest stage goes out.
    assert ("due_today", "so-tu-phap") not in found
    assert ("due_today", "so-tu-phap#head") not in found
    assert found[("overdue", "so-tu-phap#head")] == {
        at("2023-01-03", 7, 30),
        at("2023-01-09", 7, 30),
    }
    assert found[("overdue", "vp-ubnd")] == {at("2023-01-03", 7, 30), at("2023-01-09", 7, 30)}
    # The overdue stage repeats weekly while nobody answers: Sunday 8/1 waits for Monday.
    assert found[("overdue", "so-tu-phap")] == {at("2023-01-03", 7, 30), at("2023-01-09", 7, 30)}

    for moment in {t for times in found.values() for t in times}:
        assert moment.weekday() < 5 and (7, 30) <= (moment.hour, moment.minute) < (17, 0)

    # What the people received: one digest per recipient and run, addressed correctly.
    by_recipient = {tuple(m.recipients): m for m in smtp_sink.messages}
    assert ("lanhdao.so-tu-phap@tinhmau.example",) in by_recipient
    lead_mail = [m for m in smtp_sink.messages if m.recipients == ["so-tu-phap@tinhmau.example"]]
    assert [m for m in lead_mail if "Xây dựng kế hoạch số hóa hồ sơ" in m.text]
    assert outbox_statuses(app) == {
        "sent": len(sent_rows(app)),
        "skipped": 2,
    }  # due today: lead, head


def test_evaluating_again_sends_nothing_twice(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    app = make_app(tmp_path, smtp_sink)
    simulate(app, at("2022-12-30"))
    first = len(smtp_sink.messages)
    with session_scope(app.engine) as session:
        for assignment in session.exec(select(Assignment)).all():
            assignment.next_due_at = at("2022-11-01")  # as if every row were due again
            session.add(assignment)
    app.clock.set(at("2022-11-01"))  # type: ignore[attr-defined]
    simulate(app, at("2022-12-30"))
    assert first > 0
    assert len(smtp_sink.messages) == first


def test_an_acknowledgement_stops_the_repeats_of_the_current_stage(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    app = make_app(tmp_path, smtp_sink)
    daemon = simulate(app, at("2023-01-04"))
    lead_overdue = [r for r, who in sent_rows(app) if who == "so-tu-phap" and r.stage == "overdue"]
    assert len(lead_overdue) == 1  # sent on 3 January; the weekly repeat would follow on 9
    with session_scope(app.engine) as session:
        lead = session.exec(
            select(Assignment)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(Agency.code == "so-tu-phap")
        ).one()
        set_status(
            session, assignment=lead, status="acknowledged", actor="test", now=app.clock.now()
        )
    emails_before = len(smtp_sink.messages)
    simulate(app, at("2023-01-10"), daemon)
    after = [r for r, who in sent_rows(app) if who == "so-tu-phap" and r.stage == "overdue"]
    assert after == lead_overdue  # no repeat reached the agency that acknowledged
    lead_mail = [
        m for m in smtp_sink.messages[emails_before:]
        if m.recipients == ["so-tu-phap@tinhmau.example"]
    ]  # fmt: skip
    assert lead_mail == []


def test_done_stops_everything(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    app = make_app(tmp_path, smtp_sink)
    simulate(app, at("2023-01-04"))
    with session_scope(app.engine) as session:
        lead = session.exec(
            select(Assignment)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(Agency.code == "so-tu-phap")
        ).one()
        set_status(session, assignment=lead, status="done", actor="test", now=app.clock.now())
    before = {(r.key) for r, who in sent_rows(app) if who.startswith("so-tu-phap")}
    simulate(app, at("2023-03-31"))
    after = {(r.key) for r, who in sent_rows(app) if who.startswith("so-tu-phap")}
    assert before and after == before


def test_a_dead_mail_server_delays_reminders_until_it_returns(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    app = make_app(tmp_path, smtp_sink)
    daemon = simulate(app, at("2022-12-18"))
    smtp_sink.stop()  # down for the whole of Monday 19 December
    simulate(app, at("2022-12-19", 23, 0), daemon)
    with session_scope(app.engine) as session:
        waiting = session.exec(select(OutboxMessage).where(OutboxMessage.stage == "upcoming")).one()
        assert waiting.status == "pending" and waiting.attempts >= 1
        retries = session.exec(
            select(DeliveryAttempt).where(DeliveryAttempt.outcome == "retry")
        ).all()
        assert retries
    smtp_sink.start()
    simulate(app, at("2022-12-21"), daemon)
    upcoming = [m for m in smtp_sink.messages if m.recipients == ["so-tu-phap@tinhmau.example"]]
    assert len(upcoming) == 1
    sent = arrivals(app)[("upcoming", "so-tu-phap")]
    assert len(sent) == 1 and next(iter(sent)).date().isoformat() == "2022-12-20"


def test_after_downtime_only_the_latest_stage_is_sent_once(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    app = make_app(tmp_path, smtp_sink)
    simulate(app, at("2022-11-30"))  # no reminder due yet (the monthly report may go out)
    assert [r.stage for r, _ in sent_rows(app) if r.kind == "reminder"] == []
    # The daemon was off from 30 November until 15 February.
    app.clock.set(at("2023-02-15"))  # type: ignore[attr-defined]
    simulate(app, at("2023-02-16"))
    lead_stages = sorted(r.stage for r, who in sent_rows(app) if who == "so-tu-phap")
    # upcoming, due today and the weekly overdue repeats were superseded; the
    # escalation (30 days late) is the current stage and goes out once.
    assert lead_stages == []
    head_stages = sorted(r.stage for r, who in sent_rows(app) if who == "so-tu-phap#head")
    assert head_stages == ["escalation"]
    office = [r.stage for r, who in sent_rows(app) if who == "vp-ubnd" and r.kind == "reminder"]
    assert office == ["escalation"]


def test_a_broken_config_edit_is_refused_and_reminders_continue(
    tmp_path: Path, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    rules = tmp_path / "rules.yaml"
    shutil.copy(Path(__file__).parent.parent / "config" / "rules.yaml", rules)
    app = make_app(tmp_path, smtp_sink, rules_file=rules)
    daemon = simulate(app, at("2022-12-01"))
    rules.write_text(rules.read_text(encoding="utf-8") + "\nunknown_key: 1\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="dondoc.daemon"):
        simulate(app, at("2022-12-20"), daemon)
    assert any(
        f"{rules}:" in r.getMessage() and "unknown_key" in r.getMessage() for r in caplog.records
    )
    assert ("upcoming", "so-tu-phap") in arrivals(app)  # the last good rules still apply


def test_a_valid_config_edit_applies_at_the_next_tick(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    rules = tmp_path / "rules.yaml"
    shutil.copy(Path(__file__).parent.parent / "config" / "rules.yaml", rules)
    app = make_app(tmp_path, smtp_sink, rules_file=rules)
    daemon = simulate(app, at("2022-12-01"))
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("at: -14d", "at: -10d", 1), encoding="utf-8")
    simulate(app, at("2022-12-23"), daemon)
    # 10 days before 31/12 is Wednesday 21/12.
    assert arrivals(app)[("upcoming", "so-tu-phap")] == {at("2022-12-21", 7, 30)}


def test_sends_are_logged_one_line_each_without_secrets(
    tmp_path: Path, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(tmp_path, smtp_sink)
    with caplog.at_level(logging.INFO, logger="dondoc.delivery"):
        simulate(app, at("2022-12-20"))
    lines = [r.getMessage() for r in caplog.records if "outcome=sent" in r.getMessage()]
    assert lines and all("channel=email" in line and "key=" in line for line in lines)
    assert len(lines) == len(sent_rows(app))


def test_a_mail_server_down_is_tried_once_per_batch_and_nothing_is_lost(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    app = make_app(tmp_path, smtp_sink)
    daemon = simulate(app, at("2023-01-02"))
    smtp_sink.stop()  # Tuesday 3 January: overdue to the lead, the head and the office waits
    simulate(app, at("2023-01-03", 9, 0), daemon)
    with session_scope(app.engine) as session:
        waiting = session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
        attempts = session.exec(
            select(DeliveryAttempt, OutboxMessage)
            .join(OutboxMessage, col(OutboxMessage.id) == DeliveryAttempt.outbox_id)
            .where(col(DeliveryAttempt.at) >= at("2023-01-03"))
        ).all()
    assert len(waiting) >= 3
    # Each try met the dead server with one message (one digest) only; the rest waited,
    # uncharged.
    recipients_per_try: dict[object, set[tuple[object, object]]] = {}
    for attempt, row in attempts:
        recipients_per_try.setdefault(attempt.at, set()).add(
            (row.agency_id, row.context.get("audience"))
        )
    assert recipients_per_try
    assert all(len(who) == 1 for who in recipients_per_try.values())
    assert all(attempt.outcome == "retry" for attempt, _ in attempts)
    smtp_sink.start()
    simulate(app, at("2023-01-04"), daemon)
    # "Due today" (lead, head) was superseded by "overdue" before it could go out.
    assert outbox_statuses(app) == {"sent": len(sent_rows(app)), "skipped": 2}
    assert {tuple(m.recipients) for m in smtp_sink.messages} >= {
        ("so-tu-phap@tinhmau.example",),
        ("lanhdao.so-tu-phap@tinhmau.example",),
        ("vp-ubnd@tinhmau.example",),
    }


def test_a_message_undeliverable_for_a_week_is_given_up_and_the_office_is_told(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    app = make_app(tmp_path, smtp_sink)
    daemon = simulate(app, at("2022-12-18"))
    smtp_sink.refuse("so-tu-phap@tinhmau.example", code=450)  # "try again later", for ever
    simulate(app, at("2022-12-28"), daemon)
    with session_scope(app.engine) as session:
        upcoming = session.exec(
            select(OutboxMessage).where(OutboxMessage.stage == "upcoming")
        ).one()
        notice = session.exec(
            select(OutboxMessage).where(OutboxMessage.key == f"failed:{upcoming.key}")
        ).one()
    assert upcoming.status == "failed" and upcoming.attempts > 3
    assert notice.status == "sent"
    told = [m for m in smtp_sink.messages if m.recipients == ["vp-ubnd@tinhmau.example"]]
    assert any("Sở Tư pháp" in m.text for m in told)


def test_the_monthly_late_list_and_quarterly_report_reach_the_office_by_email(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    app = make_app(tmp_path, smtp_sink)
    simulate(app, at("2023-03-20"))
    office = [m for m in smtp_sink.messages if m.recipients == ["vp-ubnd@tinhmau.example"]]
    reports = [m for m in office if any(True for _ in m.message.iter_attachments())]
    names = {part.get_filename() for mail in reports for part in mail.message.iter_attachments()}
    # January's list goes out on 5 February (the task was due 31/12/2022 and is overdue),
    # the first quarter's report on 15 March; each with its HTML and CSV attached.
    assert {"danh-sach-cham-muon-2023-01.html", "danh-sach-cham-muon-2023-01.csv"} <= names
    assert {"bao-cao-quy-2023Q1.html", "bao-cao-quy-2023Q1.csv"} <= names
    january = next(
        part.get_content()
        for mail in reports
        for part in mail.message.iter_attachments()
        if part.get_filename() == "danh-sach-cham-muon-2023-01.html"
    )
    assert "Sở Tư pháp" in january and "Xây dựng kế hoạch số hóa hồ sơ" in january
    with session_scope(app.engine) as session:
        sent = session.exec(
            select(OutboxMessage).where(OutboxMessage.key == "report:late:2023-01:vp-ubnd:email")
        ).one()
    assert sent.status == "sent" and sent.sent_at is not None
    assert sent.sent_at.astimezone(VN).date().isoformat() == "2023-02-06"  # 5 Feb is a Sunday


def test_a_digest_lists_a_task_once_when_two_stages_meet_after_a_holiday(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    plan = (
        "STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Sản phẩm,Thời gian hoàn thành\n"
        "3,Rà soát thủ tục hành chính,Sở Tư pháp,,Báo cáo,Tháng 12/2022\n"
        "8,Số hóa hồ sơ hộ tịch,Sở Tư pháp,,Cơ sở dữ liệu,31/12/2022\n"
    )
    app = make_app(tmp_path, smtp_sink, plan=plan)
    simulate(app, at("2023-01-03", 12, 0))
    to_lead = [m for m in smtp_sink.messages if m.recipients == ["so-tu-phap@tinhmau.example"]]
    assert len(to_lead) == 2  # two weeks ahead (19/12/2022), then Tuesday 03/01/2023
    text = to_lead[-1].text
    assert "quá hạn" in text.lower()
    assert text.count("Rà soát thủ tục hành chính") == 1
    assert text.count("Số hóa hồ sơ hộ tịch") == 1


LATE_IN_NOVEMBER = """STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Sản phẩm,Thời gian hoàn thành
1,Xây dựng kế hoạch số hóa hồ sơ,Sở Tư pháp,,Kế hoạch,Tháng 11/2022
"""


def test_an_acknowledgement_silences_the_repeats_until_it_lapses(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    # Due 30/11/2022: "overdue" goes out on Thursday 01/12 and would repeat weekly on
    # 08/12, 15/12 and 22/12. The agency presses "Đã nhận" on 01/12 at 09:00.
    app = make_app(tmp_path, smtp_sink, plan=LATE_IN_NOVEMBER)
    daemon = simulate(app, at("2022-12-01", 9, 0))
    assert arrivals(app)[("overdue", "so-tu-phap")] == {at("2022-12-01", 7, 30)}
    with session_scope(app.engine) as session:
        lead = session.exec(select(Assignment).where(Assignment.role == "lead")).one()
        set_status(
            session, assignment=lead, status="acknowledged", actor="test", now=app.clock.now()
        )
    simulate(app, at("2023-01-10"), daemon)
    found = arrivals(app)
    # No repeat on 08/12, 15/12 nor 22/12: the acknowledgement holds for 45 days.
    assert found[("overdue", "so-tu-phap")] == {at("2022-12-01", 7, 30)}
    assert found[("overdue", "so-tu-phap#head")] == {at("2022-12-01", 7, 30)}
    # A later stage is not a repeat: a month late, the head and the office still hear.
    assert found[("escalation", "so-tu-phap#head")] == {at("2022-12-30", 7, 30)}
    # Every email says when it was written in the office's own zone.
    assert smtp_sink.messages
    assert all(str(m.header("Date")).endswith("+0700") for m in smtp_sink.messages)


TWO_TASKS_SAME_DAY = """STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Sản phẩm,Thời gian hoàn thành
1,Rà soát thủ tục hành chính,Sở Tư pháp,,Báo cáo,Tháng 12/2022
2,Số hóa hồ sơ hộ tịch,Sở Tư pháp,,Cơ sở dữ liệu,31/12/2022
"""


@pytest.mark.parametrize(("digest", "emails"), [("true", 1), ("false", 2)])
def test_reminders_due_together_arrive_as_one_digest_unless_digests_are_off(
    tmp_path: Path, smtp_sink: SmtpSink, digest: str, emails: int
) -> None:
    rules = tmp_path / "rules.yaml"
    default = (Path(__file__).parent.parent / "config" / "rules.yaml").read_text(encoding="utf-8")
    rules.write_text(default.replace("digest: true", f"digest: {digest}"), encoding="utf-8")
    app = make_app(tmp_path, smtp_sink, plan=TWO_TASKS_SAME_DAY, rules_file=rules)
    simulate(app, at("2022-12-20"))  # "upcoming" for both, on Monday 19/12
    to_lead = [m for m in smtp_sink.messages if m.recipients == ["so-tu-phap@tinhmau.example"]]
    assert len(to_lead) == emails
    text = "".join(m.text for m in to_lead)
    assert "Rà soát thủ tục hành chính" in text and "Số hóa hồ sơ hộ tịch" in text


def test_a_failure_notice_that_cannot_be_delivered_is_not_reported_again(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    # The agency's mailbox and the office's both refuse mail for good: the office is told
    # about the agency's reminder once, and that notice's own failure stops there.
    smtp_sink.refuse("so-tu-phap@tinhmau.example", code=550)
    smtp_sink.refuse("vp-ubnd@tinhmau.example", code=550)
    app = make_app(tmp_path, smtp_sink)
    simulate(app, at("2022-12-19", 9, 0))  # "upcoming" failed at 07:30, its notice after
    with session_scope(app.engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    notices = [r for r in rows if r.kind == "notice"]
    assert not [n.key for n in notices if n.key.startswith("failed:failed:")]
    failed_reminder = [r for r in rows if r.kind == "reminder" and r.status == "failed"]
    assert failed_reminder, "the refused reminder must fail for the scenario to mean anything"
    assert {n.key for n in notices} >= {f"failed:{r.key}" for r in failed_reminder}
    assert all(n.status == "failed" for n in notices)  # the office's mailbox refuses too
    assert len(notices) == len([r for r in rows if r.kind != "notice" and r.status == "failed"])
