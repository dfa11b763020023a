"""The grammar of deadline phrases, from tokens to a `Deadline`.

    phrase    := (recurring | ongoing | external | once) trailer* END
    once      := [aim] clause [[,] latest-clause]     "Tháng 11/2022, chậm nhất tháng 3/2023"
    clause    := [complete] [relation] [end-of] (window | point) [at the latest]
    recurring := [periodic] [frequency] [,] [day-rule] [bounds]
                                                "Hàng quý, trước ngày 20 tháng cuối quý"
    external  := head reference [, dated-phrase]      "Theo tiến độ của Đề án 06"
    trailer   := "(" … ")" | note | condition | reference

Points live in `deadline_periods`, clauses and windows in `deadline_clauses`,
recurrences in `deadline_recurring`, the words in `deadline_words`.

Alternatives are tried in order and the first that reads the whole phrase wins; when
none does, the error reported is the one that got furthest. A value that is wrong
once its words matched (month 13, Y before X) fails at once (`Committed`): no other
reading may explain it away.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TypeVar

from rules import deadline_words as lex
from rules.deadline import Deadline, DeadlineKind, Expected, ParseError, Recurrence
from rules.deadline_clauses import Clause, clause, latest_clause
from rules.deadline_recurring import (
    EXPECT_FREQUENCY,
    Bounds,
    Frequency,
    bounds,
    day_rule,
    frequency,
    last_occurrence,
    recurrence,
)
from rules.deadline_text import format_date
from rules.deadline_tokens import Committed, Cursor, Token
from rules.text import nfc

T = TypeVar("T")

EXPECT_DEADLINE = Expected(
    "một thời hạn, ví dụ “Tháng 12/2022”, “Quý II/2023”, “Trước ngày 20/12/2022”,"
    " “Hàng quý”, “Thường xuyên” hoặc “Theo tiến độ Đề án 06”",
    "a deadline, e.g. “Tháng 12/2022”, “Q2 2023”, “before 20/12/2022”, “quarterly”,"
    " “ongoing” or “according to the schedule of Đề án 06”",
)
EXPECT_END = Expected(
    "hết cụm từ, hoặc một ghi chú sau dấu phẩy hay trong ngoặc",
    "the end of the phrase, or a note after a comma or in brackets",
)


@dataclass
class _Draft:
    """A deadline being assembled; trailers and brackets may still add to it."""

    kind: DeadlineKind
    start: date | None = None
    target: date | None = None
    due: date | None = None
    latest: bool = False  # `due` came from "chậm nhất": a second one is a contradiction
    recurrence: Recurrence | None = None
    has_rule: bool = False  # the recurrence named its day, so brackets may not
    until: Bounds | None = None
    depends_on: str | None = None
    notes: list[str] = field(default_factory=list)


def parse(text: str) -> Deadline:
    phrase = nfc(text)
    cur = Cursor(phrase)
    if not cur.tokens:
        raise ParseError(phrase, 0, EXPECT_DEADLINE)
    try:
        _refuse_document(cur)
        # Recurring first: "once a month" is a period, "once the decree is issued" is not.
        bodies = (_recurring, _ongoing, _external, _once)
        draft = cur.first_of(*(partial(_complete, cur, body) for body in bodies))
    except Committed as exc:
        raise ParseError(phrase, exc.position, exc.expected, len(exc.fragment)) from None
    except ParseError:
        best = cur.furthest
        if best is None or best.position <= cur.tokens[0].start:
            best = cur.error(EXPECT_DEADLINE, cur.tokens[0])
        raise ParseError(phrase, best.position, best.expected, len(best.fragment)) from None
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
        )
    except ValueError as exc:  # the grammar let an inconsistent value through: say so
        raise ParseError(phrase, 0, Expected("một thời hạn nhất quán", str(exc))) from None


def _complete(cur: Cursor, body: Callable[[Cursor], _Draft]) -> _Draft:
    draft = body(cur)
    _trailers(cur, draft)
    if not cur.at_end():
        cur.fail(EXPECT_END)
    _close_bounds(cur, draft)
    return draft


def _refuse_document(cur: Cursor) -> None:
    first = cur.tokens[0]
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


# -- external -----------------------------------------------------------------------
def _external(cur: Cursor) -> _Draft:
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
    for comma in _top_level(cur.tokens, cur.i + 1, "comma"):
        cur.i = comma + 1
        dated = cur.optional(partial(_complete, cur, _dated))
        if dated is not None:
            before = cur.tokens[comma - 1]
            if role == "condition":
                dated.notes.insert(0, cur.text_between(head, before))
            else:
                dated.depends_on = _joined(cur.text_between(reference, before), dated.depends_on)
            return dated
    cur.i = len(cur.tokens)
    return _Draft("external", depends_on=cur.text_between(reference, cur.tokens[-1]))


def _dated(cur: Cursor) -> _Draft:
    # A bare date after a reference may be the reference's own issue date, so a date
    # counts only when a word such as "chậm nhất" or "trong" says it is a deadline.
    if cur.at(lex.RELATIONS) or cur.at(lex.COMPLETE) or cur.at(lex.TARGET_MARKS):
        return cur.first_of(partial(_recurring, cur), partial(_once, cur))
    return cur.first_of(partial(_ongoing, cur), partial(_recurring, cur))


# -- ongoing and recurring ----------------------------------------------------------
def _ongoing(cur: Cursor) -> _Draft:
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
    draft = _Draft("ongoing")
    _add_bounds(draft, cur.optional(partial(bounds, cur)))
    return draft


def _recurring(cur: Cursor) -> _Draft:
    cur.accept(lex.RECURRING_LEADS)
    periodic = cur.accept(lex.PERIODIC) is not None
    often = cur.optional(partial(frequency, cur, periodic))
    if often is not None:
        cur.accept_kind("comma", "sep", "colon")
    rule = cur.optional(partial(day_rule, cur))
    if rule is not None and often is None:
        often = cur.optional(partial(frequency, cur, False))
    if often is None and rule is None:
        cur.fail(EXPECT_FREQUENCY)
    draft = _Draft("recurring", recurrence=recurrence(cur, often, rule), has_rule=bool(rule))
    _add_bounds(draft, cur.optional(partial(bounds, cur)))
    return draft


def _add_bounds(draft: _Draft, found: Bounds | None) -> None:
    if found is None:
        return
    draft.start = found.start or draft.start
    if found.until is not None:
        draft.until = found


def _close_bounds(cur: Cursor, draft: _Draft) -> None:
    """An upper bound becomes the due date: for a recurrence, its last occurrence."""
    if draft.until is None or draft.until.until is None:
        return
    if draft.recurrence is None:
        draft.due = draft.until.until
        return
    draft.due = last_occurrence(draft.recurrence, draft.start, draft.until.until)
    if draft.due is None:
        cur.commit_fail(
            Expected("một giai đoạn chứa ít nhất một kỳ hạn", "bounds that hold a due date"),
            draft.until.first,
            draft.until.last,
        )


# -- one-off deadlines --------------------------------------------------------------
def _once(cur: Cursor) -> _Draft:
    aim = cur.accept(lex.TARGET_MARKS) is not None
    first = clause(cur)
    draft = _Draft("once", start=first.start, due=first.due, latest=first.latest)
    draft.target = first.due if aim else None
    second = cur.optional(partial(latest_clause, cur))
    if second is not None:
        _add_latest(cur, draft, second)
    return draft


def _add_latest(cur: Cursor, draft: _Draft, second: Clause) -> None:
    """ "X, chậm nhất Y": X becomes the target, Y the due date, and Y may not precede X."""
    if draft.due is None or draft.latest:
        cur.commit_fail(
            Expected("chỉ một hạn “chậm nhất”", "a single “at the latest” date"),
            second.first,
            second.last,
        )
    if second.due < draft.due:
        cur.commit_fail(
            Expected(
                f"hạn chậm nhất không sớm hơn mốc phấn đấu ({format_date(draft.due)})",
                f"a latest date no earlier than the target ({format_date(draft.due, 'en')})",
            ),
            second.first,
            second.last,
        )
    draft.target, draft.due, draft.latest = draft.due, second.due, True


# -- trailers -----------------------------------------------------------------------
def _trailers(cur: Cursor, draft: _Draft) -> None:
    while not cur.at_end():
        before = cur.i
        cur.accept_kind("comma", "sep", "colon")
        if cur.at_end():
            return
        if cur.at_kind("open"):
            _bracket(cur, draft)
            continue
        head = cur.here()
        if cur.accept(lex.NOTE_HEADS) is not None:  # "hoặc đột xuất": up to the next comma
            end = next(_top_level(cur.tokens, cur.i, "comma", "close"), len(cur.tokens))
            draft.notes.append(cur.text_between(head, cur.tokens[end - 1]))
            cur.i = end
            continue
        role = cur.accept(lex.EXTERNAL_HEADS)
        if role == "document" and not cur.at(lex.REFERENCE_NOUNS):
            role = None
        if role is None or cur.at_end():
            cur.i = before
            return
        # The rest of the phrase: a condition is kept for people, never read as a date.
        if role == "condition":
            draft.notes.append(cur.text_between(head, cur.tokens[-1]))
        else:
            reference = cur.text_between(cur.here(), cur.tokens[-1])
            draft.depends_on = _joined(draft.depends_on, reference)
        cur.i = len(cur.tokens)


def _bracket(cur: Cursor, draft: _Draft) -> None:
    opening = cur.next()
    close = next(_top_level(cur.tokens, cur.i, "close"), None)
    if close is None:
        cur.commit_fail(Expected("dấu đóng ngoặc “)”", "a closing bracket “)”"), opening)
    inner = cur.sub(cur.i, close)
    cur.i = close + 1
    if inner.tokens and not _bracket_meaning(inner, draft):
        draft.notes.append(inner.text_between(inner.tokens[0], inner.tokens[-1]))


def _bracket_meaning(inner: Cursor, draft: _Draft) -> bool:
    """Dates in brackets count when their words say how; anything else is a note."""

    def whole(rule: Callable[[Cursor], T]) -> T | None:
        def run() -> T:
            value = rule(inner)
            if not inner.at_end():
                inner.fail(EXPECT_END)
            return value

        inner.i = 0
        return inner.optional(run)

    if draft.kind == "once":
        second = whole(latest_clause)
        if second is not None:
            _add_latest(inner, draft, second)
            return True
        if whole(clause) is not None:
            inner.commit_fail(
                Expected(
                    "một thời hạn duy nhất (trong ngoặc có thêm một mốc, không rõ mốc nào là hạn)",
                    "a single deadline (the brackets hold another date; which one is due?)",
                ),
                inner.tokens[0],
                inner.tokens[-1],
            )
        return False
    if draft.kind == "recurring" and draft.recurrence is not None and not draft.has_rule:
        rule = whole(day_rule)
        if rule is not None:  # "Hàng tháng (trước ngày 25)"
            often = Frequency(draft.recurrence.every_months, rule.first, rule.last)
            draft.recurrence, draft.has_rule = recurrence(inner, often, rule), True
            return True
    if draft.kind in ("recurring", "ongoing"):
        found = whole(bounds)
        if found is not None:  # "Hàng quý (giai đoạn 2023 - 2025)"
            _add_bounds(draft, found)
            return True
    return False


def _top_level(tokens: list[Token], start: int, *kinds: str) -> Iterator[int]:
    """Indices of tokens of `kinds` outside brackets, from `start` on."""
    depth = 0
    for index in range(start, len(tokens)):
        kind = tokens[index].kind
        if kind == "close" and depth > 0:
            depth -= 1
        elif kind in kinds and depth == 0:
            yield index
        elif kind == "open":
            depth += 1


def _joined(first: str | None, second: str | None) -> str | None:
    return "; ".join(part for part in (first, second) if part) or None
