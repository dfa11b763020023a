"""The grammar of deadline phrases, from tokens to a `Deadline`.

    phrase    := (recurring | ongoing | external | onwards | once | then-every | from-on
                  | several) trailer* END
    once      := [aim] clause [[,] latest-clause]     "Tháng 11/2022, chậm nhất tháng 3/2023"
    clause    := [complete] [relation] [end-of] (window | point) [at the latest]
    recurring := [bounds ,] [periodic] [frequency] [,] [day-rule] [bounds]
                                                "Hàng quý, trước ngày 20 tháng cuối quý"
    onwards   := point "và các" period "tiếp theo"  "Năm 2022 và các năm tiếp theo"
    then-every:= [relation] point "và" frequency    "Quý IV/2025 và hằng năm"
    from-on   := "từ" point ["trở đi"]              "Từ năm 2026 trở đi" (ongoing)
    several   := item (separator item)+             "Quý I/2026, Quý III/2026"
    item      := [bullet] [label ":"] clause        "- Sơ kết: Tháng 6/2026"
    external  := head reference [, dated-phrase]      "Theo tiến độ của Đề án 06"
    trailer   := "(" … ")" | note | condition | reference | latest-clause

Points live in `periods`, clauses and windows in `clauses`, recurrences in
`recurring`, trailers in `draft`, the words in `words`; `tokens` has the tokenizer
and the cursor.

Alternatives are tried in order and the first that reads the whole phrase wins; when
none does, the error reported is the one that got furthest. A value that is wrong
once its words matched (month 13, Y before X) fails at once (`Committed`): no other
reading may explain it away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import rules.deadline.words as lex
from rules.deadline.clauses import clause, latest_clause
from rules.deadline.draft import (
    EXPECT_END,
    Draft,
    add_bounds,
    add_latest,
    close_bounds,
    joined,
    report,
    trailers,
)
from rules.deadline.periods import point
from rules.deadline.recurring import (
    EXPECT_FREQUENCY,
    Bounds,
    bounds,
    day_rule,
    evenly_spaced,
    frequency,
    recurrence,
)
from rules.deadline.several import from_on, several, then_every
from rules.deadline.tokens import Committed, Cursor, Meter, Mismatch, Vocab
from rules.deadline.values import (
    Deadline,
    Expected,
    ParseError,
    PhraseTooLong,
    Recurrence,
)
from rules.text import nfc

# A deadline cell is a line or two; anything longer is a pasted paragraph or an attack.
MAX_PHRASE_LENGTH = 500
# The grammar's work budget. Real phrases take under 50 steps per character (see
# bench/bench_deadline.py); only phrases built to make the grammar backtrack could
# reach it, and they are refused rather than read slowly.
STEPS_PER_CHARACTER = 200
STEPS_AT_LEAST = 20_000

EXPECT_DEADLINE = Expected(
    "một thời hạn, ví dụ “Tháng 12/2022”, “Quý II/2023”, “Trước ngày 20/12/2022”,"
    " “Hàng quý”, “Thường xuyên” hoặc “Theo tiến độ Đề án 06”",
    "a deadline, e.g. “Tháng 12/2022”, “Q2 2023”, “before 20/12/2022”, “quarterly”,"
    " “ongoing” or “according to the schedule of Đề án 06”",
)


def parse(
    text: str,
    *,
    max_length: int | None = MAX_PHRASE_LENGTH,
    meter: Meter | None = None,
) -> Deadline:
    """Read `text`; raises ParseError (only) for anything it does not understand.

    `max_length` None lifts the length limit (benchmarks), `meter` counts the work.
    """
    phrase = nfc(text)
    if max_length is not None and len(phrase) > max_length:
        raise PhraseTooLong(phrase, max_length)
    if meter is None:
        meter = Meter(STEPS_PER_CHARACTER * len(phrase) + STEPS_AT_LEAST)
    cur = Cursor(phrase, meter=meter)
    if not cur.tokens:
        raise ParseError(phrase, 0, EXPECT_DEADLINE)
    _skip_label(cur)
    if cur.at_end():  # only a label: "Thời hạn:"
        raise cur.error(EXPECT_DEADLINE).to_error(phrase)
    try:
        _refuse_document(cur)
        # Recurring first: "once a month" is a period, "once the decree is issued" is not.
        bodies = (
            _recurring, _ongoing, _event, _external, _onwards, _once, then_every, from_on,
            several,
        )  # fmt: skip
        draft = cur.first_of(*(partial(_complete, cur, body) for body in bodies))
    except Committed as exc:
        raise exc.to_error(phrase) from None
    except Mismatch as exc:
        best = cur.furthest or exc
        if best.position <= cur.tokens[cur.i].start:
            best = cur.error(EXPECT_DEADLINE, cur.tokens[cur.i])
        raise best.to_error(phrase) from None
    try:
        return Deadline(
            phrase=text,
            kind=draft.kind,
            start=draft.start,
            target=draft.target,
            due=draft.due,
            recurrence=draft.recurrence,
            depends_on=draft.depends_on,
            note="; ".join(draft.notes) or None,
            report_to=draft.report_to,
            parts=draft.parts,
        )
    except ValueError as exc:  # the grammar let an inconsistent value through: say so
        raise ParseError(phrase, 0, Expected("một thời hạn nhất quán", str(exc))) from None


def _complete(cur: Cursor, body: Callable[[Cursor], Draft]) -> Draft:
    draft = body(cur)
    trailers(cur, draft)
    if not cur.at_end():
        cur.fail(EXPECT_END)
    close_bounds(cur, draft)
    return draft


def _skip_label(cur: Cursor) -> None:
    """ "Thời hạn: Quý III/2026": the column's header repeated in the cell."""
    if cur.accept(lex.LABELS) is None or cur.accept_kind("colon") is None:
        cur.i = 0


def _refuse_document(cur: Cursor) -> None:
    first = cur.here()
    if first.kind == "docref" or cur.at(lex.DOCUMENT_NOUNS):
        cur.commit_fail(
            Expected(
                "một thời hạn, không phải tên văn bản (ngày ghi kèm số hiệu văn bản là ngày ban"
                " hành, không phải thời hạn); nếu thời hạn phụ thuộc văn bản này, hãy ghi"
                " “Theo …”",
                "a deadline, not a document (the date next to a document number is the day it"
                " was issued, not a deadline); if the deadline follows that document, write"
                " “according to …”",
            ),
            first,
            cur.tokens[-1],
        )


# -- event-driven and external ------------------------------------------------------
def _event(cur: Cursor) -> Draft:
    # "Khi có yêu cầu", "Theo yêu cầu của UBND tỉnh", "Khi phát sinh nhiệm vụ".
    head = cur.here()
    cur.expect(lex.EVENT_HEADS, Expected("“Khi có yêu cầu”", "“on request”"))
    end = next(cur.top_level(cur.i, "comma", "open"), len(cur.tokens))
    if cur.previous().text == "cua" and end == cur.i:
        cur.commit_fail(
            Expected("tên cơ quan yêu cầu sau “của”", "who makes the request, after “của”"),
            head,
            cur.previous(),
        )
    for index in range(cur.i, end):
        cur.i = index
        if _date_like(cur) or any(cur.at(v) for v in _NOT_AN_EVENT):
            # "Đột xuất hoặc hằng quý": a date or period too; another reading must explain it.
            cur.fail(EXPECT_END)
    cur.i = end
    return Draft("event", depends_on=cur.text_between(head, cur.tokens[end - 1]))


def _date_like(cur: Cursor) -> bool:
    """A year or a day/month here ("2026", "15/12"); "Ban Chỉ đạo 389" is a name."""
    token = cur.here()
    after = [t.kind for t in cur.tokens[cur.i + 1 : cur.i + 3]]
    return token.kind == "num" and (len(token.text) == 4 or after == ["sep", "num"])


_NOT_AN_EVENT: tuple[Vocab[Any], ...] = (
    lex.FREQUENCIES,
    lex.PERIODIC,
    lex.ONGOING,
    lex.ANCHOR_EVERY,
)


def _external(cur: Cursor) -> Draft:
    head = cur.here()
    role = cur.expect(
        lex.EXTERNAL_HEADS,
        Expected("“Theo tiến độ …”, “Theo lộ trình …” hoặc “Sau khi …”", "“according to …”"),
    )
    if role == "document" and not cur.at(lex.REFERENCE_NOUNS):
        cur.fail(Expected("tên văn bản, đề án hoặc kế hoạch sau “theo”", "a document name"))
    if cur.at_end():
        cur.commit_fail(
            Expected(
                "tên văn bản, đề án hoặc sự việc mà thời hạn phụ thuộc",
                "the document, project or event the deadline depends on",
            ),
            head,
            cur.previous(),
        )
    reference = cur.here()
    # A later clause may still set a date: "Theo tiến độ Đề án 06, chậm nhất Quý IV/2023".
    for comma in cur.top_level(cur.i + 1, "comma"):
        cur.i = comma + 1
        dated = cur.optional(partial(_complete, cur, _dated))
        if dated is not None:
            before = cur.tokens[comma - 1]
            if role == "condition":
                dated.notes.insert(0, cur.text_between(head, before))
            else:
                dated.depends_on = joined(cur.text_between(reference, before), dated.depends_on)
            return dated
    cur.i = len(cur.tokens)
    return Draft("external", depends_on=cur.text_between(reference, cur.tokens[-1]))


def _dated(cur: Cursor) -> Draft:
    # A bare date after a reference may be the reference's own issue date, so a date
    # counts only when a word such as "chậm nhất" or "trong" says it is a deadline.
    if cur.at(lex.RELATIONS) or cur.at(lex.COMPLETE) or cur.at(lex.TARGET_MARKS):
        return cur.first_of(partial(_recurring, cur), partial(_once, cur))
    return cur.first_of(partial(_ongoing, cur), partial(_recurring, cur))


# -- ongoing and recurring ----------------------------------------------------------
def _ongoing(cur: Cursor) -> Draft:
    first = cur.here()
    cur.expect(lex.ONGOING, Expected("“Thường xuyên”", "“ongoing”"))
    label = cur.text_between(first, cur.previous())
    after = cur.i
    cur.accept_kind("comma", "sep")
    cur.accept(lex.CLAUSE_JOINS)
    repeated = cur.optional(partial(_recurring, cur))
    if repeated is not None:  # "Thường xuyên, hằng năm": the period is the schedule
        repeated.notes.insert(0, label)
        return repeated
    cur.i = after
    draft = Draft("ongoing")
    add_bounds(draft, cur.optional(partial(bounds, cur)))
    return draft


def _recurring(cur: Cursor) -> Draft:
    # Bounds may come first: "Giai đoạn 2021 - 2025, định kỳ hằng năm".
    leading = cur.optional(partial(_leading_bounds, cur))
    cur.accept(lex.RECURRING_LEADS)
    periodic = cur.accept(lex.PERIODIC) is not None
    if periodic:  # "định kỳ báo cáo 6 tháng" as well as "báo cáo định kỳ 6 tháng"
        cur.accept(lex.RECURRING_LEADS)
    often = cur.optional(partial(frequency, cur, periodic))
    sent = Draft("recurring")  # "định kỳ 6 tháng báo cáo về Sở Nội vụ"
    if often is not None:
        cur.optional(partial(report, cur, sent))
        cur.accept_kind("comma", "sep", "colon")
    rule = cur.optional(partial(day_rule, cur))
    if rule is not None and often is None:
        often = cur.optional(partial(frequency, cur, False))
    if often is None and rule is None:
        cur.fail(EXPECT_FREQUENCY)
    if rule is not None:
        cur.optional(partial(report, cur, sent))
    yearly_dates = often is None or often.months == 12
    if rule is not None and not evenly_spaced(rule.months) and yearly_dates:
        # "Tháng 3 và tháng 10 hằng năm": one yearly date per month, owed in turn.
        yearly = tuple(recurrence(cur, often, replace(rule, months=(m,))) for m in rule.months)
        draft = Draft("recurring", recurrence=yearly[0], has_rule=True, yearly=yearly)
    else:
        draft = Draft("recurring", recurrence=recurrence(cur, often, rule), has_rule=bool(rule))
    draft.report_to, draft.notes = sent.report_to, sent.notes
    add_bounds(draft, leading or cur.optional(partial(bounds, cur)))
    return draft


def _leading_bounds(cur: Cursor) -> Bounds:
    found = bounds(cur)
    if cur.accept_kind("comma") is None:
        cur.fail(Expected("dấu phẩy rồi chu kỳ", "a comma, then the period"))
    return found


def _onwards(cur: Cursor) -> Draft:
    # "Năm 2022 và các năm tiếp theo", "Q4 2022 and the following quarters".
    found = point(cur)
    cur.expect(lex.AND_THE, Expected("“và các … tiếp theo”", "“and the following …”"))
    before = cur.accept(lex.FOLLOWING)
    noun = cur.here()
    every = cur.expect(lex.PERIODS_PLURAL, Expected("“năm”, “quý” hoặc “tháng”", "“years”"))
    if before is None:
        cur.expect(lex.FOLLOWING, Expected("“tiếp theo”", "“following”"))
    units = {"year": 12, "quarter": 3, "month": 1}
    if found.unit != "day" and units.get(found.unit) != every:
        cur.commit_fail(
            Expected("cùng một loại kỳ (ví dụ “Quý IV/2022 và các quý tiếp theo”)", "the same"
                     " kind of period (e.g. “Q4 2022 and the following quarters”)"),
            noun,
        )  # fmt: skip
    day = found.day if found.unit == "day" else None
    nth = (found.first_month - 1) % every + 1 if found.unit == "day" else None
    rec = Recurrence(every, day, None if nth == every else nth)
    return Draft("recurring", start=found.start, recurrence=rec, has_rule=True)


# -- one-off deadlines --------------------------------------------------------------
def _once(cur: Cursor) -> Draft:
    aim = cur.accept(lex.TARGET_MARKS) is not None
    first = clause(cur)
    draft = Draft("once", start=first.start, due=first.due, latest=first.latest)
    draft.target = first.due if aim else None
    second = cur.optional(partial(latest_clause, cur))
    if second is not None:
        add_latest(cur, draft, second)
    return draft
