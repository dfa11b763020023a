"""Reminders for the deadline cells of other provinces' plans: several dates owed in turn,
a point then every year, and ongoing work that starts later."""

from __future__ import annotations

from datetime import date

from test_evaluate import CONFIG, POLICY, at, run, state

from rules.evaluate import evaluate


def cycles(sent: list[str]) -> list[str]:
    """The due dates the keys are about, in the order first reminded."""
    return list(dict.fromkeys(key.split(":")[2] for key in sent))


def test_several_quarters_are_chased_one_after_the_other() -> None:
    s = state("Quý I/2026, Quý III/2026", created_at=at("2025-12-01"))
    sent = run(s, at("2025-12-01"), at("2026-12-31"))
    assert cycles(sent) == ["2026-03-31", "2026-09-30"]
    # The first date is escalated in full before the second one's reminders begin.
    assert sent[sent.index("a7:escalation:2026-03-31:0") + 1] == "a7:upcoming:2026-09-30:0"
    # Each date goes through the one-off policy in full, up to the escalation.
    assert [k for k in sent if k.endswith("2026-09-30:0")] == [
        "a7:upcoming:2026-09-30:0",
        "a7:due_today:2026-09-30:0",
        "a7:overdue:2026-09-30:0",
        "a7:escalation:2026-09-30:0",
    ]


def test_a_milestone_done_is_not_chased_and_the_next_one_is_awaited() -> None:
    s = state(
        "- Sơ kết: Tháng 6/2026\n- Tổng kết: Tháng 12/2026",
        created_at=at("2026-01-05"),
        done_through=date(2026, 6, 30),
    )
    result = evaluate(s, POLICY, at("2026-07-02", 9), config=CONFIG)
    assert result.reminders == ()
    assert result.next_at == at("2026-12-17")  # 14 days before the final review


def test_two_months_every_year_are_reminded_in_june_and_december() -> None:
    sent = run(state("Tháng 6 và tháng 12 hằng năm", created_at=at("2026-01-01")),
               at("2026-01-01"), at("2027-01-01"))  # fmt: skip
    assert cycles(sent) == ["2026-06-30", "2026-12-31"]
    uneven = run(state("Tháng 3 và tháng 10 hằng năm", created_at=at("2026-01-01")),
                 at("2026-01-01"), at("2027-01-01"))  # fmt: skip
    assert cycles(uneven) == ["2026-03-31", "2026-10-31"]


def test_a_first_date_then_every_year_is_due_on_that_day_each_year() -> None:
    s = state("Trước ngày 15/12/2025 và hằng năm", created_at=at("2025-11-01"))
    sent = run(s, at("2025-11-01"), at("2027-12-20"))
    assert cycles(sent) == ["2025-12-14", "2026-12-14", "2027-12-14"]
    assert "a7:due_today:2025-12-14:0" in sent


def test_ongoing_work_from_a_later_year_gets_no_check_in_before_it_starts() -> None:
    s = state("Từ năm 2026 trở đi", created_at=at("2025-10-10"))
    assert run(s, at("2025-10-10"), at("2026-03-01")) == [
        "a7:checkin:2026-01-25:0",
        "a7:checkin:2026-02-25:0",
    ]
    # Without a start, the same task is checked in on from the day it was assigned.
    plain = state("Thường xuyên", created_at=at("2025-10-10"))
    assert run(plain, at("2025-10-10"), at("2025-12-01")) == [
        "a7:checkin:2025-10-25:0",
        "a7:checkin:2025-11-25:0",
    ]


def test_a_year_with_six_monthly_reports_is_reminded_twice_in_that_year() -> None:
    s = state("Năm 2026; định kỳ báo cáo 6 tháng", created_at=at("2025-11-01"))
    assert cycles(run(s, at("2025-11-01"), at("2027-12-31"))) == ["2026-06-30", "2026-12-31"]


def test_a_date_of_a_list_that_passed_before_the_assignment_is_overdue_as_a_one_off_is() -> None:
    # Imported in May: the first quarter's date has passed, and is owed all the same.
    s = state("Quý I/2026, Quý III/2026", created_at=at("2026-05-01"))
    sent = run(s, at("2026-05-01"), at("2026-12-31"))
    assert cycles(sent) == ["2026-03-31", "2026-09-30"]
    assert sent[0].startswith("a7:escalation:2026-03-31")
    # As a single one-off date is.
    single = run(state("Quý I/2026", created_at=at("2026-05-01")), at("2026-05-01"),
                 at("2026-06-01"))  # fmt: skip
    assert single[0].startswith("a7:escalation:2026-03-31")
    # A recurrence still owes nothing from before the assignment.
    yearly = state("Tháng 3 và tháng 10 hằng năm", created_at=at("2026-05-01"))
    assert cycles(run(yearly, at("2026-05-01"), at("2026-12-31"))) == ["2026-10-31"]
