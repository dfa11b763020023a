"""Tokens of a deadline phrase and the cursor the grammar walks them with.

Matching happens on the folded text (lower case, no diacritics: "Tháng" and "thang"
are the same word) while every token keeps its place in the phrase as the user wrote
it, so an error can quote the exact fragment it stumbled on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, Literal, NoReturn, TypeVar

from rules.deadline.values import Expected, ParseError
from rules.text import fold, nfc

TokenKind = Literal["word", "num", "docref", "sep", "comma", "colon", "open", "close", "other"]
T = TypeVar("T")
V = TypeVar("V")

_TOKEN = re.compile(
    r"""
    # A document number such as 131/NQ-CP, 107/2021/NĐ-CP or 52-NQ/TW: its digits
    # are never a date. Two letters at least, so "2023-Q2" stays a quarter.
      (?P<docref>\d+(?:[/.-]\d+)*[/-][^\W\d_]{2,}\w*(?:[/-]\w+)*)
    | (?P<num>\d+)
    | (?P<word>[^\W\d_]+)
    | (?P<sep>[/.\-\u2010-\u2015\u2212~])
    | (?P<comma>[,;])
    | (?P<colon>:)
    | (?P<open>[(\[{])
    | (?P<close>[)\]}])
    | (?P<space>\s+)
    | (?P<other>.)
    """,
    re.VERBOSE,
)


# Older spellings still common in plans: "quí" for "quý", "định kì" for "định kỳ".
_SPELLINGS = {"qui": "quy", "ki": "ky"}


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str  # folded
    start: int  # [start, end) in the phrase as read
    end: int


def tokenize(phrase: str) -> list[Token]:
    """Tokens of `phrase` (already NFC with single spaces), matched on its folded form."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(phrase):
        # Folding one character at a time keeps a map back to the original position.
        for out in " " if char.isspace() else fold(char):
            folded.append(out)
            origin.append(index)
    tokens = []
    for match in _TOKEN.finditer("".join(folded)):
        kind = match.lastgroup
        if kind is None or kind == "space":
            continue
        start, end = origin[match.start()], origin[match.end() - 1] + 1
        value = match.group()
        if kind == "sep" and value not in "/.":
            value = "-"  # en dash, em dash, minus, tilde: people type any of them for a range
        value = _SPELLINGS.get(value, value) if kind == "word" else value
        tokens.append(Token(kind, value, start, end))  # type: ignore[arg-type]
    return tokens


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


class Committed(ParseError):
    """The words matched and the value is wrong (month 13): no other reading may hide it."""


class Cursor:
    """Position in the token list plus the furthest failure seen, for the final message.

    Rules are plain functions of the cursor; a rule that does not match raises
    ParseError (after the cursor records it) and `optional`/`first_of` rewind.
    """

    def __init__(
        self, phrase: str, tokens: list[Token] | None = None, end: int | None = None
    ) -> None:
        self.phrase = phrase
        self.tokens = tokenize(phrase) if tokens is None else tokens
        self.end = len(phrase) if end is None else end
        self.i = 0
        self.furthest: ParseError | None = None

    def sub(self, start: int, end: int) -> Cursor:
        """A cursor over tokens[start:end], e.g. the inside of a parenthesis."""
        return Cursor(self.phrase, self.tokens[start:end], self.tokens[end].start)

    # -- looking -------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token | None:
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
        for length in range(min(vocab.longest, len(self.tokens) - self.i), 0, -1):
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

    # -- failing -------------------------------------------------------------------
    def error(
        self, expected: Expected, at: Token | None = None, until: Token | None = None
    ) -> ParseError:
        token = at or self.peek()
        if token is None:
            return ParseError(self.phrase, self.end, expected)
        end = (until or token).end
        return ParseError(self.phrase, token.start, expected, end - token.start)

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
        raise Committed(exc.phrase, exc.position, exc.expected, len(exc.fragment))

    # -- combining -----------------------------------------------------------------
    def optional(self, rule: Callable[[], T]) -> T | None:
        start = self.i
        try:
            return rule()
        except Committed:
            raise
        except ParseError:
            self.i = start
            return None

    def first_of(self, *rules: Callable[[], T]) -> T:
        start = self.i
        last: ParseError | None = None
        for rule in rules:
            self.i = start
            try:
                return rule()
            except Committed:
                raise
            except ParseError as exc:
                last = exc
        self.i = start
        raise self.furthest or last or self.error(Expected("một thời hạn", "a deadline"))

    def text_between(self, first: Token, last: Token) -> str:
        """The user's own text from `first` to `last`, trailing punctuation dropped."""
        return self.phrase[first.start : last.end].rstrip(" .,;:")
