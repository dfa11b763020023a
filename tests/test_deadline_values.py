"""Deadline values: the dates they yield, how they are stored, how they describe themselves."""

from __future__ import annotations

import json
from datetime import date
from itertools import islice
from typing import Any

import pytest

from rules.deadline import Deadline, Recurrence, parse_deadline

OCCURRENCES = {
    "quarter ends": (Recurrence(3), date(2023, 5, 1), ["2023-06-30", "2023-09-30", "2023-12-31"]),
    "the 19th of each quarter's last month": (
        Recurrence(3, 19),
        date(2023, 3, 20),
        ["2023-06-19", "2023-09-19", "2023-12-19"],
    ),
    "day 31 shortened to the month's end": (
        Recurrence(1, 31),
        date(2024, 1, 31),
        ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"],
    ),
    "the 14th of each quarter's first month": (
        Recurrence(3, 14, 1),
        date(2023, 1, 15),
        ["2023-04-14", "2023-07-14", "2023-10-14"],
    ),
    "15 June every year": (Recurrence(12, 15, 6), date(2023, 6, 16), ["2024-06-15", "2025-06-15"]),
    "half-year ends": (Recurrence(6), date(2023, 7, 1), ["2023-12-31", "2024-06-30"]),
    "every 2 months": (Recurrence(2), date(2023, 1, 1), ["2023-02-28", "2023-04-30"]),
    "the day itself counts": (Recurrence(1, 15), date(2023, 3, 15), ["2023-03-15", "2023-04-15"]),
}


@pytest.mark.parametrize(
    ("recurrence", "after", "expected"), list(OCCURRENCES.values()), ids=list(OCCURRENCES)
)
def test_a_recurrence_yields_its_due_dates_from_the_given_day_on(
    recurrence: Recurrence, after: date, expected: list[str]
) -> None:
    dates = islice(recurrence.occurrences(after), len(expected))

    assert [d.isoformat() for d in dates] == expected


@pytest.mark.parametrize(
    "arguments",
    [(5,), (0,), (24,), (1, 0), (1, 32), (3, None, 4), (3, None, 0)],
    ids=str,
)
def test_a_recurrence_that_cannot_tile_the_year_is_refused(arguments: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError):
        Recurrence(*arguments)


# phrase, after, how many dates to ask for, the dates expected (fewer when it runs out)
DEADLINE_DATES = {
    "a one-off due on the day": ("Tháng 12/2022", date(2022, 12, 31), 3, ["2022-12-31"]),
    "a one-off already past": ("Tháng 12/2022", date(2023, 1, 1), 3, []),
    "ongoing work": ("Thường xuyên", date(2023, 1, 1), 3, []),
    "an external milestone": ("Theo tiến độ của Đề án 06", date(2023, 1, 1), 3, []),
    "a recurrence bounded by its window": (
        "Hàng năm, giai đoạn 2023 - 2025",
        date(2020, 1, 1),
        5,
        ["2023-12-31", "2024-12-31", "2025-12-31"],
    ),
    "a recurrence from a start": (
        "Hàng quý, từ quý III/2023",
        date(2023, 1, 1),
        2,
        ["2023-09-30", "2023-12-31"],
    ),
}


@pytest.mark.parametrize(
    ("phrase", "after", "take", "expected"),
    list(DEADLINE_DATES.values()),
    ids=list(DEADLINE_DATES),
)
def test_a_deadline_yields_its_due_dates_on_or_after_a_day(
    phrase: str, after: date, take: int, expected: list[str]
) -> None:
    dates = islice(parse_deadline(phrase).occurrences(after), take)

    assert [d.isoformat() for d in dates] == expected


def test_the_first_occurrence_is_none_once_a_bounded_recurrence_is_over() -> None:
    deadline = parse_deadline("Hàng năm, giai đoạn 2023 - 2025")

    assert deadline.first_occurrence(date(2025, 6, 1)) == date(2025, 12, 31)
    assert deadline.first_occurrence(date(2026, 1, 1)) is None


STORED = [
    "Tháng 11/2022, chậm nhất tháng 3/2023",
    "Giai đoạn 2023 - 2025",
    "Hàng quý, trước ngày 20 tháng cuối quý, giai đoạn 2023-2025",
    "ngày 15 tháng 6 hằng năm",
    "Thường xuyên",
    "Theo tiến độ của Đề án 06",
    "Trong năm 2022 (sau khi …)",
    "Thường xuyên; định kỳ 6 tháng báo cáo về Sở Nội vụ",
    "Theo yêu cầu của UBND tỉnh",
]


@pytest.mark.parametrize("phrase", STORED)
def test_a_deadline_survives_a_round_trip_through_json(phrase: str) -> None:
    deadline = parse_deadline(phrase)

    stored = json.loads(json.dumps(deadline.to_dict()))

    assert Deadline.from_dict(stored) == deadline


def test_the_stored_form_uses_iso_dates() -> None:
    stored = parse_deadline("Hàng quý, trước ngày 20 tháng cuối quý, giai đoạn 2023-2025").to_dict()

    assert stored == {
        "version": 1,
        "phrase": "Hàng quý, trước ngày 20 tháng cuối quý, giai đoạn 2023-2025",
        "kind": "recurring",
        "start": "2023-01-01",
        "target": None,
        "due": "2025-12-19",
        "recurrence": {"every_months": 3, "day": 19, "month_in_period": None},
        "depends_on": None,
        "note": None,
        "report_to": None,
    }


BAD_STORED = {
    "an unknown kind": {"phrase": "x", "kind": "sometimes"},
    "a date that is not ISO": {"phrase": "x", "kind": "once", "due": "31/12/2022"},
    "a date that is not text": {"phrase": "x", "kind": "once", "due": 20221231},
    "a once without a due date": {"phrase": "x", "kind": "once"},
    "a recurring without a recurrence": {"phrase": "x", "kind": "recurring"},
    "a recurrence of five months": {
        "phrase": "x",
        "kind": "recurring",
        "recurrence": {"every_months": 5},
    },
    "a recurrence that is not an object": {"phrase": "x", "kind": "recurring", "recurrence": 3},
    "a newer format": {"version": 2, "phrase": "x", "kind": "ongoing"},
    "no phrase": {"kind": "ongoing"},
    "a start after the due date": {
        "phrase": "x",
        "kind": "once",
        "start": "2024-01-01",
        "due": "2023-12-31",
    },
}


@pytest.mark.parametrize("data", list(BAD_STORED.values()), ids=list(BAD_STORED))
def test_stored_data_dondoc_did_not_write_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Deadline.from_dict(data)


DESCRIBED = {
    "Tháng 12/2022": ("Hạn chót ngày 31/12/2022.", "Due by 31 December 2022."),
    "Tháng 11/2022, chậm nhất tháng 3/2023": (
        "Phấn đấu hoàn thành ngày 30/11/2022, hạn chót ngày 31/03/2023.",
        "Target 30 November 2022, due by 31 March 2023.",
    ),
    "Giai đoạn 2023 - 2025": (
        "Thực hiện từ ngày 01/01/2023, hạn chót ngày 31/12/2025.",
        "From 1 January 2023, due by 31 December 2025.",
    ),
    "Hàng quý": (
        "Định kỳ hằng quý, hạn là ngày cuối cùng của quý.",
        "Recurring every quarter, due on the last day of the quarter.",
    ),
    "trước ngày 20 tháng cuối quý": (
        "Định kỳ hằng quý, hạn là ngày 19 của tháng cuối quý.",
        "Recurring every quarter, due on day 19 of the quarter's last month.",
    ),
    "Hàng năm": (
        "Định kỳ hằng năm, hạn là ngày 31/12.",
        "Recurring every year, due on 31 December.",
    ),
    "Hàng quý hoặc đột xuất": (
        "Định kỳ hằng quý, hạn là ngày cuối cùng của quý; ghi chú: “hoặc đột xuất”.",
        "Recurring every quarter, due on the last day of the quarter; note: “hoặc đột xuất”.",
    ),
    "Thường xuyên": (
        "Thực hiện thường xuyên, không có hạn chót cố định; nhắc việc theo lịch kiểm tra định kỳ.",
        "Ongoing, with no fixed deadline; the periodic check-in applies.",
    ),
    "Theo tiến độ của Đề án 06": (
        "Chưa có ngày cụ thể: thời hạn phụ thuộc vào “Đề án 06”, sẽ được ấn định khi có mốc.",
        "No date yet: it depends on “Đề án 06” and will be set once that milestone is known.",
    ),
}


@pytest.mark.parametrize(("phrase", "sentences"), list(DESCRIBED.items()), ids=list(DESCRIBED))
def test_a_deadline_says_in_one_sentence_how_it_was_understood(
    phrase: str, sentences: tuple[str, str]
) -> None:
    deadline = parse_deadline(phrase)

    assert (deadline.describe(), deadline.describe("en")) == sentences
