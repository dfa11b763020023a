"""Section levels of an appendix: "A", "I", "1." … kept as a path such as "A.I".

Plans nest sections to any depth (A/B/C, then I/II under each) and restart numbering
under each; the path makes "1.1" under A.I and under B.I two different tasks. Pure: the
row reader tells it what each section row's STT is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ROMAN = re.compile(r"^(?=[IVXLC])C{0,3}(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_LETTER = re.compile(r"^[A-ZĐ]$")
# "I", "II.", "A", "B)" (and "I. TITLE" when the section row is merged across the table).
SECTION = re.compile(r"^(?P<code>[IVXLC]{1,6}|[A-ZĐ])(?:[.)]|\s*$|\s+)\s*(?P<rest>.*)$")
_ALPHABET = "ABCDĐEFGHIJKLMNOPQRSTUVWXYZ"
# A section row merged across the whole table keeps its text in the STT cell: "PHẦN II.
# TỔ CHỨC THỰC HIỆN", "1. Lĩnh vực y tế", "NHIỆM VỤ CỤ THỂ".
_PART = re.compile(r"^(?:phần|phan)\s+(?P<rest>.+)$", re.IGNORECASE)
_NUMBERED = re.compile(r"^(?P<code>\d+(?:\.\d+)*)[.)]\s+(?P<title>\S.*)$")


def wide_heading(text: str) -> tuple[str, str, str] | None:
    """What a row holding only `text`, merged across the table, heads: ("section", code,
    title), ("numbered", "1", title) or ("untitled", "", title); None for other text (a
    footnote)."""
    part = _PART.match(text)
    section = SECTION.match(part.group("rest") if part else text)
    if section is not None and section.group("rest"):
        return "section", section.group("code"), section.group("rest")
    numbered = _NUMBERED.match(text)
    if numbered is not None:
        return "numbered", numbered.group("code"), numbered.group("title")
    letters = [c for c in text if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        return "untitled", "", text
    return None


@dataclass
class SectionPath:
    """The sections the reader is in, outermost first: [("letter", "A"), ("roman", "I")]."""

    levels: list[tuple[str, str, str | None]] = field(default_factory=list)  # style, code, title

    def enter(self, code: str, title: str | None) -> None:
        style = self._style(code)
        styles = [level[0] for level in self.levels]
        if style in styles:
            del self.levels[styles.index(style) :]
        self.levels.append((style, code, title))

    def enter_untitled(self, title: str) -> None:
        """A section row with a title and no numeral starts a new top level."""
        self.levels[:] = [("plain", "", title)]

    @property
    def code(self) -> str | None:
        return ".".join(code for _, code, _ in self.levels if code) or None

    @property
    def title(self) -> str | None:
        return self.levels[-1][2] if self.levels else None

    def _style(self, code: str) -> str:
        letter = next((lvl for lvl in self.levels if lvl[0] == "letter"), None)
        if letter is not None and _LETTER.match(code) and _follows(letter[1], code):
            return "letter"  # "C" after "B" is a letter, though it is a Roman numeral too
        if _ROMAN.match(code):
            return "roman"
        return "letter" if _LETTER.match(code) else "other"


def _follows(previous: str, code: str) -> bool:
    at = _ALPHABET.find(previous)
    return at >= 0 and _ALPHABET.find(code) == at + 1
