"""Tokens of a deadline phrase and the cursor the grammar walks them with.

Matching happens on the folded text (lower case, no diacritics: "Tháng" and "thang"
are the same word) while every token keeps its place in the phrase as the user wrote
it, so an error can quote the exact fragment it stumbled on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Generic, Literal, NamedTuple, NoReturn, TypeVar

from rules.deadline.values import Expected, ParseError
from rules.text import fold, nfc

TokenKind = Literal["word", "num", "docref", "sep", "comma", "colon", "open", "close", "other"]
T = TypeVar("T")
V = TypeVar("V")

_TOKEN = re.compile(
    r"""
      (?P<num>\d+)
    | (?P<word>[^\W\d_]+)
    | (?P<sep>[/.\-\u2010-\u2015\u2212~])
    | (?P<comma>[,;])
    | (?P<colon>:)
    | (?P<open>[(\[{])
    | (?P<close>[)\]}])
    | (?P<space>\s+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
# A document number such as 131/NQ-CP, 107/2021/NĐ-CP or 52-NQ/TW: its digits are
# never a date. Two letters at least, so "2023-Q2" stays a quarter. It is found in two
# steps, the numbers and then the letters, each matched once: one pattern tried at
# every number of "1/1/1/…" rescans the rest of the phrase each time (quadratic).
_NUMBERS = re.compile(r"\d+(?:[/.-]\d+)*")
_DOCUMENT_TAIL = re.compile(r"[/-][^\W\d_]{2,}\w*(?:[/-]\w+)*")


# Older spellings still common in plans: "quí" for "quý", "định kì" for "định kỳ".
_SPELLINGS = {"qui": "quy", "ki": "ky"}


class Token(NamedTuple):  # a tuple: phrases can hold thousands, each made cheaply
    kind: TokenKind
    text: str  # folded
    start: int  # [start, end) in the phrase as read
    end: int


class Meter:
    """The work spent reading one phrase, in steps: characters the tokenizer scanned,
    tokens the grammar looked at. Every step is constant time, so a budget linear in
    the phrase's length keeps the parser linear whatever the phrase."""

    def __init__(self, budget: int | None = None) -> None:
        self.steps = 0
        self.budget = budget

    def spend(self, steps: int = 1) -> bool:
        """Count `steps`; False once the budget is exhausted."""
        self.steps += steps
        return self.budget is None or self.steps <= self.budget


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    return " " if char.isspace() else fold(char)


def tokenize(phrase: str, meter: Meter | None = None) -> list[Token]:
    """Tokens of `phrase` (already NFC with single spaces), matched on its folded form.

    Linear in the length of the phrase: each pattern scans each character at most once
    (`meter`, if given, counts the characters scanned).
    """
    meter = Meter() if meter is None else meter
    # Folding one character at a time keeps a map back to the original position.
    text = "".join(map(_fold_char, phrase))
    origin: Sequence[int] = range(len(phrase))  # folding kept every character's place
    if len(text) != len(phrase):  # a character folded into several ("한" into its jamo)
        origin = [index for index, char in enumerate(phrase) for _ in _fold_char(char)]
    meter.spend(len(phrase))
    tokens = []
    pos, numbers_end = 0, -1
    while pos < len(text):
        if pos >= numbers_end and (numbers := _NUMBERS.match(text, pos)) is not None:
            # Every later number of this run ends at the same place, so a run that is
            # not a document number is not tried again from its inner numbers.
            numbers_end = numbers.end()
            tail = _DOCUMENT_TAIL.match(text, numbers_end)
            meter.spend(numbers_end - pos + (tail.end() - numbers_end if tail else 1))
            if tail is not None:
                tokens.append(_token(phrase, origin, "docref", text, pos, tail.end()))
                pos = tail.end()
                continue
        match = _TOKEN.match(text, pos)
        if match is None:  # cannot happen: "other" matches any character
            raise RuntimeError(f"the tokenizer is stuck at {pos} in {phrase!r}")
        meter.spend(match.end() - pos)
        pos = match.end()
        if match.lastgroup != "space":
            tokens.append(_token(phrase, origin, str(match.lastgroup), text, match.start(), pos))
    return tokens


def _token(phrase: str, origin: Sequence[int], kind: str, text: str, start: int, end: int) -> Token:
    value = text[start:end]
    if kind == "sep" and value not in "/.":
        value = "-"  # en dash, em dash, minus, tilde: people type any of them for a range
    value = _SPELLINGS.get(value, value) if kind == "word" else value
    return Token(kind, value, origin[start], origin[end - 1] + 1)  # type: ignore[arg-type]


Words = tuple[str, ...]


class Vocab(Generic[V]):
    """Phrases, written as people write them, mapped to what they mean.

    Entries are tokenized like the input, so "chậm nhất", "6 tháng/lần" and
    "half-yearly" match however the user cased, accented or spaced them.
    """

    def __init__(self, entries: Mapping[str, V]) -> None:
        self.table: dict[Words, V] = {}
        for phrase, value in entries.items():
            key = tuple(token.text for token in tokenize(nfc(phrase)))
            if not key or key in self.table:
                raise ValueError(f"empty or repeated vocabulary entry {phrase!r}")
            self.table[key] = value
        self.longest = max(map(len, self.table), default=0)


def words(*phrases: str) -> Vocab[bool]:
    return Vocab(dict.fromkeys(phrases, True))


class Mismatch(Exception):
    """A rule did not match here; the grammar rewinds and tries another reading.

    Backtracking raises thousands of these, so it carries only where and what: the
    message (which quotes the whole phrase) is built once, in a `ParseError`, when
    no reading is left. Building it here made parsing quadratic in the length.
    """

    def __init__(self, position: int, length: int, expected: Expected) -> None:
        super().__init__(position, length, expected)
        self.position, self.length, self.expected = position, length, expected

    def to_error(self, phrase: str) -> ParseError:
        return ParseError(phrase, self.position, self.expected, self.length)


class Committed(Mismatch):
    """The words matched and the value is wrong (month 13): no other reading may hide it."""


EXPECT_SIMPLER = Expected(
    "một cách viết ngắn gọn hơn (cụm từ này có quá nhiều cách đọc phải thử)",
    "a simpler wording (this phrase has too many readings to try)",
)


class Cursor:
    """Position in the token list plus the furthest failure seen, for the final message.

    Rules are plain functions of the cursor; a rule that does not match raises
    Mismatch (after the cursor records it) and `optional`/`first_of` rewind.
    """

    def __init__(
        self,
        phrase: str,
        tokens: list[Token] | None = None,
        end: int | None = None,
        meter: Meter | None = None,
    ) -> None:
        self.phrase = phrase
        self.meter = Meter() if meter is None else meter
        self.tokens = tokenize(phrase, self.meter) if tokens is None else tokens
        self.end = len(phrase) if end is None else end
        self.i = 0
        self.furthest: Mismatch | None = None

    def sub(self, start: int, end: int) -> Cursor:
        """A cursor over tokens[start:end], e.g. the inside of a parenthesis."""
        self.spend(end - start)
        return Cursor(self.phrase, self.tokens[start:end], self.tokens[end].start, self.meter)

    def spend(self, steps: int = 1) -> None:
        if not self.meter.spend(steps):
            self.meter.budget = None  # the failure below must not fail again
            self.commit_fail(EXPECT_SIMPLER, self.tokens[0], self.tokens[-1])

    # -- looking -------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token | None:
        self.spend()
        index = self.i + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def here(self) -> Token:
        """The current token; at the end of the phrase that is a failure."""
        token = self.peek()
        if token is None:
            self.fail(Expected("thêm nội dung", "more text"))
        return token

    def at_end(self) -> bool:
        return self.i >= len(self.tokens)

    def at_kind(self, *kinds: TokenKind) -> bool:
        token = self.peek()
        return token is not None and token.kind in kinds

    def previous(self) -> Token:
        return self.tokens[max(self.i - 1, 0)]

    # -- consuming -----------------------------------------------------------------
    def next(self) -> Token:
        token = self.here()
        self.i += 1
        return token

    def accept(self, vocab: Vocab[V]) -> V | None:
        """Consume the longest entry of `vocab` found here and return its value."""
        self.spend()
        for length in range(min(vocab.longest, len(self.tokens) - self.i), 0, -1):
            self.spend()
            key = tuple(t.text for t in self.tokens[self.i : self.i + length])
            if key in vocab.table:
                self.i += length
                return vocab.table[key]
        return None

    def at(self, vocab: Vocab[V]) -> bool:
        """Whether an entry of `vocab` starts here, without consuming it."""
        start = self.i
        found = self.accept(vocab) is not None
        self.i = start
        return found

    def expect(self, vocab: Vocab[V], expected: Expected) -> V:
        value = self.accept(vocab)
        if value is None:
            self.fail(expected)
        return value

    def accept_kind(self, *kinds: TokenKind) -> Token | None:
        if self.at_kind(*kinds):
            return self.next()
        return None

    def top_level(self, start: int, *kinds: TokenKind) -> Iterator[int]:
        """Indices of tokens of `kinds` outside brackets, from `start` on."""
        depth = 0
        for index in range(start, len(self.tokens)):
            self.spend()
            kind = self.tokens[index].kind
            if kind == "close" and depth > 0:
                depth -= 1
            elif kind in kinds and depth == 0:
                yield index
            elif kind == "open":
                depth += 1

    # -- failing -------------------------------------------------------------------
    def error(
        self, expected: Expected, at: Token | None = None, until: Token | None = None
    ) -> Mismatch:
        token = at or (self.tokens[self.i] if self.i < len(self.tokens) else None)
        if token is None:
            return Mismatch(self.end, 0, expected)
        return Mismatch(token.start, (until or token).end - token.start, expected)

    def fail(self, expected: Expected, at: Token | None = None) -> NoReturn:
        exc = self.error(expected, at)
        # On a tie the later failure wins: it comes from an enclosing rule, whose
        # expectation ("the end of the phrase") reads better than an inner guess.
        if self.furthest is None or exc.position >= self.furthest.position:
            self.furthest = exc
        raise exc

    def commit_fail(
        self, expected: Expected, at: Token | None = None, until: Token | None = None
    ) -> NoReturn:
        exc = self.error(expected, at, until)
        raise Committed(exc.position, exc.length, exc.expected)

    # -- combining -----------------------------------------------------------------
    def optional(self, rule: Callable[[], T]) -> T | None:
        start = self.i
        try:
            return rule()
        except Committed:
            raise
        except Mismatch:
            self.i = start
            return None

    def first_of(self, *rules: Callable[[], T]) -> T:
        start = self.i
        last: Mismatch | None = None
        for rule in rules:
            self.i = start
            try:
                return rule()
            except Committed:
                raise
            except Mismatch as exc:
                last = exc
        self.i = start
        raise self.furthest or last or self.error(Expected("một thời hạn", "a deadline"))

    def text_between(self, first: Token, last: Token) -> str:
        """The user's own text from `first` to `last`, trailing punctuation dropped."""
        self.spend(last.end - first.start)
        return self.phrase[first.start : last.end].rstrip(" .,;:")
