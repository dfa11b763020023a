"""The shape of an agency cell, read from the grammar of names alone (no directory).

An item of a cell ("Sở Y tế, Sở Tài chính và các đơn vị liên quan") is cut into
fragments at separators (",", "và", "/") and before a head word that opens a second
name with no separator ("Sở Y tế Sở Giáo dục và Đào tạo"). A boundary before a head
word or a plural ("các …") is *hard*: only a name the directory or the lexicon knows may
span it, so a name made up by `--create-agencies` never holds two names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dondoc.name_lexicon import GROUP_NOUNS, HEAD_WORDS, head_of, name_key

_SEPARATOR = re.compile(r"\s*,\s*|\s+và\s+|\s+va\s+|\s*/\s*|\s+&\s+", re.IGNORECASE)
_PLURAL = re.compile(r"^(?:cac|nhung|moi) ")
_LOCAL_HEAD = re.compile(r"^uy ban nhan dan ")
# Connectors after which a head word belongs to the name before: "Văn phòng của Sở …".
_CONNECTORS = frozenset({"cua", "thuoc", "truc", "tai", "voi"})
# Words after which a head word continues the name: "Văn phòng UBND tỉnh", "Cơ quan Công
# an tỉnh" (a generic noun naming what follows).
_NOT_A_NAME = frozenset({*HEAD_WORDS, "co quan", "don vi", "to chuc"})


@dataclass(frozen=True)
class Fragment:
    text: str
    separator: str  # what stood before it ("" for the first fragment)
    hard: bool  # it opens a new name: a head word, a plural, or a second name run on


def fragments(item: str) -> list[Fragment]:
    """Cut one item of a cell into fragments; see the module docstring."""
    texts = _SEPARATOR.split(item)
    seps = ["", *_SEPARATOR.findall(item)]
    result: list[Fragment] = []
    for text, sep in zip(texts, seps, strict=True):
        for n, part in enumerate(_run_on_names(text)):
            if not part:
                continue
            hard = bool(result) and (n > 0 or opens_name(part))
            result.append(Fragment(part, sep if n == 0 else " ", hard))
    return result


def join(parts: list[Fragment]) -> str:
    return "".join(f.separator + f.text if i else f.text for i, f in enumerate(parts))


def opens_name(text: str) -> bool:
    """Whether `text` starts a name of its own: a head word and more ("Sở Y tế"; a bare
    "ban" in "sở, ban, ngành" is a noun of a list), or a plural ("các sở")."""
    key = name_key(text)
    head = head_of(key)
    return (head is not None and key != head) or bool(_PLURAL.match(key))


def head_text(text: str) -> str | None:
    """The words of `text` that make its head: 'Ủy ban nhân dân cấp tỉnh' → 'Ủy ban nhân
    dân', 'UBND xã' → 'UBND'; None when `text` does not open with a head word."""
    words = text.split()
    found = None
    for n in range(1, min(len(words), 6) + 1):
        if name_key(" ".join(words[:n])) in HEAD_WORDS:
            found = n
    return " ".join(words[:found]) if found else None


def is_group_phrase(text: str) -> bool:
    """A phrase naming a kind of body, not one body: 'các hợp tác xã', 'sở, ban, ngành',
    'UBND xã, phường, đặc khu', 'UBND cấp xã'."""
    key = name_key(text)
    if _PLURAL.match(key):
        return True
    rest = _LOCAL_HEAD.sub("", key)
    if rest.startswith(("cac ", "nhung ")):
        return True
    words = [w for w in rest.split() if w != "va"]
    nouns = _group_nouns(words)
    if nouns is None:
        return False
    return len(nouns) >= 2 or (len(nouns) == 1 and "cap" in words and len(words) >= 2)


def group_bag(text: str) -> str | None:
    """The kinds a list of kinds names, in any order: 'UBND các phường, xã, đặc khu' and
    'UBND các xã, phường, đặc khu' give one form; None when `text` is not such a list."""
    key = name_key(text)
    local = bool(_LOCAL_HEAD.match(key))
    words = [w for w in _LOCAL_HEAD.sub("", key).split() if w not in ("va", "cac", "nhung")]
    if "lien" in words:
        return None  # "… có liên quan" is a part of the kinds, not all of them
    kinds = set(_group_nouns(words) or ()) - {"cap"}
    if len(kinds) < 2:
        return None
    return ("uy ban nhan dan: " if local else "") + " + ".join(sorted(kinds))


def _group_nouns(words: list[str]) -> list[str] | None:
    """The group nouns of `words` ("cấp", "tỉnh", "liên quan" allowed between), or None
    when another word is there."""
    nouns: list[str] = []
    i = 0
    while i < len(words):
        pair = " ".join(words[i : i + 2])
        if pair in GROUP_NOUNS:
            nouns.append(pair)
            i += 2
        elif words[i] in GROUP_NOUNS:
            nouns.append(words[i])
            i += 1
        elif words[i] in ("tinh", "lien", "quan", "co"):
            i += 1
        else:
            return None
    return nouns


def _run_on_names(text: str) -> list[str]:
    """'Sở Y tế Sở Giáo dục' → ['Sở Y tế', 'Sở Giáo dục']: a capitalised head word that
    opens a name of its own (a head word and more) after some words starts a second name,
    unless it follows a bare head word ("Văn phòng UBND tỉnh") or a connector ("của").
    A name such as "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh" that this cuts is joined again
    by the lexicon or the directory, which may span any boundary."""
    words = text.split()
    parts: list[str] = []
    start = 0
    for j in range(start + 1, len(words)):
        if not words[j][:1].isupper() or j == start:
            continue
        before_key = name_key(" ".join(words[start:j]))
        if before_key in _NOT_A_NAME or name_key(words[j - 1]) in _CONNECTORS:
            continue
        if not opens_name(" ".join(words[j:])):
            continue
        parts.append(" ".join(words[start:j]))
        start = j
    parts.append(" ".join(words[start:]))
    return parts
