"""Recurrences: how often ("Hàng quý"), on which day ("trước ngày 20 tháng cuối quý"),
and within which bounds ("giai đoạn 2023 - 2025").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

import rules.deadline.words as lex
from rules.deadline.clauses import span
from rules.deadline.numbers import EXPECT_DAY, EXPECT_MONTH, small_number, year_part
from rules.deadline.periods import Period, check_day, check_month
from rules.deadline.tokens import Cursor, Token
from rules.deadline.values import PERIOD_MONTHS, Expected, Recurrence

EXPECT_FREQUENCY = Expected(
    "một chu kỳ như “Hàng tháng”, “Hàng quý”, “6 tháng một lần” hoặc “Hàng năm”",
    "a period such as “monthly”, “quarterly”, “every 6 months” or “yearly”",
)
PERIOD_NAMES = {
    1: ("tháng", "month"),
    2: ("kỳ 2 tháng", "2-month period"),
    3: ("quý", "quarter"),
    4: ("kỳ 4 tháng", "4-month period"),
    6: ("kỳ 6 tháng", "half-year"),
    12: ("năm", "year"),
}


@dataclass(frozen=True)
class Frequency:
    months: int
    first: Token
    last: Token


@dataclass(frozen=True)
class Anchor:
    every: int
    nth: int | None  # month inside the period; None: its last month
    names_month: bool  # "tháng cuối quý" says which month, "hằng quý" does not


@dataclass(frozen=True)
class DayRule:
    day: int | None  # None: the month's last day
    months: tuple[int, ...]  # calendar months: "15/12 hằng năm", "15/6 và 15/12 hằng năm"
    anchor: Anchor | None
    strict: bool
    first: Token
    last: Token


@dataclass(frozen=True)
class Bounds:
    start: date | None
    until: date | None  # for a recurrence, the last occurrence is on or before it
    first: Token
    last: Token


# -- how often ----------------------------------------------------------------------
def frequency(cur: Cursor, periodic: bool) -> Frequency:
    first = cur.here()
    months = cur.accept(lex.FREQUENCIES)
    if months is None:
        months = _every_n_months(cur, periodic)
    if months not in PERIOD_MONTHS:
        cur.commit_fail(
            Expected(
                "một chu kỳ chia đều năm: 1, 2, 3, 4, 6 hoặc 12 tháng (chu kỳ theo ngày, tuần"
                " hay nhiều năm chưa được hỗ trợ)",
                "a period that divides the year: 1, 2, 3, 4, 6 or 12 months (daily, weekly"
                " and multi-year periods are not supported)",
            ),
            first,
            cur.previous(),
        )
    while cur.optional(partial(_coarser, cur, months)):
        pass
    return Frequency(months, first, cur.previous())


def _coarser(cur: Cursor, months: int) -> bool:
    # "Định kỳ 6 tháng, năm", "hằng quý, 6 tháng, năm": the coarser reports fall due on
    # days the finer period already has, so the finer one is the schedule.
    if cur.accept_kind("comma") is None and cur.accept(lex.CLAUSE_JOINS) is None:
        cur.fail(EXPECT_FREQUENCY)
    word = cur.here()
    coarser = cur.expect(lex.COARSER_PERIODS, EXPECT_FREQUENCY)
    following = cur.peek()
    if following is not None and following.kind == "num":  # "hằng quý, năm 2026": a bound
        cur.fail(EXPECT_FREQUENCY, word)
    if coarser <= months or coarser % months:
        cur.fail(EXPECT_FREQUENCY, word)
    return True


def _every_n_months(cur: Cursor, periodic: bool) -> int:
    # "6 tháng một lần", "mỗi 6 tháng", "6 tháng/lần", "every 6 months", "định kỳ 6 tháng".
    every = cur.accept(lex.EVERY) is not None
    n, n_token = small_number(cur, EXPECT_FREQUENCY, numerals=lex.COUNT_WORDS)
    unit = cur.expect(lex.PERIOD_UNITS, Expected("“tháng”", "“months”"))
    once = cur.accept(lex.ONCE) is not None
    if not (every or once or periodic):
        cur.fail(Expected("“một lần” hoặc “mỗi …”", "“once” or “every …”"), n_token)
    return n * unit


# -- on which day -------------------------------------------------------------------
def day_rule(cur: Cursor) -> DayRule:
    first = cur.here()
    cur.accept(lex.RECURRING_LEADS)  # "(báo cáo trước ngày 15/12)"
    cur.accept(lex.COMPLETE)
    relation = cur.accept(lex.RELATIONS)
    if relation == "latest":
        relation = cur.accept(lex.RELATIONS) or relation
    day, months, month_only = _rule_day(cur)
    anchor = cur.optional(partial(_anchor, cur))
    if month_only and anchor is None:  # "tháng 6" alone is a point, not a rule
        cur.fail(Expected("“hằng năm” sau tháng", "“every year” after the month"))
    return DayRule(day, months, anchor, relation == "strict", first, cur.previous())


def _rule_day(cur: Cursor) -> tuple[int | None, tuple[int, ...], bool]:
    """(day, calendar months, whether only a month was named)."""
    day_word = cur.accept(lex.DAY_WORDS) is not None
    if day_word and cur.accept(lex.LAST_DAY) is not None:
        cur.accept(lex.DAY_NOUN)
        return None, (), False
    token = cur.peek()
    if token is not None and token.kind == "num":
        d, d_token = small_number(cur, EXPECT_DAY)
        cur.accept(lex.ORDINAL_SUFFIX)
        month = cur.optional(partial(_rule_month, cur))
        if not day_word and month is None:
            cur.fail(Expected("“ngày”", "“day”"), d_token)
        months = () if month is None else _more_dates(cur, d, month)
        # "ngày 20/12/2022" is a date, not a yearly rule.
        if cur.optional(partial(year_part, cur, True)) is not None:
            cur.fail(Expected("một quy tắc lặp lại, không phải một ngày", "a repeating day"))
        if not 1 <= d <= 31:
            cur.commit_fail(Expected("số ngày từ 1 đến 31", "a day from 1 to 31"), d_token)
        for m in months:
            check_day(cur, Period("day", m, m, None, d, d_token, cur.previous()), d_token)
        return d, months, False
    if day_word:
        cur.fail(EXPECT_DAY)
    if cur.accept(lex.MONTH_WORDS) is not None:
        return None, _month_list(cur), True
    m = cur.expect(lex.MONTH_NAMES, Expected("“ngày …” hoặc “tháng …”", "a day or a month"))
    return None, (m,), True


def _month_list(cur: Cursor) -> tuple[int, ...]:
    # "tháng 6 và tháng 12", "tháng 6, tháng 12", "tháng 3, 6, 9 và 12" (hằng năm).
    months: list[int] = []
    while True:
        m, m_token = small_number(cur, EXPECT_MONTH, allow_roman=True)
        check_month(cur, m, m_token)
        if m in months:
            cur.commit_fail(Expected("mỗi tháng một lần", "each month once"), m_token)
        months.append(m)
        start = cur.i
        if cur.accept(lex.LIST_JOINS) is None:
            return tuple(months)
        cur.accept(lex.CLAUSE_JOINS)  # "tháng 6, và tháng 12"
        cur.accept(lex.MONTH_WORDS)
        if cur.optional(partial(small_number, cur, EXPECT_MONTH, allow_roman=True)) is None:
            cur.i = start
            return tuple(months)
        cur.i -= 1  # read it again above, with its checks


def evenly_spaced(months: tuple[int, ...]) -> bool:
    """ "tháng 6 và tháng 12" is every 6 months; "tháng 3 và tháng 10" is two yearly dates."""
    ordered = sorted(months)
    if len(ordered) < 2:
        return True
    every = 12 // len(ordered)
    return ordered == [ordered[0] + i * every for i in range(len(ordered))] and ordered[0] <= every


def _rule_month(cur: Cursor) -> int:
    # "/12", " tháng 12", " of December", " December".
    if cur.accept_kind("sep") is not None or cur.accept(lex.MONTH_WORDS) is not None:
        m, m_token = small_number(cur, EXPECT_MONTH, allow_roman=True)
        check_month(cur, m, m_token)
        return m
    cur.accept(lex.OF)
    return cur.expect(lex.MONTH_NAMES, EXPECT_MONTH)


def _more_dates(cur: Cursor, day: int, month: int) -> tuple[int, ...]:
    # "15/6 và 15/12 hằng năm": the same day in evenly spaced months.
    months = [month]
    while True:
        start = cur.i
        if cur.accept(lex.LIST_JOINS) is None:
            break
        cur.accept(lex.DAY_WORDS)
        token = cur.peek()
        found = cur.optional(partial(_day_and_month, cur))
        if found is None or token is None:
            cur.i = start
            break
        if found[0] != day:
            cur.commit_fail(
                Expected(
                    "cùng một ngày trong các tháng (ví dụ “15/6 và 15/12 hằng năm”)",
                    "the same day in each month (e.g. “15/6 and 15/12 every year”)",
                ),
                token,
            )
        months.append(found[1])
    return tuple(months)


def _day_and_month(cur: Cursor) -> tuple[int, int]:
    d, _ = small_number(cur, EXPECT_DAY)
    cur.accept(lex.ORDINAL_SUFFIX)
    return d, _rule_month(cur)


def _anchor(cur: Cursor) -> Anchor:
    # "hằng tháng", "tháng cuối quý", "of the last month of each quarter".
    cur.accept(lex.OF)
    every = cur.accept(lex.ANCHOR_EVERY)
    if every is not None:
        return Anchor(every, None, names_month=False)
    first = cur.here()
    cur.accept(lex.THE)
    position = cur.accept(lex.POSITIONS)  # English: "the last month of …"
    cur.expect(lex.MONTH_WORDS, Expected("“hằng tháng” hoặc “tháng cuối quý”", "“each month”"))
    if position is None:  # Vietnamese: "tháng cuối quý"
        after = cur.expect(lex.POSITIONS, Expected("“cuối” hoặc “đầu”", "“last”"))
        position = after
    cur.accept(lex.OF)
    cur.accept(lex.ANCHOR_EACH)
    # "of the following quarter", "tháng đầu quý sau": the same dates, one period later.
    cur.accept(lex.NEXT_PERIOD)
    every = cur.expect(lex.PERIOD_NOUNS, Expected("“quý”, “năm” hoặc “6 tháng”", "“quarter”"))
    cur.accept(lex.NEXT_PERIOD)
    if position == "last":
        return Anchor(every, None, names_month=True)
    nth = 2 if position == "middle" and every == 3 else position
    if not isinstance(nth, int) or nth > every:
        vi, en = PERIOD_NAMES[every]
        cur.commit_fail(
            Expected(f"một tháng có trong {vi}", f"a month inside the {en}"), first, cur.previous()
        )
    return Anchor(every, None if nth == every else nth, names_month=True)


# -- the recurrence -----------------------------------------------------------------
def recurrence(cur: Cursor, frequency: Frequency | None, rule: DayRule | None) -> Recurrence:
    """Reconcile what the phrase said about period and day; contradictions fail."""
    if rule is None:
        if frequency is None:
            cur.fail(EXPECT_FREQUENCY)
        return Recurrence(frequency.months)
    every, nth = _period_of(cur, frequency, rule)
    day = rule.day
    if rule.strict:
        if day is None:
            cur.commit_fail(Expected("một ngày cụ thể sau “trước”", "a day number"), rule.first)
        day -= 1
        if day == 0:  # "trước ngày 1": the last day of the month before
            day, nth = None, ((nth or every) - 1) or None
    return Recurrence(every, day, None if nth == every else nth)


def _period_of(cur: Cursor, frequency: Frequency | None, rule: DayRule) -> tuple[int, int | None]:
    """(every_months, month_in_period) from the frequency, the anchor and named months."""
    anchor = rule.anchor
    if rule.months:
        if anchor is None and frequency is None:  # "ngày 1/3" alone is a date without a year
            cur.fail(Expected("“hằng năm” sau ngày", "“every year” after the date"))
        if anchor is not None and (anchor.every != 12 or anchor.names_month):
            _disagree(cur, rule.first, rule.last)
        every, nth = _from_months(cur, rule)
    elif anchor is not None:
        every, nth = anchor.every, anchor.nth
        if not anchor.names_month and every != 1 and rule.day is not None:
            _which_month(cur, every, rule)
    elif frequency is not None:
        every, nth = frequency.months, None
        if every != 1 and rule.day is not None:
            _which_month(cur, every, rule)
    else:
        cur.fail(Expected("một chu kỳ, ví dụ “hằng tháng”", "a period, e.g. “each month”"))
    if frequency is not None and frequency.months != every:
        _disagree(cur, frequency.first, rule.last)
    return every, nth


def _from_months(cur: Cursor, rule: DayRule) -> tuple[int, int | None]:
    months = sorted(rule.months)
    every = 12 // len(months)
    if months != [months[0] + i * every for i in range(len(months))] or months[0] > every:
        cur.commit_fail(
            Expected(
                "các tháng cách đều nhau trong năm (ví dụ “15/6 và 15/12 hằng năm”)",
                "months evenly spaced over the year (e.g. “15/6 and 15/12 every year”)",
            ),
            rule.first,
            rule.last,
        )
    return every, months[0]


def _which_month(cur: Cursor, every: int, rule: DayRule) -> None:
    vi, en = PERIOD_NAMES[every]
    cur.commit_fail(
        Expected(f"tháng nào trong {vi} (ví dụ “tháng cuối {vi}”)", f"which month of the {en}"),
        rule.first,
        rule.last,
    )


def _disagree(cur: Cursor, first: Token, last: Token) -> None:
    cur.commit_fail(
        Expected(
            "chu kỳ và ngày hạn khớp nhau (ví dụ “Hàng quý, trước ngày 20 tháng cuối quý”)",
            "a period and a day rule that agree (e.g. “quarterly, before the 20th of the last"
            " month of each quarter”)",
        ),
        first,
        last,
    )


# -- within which bounds ------------------------------------------------------------
def bounds(cur: Cursor) -> Bounds:
    """ "giai đoạn 2023-2025", "từ năm 2023", "đến hết năm 2025", "trước năm 2026"."""
    cur.accept_kind("comma", "sep", "colon")
    first, mark = cur.here(), cur.i
    if cur.accept(lex.FROM_WORDS) is not None and not cur.at(lex.RANGE_TO):
        found = cur.optional(partial(span, cur))
        if found is None or found.window:
            cur.fail(Expected("mốc bắt đầu", "a start"))
        return Bounds(found.start, None, first, cur.previous())
    cur.i = mark  # "từ 2023 đến 2025" is a window: read it below
    relation = cur.accept(lex.UNTIL_WORDS)
    if relation is not None:
        found = span(cur)
        until = found.start - timedelta(days=1) if relation == "strict" else found.end
        return Bounds(None, until, first, cur.previous())
    cur.accept(lex.IN_WORDS)
    found = span(cur)
    return Bounds(found.start, found.end, first, cur.previous())


def last_occurrence(rec: Recurrence, start: date | None, until: date) -> date | None:
    """The last due date in [start, until], if any."""
    lower = max(start or date.min, date(until.year - 1, 1, 1))
    last = None
    for due in rec.occurrences(lower):
        if due > until:
            break
        last = due
    return last
