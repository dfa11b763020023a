"""Numbers inside deadline phrases: days, months and quarters (digits, Roman or words)
and four-digit years, each failing with what was expected at that place."""

from __future__ import annotations

import re

import rules.deadline.words as lex
from rules.deadline.tokens import Cursor, Token, Vocab
from rules.deadline.values import Expected

# Plans are written for the years around now; a year outside this is a typo.
MIN_YEAR, MAX_YEAR = 1900, 2199
_ROMAN = re.compile(r"^(x{0,1})(ix|iv|v?i{0,3})$")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10}

EXPECT_YEAR = Expected("năm viết đủ 4 chữ số (ví dụ 2023)", "a four-digit year (e.g. 2023)")
EXPECT_DAY = Expected("số ngày", "a day number")
EXPECT_MONTH = Expected("số tháng (1–12)", "a month number (1–12)")
EXPECT_QUARTER = Expected("số quý (I–IV hoặc 1–4)", "a quarter number (I–IV or 1–4)")


def roman(text: str) -> int | None:
    if not text or not _ROMAN.match(text):
        return None
    values = [_ROMAN_VALUES[c] for c in text]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def small_number(
    cur: Cursor,
    expected: Expected,
    *,
    allow_roman: bool = False,
    numerals: Vocab[int] | None = None,
) -> tuple[int, Token]:
    """A day, month or quarter number: 1–2 digits, or a Roman/word numeral if allowed."""
    token = cur.here()
    if token.kind == "num" and len(token.text) <= 2:
        cur.i += 1
        return int(token.text), token
    value = roman(token.text) if allow_roman and token.kind == "word" else None
    if value is not None:
        cur.i += 1
        return value, token
    if numerals is not None and (value := cur.accept(numerals)) is not None:
        return value, token
    cur.fail(expected)


def year_number(cur: Cursor) -> tuple[int, Token]:
    token = cur.peek()
    if token is None or token.kind != "num" or len(token.text) != 4:
        cur.fail(EXPECT_YEAR)
    cur.i += 1
    year = int(token.text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        cur.commit_fail(
            Expected(f"năm từ {MIN_YEAR} đến {MAX_YEAR}", f"a year from {MIN_YEAR} to {MAX_YEAR}"),
            token,
        )
    return year, token


def year_part(cur: Cursor, need: bool) -> int | None:
    """The year after a month/quarter/half: "/2023", " năm 2023", ", 2023", " of 2023"."""
    start = cur.i
    cur.accept_kind("sep", "comma")
    cur.accept(lex.YEAR_LEADS)
    if cur.i > start:
        found = cur.optional(lambda: year_number(cur))
        if found is not None:
            return found[0]
        cur.i = start
    token = cur.peek()
    if token is not None and token.kind == "num" and len(token.text) == 4:
        return year_number(cur)[0]
    if need:
        cur.fail(EXPECT_YEAR)
    return None
