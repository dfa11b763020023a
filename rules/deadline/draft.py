"""A deadline being assembled, and what may follow its main clause.

After "Tháng 11/2022" may come ", chậm nhất tháng 3/2023" (a latest date), a note
("hoặc đột xuất"), a condition ("(sau khi …)") or a reference ("theo Đề án 06").
Brackets are read for dates first; what is not a date is kept, verbatim, as a note.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from typing import Any, TypeVar

import rules.deadline.words as lex
from rules.deadline.clauses import Clause, clause, latest_clause
from rules.deadline.describe import format_date
from rules.deadline.recurring import (
    Bounds,
    Frequency,
    bounds,
    day_rule,
    last_occurrence,
    recurrence,
)
from rules.deadline.tokens import Cursor, Vocab
from rules.deadline.values import Deadline, DeadlineKind, Expected, Recurrence

T = TypeVar("T")

EXPECT_END = Expected(
    "hết cụm từ, hoặc một ghi chú sau dấu phẩy hay trong ngoặc",
    "the end of the phrase, or a note after a comma or in brackets",
)


@dataclass
class Draft:
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
    report_to: str | None = None
    parts: tuple[Deadline, ...] = ()  # several deadlines, each owed in turn
    yearly: tuple[Recurrence, ...] = ()  # "tháng 3 và tháng 10 hằng năm": one per month


def add_bounds(draft: Draft, found: Bounds | None) -> None:
    if found is None:
        return
    draft.start = found.start or draft.start
    if found.until is not None:
        draft.until = found


def close_bounds(cur: Cursor, draft: Draft) -> None:
    """An upper bound becomes the due date: for a recurrence, its last occurrence."""
    if draft.yearly:
        _yearly_parts(cur, draft)
        return
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


def _yearly_parts(cur: Cursor, draft: Draft) -> None:
    """One recurring part per yearly date, each within the bounds the phrase gave."""
    parts = []
    for rec in draft.yearly:
        part = replace(draft, yearly=(), recurrence=rec, due=None)
        close_bounds(cur, part)
        parts.append(
            Deadline(phrase=cur.phrase, kind="recurring", start=draft.start, due=part.due,
                     recurrence=rec)
        )  # fmt: skip
    dues = [part.due for part in parts]
    draft.recurrence, draft.start, draft.parts = None, None, tuple(parts)
    draft.due = None if None in dues else max(d for d in dues if d is not None)


def add_latest(cur: Cursor, draft: Draft, second: Clause) -> None:
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


def trailers(cur: Cursor, draft: Draft) -> None:
    while not cur.at_end():
        before = cur.i
        cur.accept_kind("comma", "sep", "colon")
        if cur.at_end():
            return
        if cur.at_kind("open"):
            _bracket(cur, draft)
            continue
        if draft.kind == "once" and not draft.parts:  # "…, sau khi X, chậm nhất Y"
            later = cur.optional(partial(latest_clause, cur))
            if later is not None:
                add_latest(cur, draft, later)
                continue
        if draft.kind in ("recurring", "ongoing") and cur.optional(partial(report, cur, draft)):
            continue  # "Thường xuyên, báo cáo về Sở Nội vụ"
        head = cur.here()
        if cur.accept(lex.NOTE_HEADS) is not None:  # "hoặc đột xuất": up to the next comma
            end = next(cur.top_level(cur.i, "comma", "close"), len(cur.tokens))
            draft.notes.append(cur.text_between(head, cur.tokens[end - 1]))
            cur.i = end
            continue
        role = cur.accept(lex.EXTERNAL_HEADS)
        if role == "document" and not cur.at(lex.REFERENCE_NOUNS):
            role = None
        if role is None or cur.at_end():
            cur.i = before
            return
        # A condition is kept for people, never read as a date; it runs to the end or
        # to a comma that opens a dated clause ("…, chậm nhất Y").
        end = _condition_end(cur)
        if role == "condition":
            draft.notes.append(cur.text_between(head, cur.tokens[end - 1]))
        else:
            reference = cur.text_between(cur.here(), cur.tokens[end - 1])
            draft.depends_on = joined(draft.depends_on, reference)
        cur.i = end


def report(cur: Cursor, draft: Draft) -> bool:
    """ "báo cáo về Sở Nội vụ", "báo cáo UBND tỉnh": where the periodic report goes.

    Kept for people, never a date. An agency is written with a capital ("Sở", "UBND");
    "báo cáo về kết quả thực hiện" names none, and is kept whole as a note instead.
    """
    first = cur.here()
    lead = cur.accept(lex.REPORT_LEADS) is not None
    if cur.accept(lex.REPORT_TO) is None and not lead:
        cur.fail(Expected("“báo cáo về …”", "“report to …”"))
    start = cur.i
    while not (cur.at_end() or cur.at_kind("comma", "open", "close", "colon") or _ends_name(cur)):
        cur.i += 1
    if cur.i == start:
        cur.fail(Expected("tên cơ quan nhận báo cáo", "the agency the report goes to"))
    name = cur.tokens[start]
    if cur.phrase[name.start].isupper():
        draft.report_to = joined(draft.report_to, cur.text_between(name, cur.previous()))
    else:
        draft.notes.append(cur.text_between(first, cur.previous()))
    return True


def _ends_name(cur: Cursor) -> bool:
    """Where a date or a period starts after an agency's name."""
    token = cur.here()
    if token.kind == "num" and [t.kind for t in cur.tokens[cur.i + 1 : cur.i + 3]] == [
        "sep",
        "num",
    ]:
        return True  # "15/12"
    return any(cur.at(vocab) for vocab in _AFTER_NAME)


_AFTER_NAME: tuple[Vocab[Any], ...] = (
    lex.RELATIONS, lex.NOTE_HEADS, lex.EVENT_HEADS, lex.FREQUENCIES, lex.PERIODIC,
    lex.ANCHOR_EVERY, lex.DATE_NOUNS,
)  # fmt: skip


def _condition_end(cur: Cursor) -> int:
    start = cur.i
    for comma in cur.top_level(start, "comma"):
        cur.i = comma + 1
        if cur.at(lex.RELATIONS):
            cur.i = start
            return comma
    cur.i = start
    return len(cur.tokens)


def _bracket(cur: Cursor, draft: Draft) -> None:
    opening = cur.next()
    close = next(cur.top_level(cur.i, "close"), None)
    if close is None:
        cur.commit_fail(Expected("dấu đóng ngoặc “)”", "a closing bracket “)”"), opening)
    inner = cur.sub(cur.i, close)
    cur.i = close + 1
    if not inner.tokens or _bracket_meaning(inner, draft):
        return
    inner.i = 0
    role = inner.accept(lex.EXTERNAL_HEADS)
    if role == "document" and not inner.at(lex.REFERENCE_NOUNS):
        role = None
    if role in ("reference", "document") and not inner.at_end():  # "(theo Đề án 06)"
        reference = inner.text_between(inner.here(), inner.tokens[-1])
        draft.depends_on = joined(draft.depends_on, reference)
        return
    if role is None and _mentions_a_date(inner):
        # A date dondoc cannot place would otherwise be silently dropped into a note.
        inner.commit_fail(
            Expected(
                "một mốc thời gian dondoc đọc được trong ngoặc (ví dụ “chậm nhất tháng 3/2023”)",
                "a date in brackets that dondoc can read (e.g. “at the latest March 2023”)",
            ),
            inner.tokens[0],
            inner.tokens[-1],
        )
    draft.notes.append(inner.text_between(inner.tokens[0], inner.tokens[-1]))


def _mentions_a_date(inner: Cursor) -> bool:
    """A day or month such as "15/12" or "ngày 15", outside any document reference."""
    tokens = inner.tokens
    for index, token in enumerate(tokens):
        inner.i = index
        if token.kind == "docref" or inner.at(lex.DOCUMENT_NOUNS):
            return False  # from here on, dates are issue dates
        after = tokens[index + 1 : index + 3]
        if token.text in ("ngay", "thang", "quy") and after and after[0].kind == "num":
            return True
        if token.kind == "num" and [t.kind for t in after] == ["sep", "num"]:
            return True
    return False


def _bracket_meaning(inner: Cursor, draft: Draft) -> bool:
    """Dates in brackets count when their words say how; anything else is a note."""

    def whole(rule: Callable[[Cursor], T]) -> T | None:
        def run() -> T:
            value = rule(inner)
            if not inner.at_end():
                inner.fail(EXPECT_END)
            return value

        inner.i = 0
        return inner.optional(run)

    if draft.kind == "once" and not draft.parts:
        second = whole(latest_clause)
        if second is not None:
            add_latest(inner, draft, second)
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
            add_bounds(draft, found)
            return True
    return False


def joined(first: str | None, second: str | None) -> str | None:
    return "; ".join(part for part in (first, second) if part) or None
