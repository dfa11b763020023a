"""Cell text made safe to store: mojibake repaired, control characters removed.

Plans that passed through a PDF extraction or a wrong code page arrive double-encoded
("Sá»Ÿ TÆ° phÃ¡p"); ftfy undoes that. NUL and other control characters are never kept:
SQLite would store them silently and PostgreSQL refuse them, so both stores get the
same cleaned text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import ftfy
from ftfy.badness import is_bad

# UTF-8 read as cp1252 or latin-1 always leaves one of these behind (C1 controls,
# Latin-1 punctuation, cp1252's specials); text without any cannot be mojibake, so
# ftfy, which is slow, only sees cells that might need it.
_SUSPECT = re.compile(
    "[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2020\u2021\u2022\u2026\u2030"
    "\u2039\u203a\u20ac\u2122]"
)
# Tab and line breaks are layout; every other control character (C0, DEL, C1) and lone
# surrogates are dropped.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class CleanText:
    text: str
    repaired: bool = False  # mojibake was undone
    removed: int = 0  # control characters dropped
    garbled: bool = False  # still looks like mojibake after repair


@lru_cache(maxsize=65_536)
def clean_cell(raw: str) -> CleanText:
    """Cached: a plan repeats the same agency and deadline cells on many rows."""
    text, repaired, garbled = raw, False, False
    if _SUSPECT.search(text):
        fixed = ftfy.fix_encoding(text)
        repaired = fixed != text
        text = fixed
        garbled = is_bad(text)
    # U+FFFD stands for bytes some earlier program could not decode: the text is lost.
    garbled = garbled or "\ufffd" in text
    cleaned, removed = _CONTROL.subn("", text)
    return CleanText(cleaned, repaired, removed, garbled)
