"""Text typed in the legacy 8-bit Vietnamese font encodings, TCVN3 and VNI, made Unicode.

Offices still type in TCVN3 (the ABC fonts .VnTime, .VnArial) and VNI (VNI-Times): the
font draws Vietnamese letters for bytes that Word stores as their Windows-1252 look-alikes,
so "Sở Tư pháp" arrives as "Së T\xad ph¸p" (TCVN3) or "Sôû Tö phaùp" (VNI), in a .docx, the
PDF made from it, or a spreadsheet. A file is taken for legacy text only when most of its
words are not Vietnamese as they stand and become Vietnamese under exactly one of the two
tables; it is then converted whole, and any cell the table cannot make Vietnamese stops the
import (`LegacyTextError`) instead of being guessed.

The tables are Unikey's (vnconv, Pham Kim Long; fcitx/fcitx5-unikey unikey/data.cpp at
commit 6ea3b37637f59ad4ab7804eb1f97afdaee921cd7: TCVN3 is `SingleByteTables[0]`, VNI-WIN
`DoubleByteTables[0]`). They were checked against two independent sources: all 74 TCVN3
bytes decode as glibc's iconv TCVN5712-1 does, and all 130 VNI sequences match xvnkb's vni.h
(lamdao/xvnkb). TCVN3 has no capital toned letters (the .VnTimeH fonts draw the small ones as
capitals), so those bytes are read as small letters: the words stay right, the case may not.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

from dondoc.errors import UserError
from dondoc.planfile.model import Grid

_TCVN3_LEGACY = "¡¢£¤¥¦§¨©ª«¬\xad®µ¶·¸¹»¼½¾ÆÇÈÉÊËÌÎÏÐÑÒÓÔÕÖ×ØÜÝÞßáâãäåæçèéêëìíîïñòóôõö÷øùúûüýþ"
_TCVN3_UNICODE = "ĂÂÊÔƠƯĐăâêôơưđàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
# VNI writes a letter as its base and a mark byte: "aù" is "á", "ôû" is "ở".
_VNI_PAIRS = (
    "AÙ=Á aù=á AØ=À aø=à AÛ=Ả aû=ả AÕ=Ã aõ=ã AÏ=Ạ aï=ạ AÂ=Â aâ=â AÁ=Ấ aá=ấ AÀ=Ầ aà=ầ "
    "AÅ=Ẩ aå=ẩ AÃ=Ẫ aã=ẫ AÄ=Ậ aä=ậ AÊ=Ă aê=ă AÉ=Ắ aé=ắ AÈ=Ằ aè=ằ AÚ=Ẳ aú=ẳ AÜ=Ẵ aü=ẵ "
    "AË=Ặ aë=ặ Ñ=Đ ñ=đ EÙ=É eù=é EØ=È eø=è EÛ=Ẻ eû=ẻ EÕ=Ẽ eõ=ẽ EÏ=Ẹ eï=ẹ EÂ=Ê eâ=ê "
    "EÁ=Ế eá=ế EÀ=Ề eà=ề EÅ=Ể eå=ể EÃ=Ễ eã=ễ EÄ=Ệ eä=ệ Æ=Ỉ æ=ỉ Ó=Ĩ ó=ĩ Ò=Ị ò=ị OÙ=Ó "
    "où=ó OØ=Ò oø=ò OÛ=Ỏ oû=ỏ OÕ=Õ oõ=õ OÏ=Ọ oï=ọ OÂ=Ô oâ=ô OÁ=Ố oá=ố OÀ=Ồ oà=ồ OÅ=Ổ "
    "oå=ổ OÃ=Ỗ oã=ỗ OÄ=Ộ oä=ộ Ô=Ơ ô=ơ ÔÙ=Ớ ôù=ớ ÔØ=Ờ ôø=ờ ÔÛ=Ở ôû=ở ÔÕ=Ỡ ôõ=ỡ ÔÏ=Ợ "
    "ôï=ợ UÙ=Ú uù=ú UØ=Ù uø=ù UÛ=Ủ uû=ủ UÕ=Ũ uõ=ũ UÏ=Ụ uï=ụ Ö=Ư ö=ư ÖÙ=Ứ öù=ứ ÖØ=Ừ "
    "öø=ừ ÖÛ=Ử öû=ử ÖÕ=Ữ öõ=ữ ÖÏ=Ự öï=ự YÙ=Ý yù=ý YØ=Ỳ yø=ỳ YÛ=Ỷ yû=ỷ YÕ=Ỹ yõ=ỹ Î=Ỵ "
    "î=ỵ "
)

TCVN3 = "TCVN3"
VNI = "VNI"
_NAMES = {TCVN3: "TCVN3 (ABC, phông .VnTime)", VNI: "VNI Windows (phông VNI-Times)"}
_SHOWN_PROBLEMS = 10
# A file is legacy text only with this many words that are not Vietnamese as they stand…
_MIN_EVIDENCE = 3
# …of which this share reads as Vietnamese syllables under one table, and clearly fewer
# under the other.
_EXPLAINED = 0.8
_MARGIN = 0.2

_TCVN3_TABLE = str.maketrans(_TCVN3_LEGACY, _TCVN3_UNICODE)
_VNI_TABLE = dict(pair.split("=") for pair in _VNI_PAIRS.split())
_VNI_SEQUENCE = re.compile("|".join(sorted(map(re.escape, _VNI_TABLE), key=len, reverse=True)))
# A word: letters, and any Latin-1 sign among them ("ph¸p"), so that a byte neither table
# defines ("t¿ng") is seen.
_WORD = re.compile("(?:[^\\W\\d_]|[\u00a1-\u00bf\u00d7\u00f7])+")
# Vietnamese letters beyond Latin-1 (ă, đ, ơ, ư, ạ…): text in a legacy font never has one.
_UNICODE_ONLY = re.compile(
    "[\u0102\u0103\u0110\u0111\u0128\u0129\u0168\u0169\u01a0\u01a1\u01af\u01b0\u1ea0-\u1ef9]"
)
_LETTERS = frozenset(string.ascii_letters + _TCVN3_UNICODE + _TCVN3_UNICODE.upper())
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_TONED = frozenset(c for c in _LETTERS if _TONES & set(unicodedata.normalize("NFD", c)))
_NUCLEI_TEXT = (
    "iêu oai oao oay oeo uây uôi uya uyê uyu ươi ươu yêu ai ao au ay âu ây eo êu ia iê iu "
    "oa oă oe oi ôi ơi ua uâ uê ui uô uơ uy ưa ưi ươ ưu yê a ă â e ê i o ô ơ u ư y"
)
_NUCLEI = _NUCLEI_TEXT.split()
_SYLLABLE = re.compile(
    "(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    f"(?:{'|'.join(_NUCLEI)})(?:ch|ng|nh|[cmnpt])?"
)


@dataclass(frozen=True)
class LegacyConversion:
    grids: list[Grid]
    encoding: str | None = None  # TCVN3 or VNI when the file was converted
    cells: int = 0

    @property
    def warning(self) -> str | None:
        if self.encoding is None:
            return None
        case = (
            " Chữ hoa có dấu của phông .VnTimeH được đọc thành chữ thường."
            if self.encoding == TCVN3
            else ""
        )
        return (
            f"tệp được gõ bằng bảng mã {_NAMES[self.encoding]}, không phải Unicode: dondoc đã "
            f"chuyển {self.cells} ô sang Unicode theo bảng mã của Unikey.{case} Hãy kiểm tra "
            "lại tên nhiệm vụ, cơ quan và thời hạn trong bản xem trước, và chuyển tệp gốc sang "
            "Unicode (Unikey: Công cụ… → Chuyển mã) cho lần sau."
        )


def decode(text: str, encoding: str) -> str:
    if encoding == TCVN3:
        return text.translate(_TCVN3_TABLE)
    return _VNI_SEQUENCE.sub(lambda m: _VNI_TABLE[m.group()], text)


def convert_legacy(path: str, grids: list[Grid]) -> LegacyConversion:
    """The grids with legacy text made Unicode, or as they were; raises `UserError` when
    the file is legacy text that cannot be converted exactly."""
    cells = [
        (grid, line, column, text)
        for grid in grids
        for line, row in grid.rows
        for column, text in enumerate(row)
        if text and not text.isascii()
    ]
    bad = [w for *_, text in cells if not _UNICODE_ONLY.search(text) for w in _bad_words(text)]
    if len(bad) < _MIN_EVIDENCE:
        return LegacyConversion(grids)
    fixed = {e: sum(1 for w in bad if _explained(w, e)) for e in (TCVN3, VNI)}
    best, other = sorted(fixed, key=fixed.__getitem__, reverse=True)
    if fixed[best] < _EXPLAINED * len(bad):
        return LegacyConversion(grids)  # not legacy text: left to the usual checks
    if fixed[best] - fixed[other] < _MARGIN * len(bad):
        raise UserError(
            f"{path}: tệp có chữ gõ bằng bảng mã cũ (TCVN3 hoặc VNI), không phải Unicode, và "
            f"không xác định được là bảng mã nào. {_ADVICE}"
        )
    problems: list[str] = []
    converted: dict[tuple[str, int, int], str] = {}
    for grid, line, column, text in cells:
        where = f"{grid.source}, dòng {line}, cột thứ {column + 1}: '{_short(text)}'"
        if _UNICODE_ONLY.search(text):
            if any(_explained(w, best) for w in _bad_words(text)):
                problems.append(f"{where} trộn chữ Unicode với chữ {best}")
            continue
        new = _decoded(text, best)
        if _bad_words(new):
            problems.append(f"{where} có ký tự không thuộc bảng mã {best}")
        elif new != text:
            converted[(grid.source, line, column)] = new
    if problems:
        shown = "\n".join(f"  • {p}" for p in problems[:_SHOWN_PROBLEMS])
        more = len(problems) - _SHOWN_PROBLEMS
        raise UserError(
            f"{path}: tệp được gõ bằng bảng mã {_NAMES[best]}, không phải Unicode, nhưng "
            f"{len(problems)} ô không chuyển được chính xác sang Unicode; chưa nhập gì:\n"
            f"{shown}" + (f"\n  … và {more} ô khác" if more > 0 else "") + f"\n{_ADVICE}"
        )
    return LegacyConversion(
        [_converted(grid, converted, best) for grid in grids], best, len(converted)
    )


_ADVICE = (
    "Hãy chuyển tệp sang Unicode bằng Unikey (Công cụ… → Chuyển mã, bảng mã nguồn TCVN3 "
    "(ABC) hoặc VNI Windows, bảng mã đích Unicode), lưu lại rồi nhập lại."
)


def _converted(grid: Grid, converted: dict[tuple[str, int, int], str], encoding: str) -> Grid:
    rows = [
        (line, [converted.get((grid.source, line, i), text) for i, text in enumerate(cells)])
        for line, cells in grid.rows
    ]
    done = {(line, i) for source, line, i in converted if source == grid.source}
    titles = [t if _UNICODE_ONLY.search(t) else decode(t, encoding) for t in grid.title_lines]
    return replace(grid, rows=rows, title_lines=titles, converted=frozenset(done))


@lru_cache(maxsize=65_536)
def _bad_words(text: str) -> tuple[str, ...]:
    """Words that are not Vietnamese or English as written: a character no Vietnamese
    letter is, or two tone marks in one syllable."""
    return tuple(
        w
        for w in _WORD.findall(text)
        if not _LETTERS.issuperset(w) or sum(c in _TONED for c in w) > 1
    )


# Cached: a plan repeats its agencies and deadlines on many rows, and its words more so.
@lru_cache(maxsize=65_536)
def _decoded(text: str, encoding: str) -> str:
    return decode(text, encoding)


@lru_cache(maxsize=65_536)
def _explained(word: str, encoding: str) -> bool:
    """The word becomes a Vietnamese syllable under the encoding's table."""
    return _is_syllable(decode(word, encoding))


def _is_syllable(word: str) -> bool:
    if not _LETTERS.issuperset(word) or sum(c in _TONED for c in word) > 1:
        return False
    bare = "".join(c for c in unicodedata.normalize("NFD", word.lower()) if c not in _TONES)
    return _SYLLABLE.fullmatch(unicodedata.normalize("NFC", bare)) is not None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:59] + "…"
