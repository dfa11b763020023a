"""Deadlines that go on from a point: "Từ năm 2026 trở đi", "Quý IV/2025 và hằng năm";
and cells that list several deadlines: "Quý I/2026, Quý III/2026", "- Sơ kết: Tháng
6/2026 - Tổng kết: Tháng 12/2026".

A list is cut into items at its separators ("," ";" "và", a bullet, or a "Nhãn:" that
opens the next line of a cell whose line breaks were lost); each item must read whole
as one dated clause. Where a separator could also sit inside an item ("và" in a label),
the shortest items that let the rest read too win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

import rules.deadline.words as lex
from rules.deadline.clauses import clause
from rules.deadline.draft import Draft
from rules.deadline.periods import Period, point
from rules.deadline.recurring import frequency
from rules.deadline.tokens import Cursor, Token, words
from rules.deadline.values import Deadline, Expected, Recurrence, month_end

EXPECT_ONWARDS = Expected(
    "“trở đi” hoặc hết cụm từ sau mốc bắt đầu", "“onwards” or the end after the start"
)
_AND = words("và", "and")
_BULLETS = frozenset("-•+*")
_MAX_LABEL = 8  # tokens: "Sơ kết", "Tổng kết 5 năm", "Báo cáo giữa kỳ"


# -- from a point on ----------------------------------------------------------------
def from_on(cur: Cursor) -> Draft:
    """ "Từ năm 2026", "Từ Quý II/2026 trở đi": ongoing, nothing owed before the start."""
    cur.expect(lex.FROM_WORDS, Expected("“Từ …”", "“from …”"))
    found = point(cur)
    if cur.accept(lex.ONWARDS) is None and not (cur.at_end() or cur.at_kind("comma", "open")):
        raise cur.error(EXPECT_ONWARDS)  # not recorded: "từ … đến …" is a window's to explain
    return Draft("ongoing", start=found.start)


def then_every(cur: Cursor) -> Draft:
    """ "Quý IV/2025 và hằng năm", "Trước ngày 15/12/2025 và hằng năm": the point, then the
    same point in every period after it."""
    first = cur.here()
    cur.accept(lex.COMPLETE)
    relation = cur.accept(lex.RELATIONS)
    if relation == "latest":
        relation = cur.accept(lex.RELATIONS) or relation
    found = point(cur)
    if cur.accept(_AND) is None:
        raise cur.error(Expected("“và hằng năm”", "“and every year”"))
    cur.accept(lex.PERIODIC)
    if cur.at(lex.RECURRING_LEADS):
        raise cur.error(Expected("một chu kỳ", "a period"))
    often = frequency(cur, periodic=True)
    due = found.start - timedelta(days=1) if relation == "strict" else found.end
    rec = _same_point(cur, found, due, often.months, relation == "strict", first)
    start = due if relation == "strict" else found.start
    return Draft("recurring", start=start, recurrence=rec, has_rule=True)


def _same_point(
    cur: Cursor, found: Period, due: date, every: int, strict: bool, first: Token
) -> Recurrence:
    """The recurrence whose date in `due`'s period is `due`; refused where it could mean
    either that or the period's end ("Tháng 11/2022 và hằng quý")."""
    nth = (due.month - 1) % every + 1
    at_month_end = due == month_end(due.year, due.month)
    day = None if at_month_end and (strict or found.day is None) else due.day
    rec = Recurrence(every, day, None if nth == every else nth)
    fits = (found.first_month - 1) // every == (found.last_month - 1) // every
    same_kind = {"year": 12, "quarter": 3, "month": 1}.get(found.unit) == every
    if found.unit == "months":
        same_kind = found.last_month - found.first_month + 1 == every
    if not fits or not (every == 12 or same_kind or rec == Recurrence(every)):
        cur.commit_fail(
            Expected(
                "một chu kỳ không mơ hồ sau “và”: mốc này lặp lại hằng năm (ví dụ “Quý IV/2025"
                " và hằng năm”) hoặc cùng loại kỳ (ví dụ “Quý IV/2025 và hằng quý”); nếu là"
                " báo cáo định kỳ trong năm, ghi “Năm 2026, báo cáo hằng quý”",
                "a period that is not ambiguous after “and”: the point repeated every year"
                " (e.g. “Q4 2025 and every year”) or the same kind of period (e.g. “Q4 2025"
                " and every quarter”)",
            ),
            first,
            cur.previous(),
        )
    return rec


# -- several deadlines ----------------------------------------------------------------
@dataclass(frozen=True)
class _Item:
    label: str | None
    deadline: Deadline
    end: int  # token index after the item
    first: Token
    period: Period | None  # the point as written, when the item is only a point


def several(cur: Cursor) -> Draft:
    """Two or more one-off deadlines, each owed in turn, each with its label if it has one."""
    bulleted = _bullet(cur)
    items = _items(cur, cur.i, bulleted)
    if items is None or len(items) < 2:
        raise cur.error(Expected("hết cụm từ", "the end of the phrase"))
    _refuse_a_span(cur, items)
    cur.i = items[-1].end
    parts = tuple(
        Deadline(
            phrase=item.deadline.phrase,
            kind="once",
            start=item.deadline.start,
            due=item.deadline.due,
            label=item.label,
        )
        for item in items
    )
    return Draft("once", due=max(p.due for p in parts if p.due), parts=parts)


def _refuse_a_span(cur: Cursor, items: list[_Item]) -> None:
    """ "Năm 2026, 2027" may be one deadline over both years as well as two deadlines."""
    for before, after in pairwise(items):
        one, two = before.period, after.period
        if before.label or after.label or one is None or two is None:
            continue
        if one.unit == two.unit and one.unit != "day" and one.end + timedelta(days=1) == two.start:
            cur.commit_fail(
                Expected(
                    "cách ghi không mơ hồ: hai kỳ liền nhau có thể là một giai đoạn (ghi “Từ"
                    f" {before.deadline.phrase} đến {after.deadline.phrase}” nếu chỉ có một hạn"
                    " cuối) hoặc hai hạn riêng (ghi kèm tên từng mốc, ví dụ “Sơ kết: …; Tổng"
                    " kết: …”)",
                    "an unambiguous wording: two adjacent periods may be one span (write"
                    f" “from {before.deadline.phrase} to {after.deadline.phrase}” for a single"
                    " deadline) or two deadlines (name each, e.g. “Sơ kết: …; Tổng kết: …”)",
                ),
                before.first,
                cur.tokens[after.end - 1],
            )


def _bullet(cur: Cursor) -> bool:
    token = cur.peek()
    if token is not None and token.kind in ("sep", "other") and token.text in _BULLETS:
        cur.i += 1
        return True
    return False


def _items(cur: Cursor, start: int, bulleted: bool) -> list[_Item] | None:
    """The items from `start` to the end (or to a bracket), shortest first; None if none."""
    for end in _ends(cur, start, bulleted):
        item = _item(cur, start, end)
        if item is None:
            continue
        after = _next_start(cur, end, bulleted)
        if after is None:
            return [item]
        rest = _items(cur, after, bulleted)
        if rest is not None:
            return [item, *rest]
    return None


def _ends(cur: Cursor, start: int, bulleted: bool) -> list[int]:
    tokens, ends = cur.tokens, []
    for index in range(start + 1, len(tokens)):
        cur.spend()
        token = tokens[index]
        if token.kind == "open":
            close = _bracket_label_end(cur, index, bulleted)
            if close is not None:  # "Quý II/2026 (sơ kết), …": the item's own label
                ends.append(close)
                continue
            ends.append(index)
            break
        if _separator(cur, index, bulleted) or _label_at(cur, index):
            ends.append(index)
    else:
        ends.append(len(tokens))
    return ends


def _bracket_label_end(cur: Cursor, open_at: int, bulleted: bool) -> int | None:
    """The index after a bracket of words that labels the item before it: one followed by
    the next item ("Quý II/2026 (sơ kết), Quý IV/2026 (tổng kết)"), or closing the last
    item of a list whose earlier items are labelled so. A bracket after the last item
    alone stays the note of the whole phrase ("…, Quý III/2026 (trình UBND tỉnh)")."""
    tokens = cur.tokens
    close = open_at + 1
    while close < len(tokens) and tokens[close].kind in ("word", "num"):
        close += 1
    if close == open_at + 1 or close >= len(tokens) or tokens[close].kind != "close":
        return None
    if close - open_at - 1 > _MAX_LABEL:
        return None
    after = close + 1
    if after < len(tokens) and _separator(cur, after, bulleted):
        return after
    while after < len(tokens) and tokens[after].text == ".":
        after += 1  # the full stop closing the cell
    labelled_before = any(
        t.kind == "open" and i < open_at and _bracket_label_end(cur, i, bulleted)
        for i, t in enumerate(tokens[:open_at])
    )
    return after if after == len(tokens) and labelled_before else None


def _separator(cur: Cursor, index: int, bulleted: bool) -> bool:
    token = cur.tokens[index]
    if token.kind == "comma" or token.text in ("va", "and"):
        return True
    if token.kind == "other" and token.text in _BULLETS:
        return True
    following = cur.tokens[index + 1] if index + 1 < len(cur.tokens) else None
    # In a bulleted cell, a dash before a word starts the next line; "2023 - 2025" does not.
    return (
        bulleted
        and token.kind == "sep"
        and token.text == "-"
        and following is not None
        and following.kind == "word"
    )


def _label_at(cur: Cursor, index: int) -> bool:
    """A label starts here: a few words, then a colon ("Tổng kết:")."""
    if cur.tokens[index].kind != "word" or cur.tokens[index - 1].kind == "word":
        return False
    for probe in range(index, min(index + _MAX_LABEL, len(cur.tokens))):
        kind = cur.tokens[probe].kind
        if kind == "colon":
            return probe > index
        if kind not in ("word", "num"):
            return False
    return False


def _next_start(cur: Cursor, end: int, bulleted: bool) -> int | None:
    """Where the item after the one ending at `end` begins; None at the list's end."""
    if end >= len(cur.tokens) or cur.tokens[end].kind == "open":
        return None
    if _separator(cur, end, bulleted):
        end += 1
        if end < len(cur.tokens) and cur.tokens[end].kind == "comma":
            end += 1  # "…, và …"
        if end < len(cur.tokens) and cur.tokens[end].text in ("va", "and"):
            end += 1
        if end < len(cur.tokens) and cur.tokens[end].text in _BULLETS:
            end += 1  # "…;\n- Tổng kết: …"
    return end if end < len(cur.tokens) else None


def _item(cur: Cursor, start: int, end: int) -> _Item | None:
    """tokens[start:end] read whole as one dated clause, with or without a label."""
    if start >= end:
        return None
    bracket = _bracket_of(cur, start, end)
    if bracket is not None:  # "Quý II/2026 (sơ kết)": the date, then its label
        found = _whole_clause(cur, start, bracket)
        if found is None:
            return None
        closing = next(i for i in range(bracket, end) if cur.tokens[i].kind == "close")
        label = cur.text_between(cur.tokens[bracket + 1], cur.tokens[closing - 1])
        return _Item(label, found, end, cur.tokens[start], None)
    found = _whole_clause(cur, start, end)
    if found is not None:
        return _Item(None, found, end, cur.tokens[start], _whole_point(cur, start, end))
    colon = next((i for i in range(start, min(end, start + _MAX_LABEL + 1))
                  if cur.tokens[i].kind == "colon"), None)  # fmt: skip
    if colon is None or colon == start:
        return None
    if any(t.kind not in ("word", "num") for t in cur.tokens[start:colon]):
        return None
    found = _whole_clause(cur, colon + 1, end)
    if found is None:
        return None
    label = cur.text_between(cur.tokens[start], cur.tokens[colon - 1])
    return _Item(label, found, end, cur.tokens[start], None)


def _bracket_of(cur: Cursor, start: int, end: int) -> int | None:
    """Where the label bracket closing tokens[start:end] opens, if it ends with one."""
    tokens = cur.tokens
    while end > start and tokens[end - 1].text == ".":
        end -= 1  # the full stop closing the cell
    if end - start < 3 or tokens[end - 1].kind != "close":
        return None
    for index in range(end - 2, start, -1):
        if tokens[index].kind == "open":
            return index
        if tokens[index].kind not in ("word", "num"):
            return None
    return None


def _whole_clause(cur: Cursor, start: int, end: int) -> Deadline | None:
    while end > start and cur.tokens[end - 1].text == ".":
        end -= 1  # the full stop closing a line
    if start >= end:
        return None
    inner = cur.sub(start, end) if end < len(cur.tokens) else _tail(cur, start)

    def run() -> Deadline:
        found = clause(inner)
        if not inner.at_end():
            inner.fail(Expected("hết mục", "the end of the item"))
        text = inner.text_between(inner.tokens[0], inner.tokens[-1])
        return Deadline(phrase=text, kind="once", start=found.start, due=found.due)

    return inner.optional(run)


def _whole_point(cur: Cursor, start: int, end: int) -> Period | None:
    inner = cur.sub(start, end) if end < len(cur.tokens) else _tail(cur, start)

    def run() -> Period:
        found = point(inner)
        if not inner.at_end():
            inner.fail(Expected("hết mục", "the end of the item"))
        return found

    return inner.optional(run)


def _tail(cur: Cursor, start: int) -> Cursor:
    cur.spend(len(cur.tokens) - start)
    return Cursor(cur.phrase, cur.tokens[start:], cur.end, cur.meter)
