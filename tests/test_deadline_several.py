"""Cells the blind test of other provinces' plans found refused: several dates in one
cell, a point then every period, "from then on", and a report order after "định kỳ".
Each is read as a person reads it, said back in Vietnamese and English, or refused
where it could mean two things."""

from __future__ import annotations

from datetime import date
from itertools import islice

import pytest

from rules.deadline import Deadline, ParseError, Recurrence, parse_deadline


def dates(phrase: str, after: date, n: int = 6) -> list[date]:
    return list(islice(parse_deadline(phrase).occurrences(after), n))


# -- 1. several months, every year ----------------------------------------------------
@pytest.mark.parametrize(
    "phrase",
    [
        "Tháng 6 và tháng 12 hằng năm",
        "Tháng 6, tháng 12 hằng năm",
        "Trong tháng 6 và tháng 12 hằng năm",
        "tháng 6 và 12 hàng năm",
        "Thang 6, thang 12 hang nam",
    ],
)
def test_two_evenly_spaced_months_every_year_are_a_six_monthly_recurrence(phrase: str) -> None:
    deadline = parse_deadline(phrase)
    assert (deadline.kind, deadline.recurrence) == ("recurring", Recurrence(6))
    assert dates(phrase, date(2026, 1, 1), 3) == [
        date(2026, 6, 30), date(2026, 12, 31), date(2027, 6, 30)
    ]  # fmt: skip
    assert deadline.describe() == ("Định kỳ 6 tháng một lần, hạn là ngày cuối cùng của kỳ 6 tháng.")


def test_any_months_every_year_are_one_yearly_part_each() -> None:
    deadline = parse_deadline("Tháng 3 và tháng 10 hằng năm")
    assert deadline.kind == "recurring"
    assert [p.recurrence for p in deadline.parts] == [
        Recurrence(12, None, 3),
        Recurrence(12, None, 10),
    ]
    assert dates("Tháng 3 và tháng 10 hằng năm", date(2026, 4, 1), 3) == [
        date(2026, 10, 31), date(2027, 3, 31), date(2027, 10, 31)
    ]  # fmt: skip
    assert deadline.describe() == (
        "Gồm 2 thời hạn, đôn đốc lần lượt từng hạn: (1) Định kỳ hằng năm, hạn là ngày 31/03;"
        " (2) Định kỳ hằng năm, hạn là ngày 31/10."
    )
    assert deadline.describe("en") == (
        "2 deadlines, each chased in turn: (1) Recurring every year, due on 31 March;"
        " (2) Recurring every year, due on 31 October."
    )


def test_three_months_and_a_day_in_uneven_months_and_bounds_apply_to_every_part() -> None:
    assert parse_deadline("tháng 3, 6, 9 và 12 hằng năm").recurrence == Recurrence(3)
    assert dates("ngày 15/5 và 15/12 hằng năm", date(2026, 1, 1), 3) == [
        date(2026, 5, 15), date(2026, 12, 15), date(2027, 5, 15)
    ]  # fmt: skip
    bounded = parse_deadline("Tháng 3 và tháng 10 hằng năm, giai đoạn 2026 - 2027")
    assert bounded.due == date(2027, 10, 31)
    assert list(bounded.occurrences(date(2020, 1, 1))) == [
        date(2026, 3, 31), date(2026, 10, 31), date(2027, 3, 31), date(2027, 10, 31)
    ]  # fmt: skip


# -- 2. a point, then every period ------------------------------------------------------
def test_before_a_day_and_every_year_is_due_that_day_each_year_from_then() -> None:
    deadline = parse_deadline("Trước ngày 15/12/2025 và hằng năm")
    assert (deadline.kind, deadline.start) == ("recurring", date(2025, 12, 14))
    assert deadline.recurrence == Recurrence(12, 14, None)
    assert dates("Trước ngày 15/12/2025 và hằng năm", date(2025, 1, 1), 3) == [
        date(2025, 12, 14), date(2026, 12, 14), date(2027, 12, 14)
    ]  # fmt: skip
    assert deadline.describe() == ("Định kỳ hằng năm, hạn là ngày 14/12; lần đầu ngày 14/12/2025.")
    assert (
        deadline.describe("en")
        == "Recurring every year, due on 14 December; first on 14 December 2025."
    )


@pytest.mark.parametrize(
    ("phrase", "first", "rec"),
    [
        ("Quý IV/2025 và hằng năm", date(2025, 12, 31), Recurrence(12)),
        ("Quý II/2025 và hằng năm", date(2025, 6, 30), Recurrence(12, None, 6)),
        ("Tháng 6/2026 và hằng năm", date(2026, 6, 30), Recurrence(12, None, 6)),
        ("Năm 2026 và hằng năm", date(2026, 12, 31), Recurrence(12)),
        ("Quý IV/2025 và hằng quý", date(2025, 12, 31), Recurrence(3)),
        ("Tháng 12/2025 và hằng quý", date(2025, 12, 31), Recurrence(3)),
        ("Ngày 20/6/2026 và hằng năm", date(2026, 6, 20), Recurrence(12, 20, 6)),
    ],
)
def test_a_point_and_every_period_starts_with_the_point(
    phrase: str, first: date, rec: Recurrence
) -> None:
    deadline = parse_deadline(phrase)
    assert (deadline.kind, deadline.recurrence) == ("recurring", rec)
    assert deadline.first_occurrence(date(2000, 1, 1)) == first
    assert f"lần đầu ngày {first:%d/%m/%Y}" in deadline.describe()


@pytest.mark.parametrize(
    ("phrase", "fragment"),
    [
        # Quarterly after a month not ending a quarter: the 30th of Nov, Feb…, or quarter ends?
        ("Tháng 11/2025 và hằng quý", "Tháng 11/2025 và hằng quý"),
        # A year does not repeat every quarter: a 2026 deadline with quarterly reports?
        ("Năm 2026 và hằng quý", "Năm 2026 và hằng quý"),
        ("Ngày 15/12/2025 và hằng quý", "Ngày 15/12/2025 và hằng quý"),
    ],
)
def test_a_point_and_a_period_that_could_mean_two_things_is_refused(
    phrase: str, fragment: str
) -> None:
    with pytest.raises(ParseError) as caught:
        parse_deadline(phrase)
    assert caught.value.fragment == fragment
    assert "một chu kỳ không mơ hồ sau “và”" in str(caught.value)
    assert "not ambiguous" in caught.value.message("en")


# -- 3. from a point on -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("phrase", "start"),
    [
        ("Từ năm 2026", date(2026, 1, 1)),
        ("Từ năm 2026 trở đi", date(2026, 1, 1)),
        ("Kể từ Quý II/2026", date(2026, 4, 1)),
        ("Từ Quý II/2026", date(2026, 4, 1)),
        ("Từ tháng 7/2026 trở đi", date(2026, 7, 1)),
        ("From 2026 onwards", date(2026, 1, 1)),
    ],
)
def test_from_a_point_on_is_ongoing_with_a_start(phrase: str, start: date) -> None:
    deadline = parse_deadline(phrase)
    assert (deadline.kind, deadline.start, deadline.due) == ("ongoing", start, None)
    assert deadline.describe() == (
        f"Thực hiện thường xuyên kể từ ngày {start:%d/%m/%Y}, không có hạn chót cố định;"
        " trước ngày đó chưa phải thực hiện, từ ngày đó nhắc việc theo lịch kiểm tra định kỳ."
    )


def test_from_one_point_to_another_is_still_a_window() -> None:
    window = parse_deadline("Từ năm 2026 đến năm 2027")
    assert (window.kind, window.start, window.due) == ("once", date(2026, 1, 1), date(2027, 12, 31))


# -- 4 and 6. several one-off deadlines, with or without labels -------------------------
@pytest.mark.parametrize(
    ("phrase", "dues"),
    [
        ("Quý I/2026, Quý III/2026", [date(2026, 3, 31), date(2026, 9, 30)]),
        ("Tháng 3/2026; tháng 9/2026", [date(2026, 3, 31), date(2026, 9, 30)]),
        ("Quý I/2026 và Quý III/2026", [date(2026, 3, 31), date(2026, 9, 30)]),
        (
            "30/6/2026, 31/12/2026, 30/6/2027",
            [date(2026, 6, 30), date(2026, 12, 31), date(2027, 6, 30)],
        ),
        ("Trước ngày 15/3/2026; trước ngày 15/9/2026", [date(2026, 3, 14), date(2026, 9, 14)]),
    ],
)
def test_a_list_of_dates_is_several_one_off_deadlines_owed_in_turn(
    phrase: str, dues: list[date]
) -> None:
    deadline = parse_deadline(phrase)
    assert deadline.kind == "once" and deadline.series
    assert [p.due for p in deadline.parts] == dues
    assert deadline.due == dues[-1]
    assert list(deadline.occurrences(date(2000, 1, 1))) == dues
    assert Deadline.from_dict(deadline.to_dict()) == deadline


def test_a_list_says_each_date_in_vietnamese_and_english() -> None:
    deadline = parse_deadline("Quý I/2026, Quý III/2026")
    assert deadline.describe() == (
        "Gồm 2 thời hạn, đôn đốc lần lượt từng hạn: (1) Hạn chót ngày 31/03/2026;"
        " (2) Hạn chót ngày 30/09/2026."
    )
    assert deadline.describe("en") == (
        "2 deadlines, each chased in turn: (1) Due by 31 March 2026; (2) Due by 30 September 2026."
    )


@pytest.mark.parametrize(
    "phrase",
    [
        "- Sơ kết: Tháng 6/2026\n- Tổng kết: Tháng 12/2026",
        "Sơ kết: Tháng 6/2026\nTổng kết: Tháng 12/2026",
        "• Sơ kết: Tháng 6/2026\n• Tổng kết: Tháng 12/2026",
        "+ Sơ kết: tháng 6/2026;\n+ Tổng kết: tháng 12/2026.",
        "Sơ kết: Tháng 6/2026; Tổng kết: Tháng 12/2026",
    ],
)
def test_named_milestones_keep_their_labels(phrase: str) -> None:
    deadline = parse_deadline(phrase)
    assert [(p.label, p.due) for p in deadline.parts] == [
        ("Sơ kết", date(2026, 6, 30)), ("Tổng kết", date(2026, 12, 31))
    ]  # fmt: skip
    assert deadline.part_for(date(2026, 12, 31)) == deadline.parts[1]
    assert deadline.describe() == (
        "Gồm 2 thời hạn, đôn đốc lần lượt từng hạn: (1) Sơ kết: hạn chót ngày 30/06/2026;"
        " (2) Tổng kết: hạn chót ngày 31/12/2026."
    )


@pytest.mark.parametrize(
    "phrase",
    [
        "Quý II/2026 (sơ kết), Quý IV/2026 (tổng kết)",
        "Quý II/2026 (sơ kết); Quý IV/2026 (tổng kết).",
        "Tháng 6/2026 (sơ kết) và tháng 12/2026 (tổng kết)",
    ],
)
def test_a_label_in_brackets_after_each_date_names_that_date(phrase: str) -> None:
    deadline = parse_deadline(phrase)
    assert [(p.label, p.due) for p in deadline.parts] == [
        ("sơ kết", date(2026, 6, 30)), ("tổng kết", date(2026, 12, 31))
    ]  # fmt: skip
    assert deadline.note is None


def test_a_bracket_after_the_last_date_alone_is_the_whole_cells_note() -> None:
    deadline = parse_deadline("Quý I/2026, Quý III/2026 (trình UBND tỉnh)")
    assert [(p.label, p.due) for p in deadline.parts] == [
        (None, date(2026, 3, 31)), (None, date(2026, 9, 30))
    ]  # fmt: skip
    assert deadline.note == "trình UBND tỉnh"


def test_a_label_may_hold_and_and_a_bulleted_window_stays_one_item() -> None:
    labelled = parse_deadline("Sơ kết và khen thưởng: Quý II/2026; Tổng kết: Quý IV/2026")
    assert [p.label for p in labelled.parts] == ["Sơ kết và khen thưởng", "Tổng kết"]
    bullets = parse_deadline("- Giai đoạn 1: 2026 - 2027\n- Giai đoạn 2: Năm 2030")
    assert [(p.start, p.due) for p in bullets.parts] == [
        (date(2026, 1, 1), date(2027, 12, 31)), (None, date(2030, 12, 31))
    ]  # fmt: skip


@pytest.mark.parametrize(
    "phrase", ["Năm 2026, 2027", "Quý I/2026, Quý II/2026", "Tháng 5/2026 và tháng 6/2026"]
)
def test_two_adjacent_periods_could_be_one_span_and_are_refused(phrase: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_deadline(phrase)
    assert "hai kỳ liền nhau có thể là một giai đoạn" in str(caught.value)
    assert caught.value.fragment == phrase


def test_a_window_with_a_dash_is_not_a_list() -> None:
    window = parse_deadline("Tháng 6/2026 - Tháng 12/2026")
    assert (window.kind, window.start, window.due, window.parts) == (
        "once", date(2026, 6, 1), date(2026, 12, 31), ()
    )  # fmt: skip


# -- 5. a deadline and a periodic report -------------------------------------------------
@pytest.mark.parametrize(
    "phrase", ["Năm 2026; định kỳ báo cáo 6 tháng", "Năm 2026, báo cáo định kỳ 6 tháng"]
)
def test_a_year_and_a_six_monthly_report_are_the_reports_of_that_year(phrase: str) -> None:
    deadline = parse_deadline(phrase)
    assert (deadline.kind, deadline.recurrence) == ("recurring", Recurrence(6))
    assert (deadline.start, deadline.due) == (date(2026, 1, 1), date(2026, 12, 31))
    assert list(deadline.occurrences(date(2025, 1, 1))) == [date(2026, 6, 30), date(2026, 12, 31)]
    assert deadline.describe() == (
        "Định kỳ 6 tháng một lần, hạn là ngày cuối cùng của kỳ 6 tháng; từ ngày 01/01/2026,"
        " lần đầu ngày 30/06/2026, lần cuối ngày 31/12/2026."
    )


def test_parts_are_checked_when_loaded() -> None:
    good = parse_deadline("Quý I/2026, Quý III/2026").to_dict()
    with pytest.raises(ValueError, match="parts"):
        Deadline.from_dict({**good, "parts": good["parts"][:1]})
    with pytest.raises(ValueError, match="last"):
        Deadline.from_dict({**good, "due": "2026-03-31"})
