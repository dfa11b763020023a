"""The working-day calendar around Tết, the 30/4–1/5 swaps and the 2 September holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.calendar import MAKEUP_WORKING_DAYS, SUBSTITUTE_DAYS_OFF, OfficeHours, WorkCalendar

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
CALENDAR = WorkCalendar()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# (last working day before, the days off, first working day after)
HOLIDAYS = {
    "Tết 2023": (date(2023, 1, 19), date(2023, 1, 20), date(2023, 1, 26), date(2023, 1, 27)),
    "Tết 2024": (date(2024, 2, 7), date(2024, 2, 8), date(2024, 2, 14), date(2024, 2, 15)),
    "Tết 2025": (date(2025, 1, 24), date(2025, 1, 25), date(2025, 2, 2), date(2025, 2, 3)),
    "30/4–1/5 2023": (date(2023, 4, 28), date(2023, 4, 29), date(2023, 5, 3), date(2023, 5, 4)),
    "30/4–1/5 2024": (date(2024, 4, 26), date(2024, 4, 27), date(2024, 5, 1), date(2024, 5, 2)),
    "30/4–1/5 2025": (date(2025, 4, 29), date(2025, 4, 30), date(2025, 5, 4), date(2025, 5, 5)),
    "2/9 2023": (date(2023, 8, 31), date(2023, 9, 1), date(2023, 9, 4), date(2023, 9, 5)),
    "2/9 2024": (date(2024, 8, 30), date(2024, 8, 31), date(2024, 9, 3), date(2024, 9, 4)),
    "2/9 2025": (date(2025, 8, 29), date(2025, 8, 30), date(2025, 9, 2), date(2025, 9, 3)),
}


@pytest.mark.parametrize(
    ("before", "first_off", "last_off", "after"), list(HOLIDAYS.values()), ids=list(HOLIDAYS)
)
def test_the_office_is_closed_for_the_whole_holiday_and_open_on_either_side(
    before: date, first_off: date, last_off: date, after: date
) -> None:
    assert CALENDAR.is_working_day(before)
    assert [d for d in days(first_off, last_off) if CALENDAR.is_working_day(d)] == []
    assert CALENDAR.is_working_day(after)


@pytest.mark.parametrize(
    "saturday", [date(2024, 5, 4), date(2025, 4, 26), date(2026, 8, 22)], ids=str
)
def test_a_saturday_worked_to_pay_for_a_swapped_day_off_is_a_working_day(saturday: date) -> None:
    assert saturday.weekday() == 5
    assert saturday in MAKEUP_WORKING_DAYS
    assert CALENDAR.is_working_day(saturday)


@pytest.mark.parametrize("swapped", sorted(SUBSTITUTE_DAYS_OFF), ids=str)
def test_a_swapped_day_off_is_a_holiday_with_a_name(swapped: date) -> None:
    assert CALENDAR.is_holiday(swapped)
    assert not CALENDAR.is_working_day(swapped)
    assert CALENDAR.holiday_name(swapped, "vi")
    assert CALENDAR.holiday_name(swapped, "en")


NAMES = {
    date(2023, 1, 22): ("Tết Nguyên Đán", "Lunar New Year"),
    date(2024, 9, 2): ("Quốc khánh", "National Day"),
    date(2023, 9, 4): ("Quốc khánh (nghỉ bù)", "National Day (observed)"),
    date(2025, 4, 30): ("Ngày Chiến thắng", "Liberation Day/Reunification Day"),
}


@pytest.mark.parametrize(("day", "names"), list(NAMES.items()), ids=str)
def test_a_public_holiday_is_named_in_both_languages(day: date, names: tuple[str, str]) -> None:
    assert (CALENDAR.holiday_name(day), CALENDAR.holiday_name(day, "en")) == names


def test_an_ordinary_day_and_a_weekend_are_not_holidays() -> None:
    assert CALENDAR.holiday_name(date(2023, 3, 15)) is None
    assert not CALENDAR.is_holiday(date(2023, 3, 18))
    assert not CALENDAR.is_working_day(date(2023, 3, 18))


def test_a_holiday_name_in_another_language_is_refused() -> None:
    with pytest.raises(ValueError, match="'fr'"):
        CALENDAR.holiday_name(date(2023, 1, 22), "fr")


def test_config_adds_days_off_and_working_days() -> None:
    calendar = WorkCalendar(
        extra_days_off=frozenset({date(2023, 3, 15)}),
        working_days=frozenset({date(2023, 3, 18), date(2023, 1, 23)}),
    )

    assert not calendar.is_working_day(date(2023, 3, 15))
    assert calendar.is_working_day(date(2023, 3, 18))
    assert calendar.is_working_day(date(2023, 1, 23))  # config outranks Tết


def test_config_can_cancel_a_built_in_working_saturday() -> None:
    calendar = WorkCalendar(extra_days_off=frozenset({date(2024, 5, 4)}))

    assert not calendar.is_working_day(date(2024, 5, 4))


def test_a_six_day_week_works_on_saturdays() -> None:
    calendar = WorkCalendar(weekend=frozenset({6}))

    assert calendar.is_working_day(date(2023, 3, 18))
    assert not calendar.is_working_day(date(2023, 3, 19))


@pytest.mark.parametrize(
    "bad",
    [
        {
            "extra_days_off": frozenset({date(2023, 3, 15)}),
            "working_days": frozenset({date(2023, 3, 15)}),
        },
        {"weekend": frozenset({7})},
        {"timezone": "Mars/Olympus"},
    ],
    ids=["a day both off and working", "a weekday number 7", "an unknown time zone"],
)
def test_an_impossible_calendar_configuration_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        WorkCalendar(**bad)


def test_office_hours_must_start_before_they_end() -> None:
    with pytest.raises(ValueError, match="start before"):
        OfficeHours(time(17, 0), time(7, 30))


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VIETNAM)


NEXT = {
    "inside office hours: now": (at(2023, 3, 15, 10), at(2023, 3, 15, 10)),
    "before opening: at opening": (at(2023, 3, 15, 6), at(2023, 3, 15, 7, 30)),
    "at closing: next morning": (at(2023, 3, 15, 17), at(2023, 3, 16, 7, 30)),
    "friday evening: monday": (at(2023, 3, 17, 18), at(2023, 3, 20, 7, 30)),
    "the eve of Tết 2023: after Tết": (at(2023, 1, 19, 18), at(2023, 1, 27, 7, 30)),
    "during Tết 2024: after Tết": (at(2024, 2, 10, 9), at(2024, 2, 15, 7, 30)),
    "before 2/9 2025: after the holiday": (at(2025, 8, 29, 17, 30), at(2025, 9, 3, 7, 30)),
    "before a working saturday: that saturday": (at(2024, 5, 3, 18), at(2024, 5, 4, 7, 30)),
    "UTC input: same instant in Vietnam": (
        datetime(2023, 3, 15, 1, 0, tzinfo=UTC),
        at(2023, 3, 15, 8),
    ),
}


@pytest.mark.parametrize(("moment", "expected"), list(NEXT.values()), ids=list(NEXT))
def test_the_next_working_time_is_now_or_the_next_opening(
    moment: datetime, expected: datetime
) -> None:
    result = CALENDAR.next_working_time(moment)

    assert result == expected
    assert result.utcoffset() == timedelta(hours=7)
    assert str(result.tzinfo) == "Asia/Ho_Chi_Minh"


def test_office_hours_given_to_the_call_replace_the_calendar_s() -> None:
    late = OfficeHours(time(9, 0), time(11, 0))

    assert CALENDAR.next_working_time(at(2023, 3, 15, 8), late) == at(2023, 3, 15, 9)
    assert CALENDAR.next_working_time(at(2023, 3, 15, 12), late) == at(2023, 3, 16, 9)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="time-zone-aware"):
        CALENDAR.next_working_time(datetime(2023, 3, 15, 10, 0))


def test_a_calendar_without_working_days_says_so_instead_of_looping() -> None:
    closed = WorkCalendar(weekend=frozenset(range(7)))

    with pytest.raises(ValueError, match="no working day"):
        closed.next_working_time(at(2027, 3, 15, 10))  # after the last built-in working Saturday


@given(st.datetimes(datetime(2020, 1, 1), datetime(2027, 12, 31), timezones=st.just(VIETNAM)))
def test_the_next_working_time_is_never_earlier_and_always_in_office_hours(
    moment: datetime,
) -> None:
    result = CALENDAR.next_working_time(moment)

    assert result >= moment
    assert CALENDAR.is_working_day(result.date())
    assert CALENDAR.office_hours.start <= result.time() < CALENDAR.office_hours.end
    if result != moment:
        assert result.time() == CALENDAR.office_hours.start
