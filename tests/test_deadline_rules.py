"""Each rule of the deadline language (issue 3), one table per rule."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

import pytest

from rules.deadline import Deadline, Recurrence, parse_deadline


def understood(phrase: str) -> dict[str, Any]:
    """What the parser made of `phrase`, without empty fields."""
    deadline: Deadline = parse_deadline(phrase)
    data = {
        "kind": deadline.kind,
        "start": deadline.start,
        "target": deadline.target,
        "due": deadline.due,
        "recurrence": deadline.recurrence,
        "depends_on": deadline.depends_on,
        "note": deadline.note,
    }
    return {key: value for key, value in data.items() if value is not None}


def once(due: date, **fields: Any) -> dict[str, Any]:
    return {"kind": "once", "due": due, **fields}


def every(months: int, day: int | None = None, nth: int | None = None, **fields: Any) -> dict:
    return {"kind": "recurring", "recurrence": Recurrence(months, day, nth), **fields}


def external(depends_on: str) -> dict[str, Any]:
    return {"kind": "external", "depends_on": depends_on}


def check(table: dict[str, dict[str, Any]]) -> Any:
    return pytest.mark.parametrize(("phrase", "meant"), list(table.items()), ids=list(table))


MONTHS = {
    "Tháng 12/2022": once(date(2022, 12, 31)),
    "tháng 12 năm 2022": once(date(2022, 12, 31)),
    "12/2022": once(date(2022, 12, 31)),
    "tháng 12-2022": once(date(2022, 12, 31)),
    "tháng 12.2022": once(date(2022, 12, 31)),
    "T12/2022": once(date(2022, 12, 31)),
    "Tháng XII/2022": once(date(2022, 12, 31)),
    "2022-12": once(date(2022, 12, 31)),
    "Tháng 2/2024": once(date(2024, 2, 29)),
    "Tháng 2/2023": once(date(2023, 2, 28)),
    "December 2022": once(date(2022, 12, 31)),
    "Dec. 2022": once(date(2022, 12, 31)),
}


@check(MONTHS)
def test_a_month_is_due_on_its_last_day(phrase: str, meant: dict[str, Any]) -> None:
    assert understood(phrase) == meant


QUARTERS_HALVES_YEARS = {
    "Quý II/2023": once(date(2023, 6, 30)),
    "quý I năm 2023": once(date(2023, 3, 31)),
    "Quý 3/2023": once(date(2023, 9, 30)),
    "Q2 2023": once(date(2023, 6, 30)),
    "Q4-2023": once(date(2023, 12, 31)),
    "QIV/2023": once(date(2023, 12, 31)),
    "quý Tư năm 2023": once(date(2023, 12, 31)),
    "2023 Q2": once(date(2023, 6, 30)),
    "the second quarter of 2023": once(date(2023, 6, 30)),
    "quarter 3 of 2023": once(date(2023, 9, 30)),
    "6 tháng đầu năm 2023": once(date(2023, 6, 30)),
    "6 tháng cuối năm 2023": once(date(2023, 12, 31)),
    "nửa đầu năm 2023": once(date(2023, 6, 30)),
    "9 tháng đầu năm 2023": once(date(2023, 9, 30)),
    "H1 2023": once(date(2023, 6, 30)),
    "H2/2023": once(date(2023, 12, 31)),
    "the first half of 2023": once(date(2023, 6, 30)),
    "the first 9 months of 2023": once(date(2023, 9, 30)),
    "Năm 2024": once(date(2024, 12, 31)),
    "Trong năm 2022": once(date(2022, 12, 31)),
    "2024": once(date(2024, 12, 31)),
    "cuối năm 2024": once(date(2024, 12, 31)),
    "end of 2024": once(date(2024, 12, 31)),
    "đến hết năm 2025": once(date(2025, 12, 31)),
}


@check(QUARTERS_HALVES_YEARS)
def test_a_quarter_half_or_year_is_due_on_its_last_day(phrase: str, meant: dict[str, Any]) -> None:
    assert understood(phrase) == meant


DAYS = {
    "ngày 15/3/2023": once(date(2023, 3, 15)),
    "15/03/2023": once(date(2023, 3, 15)),
    "ngày 15 tháng 3 năm 2023": once(date(2023, 3, 15)),
    "2023-03-15": once(date(2023, 3, 15)),
    "15-3-2023": once(date(2023, 3, 15)),
    "15.03.2023": once(date(2023, 3, 15)),
    "15 March 2023": once(date(2023, 3, 15)),
    "March 15, 2023": once(date(2023, 3, 15)),
    "the 15th of March 2023": once(date(2023, 3, 15)),
    "29/02/2024": once(date(2024, 2, 29)),
}


@check(DAYS)
def test_a_day_is_read_in_every_usual_format(phrase: str, meant: dict[str, Any]) -> None:
    assert understood(phrase) == meant


RELATIONS = {
    "trước ngày 20/12/2022": once(date(2022, 12, 19)),
    "trước tháng 6/2023": once(date(2023, 5, 31)),
    "trước quý III/2023": once(date(2023, 6, 30)),
    "trước năm 2024": once(date(2023, 12, 31)),
    "trước ngày 01/03/2024": once(date(2024, 2, 29)),
    "hoàn thành trước 30/6/2023": once(date(2023, 6, 29)),
    "before 1 January 2024": once(date(2023, 12, 31)),
    "chậm nhất tháng 3/2023": once(date(2023, 3, 31)),
    "chậm nhất là ngày 31/3/2023": once(date(2023, 3, 31)),
    "không muộn hơn ngày 31/3/2023": once(date(2023, 3, 31)),
    "trong tháng 3/2023": once(date(2023, 3, 31)),
    "hoàn thành tháng 3/2023": once(date(2023, 3, 31)),
    "Hoàn thành trong quý I/2023": once(date(2023, 3, 31)),
    "đến hết tháng 3/2023": once(date(2023, 3, 31)),
    "by March 2023": once(date(2023, 3, 31)),
    "no later than 31/03/2023": once(date(2023, 3, 31)),
    "within Q1 2023": once(date(2023, 3, 31)),
    "March 2023 at the latest": once(date(2023, 3, 31)),
}


@check(RELATIONS)
def test_before_is_strict_and_latest_in_or_by_include_the_point(
    phrase: str, meant: dict[str, Any]
) -> None:
    assert understood(phrase) == meant


TARGET_AND_LATEST = {
    "Tháng 11/2022, chậm nhất tháng 3/2023": once(date(2023, 3, 31), target=date(2022, 11, 30)),
    "Phấn đấu hoàn thành tháng 11/2022, chậm nhất tháng 3/2023": once(
        date(2023, 3, 31), target=date(2022, 11, 30)
    ),
    "Phấn đấu hoàn thành trước 15/11/2022, chậm nhất 31/12/2022": once(
        date(2022, 12, 31), target=date(2022, 11, 14)
    ),
    "Quý II/2023 (chậm nhất quý III/2023)": once(date(2023, 9, 30), target=date(2023, 6, 30)),
    "Tháng 12/2022 và chậm nhất Tháng 3/2023": once(date(2023, 3, 31), target=date(2022, 12, 31)),
    "Tháng 3/2023, chậm nhất tháng 3/2023": once(date(2023, 3, 31), target=date(2023, 3, 31)),
    "Phấn đấu hoàn thành trong Quý I/2023": once(date(2023, 3, 31), target=date(2023, 3, 31)),
    "by November 2022 at the latest March 2023": once(date(2023, 3, 31), target=date(2022, 11, 30)),
    "by November 2022, at the latest March 2023": once(
        date(2023, 3, 31), target=date(2022, 11, 30)
    ),
}


@check(TARGET_AND_LATEST)
def test_a_target_and_a_latest_date_keep_both(phrase: str, meant: dict[str, Any]) -> None:
    assert understood(phrase) == meant


WINDOWS = {
    "Giai đoạn 2023 - 2025": once(date(2025, 12, 31), start=date(2023, 1, 1)),
    "giai đoạn 2023-2025": once(date(2025, 12, 31), start=date(2023, 1, 1)),
    "2023–2025": once(date(2025, 12, 31), start=date(2023, 1, 1)),
    "trong giai đoạn 2021 - 2025": once(date(2025, 12, 31), start=date(2021, 1, 1)),
    "từ năm 2023 đến năm 2025": once(date(2025, 12, 31), start=date(2023, 1, 1)),
    "Năm 2023 - 2024": once(date(2024, 12, 31), start=date(2023, 1, 1)),
    "tháng 3 - 6/2023": once(date(2023, 6, 30), start=date(2023, 3, 1)),
    "Quý I - II/2023": once(date(2023, 6, 30), start=date(2023, 1, 1)),
    "từ quý II/2023 đến quý IV/2023": once(date(2023, 12, 31), start=date(2023, 4, 1)),
    "1/3 - 15/3/2023": once(date(2023, 3, 15), start=date(2023, 3, 1)),
    "from 2023 to 2025": once(date(2025, 12, 31), start=date(2023, 1, 1)),
    "between 2023 and 2025": once(date(2025, 12, 31), start=date(2023, 1, 1)),
}


@check(WINDOWS)
def test_a_window_starts_at_its_first_point_and_is_due_at_the_end_of_its_last(
    phrase: str, meant: dict[str, Any]
) -> None:
    assert understood(phrase) == meant


ONGOING: dict[str, dict[str, Any]] = {
    "Thường xuyên": {"kind": "ongoing"},
    "thường xuyên, liên tục": {"kind": "ongoing"},
    "Liên tục": {"kind": "ongoing"},
    "ongoing": {"kind": "ongoing"},
    "on a regular basis": {"kind": "ongoing"},
    "Thường xuyên (giai đoạn 2023-2025)": {
        "kind": "ongoing",
        "start": date(2023, 1, 1),
        "due": date(2025, 12, 31),
    },
}


@check(ONGOING)
def test_ongoing_work_has_no_due_date(phrase: str, meant: dict[str, Any]) -> None:
    assert understood(phrase) == meant


RECURRING = {
    "Hàng tháng": every(1),
    "Hằng tháng": every(1),
    "định kỳ hàng tháng": every(1),
    "Monthly": every(1),
    "every month": every(1),
    "Hàng quý": every(3),
    "quarterly": every(3),
    "3 tháng một lần": every(3),
    "every 3 months": every(3),
    "6 tháng một lần": every(6),
    "6 tháng/lần": every(6),
    "định kỳ 6 tháng": every(6),
    "half-yearly": every(6),
    "twice a year": every(6),
    "Hàng năm": every(12),
    "annually": every(12),
    "every 2 months": every(2),
    "trước ngày 20 tháng cuối quý": every(3, 19),
    "ngày 15 hàng tháng": every(1, 15),
    "trước ngày 25 hàng tháng": every(1, 24),
    "Hàng quý, trước ngày 20 tháng cuối quý": every(3, 19),
    "trước ngày 15 tháng đầu quý": every(3, 14, 1),
    "ngày 10 tháng thứ hai của quý": every(3, 10, 2),
    "ngày cuối cùng hằng tháng": every(1),
    "ngày 31 hàng tháng": every(1, 31),
    "ngày 15/12 hằng năm": every(12, 15),
    "ngày 15 tháng 6 hằng năm": every(12, 15, 6),
    "Tháng 6 hằng năm": every(12, None, 6),
    "trước ngày 15/6 và 15/12 hằng năm": every(6, 14),
    "ngày 15/3, 15/6, 15/9 và 15/12 hằng năm": every(3, 15),
    "trước ngày 1 hàng tháng": every(1),
    "trước ngày 01/01 hằng năm": every(12),
    "Hàng tháng (trước ngày 25)": every(1, 24),
    "before the 20th of the last month of each quarter": every(3, 19),
    "on the 15th of every month": every(1, 15),
    "by the 25th of each month": every(1, 25),
}


@check(RECURRING)
def test_a_recurrence_names_its_period_and_day(phrase: str, meant: dict[str, Any]) -> None:
    assert understood(phrase) == meant


BOUNDED_OR_NOTED = {
    "Hàng quý, giai đoạn 2023 - 2025": every(3, start=date(2023, 1, 1), due=date(2025, 12, 31)),
    "Hàng quý, trước ngày 20 tháng cuối quý, giai đoạn 2023-2025": every(
        3, 19, start=date(2023, 1, 1), due=date(2025, 12, 19)
    ),
    "Hàng quý (giai đoạn 2023-2025)": every(3, start=date(2023, 1, 1), due=date(2025, 12, 31)),
    "Hàng tháng từ tháng 7/2023": every(1, start=date(2023, 7, 1)),
    "Hàng tháng đến hết tháng 6/2024": every(1, due=date(2024, 6, 30)),
    "quarterly until 2024": every(3, due=date(2024, 12, 31)),
    "Hàng quý hoặc đột xuất": every(3, note="hoặc đột xuất"),
    "Hàng tháng và đột xuất": every(1, note="và đột xuất"),
    "Quarterly or ad hoc": every(3, note="or ad hoc"),
    "Hàng quý, trước ngày 20 tháng cuối quý hoặc đột xuất": every(3, 19, note="hoặc đột xuất"),
    "Thường xuyên, hằng năm": every(12, note="Thường xuyên"),
}


ONWARDS_AND_LEADING_BOUNDS = {
    "Năm 2022 và các năm tiếp theo": every(12, start=date(2022, 1, 1)),
    "Quý IV/2022 và các quý tiếp theo": every(3, start=date(2022, 10, 1)),
    "15/3/2023 và các năm tiếp theo": every(12, 15, 3, start=date(2023, 3, 15)),
    "2022 and the following years": every(12, start=date(2022, 1, 1)),
    "Giai đoạn 2021-2025, định kỳ hằng năm": every(
        12, start=date(2021, 1, 1), due=date(2025, 12, 31)
    ),
    "Năm 2023, hàng quý": every(3, start=date(2023, 1, 1), due=date(2023, 12, 31)),
    "Trước ngày 10 của tháng đầu quý sau": every(3, 9, 1),
    "before the 10th of the first month of the following quarter": every(3, 9, 1),
    "Hằng năm (báo cáo trước ngày 15/12)": every(12, 14),
}


@check(ONWARDS_AND_LEADING_BOUNDS)
def test_a_recurrence_may_start_from_a_point_or_name_its_bounds_first(
    phrase: str, meant: dict[str, Any]
) -> None:
    assert understood(phrase) == meant


@check(BOUNDED_OR_NOTED)
def test_a_recurrence_keeps_its_bounds_and_notes(phrase: str, meant: dict[str, Any]) -> None:
    assert understood(phrase) == meant


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


SAME_AS = {
    "THÁNG 12/2022": "Tháng 12/2022",
    "tháng   12 / 2022": "Tháng 12/2022",
    "Thang 12/2022": "Tháng 12/2022",
    " Tháng 12/2022. ": "Tháng 12/2022",
    "Tháng\u00a012/2022": "Tháng 12/2022",
    "Th\u200báng 12/2022": "Tháng 12/2022",
    nfd("Tháng 12/2022"): "Tháng 12/2022",
    "thuong xuyen": "Thường xuyên",
    "THƯỜNG XUYÊN": "Thường xuyên",
    "hang quy": "Hàng quý",
    nfd("Hằng quý"): "Hàng quý",
    "Quy II/2023": "Quý II/2023",
    "quý ii/2023": "Quý II/2023",
    "Quý 2/2023": "Quý II/2023",
    "Giai doan 2023 - 2025": "Giai đoạn 2023 - 2025",
    "Thang 11/2022, cham nhat thang 3/2023": "Tháng 11/2022, chậm nhất tháng 3/2023",
    nfd("Tháng 11/2022, chậm nhất tháng 3/2023"): "Tháng 11/2022, chậm nhất tháng 3/2023",
    "truoc ngay 20 thang cuoi quy": "trước ngày 20 tháng cuối quý",
    nfd("Theo tiến độ của Đề án 06"): "Theo tiến độ của Đề án 06",
    "Quí II/2023": "Quý II/2023",
    "Định kì hằng quý": "Hàng quý",
    "Tháng12/2022": "Tháng 12/2022",
    "Quý II.2023": "Quý II/2023",
}


@pytest.mark.parametrize(("typed", "canonical"), list(SAME_AS.items()), ids=list(SAME_AS))
def test_case_spacing_diacritics_and_unicode_form_do_not_change_the_reading(
    typed: str, canonical: str
) -> None:
    assert understood(typed) == understood(canonical)


def test_a_reference_typed_without_diacritics_is_kept_as_typed() -> None:
    assert understood("Theo tien do cua De an 06") == external("De an 06")


def test_the_deadline_keeps_the_phrase_verbatim() -> None:
    typed = nfd("  Hàng quý ")

    assert parse_deadline(typed).phrase == typed
