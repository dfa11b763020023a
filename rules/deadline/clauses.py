"""Clauses: a point or a window together with the words that say how it binds.

"trước tháng 6/2023" is the day before June, "chậm nhất tháng 3/2023" its last day,
"Giai đoạn 2023 - 2025" a window from 1 January 2023 to 31 December 2025.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

import rules.deadline.words as lex
from rules.deadline.periods import point, with_year
from rules.deadline.tokens import Cursor, Token
from rules.deadline.values import Expected


@dataclass(frozen=True)
class Span:
    start: date
    end: date
    window: bool
    first: Token
    last: Token


@dataclass(frozen=True)
class Clause:
    start: date | None  # set for windows only
    due: date
    latest: bool  # said "chậm nhất" / "at the latest"
    first: Token
    last: Token


def clause(cur: Cursor) -> Clause:
    first = cur.here()
    cur.accept(lex.COMPLETE)
    relation = cur.accept(lex.RELATIONS)
    latest = relation == "latest"
    if latest:  # "chậm nhất trước …", "chậm nhất trong …"
        relation = cur.accept(lex.RELATIONS) or relation
    cur.accept_kind("colon")
    refuse_vague(cur)
    end_of = cur.accept(lex.END_OF) is not None
    found = span(cur)
    before_postfix = cur.i
    if cur.accept(lex.LATEST_POSTFIX) is not None:
        if cur.at_end() or cur.at_kind("comma", "open"):
            latest = True
        else:  # "by X at the latest Y": the words open the next clause
            cur.i = before_postfix
    if relation == "strict":
        if found.window or end_of:
            cur.commit_fail(
                Expected("một mốc cụ thể sau “trước”", "a single point after “before”"),
                first,
                found.last,
            )
        return Clause(None, found.start - timedelta(days=1), latest, first, cur.previous())
    start = found.start if found.window else None
    return Clause(start, found.end, latest, first, cur.previous())


def latest_clause(cur: Cursor) -> Clause:
    """The "chậm nhất Y" after a target X."""
    cur.accept_kind("comma", "sep", "colon")
    cur.accept(lex.CLAUSE_JOINS)
    found = clause(cur)
    if not found.latest:
        cur.fail(Expected("“chậm nhất …” sau mốc phấn đấu", "“at the latest …”"), found.first)
    return found


def refuse_vague(cur: Cursor) -> None:
    """ "Đầu năm 2024" may mean January or March: refuse rather than pick one."""
    start = cur.i
    word = cur.peek()
    if word is None or cur.accept(lex.VAGUE) is None:
        return
    found = cur.optional(partial(span, cur))
    if found is not None:
        cur.commit_fail(
            Expected(
                "một mốc cụ thể như “Quý I/2024” hay “Tháng 3/2024”, không phải “đầu”, “giữa”"
                " hay “khoảng”",
                "a precise point such as “Q1 2024” or “March 2024”, not “early”, “mid” or “around”",
            ),
            word,
            found.last,
        )
    cur.i = start


def span(cur: Cursor) -> Span:
    return cur.first_of(partial(window, cur), partial(_point_span, cur))


def _point_span(cur: Cursor) -> Span:
    p = point(cur)
    return Span(p.start, p.end, False, p.first, p.last)


def window(cur: Cursor) -> Span:
    # "Giai đoạn 2023 - 2025", "từ tháng 3 đến tháng 6/2023", "Quý I - II/2023".
    first = cur.here()
    cur.accept(lex.WINDOW_HEADS)
    begin = point(cur, need_year=False)
    cur.expect(lex.RANGE_TO, Expected("“-” hoặc “đến” giữa hai mốc", "“-” or “to” between ends"))
    end = point(cur, need_year=True, unit=begin.unit)
    if begin.year is None and end.year is not None:
        begin = with_year(cur, begin, end.year)
    if begin.start > end.end:
        cur.commit_fail(
            Expected("mốc đầu sớm hơn mốc cuối", "a start before the end"), first, end.last
        )
    return Span(begin.start, end.end, True, first, end.last)
