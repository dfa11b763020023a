"""Reading agency cells: split a cell into names and resolve each against the directory.

A cell may hold one name, a bulleted list ("- A;\\n- B."), a list sharing a prefix
("Các Sở: Nội vụ, Tài chính"), a group ("Các sở, ban, ngành") or an unspecific phrase
("các cơ quan, đơn vị liên quan") that is kept as a note. Commas and "và" occur inside
names too ("Sở Kế hoạch và Đầu tư"), so an item is read in two passes: first the split
whose pieces all resolve against the directory (fewest pieces wins); failing that, the
grammar of names (name_grammar) decides where one name ends, and each piece the
directory does not know is reported on its own, never glued to its neighbours.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from dondoc.name_grammar import (
    Fragment,
    fragments,
    group_bag,
    head_text,
    is_group_phrase,
    join,
)
from dondoc.name_lexicon import (
    DEFAULT_UNSPECIFIC,
    UNSPECIFIC_HINT,
    acronyms,
    name_key,
    official_keys,
    squashed,
)
from rules.text import fold, nfc

__all__ = ["CellReading", "NameIndex", "Target", "name_key"]

# Names of local People's Committees are also written without "UBND": "xã Đông Sơn".
_LOCAL_COMMITTEE = re.compile(
    r"^uy ban nhan dan (?=(?:huyen|thi xa|thanh pho|xa|phuong|thi tran|dac khu) )"
)
_PLURAL_WORD = re.compile(r"^(?:(uy ban nhan dan) )?cac ")
_ITEM_SPLIT = re.compile(r"\s*(?:\n|;)\s*")
_BULLET = re.compile(r"^\s*(?:[-–—+•*]|\d+[.)]|[a-zđ][.)])\s*", re.IGNORECASE)
_PARENTHESES = re.compile(r"\s*\(([^()]*)\)")
_PREFIX_LIST = re.compile(r"^(?:các\s+|cac\s+)?(?P<prefix>[^:]{2,40}?)\s*:\s*(?P<rest>.+)$", re.I)
# "Các sở Tư pháp, Tài chính", "UBND các xã Đông Sơn, Tây Hòa": a plural kind, then names.
_PLURAL_KIND = re.compile(
    r"^(?P<prefix>(?:(?:ubnd|uy ban nhan dan) )?cac (?:so|huyen|thi xa|thanh pho|xa|phuong)) "
    r"(?P<rest>.+)$"
)
_PLURAL = re.compile(r"\bcác\s+|\bcac\s+", re.IGNORECASE)
_OF_PROVINCE = " tinh"
_ONE_QUALIFIED_PHRASE = re.compile(r"^(?:uy ban nhan dan )?cac .*\blien quan$")
# A local unit's own name after its kind: "… xã Tân Phú", "… đặc khu Vân Đồn".
_PLACE = re.compile(
    r"\b(?P<kind>xa|phuong|dac khu|thi tran|huyen|thi xa|thanh pho|tinh) (?P<place>.+)$"
)

# What a piece costs in the grammar pass: known names are cheap, names only the grammar
# vouches for are dear, and text that opens no name at all is dearest.
_KNOWN, _NOTE, _LEXICON, _UNKNOWN, _STRAY, _PER_SEPARATOR = 1, 1, 2, 6, 20, 2


@dataclass(frozen=True)
class Target:
    """Something a name can mean: one agency, or a group of agencies."""

    kind: str  # "agency" | "group"
    code: str
    name: str


@dataclass
class CellReading:
    """What one cell says: the targets it names, notes, what failed, and former names."""

    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    # "Sở Thông tin và Truyền thông → Sở Khoa học và Công nghệ từ 01/03/2025"
    successions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Piece:
    text: str
    target: Target | None  # None: a note (kind "note") or a name nobody knows ("unknown")
    kind: str  # "target" | "note" | "unknown"


class NameIndex:
    """Lookup from every name and alias (in `name_key` form) to its target."""

    def __init__(self, unspecific: Iterable[str] = DEFAULT_UNSPECIFIC) -> None:
        self._by_key: dict[str, Target] = {}
        self._display: dict[str, str] = {}
        # Shortened spellings ("Sở LĐTBXH"); a form two targets share is dropped as ambiguous.
        self._by_short: dict[str, Target | None] = {}
        # Names an agency had before a merger or a renaming: resolve, with a note.
        self._former: dict[str, tuple[Target, str]] = {}
        # Groups by the kinds they list, in any order; a form two groups share is dropped.
        self._by_kinds: dict[str, Target | None] = {}
        self._unspecific = {name_key(p) for p in unspecific}

    def add(self, target: Target, names: Iterable[str]) -> None:
        for name in names:
            for key in _keys(name):
                self._by_key.setdefault(key, target)
            key = name_key(name)
            if key:
                self._by_key[key] = target
                self._display.setdefault(key, target.name)
            kinds = group_bag(name) if target.kind == "group" else None
            if kinds is not None:
                known = self._by_kinds.get(kinds, target)
                self._by_kinds[kinds] = target if known == target else None
            for short in {squashed(name), *acronyms(name)}:
                if len(short) >= 3:
                    known = self._by_short.get(short, target)
                    self._by_short[short] = target if known == target else None

    def add_former(self, target: Target, name: str, note: str, aliases: Iterable[str] = ()) -> None:
        """`name` (and its `aliases`) ceased to exist; `target` took over. `note` says so."""
        for spelling in [name, *aliases]:
            for key in _keys(spelling):
                if key not in self._by_key:
                    self._former.setdefault(key, (target, note))
            short = squashed(spelling)
            if len(short) >= 3 and short not in self._by_short:
                self._former.setdefault(short, (target, note))

    def lookup(self, text: str) -> Target | None:
        found = self._find(text)
        return found[0] if found is not None else None

    def _find(self, text: str) -> tuple[Target, str | None] | None:
        """The target `text` names, with the succession note when it is a former name."""
        key = name_key(text)
        target = self._by_key.get(key)
        plural_free = self._by_key.get(_plural_free(key))
        if target is None and plural_free is not None and plural_free.kind == "group":
            target = plural_free  # "sở, ban, ngành" is "Các sở, ban, ngành"
        if target is None:
            target = self._by_short.get(squashed(text))
        if target is not None:
            return target, None
        former = self._former.get(key) or self._former.get(squashed(text))
        if former is not None:
            return former[0], former[1]
        kinds = group_bag(key)
        listed = self._by_kinds.get(kinds) if kinds is not None else None
        if listed is not None:
            # "UBND các phường, xã, đặc khu" lists the kinds of "UBND các xã, phường, đặc khu".
            return listed, None
        if key.endswith(_OF_PROVINCE) and len(key) > len(_OF_PROVINCE):
            # "Sở Y tế tỉnh" in a provincial plan is the directory's "Sở Y tế".
            return self._find(key[: -len(_OF_PROVINCE)])
        return None

    def is_unspecific(self, text: str) -> bool:
        key = name_key(text)
        return key in self._unspecific or bool(UNSPECIFIC_HINT.search(key))

    def suggestions(self, text: str, limit: int = 3) -> list[str]:
        """Today's names close to `text` (never a former one: nobody to remind there)."""
        key = name_key(text)
        # "Công an tỉnh Quảng Ninh" for the directory's "Công an tỉnh": longest first.
        starts = sorted((k for k in self._display if key.startswith(k + " ")), key=len)[::-1]
        close = difflib.get_close_matches(key, self._display, n=limit * 2, cutoff=0.7)
        keys = starts + [k for k in close if not _other_place(key, k)]
        names: list[str] = []
        for key in keys:
            if self._display[key] not in names:
                names.append(self._display[key])
        return names[:limit]

    def read_cell(self, cell: str | None) -> CellReading:
        reading = CellReading()
        if not cell or not nfc(cell):
            return reading
        prefix = ""  # "Các Sở: Tư pháp;\n Tài chính": a list's prefix carries to later items
        for item in _ITEM_SPLIT.split(cell.strip()):
            item = _BULLET.sub("", item).strip().rstrip(".;,").strip()
            if not item:
                continue
            # "Văn phòng UBND tỉnh (Phòng Tổng hợp)": the unit inside is a note.
            for inner in _PARENTHESES.findall(item):
                reading.notes.append(nfc(inner))
            item = nfc(_PARENTHESES.sub("", item))
            prefix = self._read_item(item, reading, prefix)
        return reading

    def _read_item(self, item: str, reading: CellReading, prefix: str) -> str:
        """Read one item into `reading`; returns the list prefix it used, if any."""
        pieces = self._segment(item)
        if pieces is None:
            prefix, pieces = self._read_prefixed_list(item, prefix)
        if pieces is None:
            pieces = self._by_grammar(fragments(item))
        for piece in pieces:
            if piece.kind == "note":
                reading.notes.append(nfc(piece.text))
            elif piece.target is None:
                if piece.text not in reading.unknown:
                    reading.unknown.append(nfc(piece.text))
            else:
                if piece.target not in reading.targets:
                    reading.targets.append(piece.target)
                found = self._find(piece.text)
                if found is not None and found[1] and found[1] not in reading.successions:
                    reading.successions.append(found[1])
        return prefix

    def _known(self, text: str) -> _Piece | None:
        target = self.lookup(text)
        if target is not None:
            return _Piece(text, target, "target")
        return _Piece(text, None, "note") if self.is_unspecific(text) else None

    def _segment(self, item: str, prefix: str = "") -> list[_Piece] | None:
        """Fewest consecutive pieces of `item` that each resolve, or None.

        Among as few pieces, the reading whose notes hold the fewest fragments wins:
        "Các sở, ngành, địa phương và các đơn vị có liên quan" names the group of sở,
        ngành and localities before it says "các đơn vị có liên quan".
        """
        parts = fragments(item)
        count = len(parts)
        best: list[tuple[int, int, list[_Piece]] | None] = [None] * (count + 1)
        best[0] = (0, 0, [])
        for end in range(1, count + 1):
            for start in range(end):
                if best[start] is None:
                    continue
                pieces, in_notes, so_far = best[start] or (0, 0, [])
                text = join(parts[start:end])
                piece = self._known(f"{prefix} {text}") if prefix else None
                piece = piece or self._known(text)
                if piece is None or (piece.kind == "note" and not self._note_ok(parts, start, end)):
                    continue
                score = (pieces + 1, in_notes + (end - start if piece.kind == "note" else 0))
                current = best[end]
                if current is None or score < current[:2]:
                    # A note keeps the cell's words; a name, the words that resolved.
                    shown = text if piece.kind == "note" else piece.text
                    best[end] = (*score, [*so_far, _Piece(shown, piece.target, piece.kind)])
        result = best[count]
        return result[2] if result is not None else None

    def _note_ok(self, parts: list[Fragment], start: int, end: int) -> bool:
        """A note never swallows a name: "các sở, ngành và các đơn vị liên quan" is a group
        and a note, "các doanh nghiệp và các cơ quan liên quan" a group phrase and a note.
        But one plural phrase ends with its own qualifier: in "các sở, ngành, địa phương
        liên quan" (no second "các") only the relevant ones are meant, not every sở."""
        if any(f.hard for f in parts[start + 1 : end]):
            return False
        if _ONE_QUALIFIED_PHRASE.match(name_key(join(parts[start:end]))):
            return True
        return not any(self.lookup(join(parts[start:k])) for k in range(start + 1, end))

    def _by_grammar(self, parts: list[Fragment]) -> list[_Piece]:
        """The cheapest reading of `parts` where names nobody knows stay one name each."""
        count = len(parts)
        best: list[tuple[int, int, list[_Piece]] | None] = [None] * (count + 1)
        best[0] = (0, 0, [])
        heads = _inherited_heads(parts)
        for end in range(1, count + 1):
            for start in range(end):
                if best[start] is None:
                    continue
                cost, pieces, so_far = best[start] or (0, 0, [])
                candidate = self._grammar_piece(parts, start, end, heads[start])
                if candidate is None:
                    continue
                piece, price = candidate
                total = (cost + price, pieces + 1)
                current = best[end]
                if current is None or total < current[:2]:
                    best[end] = (*total, [*so_far, piece])
        result = best[count]
        return result[2] if result is not None else [_Piece(join(parts), None, "unknown")]

    def _grammar_piece(
        self, parts: list[Fragment], start: int, end: int, inherited: str | None
    ) -> tuple[_Piece, int] | None:
        text = join(parts[start:end])
        spans_hard = any(f.hard for f in parts[start + 1 : end])
        target = self.lookup(text)
        if target is not None:
            return _Piece(text, target, "target"), _KNOWN
        if inherited and not parts[start].hard:
            # "Ủy ban nhân dân cấp tỉnh, cấp xã": the second name borrows the first's head.
            target = self.lookup(f"{inherited} {text}")
            if target is not None:
                return _Piece(f"{inherited} {text}", target, "target"), _KNOWN
        if self.is_unspecific(text) and self._note_ok(parts, start, end):
            return _Piece(text, None, "note"), _NOTE
        separators = (end - start - 1) * _PER_SEPARATOR
        key = name_key(text)
        if key in official_keys() or key.removesuffix(_OF_PROVINCE) in official_keys():
            return _Piece(text, None, "unknown"), _LEXICON + separators
        if spans_hard:
            return None
        if head_text(text) or is_group_phrase(text):
            return _Piece(text, None, "unknown"), _UNKNOWN + separators
        if inherited:
            named = f"{inherited} {text}"
            price = (_LEXICON if name_key(named) in official_keys() else _UNKNOWN) + separators
            return _Piece(named, None, "unknown"), price
        return _Piece(text, None, "unknown"), _STRAY + separators

    def _read_prefixed_list(self, item: str, previous: str) -> tuple[str, list[_Piece] | None]:
        """'Các Sở: Nội vụ, Tài chính' or 'Các sở Nội vụ, Tài chính' → 'Sở Nội vụ', 'Sở Tài chính'.

        Returns the prefix found (or `previous`) and the pieces, or None when nothing fits.
        """
        match = _PREFIX_LIST.match(item)
        if match is not None:
            prefix, rest = match.group("prefix"), match.group("rest")
        else:
            folded = fold(item)
            plural = _PLURAL_KIND.match(folded) if len(folded) == len(item) else None
            if plural is None:
                if not previous:
                    return previous, None
                return previous, self._segment(item, prefix=previous)
            prefix, rest = item[: plural.end("prefix")], item[plural.start("rest") :]
        prefix = _PLURAL.sub("", prefix).strip()
        return prefix, self._segment(rest.strip(), prefix=prefix)


def _keys(name: str) -> list[str]:
    """Extra keys a name is found by: without "UBND" before a locality, without "các"."""
    key = name_key(name)
    extra = [_LOCAL_COMMITTEE.sub("", key), _plural_free(key)]
    return [k for k in dict.fromkeys(extra) if k and k != key]


def _plural_free(key: str) -> str:
    """'cac so ban nganh' → 'so ban nganh'; 'uy ban nhan dan cac xa' → 'uy ban nhan dan xa'."""
    return _PLURAL_WORD.sub(lambda m: f"{m.group(1)} " if m.group(1) else "", key)


def _inherited_heads(parts: list[Fragment]) -> list[str | None]:
    """For each fragment, the head words of the last fragment before it that had some."""
    heads: list[str | None] = []
    last: str | None = None
    for part in parts:
        heads.append(last)
        last = head_text(part.text) or last
    return heads


def _other_place(key: str, candidate: str) -> bool:
    """True when `key` names a place ("UBND đặc khu Vân Đồn") and `candidate` is not that
    place's body: the same kind elsewhere ("UBND đặc khu Hòn Ngọc"), a group of them, or
    another body. Close as text, such a hint would point the office at the wrong
    recipient. A misspelt place is still suggested, and so is the same place under another
    kind (the commune that took an abolished district's name)."""
    mine = _PLACE.search(key)
    if mine is None:
        return False
    theirs = _PLACE.search(candidate)
    if theirs is None or key[: mine.start("kind")] != candidate[: theirs.start("kind")]:
        return True
    ratio = difflib.SequenceMatcher(None, mine.group("place"), theirs.group("place")).ratio()
    return ratio < 0.8
