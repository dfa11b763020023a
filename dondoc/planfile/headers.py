"""Which column is which: headers as people type them, in any order and wording.

Plans are typed by people: headers vary ("Thời gian hoàn thành", "Thời hạn", "Tiến độ"),
columns come in any order, and a header may be split over two rows ("Thời gian thực
hiện" merged over "Bắt đầu | Hoàn thành").
"""

from __future__ import annotations

import re

from dondoc.errors import UserError
from dondoc.planfile.model import FIELD_LABELS
from rules.text import fold_words, nfc

# A row is the header when it names at least two of these.
_HEADER_EVIDENCE = ("title", "lead", "deadline")
# Each row has its own STT and task: a merged cell there is not repeated into the next row.
OWN_ROW = ("number", "title")

# Checked in order: the first field whose pattern matches the folded header wins, so the
# specific ones ("chủ trì", "phối hợp") come before the generic ("cơ quan", "nhiệm vụ").
# A start date ("Thời gian bắt đầu", or "Bắt đầu" under a merged "Thời gian thực hiện") is
# not a deadline: it is recognised first so that it never competes with the deadline column.
_START = "start"
_HEADER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("number", r"^(stt|tt|so tt|so thu tu|no|#)$"),
        (_START, r"bat dau|khoi cong|tu ngay|\bstart"),
        ("lead", r"chu tri|\blead\b|responsible"),
        ("coordinators", r"phoi hop|coordinat|support"),
        (
            "deadline",
            r"thoi gian|thoi han|thoi diem|tien do|^lo trinh|han hoan thanh|deadline|due|"
            r"timeline|ket thuc",
        ),
        ("product", r"san pham|ket qua|output|deliverable|product"),
        ("notes", r"ghi chu|\bnotes?\b|remarks?"),
        ("title", r"nhiem vu|noi dung|giai phap|cong viec|\btasks?\b|activit|^ten\b"),
    )
)
# Only for columns nothing above matched: plans without a "chủ trì" column name the lead
# "Cơ quan thực hiện"; some call the product "Hình thức văn bản".
_FALLBACK_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("lead", r"^(co quan|don vi)( don vi| co quan)?( thuc hien| trien khai)?$"),
        ("product", r"hinh thuc van ban|hinh thuc san pham"),
    )
)
# When two columns match one field, a header written exactly like one of these wins.
_CANONICAL = {
    "number": {"stt", "tt", "so tt", "so thu tu"},
    "title": {"nhiem vu", "ten nhiem vu", "noi dung", "noi dung nhiem vu", "noi dung cong viec"},
    "lead": {"co quan chu tri", "don vi chu tri", "chu tri"},
    "coordinators": {"co quan phoi hop", "don vi phoi hop", "phoi hop"},
    "product": {"san pham", "san pham cong viec", "ket qua san pham", "san pham dau ra"},
    "deadline": {
        "thoi gian hoan thanh",
        "thoi han hoan thanh",
        "thoi han",
        "thoi gian",
        "thoi gian thuc hien",
        "thoi diem hoan thanh",
    },
    "notes": {"ghi chu"},
}
COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")
HEADER_SEARCH_ROWS = 15


def map_headers(headers: list[str]) -> dict[int, str]:
    """Column index → field for the columns recognised; raises on an ambiguous field."""
    keys = [fold_words(h) or nfc(h) for h in headers]
    candidates: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        field = next((f for f, pattern in _HEADER_PATTERNS if key and pattern.search(key)), None)
        if field is not None:
            candidates.setdefault(field, []).append(index)
    for field, pattern in _FALLBACK_PATTERNS:
        if field not in candidates:
            taken = {i for indexes in candidates.values() for i in indexes}
            found = [i for i, key in enumerate(keys) if i not in taken and pattern.search(key)]
            if found:
                candidates[field] = found
    mapping: dict[int, str] = {}
    for field, indexes in candidates.items():
        if field == _START:
            continue
        if len(indexes) > 1:
            exact = [i for i in indexes if keys[i] in _CANONICAL.get(field, ())]
            if len(exact) != 1:
                named = " và ".join(f"'{nfc(headers[i])}'" for i in indexes)
                raise UserError(
                    f"Hai cột cùng là '{FIELD_LABELS[field]}': {named}. Hãy đổi tên một cột."
                )
            indexes = exact
        mapping[indexes[0]] = field
    return dict(sorted(mapping.items()))


def is_header(cells: list[str]) -> bool:
    try:
        fields = set(map_headers(cells).values())
    except UserError:
        return True  # a header, but a faulty one: let the caller report it
    return len(fields & set(_HEADER_EVIDENCE)) >= 2


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def find_header(rows: list[tuple[int, list[str]]]) -> int | None:
    return next(
        (i for i, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]) if is_header(cells)), None
    )


def with_subheaders(header: list[str], below: list[str]) -> list[str] | None:
    """'Thời gian thực hiện' merged over 'Bắt đầu | Hoàn thành' → one header per column.

    `below` is a sub-header row when it has short labels, one of them under a merged
    (empty) header cell, and nothing under STT and task: a task row always has those.
    """
    labels = [nfc(below[i]) if i < len(below) else "" for i in range(len(header))]
    mapping = map_headers(header)
    own = [i for i, f in mapping.items() if f in OWN_ROW]
    if any(labels[i] for i in own) or not any(
        label and not nfc(header[i]) for i, label in enumerate(labels)
    ):
        return None
    if any(COLUMN_NUMBER.match(v) or len(v) > 40 for v in labels if v):
        return None
    combined, parent = [], ""
    for top, label in zip(header, labels, strict=True):
        parent = nfc(top) or parent  # a merged header is empty in every cell but its first
        combined.append(f"{parent} {label}".strip() if label else nfc(top))
    return combined
