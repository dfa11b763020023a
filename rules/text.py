"""Text folding shared by every matcher: names, headers and deadline phrases.

Plans arrive typed without diacritics, in NFD (copied out of Word or a PDF), with odd
spacing and case; matching on the folded form makes all of those equal.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# Non-breaking and zero-width characters that Word and PDFs leave behind.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"), None)


def nfc(text: str) -> str:
    """NFC form with invisible characters removed and spacing collapsed."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE).replace("\u00a0", " ")
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """Lower case, no diacritics (đ → d), single spaces: the form used for matching."""
    decomposed = unicodedata.normalize("NFD", nfc(text).lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return stripped.replace("đ", "d").replace("Đ", "d")


def fold_words(text: str) -> str:
    """`fold` with punctuation dropped: 'Sở, ban - ngành.' → 'so ban nganh'."""
    return _SPACES.sub(" ", re.sub(r"[^\w]+", " ", fold(text))).strip()
