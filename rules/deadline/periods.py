"""Points in time: a day, a month, a quarter, a run of months (halves), a year.

Each rule reads one way of writing a point and returns a `Period` (first and last
month, optional day, year). The year may be left open for the first end of a range
("tháng 3 - 6/2023"), which takes the year of the other end.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import partial

import rules.deadline.words as lex
from rules.deadline.numbers import (
    EXPECT_DAY,
    EXPECT_MONTH,
    EXPECT_QUARTER,
    roman,
    small_number,
    year_number,
    year_part,
)
from rules.deadline.tokens import Cursor, Token, Vocab
from rules.deadline.values import Expected, month_end

EXPECT_POINT = Expected(
    "một mốc thời gian, ví dụ “Tháng 12/2022”, “Quý II/2023”, “6 tháng đầu năm 2023”,"
    " “Năm 2024” hoặc “15/03/2023”",
    "a point in time, e.g. “Tháng 12/2022”, “Q2 2023”, “H1 2023”, “2024” or “15/03/2023”",
)


@dataclass(frozen=True)
class Period:
    unit: str  # "day" | "month" | "quarter" | "months" | "year": how it was written
    first_month: int
    last_month: int
    year: int | None
    day: int | None
    first: Token
    last: Token

    @property
    def start(self) -> date:
        return date(self._year(), self.first_month, 1 if self.day is None else self.day)

    @property
    def end(self) -> date:
        if self.day is not None:
            return date(self._year(), self.last_month, self.day)
        return month_end(self._year(), self.last_month)

    def _year(self) -> int:
        if self.year is None:
            raise ValueError("a period without a year has no dates")  # a grammar bug
        return self.year


def point(cur: Cursor, need_year: bool = True, unit: str | None = None) -> Period:
    """Any point; `unit` lets the second end of a range drop its word ("Quý I - II/2023")."""
    rules = [
        partial(day, cur, need_year),
        partial(month, cur, need_year),
        partial(quarter, cur, need_year, unit == "quarter"),
        partial(months, cur, need_year),
        partial(year, cur),
    ]
    if cur.at_end():
        cur.fail(EXPECT_POINT)
    return cur.first_of(*rules)


# -- days ---------------------------------------------------------------------------
def day(cur: Cursor, need_year: bool) -> Period:
    return cur.first_of(
        lambda: _day_numeric(cur, need_year),
        lambda: _day_iso(cur),
        lambda: _day_month_name(cur, need_year),
        lambda: _day_name_first(cur, need_year),
    )


def _day_numeric(cur: Cursor, need_year: bool) -> Period:
    # "ngày 15/3/2023", "15-03-2023", "15.3.2023", "ngày 15 tháng 3 năm 2023".
    first = cur.here()
    cur.accept(lex.DAY_WORDS)
    d, d_token = small_number(cur, EXPECT_DAY)
    if cur.accept(lex.MONTH_WORDS) is None and cur.accept_kind("sep") is None:
        cur.fail(Expected("“/” hoặc “tháng” sau số ngày", "“/” or a month after the day"))
    m, m_token = small_number(cur, EXPECT_MONTH)
    return make_day(cur, first, d, d_token, m, m_token, year_part(cur, need_year))


def _day_iso(cur: Cursor) -> Period:
    first = cur.here()
    y, _ = year_number(cur)
    _date_separator(cur)
    m, m_token = small_number(cur, EXPECT_MONTH)
    _date_separator(cur)
    d, d_token = small_number(cur, EXPECT_DAY)
    return make_day(cur, first, d, d_token, m, m_token, y)


def _day_month_name(cur: Cursor, need_year: bool) -> Period:
    # "15 March 2023", "the 15th of March, 2023".
    first = cur.here()
    cur.accept(lex.DAY_WORDS)
    d, d_token = small_number(cur, EXPECT_DAY)
    cur.accept(lex.ORDINAL_SUFFIX)
    cur.accept(lex.THE)
    cur.accept(Vocab({"of": True}))
    m_token = cur.here()
    m = cur.expect(lex.MONTH_NAMES, Expected("tên tháng", "a month name"))
    cur.accept_kind("sep")
    return make_day(cur, first, d, d_token, m, m_token, year_part(cur, need_year))


def _day_name_first(cur: Cursor, need_year: bool) -> Period:
    # "March 15, 2023", "Mar. 15th 2023".
    first = m_token = cur.here()
    m = cur.expect(lex.MONTH_NAMES, Expected("tên tháng", "a month name"))
    cur.accept_kind("sep")
    d, d_token = small_number(cur, EXPECT_DAY)
    cur.accept(lex.ORDINAL_SUFFIX)
    return make_day(cur, first, d, d_token, m, m_token, year_part(cur, need_year))


def _date_separator(cur: Cursor) -> None:
    if cur.accept_kind("sep") is None:
        cur.fail(Expected("dấu “/”, “-” hoặc “.” giữa các số", "“/”, “-” or “.” between numbers"))


def make_day(
    cur: Cursor, first: Token, d: int, d_token: Token, m: int, m_token: Token, y: int | None
) -> Period:
    check_month(cur, m, m_token)
    period = Period("day", m, m, y, d, first, cur.previous())
    return check_day(cur, period, d_token)


def check_month(cur: Cursor, m: int, token: Token) -> None:
    if not 1 <= m <= 12:
        cur.commit_fail(Expected("số tháng từ 1 đến 12", "a month from 1 to 12"), token)


def check_day(cur: Cursor, period: Period, token: Token) -> Period:
    """Refuse a day the month lacks; without a year, 29/2 is given the benefit of 2024."""
    d = 1 if period.day is None else period.day  # day 0 is no day: `or 1` read it as the 1st
    try:
        date(period.year or 2024, period.first_month, d)
    except ValueError:
        m = period.first_month
        when = f"{m:02d}/{period.year}" if period.year else str(m)
        days = month_end(period.year or 2024, m).day
        cur.commit_fail(
            Expected(
                f"một ngày có thật, từ 1 đến {days} (tháng {when} có {days} ngày)",
                f"a real date, from 1 to {days} (month {when} has {days} days)",
            ),
            token,
            period.last,
        )
    return period


def with_year(cur: Cursor, period: Period, year_: int) -> Period:
    """The first end of a range, completed with the other end's year."""
    return check_day(cur, replace(period, year=year_), period.first)


# -- months -------------------------------------------------------------------------
def month(cur: Cursor, need_year: bool) -> Period:
    return cur.first_of(
        lambda: _month_word(cur, need_year),
        lambda: _month_numeric(cur),
        lambda: _month_iso(cur),
        lambda: _month_name(cur, need_year),
    )


def _month_word(cur: Cursor, need_year: bool) -> Period:
    # "Tháng 12/2022", "tháng 12 năm 2022", "tháng XII-2022", "month 12 of 2022".
    first = cur.here()
    cur.expect(lex.MONTH_WORDS, Expected("“tháng”", "“month”"))
    m, m_token = small_number(cur, EXPECT_MONTH, allow_roman=True)
    y = year_part(cur, need_year)
    check_month(cur, m, m_token)
    return Period("month", m, m, y, None, first, cur.previous())


def _month_numeric(cur: Cursor) -> Period:
    # "12/2022", "12-2022", "12.2022".
    first = cur.here()
    m, m_token = small_number(cur, EXPECT_MONTH)
    _date_separator(cur)
    y, _ = year_number(cur)
    check_month(cur, m, m_token)
    return Period("month", m, m, y, None, first, cur.previous())


def _month_iso(cur: Cursor) -> Period:
    # "2022-12".
    first = cur.here()
    y, _ = year_number(cur)
    _date_separator(cur)
    m, m_token = small_number(cur, EXPECT_MONTH)
    check_month(cur, m, m_token)
    return Period("month", m, m, y, None, first, cur.previous())


def _month_name(cur: Cursor, need_year: bool) -> Period:
    # "December 2022", "Dec. 2022".
    first = cur.here()
    m = cur.expect(lex.MONTH_NAMES, Expected("tên tháng", "a month name"))
    cur.accept_kind("sep")
    y = year_part(cur, need_year)
    return Period("month", m, m, y, None, first, cur.previous())


# -- quarters -----------------------------------------------------------------------
def quarter(cur: Cursor, need_year: bool, word_optional: bool = False) -> Period:
    return cur.first_of(
        lambda: _quarter_word(cur, need_year, word_optional),
        lambda: _quarter_year_first(cur),
        lambda: _quarter_ordinal(cur, need_year),
    )


def _quarter_word(cur: Cursor, need_year: bool, word_optional: bool) -> Period:
    # "Quý II/2023", "quý I năm 2023", "Quý 3/2023", "Q2 2023", "QII-2023", "quý Tư".
    first = cur.here()
    glued = roman(first.text[1:]) if first.kind == "word" and first.text[:1] == "q" else None
    if glued is not None:
        cur.i += 1
        q, q_token = glued, first
    else:
        if cur.accept(lex.QUARTER_WORDS) is None and not word_optional:
            cur.fail(Expected("“quý”", "“quarter”"))
        cur.accept(lex.ORDINAL_LEAD)
        q, q_token = small_number(
            cur, EXPECT_QUARTER, allow_roman=True, numerals=lex.QUARTER_NUMERALS
        )
    return _make_quarter(cur, first, q, q_token, year_part(cur, need_year))


def _quarter_year_first(cur: Cursor) -> Period:
    # "2023 Q2", "2023-Q2".
    first = cur.here()
    y, _ = year_number(cur)
    cur.accept_kind("sep")
    cur.expect(lex.QUARTER_WORDS, Expected("“Q”", "“Q”"))
    q, q_token = small_number(cur, EXPECT_QUARTER, allow_roman=True)
    return _make_quarter(cur, first, q, q_token, y)


def _quarter_ordinal(cur: Cursor, need_year: bool) -> Period:
    # "the second quarter of 2023", "Q4" written as "the last quarter of 2023".
    first = cur.here()
    cur.accept(lex.THE)
    q_token = cur.here()
    q = cur.expect(lex.ORDINALS, Expected("thứ tự quý", "a quarter ordinal"))
    cur.expect(Vocab({"quarter": True}), Expected("“quarter”", "“quarter”"))
    return _make_quarter(cur, first, q, q_token, year_part(cur, need_year))


def _make_quarter(cur: Cursor, first: Token, q: int, q_token: Token, y: int | None) -> Period:
    if not 1 <= q <= 4:
        cur.commit_fail(Expected("quý từ I đến IV", "a quarter from I to IV"), q_token)
    return Period("quarter", 3 * q - 2, 3 * q, y, None, first, cur.previous())


# -- runs of months: halves, "9 tháng đầu năm" --------------------------------------
def months(cur: Cursor, need_year: bool) -> Period:
    return cur.first_of(
        lambda: _months_counted(cur, need_year),
        lambda: _half_word(cur, need_year),
        lambda: _half_letter(cur, need_year),
        lambda: _half_year_first(cur),
    )


def _months_counted(cur: Cursor, need_year: bool) -> Period:
    # "6 tháng đầu năm 2023", "6 tháng cuối năm 2023", "the first 9 months of 2023".
    first = cur.here()
    cur.accept(lex.THE)
    side = cur.accept(lex.SIDES_EN)
    n, n_token = small_number(
        cur, Expected("số tháng", "a number of months"), numerals=lex.COUNT_WORDS
    )
    cur.expect(lex.MONTHS_NOUN, Expected("“tháng”", "“months”"))
    if side is None:
        side = cur.expect(lex.SIDES, Expected("“đầu” hoặc “cuối”", "“first” or “last”"))
    cur.accept(lex.YEAR_WORDS)
    y = year_part(cur, need_year)
    if not 1 <= n <= 12:
        cur.commit_fail(Expected("từ 1 đến 12 tháng", "1 to 12 months"), n_token)
    span = (1, n) if side == "first" else (13 - n, 12)
    return Period("months", *span, y, None, first, cur.previous())


def _half_word(cur: Cursor, need_year: bool) -> Period:
    # "nửa đầu năm 2023", "nửa cuối năm 2023", "the second half of 2023".
    first = cur.here()
    cur.accept(lex.THE)
    side = cur.accept(lex.SIDES_EN)
    cur.expect(lex.HALF_NOUN, Expected("“nửa”", "“half”"))
    if side is None:
        side = cur.expect(lex.SIDES, Expected("“đầu” hoặc “cuối”", "“first” or “second”"))
    cur.accept(lex.YEAR_WORDS)
    y = year_part(cur, need_year)
    return _half(cur, first, 1 if side == "first" else 2, first, y)


def _half_letter(cur: Cursor, need_year: bool) -> Period:
    # "H1 2023", "H2/2023".
    first = cur.here()
    cur.expect(lex.H_LETTER, Expected("“H”", "“H”"))
    n, n_token = small_number(cur, Expected("1 hoặc 2", "1 or 2"))
    return _half(cur, first, n, n_token, year_part(cur, need_year))


def _half_year_first(cur: Cursor) -> Period:
    # "2023 H1", "2023-H2".
    first = cur.here()
    y, _ = year_number(cur)
    cur.accept_kind("sep")
    cur.expect(lex.H_LETTER, Expected("“H”", "“H”"))
    n, n_token = small_number(cur, Expected("1 hoặc 2", "1 or 2"))
    return _half(cur, first, n, n_token, y)


def _half(cur: Cursor, first: Token, n: int, n_token: Token, y: int | None) -> Period:
    if n not in (1, 2):
        cur.commit_fail(Expected("nửa năm thứ 1 hoặc 2", "half 1 or 2"), n_token)
    return Period("months", 6 * n - 5, 6 * n, y, None, first, cur.previous())


# -- years --------------------------------------------------------------------------
def year(cur: Cursor) -> Period:
    # "Năm 2024", "2024", "the year 2024".
    first = cur.here()
    cur.accept(lex.YEAR_WORDS)
    y, _ = year_number(cur)
    return Period("year", 1, 12, y, None, first, cur.previous())
