"""Reading agency cells: split a cell into names and resolve each against the directory.

A cell may hold one name, a bulleted list ("- A;\\n- B."), a list sharing a prefix
("Các Sở: Nội vụ, Tài chính"), a group ("Các sở, ban, ngành") or an unspecific phrase
("các cơ quan, đơn vị liên quan") that is kept as a note. Commas and "và" occur inside
names too ("Sở Kế hoạch và Đầu tư", "UBND các huyện, thị xã, thành phố"), so a cell is
segmented against the directory: the split with the fewest pieces that all resolve wins.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from rules.text import fold, fold_words, nfc

# Abbreviations officials write interchangeably with the full words.
_ABBREVIATIONS = {
    "ubnd": "uy ban nhan dan",
    "hdnd": "hoi dong nhan dan",
    "vp": "van phong",
    "tt": "trung tam",
    "kh": "ke hoach",
    "dt": "dau tu",
    "tttt": "thong tin va truyen thong",
    "khcn": "khoa hoc va cong nghe",
    "ldtbxh": "lao dong thuong binh va xa hoi",
    "gtvt": "giao thong van tai",
    "tnmt": "tai nguyen va moi truong",
    "nnptnt": "nong nghiep va phat trien nong thon",
    "vhttdl": "van hoa the thao va du lich",
    "gddt": "giao duc va dao tao",
}
_ABBREVIATION_RE = re.compile(r"\b(" + "|".join(_ABBREVIATIONS) + r")\b")

# Phrases that name nobody in particular: kept as a note, never turned into recipients.
DEFAULT_UNSPECIFIC = (
    "các cơ quan, đơn vị liên quan",
    "các cơ quan, đơn vị có liên quan",
    "các cơ quan liên quan",
    "các đơn vị liên quan",
    "các cơ quan, tổ chức liên quan",
    "các tổ chức, cá nhân liên quan",
    "các cơ quan, đơn vị",
    "các địa phương",
    "các đơn vị",
    "cơ quan, đơn vị liên quan",
    "đơn vị liên quan",
)
# "các cơ quan, tổ chức có liên quan", "các sở, ngành liên quan": only generic nouns, then
# "(có) liên quan". A proper name in between ("Cơ quan Công an tỉnh và …") is not generic.
_GENERIC = (
    r"(?:co quan|don vi|to chuc|ca nhan|dia phuong|doanh nghiep|doan the|hoi|so|ban|nganh|cap)"
)
_UNSPECIFIC_HINT = re.compile(rf"^(?:cac )?{_GENERIC}(?: {_GENERIC})*(?: co)? lien quan$")
# Names of local People's Committees are also written without "UBND": "huyện Đông Sơn".
_LOCAL_COMMITTEE = re.compile(
    r"^uy ban nhan dan (?=(?:huyen|thi xa|thanh pho|xa|phuong|thi tran) )"
)

_ITEM_SPLIT = re.compile(r"\s*(?:\n|;)\s*")
_BULLET = re.compile(r"^\s*(?:[-–—+•*]|\d+[.)]|[a-zđ][.)])\s*", re.IGNORECASE)
_PARENTHESES = re.compile(r"\s*\(([^()]*)\)")
_PIECE_SEP = re.compile(r"\s*,\s*|\s+và\s+|\s+va\s+", re.IGNORECASE)
_PREFIX_LIST = re.compile(r"^(?:các\s+|cac\s+)?(?P<prefix>[^:]{2,40}?)\s*:\s*(?P<rest>.+)$", re.I)
# "Các sở Tư pháp, Tài chính", "UBND các huyện Đông Sơn, Tây Hòa": a plural kind, then names.
_PLURAL_KIND = re.compile(
    r"^(?P<prefix>(?:(?:ubnd|uy ban nhan dan) )?cac (?:so|huyen|thi xa|thanh pho|xa|phuong)) "
    r"(?P<rest>.+)$"
)
_PLURAL = re.compile(r"\bcác\s+|\bcac\s+", re.IGNORECASE)


@functools.lru_cache(maxsize=8192)
def name_key(text: str) -> str:
    """The form two names are compared in: folded, no punctuation, abbreviations expanded."""
    words = fold_words(text.replace("&", " và "))
    return _ABBREVIATION_RE.sub(lambda m: _ABBREVIATIONS[m.group(1)], words)


@functools.lru_cache(maxsize=8192)
def squashed(text: str) -> str:
    """Letters only, without "và": 'Sở LĐ-TB&XH' and 'Sở LĐTBXH' both give 'soldtbxh'."""
    return "".join(w for w in fold_words(text.replace("&", " và ")).split() if w != "va")


def acronyms(name: str) -> set[str]:
    """How offices shorten a name: 'Sở Tài nguyên và Môi trường' → 'sotnmt', 'stnmt'."""
    words = [w for w in fold_words(name).split() if w != "va"]
    suffixes = [""]
    if len(words) > 2 and words[-1] == "tinh":
        words, suffixes = words[:-1], ["", "tinh"]
    if len(words) < 3:
        return set()
    initials = "".join(w[0] for w in words)
    forms = {initials, words[0] + initials[1:]}
    return {form + suffix for form in forms for suffix in suffixes}


@dataclass(frozen=True)
class Target:
    """Something a name can mean: one agency, or a group of agencies."""

    kind: str  # "agency" | "group"
    code: str
    name: str


@dataclass
class CellReading:
    """What one cell says: the targets it names, unspecific notes, and what failed."""

    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


class NameIndex:
    """Lookup from every name and alias (in `name_key` form) to its target."""

    def __init__(self, unspecific: Iterable[str] = DEFAULT_UNSPECIFIC) -> None:
        self._by_key: dict[str, Target] = {}
        self._display: dict[str, str] = {}
        # Shortened spellings ("Sở LĐTBXH"); a form two targets share is dropped as ambiguous.
        self._by_short: dict[str, Target | None] = {}
        self._unspecific = {name_key(p) for p in unspecific}

    def add(self, target: Target, names: Iterable[str]) -> None:
        for name in names:
            key = name_key(name)
            if not key:
                continue
            self._by_key[key] = target
            self._display.setdefault(key, target.name)
            local = _LOCAL_COMMITTEE.sub("", key)
            if local != key:
                self._by_key.setdefault(local, target)
            for short in {squashed(name), *acronyms(name)}:
                if len(short) >= 3:
                    known = self._by_short.get(short, target)
                    self._by_short[short] = target if known == target else None

    def lookup(self, text: str) -> Target | None:
        target = self._by_key.get(name_key(text))
        return target if target is not None else self._by_short.get(squashed(text))

    def is_unspecific(self, text: str) -> bool:
        key = name_key(text)
        return key in self._unspecific or bool(_UNSPECIFIC_HINT.search(key))

    def suggestions(self, text: str, limit: int = 3) -> list[str]:
        keys = difflib.get_close_matches(name_key(text), self._by_key, n=limit * 2, cutoff=0.7)
        names: list[str] = []
        for key in keys:
            display = self._display.get(key) or self._by_key[key].name
            if display not in names:
                names.append(display)
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
            reading.unknown.append(item)
            return prefix
        for text, target in pieces:
            if target is None:
                reading.notes.append(nfc(text))
            elif target not in reading.targets:
                reading.targets.append(target)
        return prefix

    def _resolve_piece(self, text: str) -> tuple[bool, Target | None]:
        target = self.lookup(text)
        if target is not None:
            return True, target
        return (True, None) if self.is_unspecific(text) else (False, None)

    def _segment(self, item: str, prefix: str = "") -> list[tuple[str, Target | None]] | None:
        """Fewest consecutive pieces of `item` that each resolve, or None."""
        fragments = _PIECE_SEP.split(item)
        seps = _PIECE_SEP.findall(item)
        count = len(fragments)
        # best[i]: the shortest resolved segmentation of fragments[:i]
        best: list[list[tuple[str, Target | None]] | None] = [None] * (count + 1)
        best[0] = []
        for end in range(1, count + 1):
            for start in range(end):
                head = best[start]
                if head is None:
                    continue
                text = fragments[start]
                for k in range(start + 1, end):
                    text += seps[k - 1] + fragments[k]
                ok, target = self._resolve_piece(f"{prefix} {text}" if prefix else text)
                if not ok and prefix:
                    ok, target = self._resolve_piece(text)
                if ok and (best[end] is None or len(head) + 1 < len(best[end] or [])):
                    best[end] = [*head, (text, target)]
        return best[count]

    def _read_prefixed_list(
        self, item: str, previous: str
    ) -> tuple[str, list[tuple[str, Target | None]] | None]:
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
