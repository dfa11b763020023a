"""Properties of the deadline language, checked on generated input (Hypothesis).

Arbitrary text either parses or raises ParseError, nothing else; phrases generated from
dates, written any of the ways people write them, give those dates back.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from itertools import islice, pairwise

from hypothesis import example, given, settings
from hypothesis import strategies as st

from rules.deadline import (
    PERIOD_MONTHS,
    Deadline,
    ParseError,
    Recurrence,
    month_end,
    parse_deadline,
)
from rules.deadline import words as deadline_words

YEARS = st.integers(1900, 2199)
DATES = st.dates(date(1900, 1, 1), date(2199, 12, 31))
MONTH_NAMES = (
    "January February March April May June July August September October November December"
)
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]


# Words the grammar knows, numbers and punctuation: reaches deeper than random text.
PIECES = st.sampled_from(
    [*deadline_words.known_phrases(), "2023", "12", "13", "0", "31", "15", "II", "V", "/", "-",
     ",", "(", ")", "…"]
)  # fmt: skip
DEADLINE_LIKE = st.lists(PIECES, max_size=8).map(" ".join)


@settings(max_examples=300)
@given(st.text(max_size=40) | DEADLINE_LIKE)
@example("Tháng 12/2022 (")
@example(")")
@example("ngày 31/2 hằng năm")
def test_any_text_either_parses_or_raises_a_parse_error(text: str) -> None:
    try:
        deadline = parse_deadline(text)
    except ParseError as error:
        assert 0 <= error.position <= len(error.phrase)
        assert error.phrase[error.position :].startswith(error.fragment)
        assert str(error) and error.message("en")
    else:
        assert deadline.phrase == text
        assert Deadline.from_dict(deadline.to_dict()) == deadline
        assert deadline.describe() and deadline.describe("en")
        list(islice(deadline.occurrences(date(2000, 1, 1)), 3))


# -- ways of writing ----------------------------------------------------------------
def without_diacritics(text: str) -> str:
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn"
    )
    return stripped.replace("đ", "d").replace("Đ", "D")


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def spaced(text: str) -> str:
    return "  " + text.replace(" ", "   ").replace("/", " / ") + " "


TYPINGS: list[Callable[[str], str]] = [str, str.upper, str.lower, without_diacritics, nfd, spaced]
TYPED = st.sampled_from(TYPINGS)


def day_phrases(d: date) -> list[str]:
    name = MONTH_NAMES.split()[d.month - 1]
    return [
        f"ngày {d.day}/{d.month}/{d.year}",
        f"{d.day:02d}/{d.month:02d}/{d.year}",
        f"{d.day}-{d.month}-{d.year}",
        f"{d.day}.{d.month}.{d.year}",
        f"{d.year}-{d.month:02d}-{d.day:02d}",
        f"ngày {d.day} tháng {d.month} năm {d.year}",
        f"{d.day} {name} {d.year}",
        f"{name} {d.day}, {d.year}",
    ]


@given(DATES, st.data())
def test_a_day_written_any_usual_way_is_due_that_day(d: date, data: st.DataObject) -> None:
    phrase = data.draw(st.sampled_from(day_phrases(d)))
    typed = data.draw(TYPED)

    assert parse_deadline(typed(phrase)).due == d


@given(YEARS, st.integers(1, 12), st.data())
def test_a_month_written_any_usual_way_is_due_on_its_last_day(
    year: int, month: int, data: st.DataObject
) -> None:
    name = MONTH_NAMES.split()[month - 1]
    phrase = data.draw(
        st.sampled_from(
            [
                f"Tháng {month}/{year}",
                f"tháng {month} năm {year}",
                f"{month}/{year}",
                f"{month:02d}-{year}",
                f"Tháng {ROMAN[month - 1]}/{year}",
                f"{year}-{month:02d}",
                f"{name} {year}",
            ]
        )
    )

    assert parse_deadline(data.draw(TYPED)(phrase)).due == month_end(year, month)


@given(YEARS, st.integers(1, 4), st.data())
def test_a_quarter_written_any_usual_way_is_due_on_its_last_day(
    year: int, quarter: int, data: st.DataObject
) -> None:
    roman = ROMAN[quarter - 1]
    phrase = data.draw(
        st.sampled_from(
            [
                f"Quý {roman}/{year}",
                f"quý {roman} năm {year}",
                f"Quý {quarter}/{year}",
                f"Q{quarter} {year}",
                f"Q{quarter}-{year}",
                f"{year} Q{quarter}",
            ]
        )
    )

    assert parse_deadline(data.draw(TYPED)(phrase)).due == month_end(year, 3 * quarter)


@given(YEARS, st.sampled_from(["đầu", "cuối"]), st.integers(1, 12), st.data())
def test_the_first_or_last_months_of_a_year_are_due_at_their_end(
    year: int, side: str, months: int, data: st.DataObject
) -> None:
    phrase = f"{months} tháng {side} năm {year}"
    last = months if side == "đầu" else 12

    assert parse_deadline(data.draw(TYPED)(phrase)).due == month_end(year, last)


@given(YEARS, st.sampled_from(["Năm {y}", "năm {y}", "Trong năm {y}", "{y}", "in {y}"]))
def test_a_year_is_due_on_31_december(year: int, template: str) -> None:
    assert parse_deadline(template.format(y=year)).due == date(year, 12, 31)


INCLUSIVE = ["chậm nhất ", "trong ", "hoàn thành ", "by ", "no later than ", ""]


@given(DATES, st.sampled_from(INCLUSIVE), st.sampled_from(["trước ", "before "]), st.data())
def test_before_is_the_day_before_and_other_relations_include_the_day(
    d: date, inclusive: str, strict: str, data: st.DataObject
) -> None:
    phrase = data.draw(st.sampled_from(day_phrases(d)[:6]))

    assert parse_deadline(inclusive + phrase).due == d
    assert parse_deadline(strict + phrase).due == d - timedelta(days=1)


@given(DATES, DATES)
def test_a_target_and_a_latest_date_come_back_or_a_latest_date_too_early_is_refused(
    target: date, latest: date
) -> None:
    phrase = f"{target.day}/{target.month}/{target.year}, chậm nhất ngày {latest:%d/%m/%Y}"

    if latest < target:
        try:
            parse_deadline(phrase)
        except ParseError as error:
            assert error.fragment.startswith("chậm nhất")
        else:
            raise AssertionError(f"{phrase!r} should be refused")
    else:
        deadline = parse_deadline(phrase)
        assert (deadline.target, deadline.due) == (target, latest)


@given(YEARS, YEARS, st.sampled_from(["Giai đoạn {a} - {b}", "từ năm {a} đến năm {b}", "{a}–{b}"]))
def test_a_window_of_years_starts_on_1_january_and_ends_on_31_december(
    first: int, last: int, template: str
) -> None:
    phrase = template.format(a=first, b=last)

    if first > last:
        try:
            parse_deadline(phrase)
        except ParseError:
            return
        raise AssertionError(f"{phrase!r} should be refused")
    deadline = parse_deadline(phrase)
    assert (deadline.start, deadline.due) == (date(first, 1, 1), date(last, 12, 31))


@given(st.integers(1, 31), st.booleans())
def test_a_monthly_day_rule_gives_that_day_back(day: int, strict: bool) -> None:
    phrase = f"{'trước ' if strict else ''}ngày {day} hàng tháng"
    expected = day - 1 if strict else day

    assert parse_deadline(phrase).recurrence == Recurrence(1, expected or None)


# -- recurrences --------------------------------------------------------------------
RECURRENCES = st.sampled_from(PERIOD_MONTHS).flatmap(
    lambda every: st.builds(
        Recurrence,
        st.just(every),
        st.none() | st.integers(1, 31),
        st.none() | st.integers(1, every),
    )
)


@given(RECURRENCES, st.dates(date(1900, 1, 1), date(2190, 12, 31)))
def test_a_recurrence_gives_one_date_per_period_in_order_from_the_given_day(
    recurrence: Recurrence, after: date
) -> None:
    dates = list(islice(recurrence.occurrences(after), 8))
    every = recurrence.every_months
    nth = recurrence.month_in_period or every

    assert dates[0] >= after
    assert all(a < b for a, b in pairwise(dates))
    for d in dates:
        assert (d.month - 1) % every == nth - 1
        last = month_end(d.year, d.month).day
        assert d.day == (last if recurrence.day is None else min(recurrence.day, last))
    for a, b in pairwise(dates):
        assert (b.year * 12 + b.month) - (a.year * 12 + a.month) == every
    # Nothing was skipped: the period before the first date ended before `after`.
    previous = (dates[0].year * 12 + dates[0].month - 1) - every
    assert recurrence.in_period(previous // 12, (previous % 12) // every) < after


@settings(max_examples=60)
@given(
    st.lists(DATES, min_size=2, max_size=4, unique=True),
    st.sampled_from([", ", "; ", " và ", "\n- "]),
    TYPED,
)
def test_a_list_of_dates_gives_each_date_back_in_order(
    days: list[date], separator: str, typed: Callable[[str], str]
) -> None:
    # A bullet is a dash before a word: "- 1/1/2000 - 2/1/2000" is a range as written, and
    # "- ngày 2/1/2000 - ngày 1/1/2000" a range backwards, refused.
    lead, word = ("- ", "ngày ") if separator == "\n- " else ("", "")
    days = sorted(days) if lead else days
    phrase = lead + separator.join(f"{word}{d.day}/{d.month}/{d.year}" for d in days)
    deadline = parse_deadline(typed(phrase))
    assert list(deadline.occurrences(date(1900, 1, 1))) == sorted(days)
    assert deadline.kind == "once" and deadline.due == max(days)
