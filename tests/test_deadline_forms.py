"""Deadline cells of the forms plans issued in 2025–2026 use: periodic reports to a named
agency, event-driven cells, a label repeated from the header, and the survey of current
phrasings, each understood or refused with a message, never misread."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from rules.deadline import Deadline, ParseError, Recurrence, parse_deadline


def understood(phrase: str) -> dict[str, Any]:
    """What the parser made of `phrase`, without empty fields."""
    deadline = parse_deadline(phrase)
    data = {
        "kind": deadline.kind,
        "start": deadline.start,
        "target": deadline.target,
        "due": deadline.due,
        "recurrence": deadline.recurrence,
        "depends_on": deadline.depends_on,
        "note": deadline.note,
        "report_to": deadline.report_to,
    }
    return {key: value for key, value in data.items() if value is not None}


def check(table: dict[str, dict[str, Any]]) -> Any:
    return pytest.mark.parametrize(("phrase", "meant"), list(table.items()), ids=list(table))


def every(months: int, day: int | None = None, nth: int | None = None, **more: Any) -> Any:
    return {"kind": "recurring", "recurrence": Recurrence(months, day, nth), **more}


# -- ongoing work with a periodic report ------------------------------------------------
REPORTS = {
    "Thường xuyên; định kỳ 6 tháng báo cáo về Sở Nội vụ": every(
        6, note="Thường xuyên", report_to="Sở Nội vụ"
    ),
    "Thường xuyên; báo cáo định kỳ 6 tháng về Sở Nội vụ": every(
        6, note="Thường xuyên", report_to="Sở Nội vụ"
    ),
    "Thường xuyên, định kỳ hằng quý báo cáo UBND tỉnh (qua Sở Nội vụ)": every(
        3, note="Thường xuyên; qua Sở Nội vụ", report_to="UBND tỉnh"
    ),
    "Hằng năm báo cáo về Sở Nội vụ trước ngày 15/12": every(12, 14, report_to="Sở Nội vụ"),
    "Hàng quý, báo cáo về Sở Nông nghiệp và Môi trường": every(
        3, report_to="Sở Nông nghiệp và Môi trường"
    ),
    "Thường xuyên, báo cáo về Sở Nội vụ": {"kind": "ongoing", "report_to": "Sở Nội vụ"},
    # No agency named: the words stay, as a note.
    "Hằng quý, báo cáo về kết quả thực hiện": every(3, note="báo cáo về kết quả thực hiện"),
}


@check(REPORTS)
def test_a_periodic_report_recurs_and_keeps_the_agency_it_goes_to(
    phrase: str, meant: dict[str, Any]
) -> None:
    assert understood(phrase) == meant


def test_the_report_agency_is_said_in_both_languages() -> None:
    deadline = parse_deadline("Thường xuyên; định kỳ 6 tháng báo cáo về Sở Nội vụ")
    assert deadline.describe() == (
        "Định kỳ 6 tháng một lần, hạn là ngày cuối cùng của kỳ 6 tháng; báo cáo về Sở Nội vụ;"
        " ghi chú: “Thường xuyên”."
    )
    assert "report to Sở Nội vụ" in deadline.describe("en")
    assert deadline.first_occurrence(date(2026, 7, 1)) == date(2026, 12, 31)


def test_a_date_after_the_agency_is_not_part_of_its_name() -> None:
    with pytest.raises(ParseError):  # a day without a rule: refused, not glued to the name
        parse_deadline("Định kỳ hằng quý báo cáo về Sở Nội vụ 15/12")


# -- event-driven cells -----------------------------------------------------------------
EVENTS = {
    "Khi có yêu cầu": "Khi có yêu cầu",
    "Khi phát sinh nhiệm vụ": "Khi phát sinh nhiệm vụ",
    "Khi có phát sinh": "Khi có phát sinh",
    "Theo yêu cầu của UBND tỉnh": "Theo yêu cầu của UBND tỉnh",
    "Theo yêu cầu của Bộ Nội vụ": "Theo yêu cầu của Bộ Nội vụ",
    "Đột xuất": "Đột xuất",
    "khi co yeu cau": "khi co yeu cau",
    "On request": "On request",
    "Theo yêu cầu của Ban Chỉ đạo 389": "Theo yêu cầu của Ban Chỉ đạo 389",
    "Thời hạn: Khi có yêu cầu": "Khi có yêu cầu",
}


@pytest.mark.parametrize("phrase", EVENTS)
def test_an_event_driven_cell_has_no_date_and_names_its_event(phrase: str) -> None:
    assert understood(phrase) == {"kind": "event", "depends_on": EVENTS[phrase]}


def test_an_event_driven_deadline_says_the_office_sets_the_date() -> None:
    deadline = parse_deadline("Theo yêu cầu của UBND tỉnh")
    assert deadline.describe() == (
        "Thực hiện khi có yêu cầu hoặc phát sinh (“Theo yêu cầu của UBND tỉnh”): chưa có ngày"
        " cụ thể, văn phòng sẽ ấn định thời hạn khi có yêu cầu."
    )
    assert deadline.describe("en").startswith("Done on request or as the need arises")
    assert deadline.first_occurrence(date(2026, 1, 1)) is None
    assert Deadline.from_dict(deadline.to_dict()) == deadline


def test_an_event_deadline_cannot_carry_a_date() -> None:
    with pytest.raises(ValueError, match="no date until the office sets one"):
        Deadline("Khi có yêu cầu", "event", due=date(2026, 1, 1))


def test_a_request_with_a_latest_date_is_a_dated_deadline() -> None:
    assert understood("Khi có yêu cầu, chậm nhất tháng 12/2026") == {
        "kind": "once",
        "due": date(2026, 12, 31),
        "note": "Khi có yêu cầu",
    }


@pytest.mark.parametrize(
    ("phrase", "fragment"),
    [
        ("Theo yêu cầu của", "Theo yêu cầu của"),
        ("Đột xuất hoặc hằng quý", "hằng"),
    ],
)
def test_an_event_cell_that_says_too_little_or_too_much_is_refused(
    phrase: str, fragment: str
) -> None:
    with pytest.raises(ParseError) as caught:
        parse_deadline(phrase)
    assert caught.value.fragment == fragment


def test_a_decision_awaited_stays_an_external_reference() -> None:
    assert understood("Khi có quyết định của UBND tỉnh") == {
        "kind": "external",
        "depends_on": "quyết định của UBND tỉnh",
    }


# -- a label repeated from the header -----------------------------------------------------
LABELLED = {
    "Thời hạn: Tháng 12/2026": {"kind": "once", "due": date(2026, 12, 31)},
    "Thời gian thực hiện: Quý III/2026": {"kind": "once", "due": date(2026, 9, 30)},
    "Thời gian hoàn thành: Thường xuyên": {"kind": "ongoing"},
    "Thời hạn hoàn thành: Hằng quý": every(3),
    "Tiến độ: Giai đoạn 2026-2030": {
        "kind": "once",
        "start": date(2026, 1, 1),
        "due": date(2030, 12, 31),
    },
}


@check(LABELLED)
def test_a_label_repeated_from_the_header_is_skipped(phrase: str, meant: dict[str, Any]) -> None:
    assert understood(phrase) == meant


def test_a_label_alone_asks_for_a_deadline() -> None:
    with pytest.raises(ParseError) as caught:
        parse_deadline("Thời gian thực hiện:")
    assert "ở cuối cụm từ" in str(caught.value) and "cần một thời hạn" in str(caught.value)


# -- "theo định kỳ" and "6 tháng, năm" are periods, not references or errors ---------------
PERIODIC = {
    "theo định kỳ hằng quý": every(3),
    "Theo định kỳ hằng quý": every(3),
    "Báo cáo theo định kỳ hằng quý": every(3),
    "định kỳ hằng năm": every(12),
    "Định kỳ hằng năm": every(12),
    # Reports every 6 months and yearly: the yearly one falls on a half-year's end.
    "Định kỳ 6 tháng, năm": every(6),
    "Báo cáo định kỳ 6 tháng và năm": every(6),
    "Định kỳ hằng quý, 6 tháng, năm": every(3),
    "Định kỳ 6 tháng, hằng năm báo cáo về Sở Nội vụ": every(6, report_to="Sở Nội vụ"),
    # A year after the period is a bound, not a coarser report.
    "Hằng quý, năm 2026": every(3, start=date(2026, 1, 1), due=date(2026, 12, 31)),
}


@check(PERIODIC)
def test_theo_dinh_ky_and_combined_periods_are_recurrences(
    phrase: str, meant: dict[str, Any]
) -> None:
    assert understood(phrase) == meant


# -- plans issued in 2025–2026 ---------------------------------------------------------
CURRENT = {
    "Trước ngày 30/6/2026": {"kind": "once", "due": date(2026, 6, 29)},
    "Quý III/2026": {"kind": "once", "due": date(2026, 9, 30)},
    "Năm 2026 và các năm tiếp theo": every(12, start=date(2026, 1, 1)),
    "Giai đoạn 2026-2030": {"kind": "once", "start": date(2026, 1, 1), "due": date(2030, 12, 31)},
    "Hoàn thành trong tháng 9/2026": {"kind": "once", "due": date(2026, 9, 30)},
    "Trong năm 2026": {"kind": "once", "due": date(2026, 12, 31)},
    "6 tháng đầu năm 2026": {"kind": "once", "due": date(2026, 6, 30)},
    "Định kỳ trước ngày 15 tháng cuối quý": every(3, 14),
}


@check(CURRENT)
def test_phrasings_of_current_plans_are_understood(phrase: str, meant: dict[str, Any]) -> None:
    assert understood(phrase) == meant


REFUSED = {
    # Two quarters in one cell: which one is due?
    "Quý III, IV/2026": "IV",
    # Two adjacent years: one span or two deadlines? (Several dates are read when they
    # leave a gap, or when each is named: "Sơ kết: …; Tổng kết: …".)
    "Năm 2026, 2027": "Năm 2026, 2027",
}


@pytest.mark.parametrize("phrase", REFUSED)
def test_phrasings_dondoc_cannot_place_are_refused_where_they_stop(phrase: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_deadline(phrase)
    assert caught.value.fragment == REFUSED[phrase]
    assert str(caught.value).startswith(f"Chưa hiểu thời hạn “{phrase}”")


def test_a_deadline_stored_before_report_to_existed_still_loads() -> None:
    stored = {"version": 1, "phrase": "Hàng quý", "kind": "recurring",
              "recurrence": {"every_months": 3, "day": None, "month_in_period": None}}  # fmt: skip
    assert Deadline.from_dict(stored).report_to is None
