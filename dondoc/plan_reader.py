"""Reading a plan's appendix table (CSV or XLSX) into rows that know where they came from.

Plans are typed by people: headers vary ("Thời gian hoàn thành", "Thời hạn", "Tiến độ"),
columns come in any order, a row of column numbers "(1) (2) (3)" may follow the header,
and sections are rows numbered I, II, III. This module only reads; deciding what a row
means is the importer's job.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import re
import zipfile
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from dondoc.errors import UserError
from rules.text import fold_words, nfc

FIELDS = ("number", "title", "lead", "coordinators", "product", "deadline", "notes")
REQUIRED = ("number", "title", "lead", "deadline")
# A row is the header when it names at least two of these.
_HEADER_EVIDENCE = ("title", "lead", "deadline")
# Each row has its own STT and task: a merged cell there is not repeated into the next row.
_OWN_ROW = ("number", "title")
FIELD_LABELS = {
    "number": "STT",
    "title": "Nhiệm vụ",
    "lead": "Cơ quan chủ trì",
    "coordinators": "Cơ quan phối hợp",
    "product": "Sản phẩm",
    "deadline": "Thời gian hoàn thành",
    "notes": "Ghi chú",
}

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
        ("deadline", r"thoi gian|thoi han|tien do|han hoan thanh|deadline|due|timeline|ket thuc"),
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
    },
    "notes": {"ghi chu"},
}
_COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")
_HEADER_SEARCH_ROWS = 15


@dataclass(frozen=True)
class SourceRow:
    """One table row: where it is in the file, and its cells by field."""

    line: int  # CSV: the line the record starts on; XLSX: the sheet row number
    cells: dict[str, str]
    columns: dict[str, str]  # field → how to name its column to a person ("D" or the header)

    def cell(self, field: str) -> str:
        return self.cells.get(field, "")


@dataclass(frozen=True)
class PlanTable:
    source: str
    headers: dict[str, str]  # field → header text as written in the file
    ignored_headers: list[str]
    rows: list[SourceRow]
    # Text above the header: "PHỤ LỤC", the plan's name, "(Kèm theo Kế hoạch số …)".
    title_lines: list[str] = dataclasses.field(default_factory=list)
    # Other Excel sheets that hold a task table too (not imported).
    other_tables: list[str] = dataclasses.field(default_factory=list)


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


def _is_header(cells: list[str]) -> bool:
    try:
        fields = set(map_headers(cells).values())
    except UserError:
        return True  # a header, but a faulty one: let the caller report it
    return len(fields & set(_HEADER_EVIDENCE)) >= 2


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _find_header(rows: list[tuple[int, list[str]]]) -> int | None:
    return next(
        (i for i, (_, cells) in enumerate(rows[:_HEADER_SEARCH_ROWS]) if _is_header(cells)), None
    )


def _with_subheaders(header: list[str], below: list[str]) -> list[str] | None:
    """'Thời gian thực hiện' merged over 'Bắt đầu | Hoàn thành' → one header per column.

    `below` is a sub-header row when it has short labels, one of them under a merged
    (empty) header cell, and nothing under STT and task: a task row always has those.
    """
    labels = [nfc(below[i]) if i < len(below) else "" for i in range(len(header))]
    mapping = map_headers(header)
    own = [i for i, f in mapping.items() if f in _OWN_ROW]
    if any(labels[i] for i in own) or not any(
        label and not nfc(header[i]) for i, label in enumerate(labels)
    ):
        return None
    if any(_COLUMN_NUMBER.match(v) or len(v) > 40 for v in labels if v):
        return None
    combined, parent = [], ""
    for top, label in zip(header, labels, strict=True):
        parent = nfc(top) or parent  # a merged header is empty in every cell but its first
        combined.append(f"{parent} {label}".strip() if label else nfc(top))
    return combined


def _table_from_rows(
    source: str,
    rows: list[tuple[int, list[str]]],
    xlsx: bool,
    filled: frozenset[tuple[int, int]] = frozenset(),
) -> PlanTable:
    header_at = _find_header(rows)
    if header_at is None:
        wanted = ", ".join(FIELD_LABELS[f] for f in REQUIRED)
        raise UserError(
            f"{source}: không tìm thấy dòng tiêu đề trong {_HEADER_SEARCH_ROWS} dòng đầu; "
            f"bảng cần có các cột {wanted}."
        )
    header_line, header_cells = rows[header_at]
    above = [" ".join(nfc(c) for c in cells if nfc(c)) for _, cells in rows[:header_at]]
    try:
        if header_at + 1 < len(rows):
            # A header cell merged down over the sub-header row is not a label of its own.
            line, below = rows[header_at + 1]
            below = ["" if (line, i) in filled else v for i, v in enumerate(below)]
            combined = _with_subheaders(header_cells, below)
            if combined is not None:
                header_cells, header_at = combined, header_at + 1
        mapping = map_headers(header_cells)
    except UserError as exc:
        raise UserError(f"{source}:{header_line}: {exc.message}") from None
    missing = [f for f in REQUIRED if f not in mapping.values()]
    if missing:
        found = ", ".join(f"'{nfc(h)}'" for h in header_cells if nfc(h)) or "(trống)"
        raise UserError(
            f"{source}:{header_line}: thiếu cột {', '.join(FIELD_LABELS[f] for f in missing)}; "
            f"các cột có trong tệp: {found}."
        )
    headers = {field: nfc(header_cells[i]) for i, field in mapping.items()}
    columns = {
        field: (
            f"cột {_column_letter(i)} ({headers[field]})" if xlsx else f"cột '{headers[field]}'"
        )
        for i, field in mapping.items()
    }
    ignored = [nfc(h) for i, h in enumerate(header_cells) if i not in mapping and nfc(h)]
    table_rows = []
    for line, cells in rows[header_at + 1 :]:
        values = {
            field: (
                cells[i].strip()
                if i < len(cells) and not (field in _OWN_ROW and (line, i) in filled)
                else ""
            )
            for i, field in mapping.items()
        }
        non_empty = [v for v in values.values() if v]
        if not non_empty or all(_COLUMN_NUMBER.match(v) for v in non_empty):
            continue  # blank rows and the "(1) (2) (3)" row under the header
        table_rows.append(SourceRow(line=line, cells=values, columns=columns))
    return PlanTable(
        source=source,
        headers=headers,
        ignored_headers=ignored,
        rows=table_rows,
        title_lines=[line for line in above if line],
    )


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")  # Excel's "Unicode Text" export
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{path}:{line}: tệp không phải UTF-8. Hãy lưu lại dưới dạng "
            "'CSV UTF-8' (Excel: Save As → CSV UTF-8)."
        ) from None


def _parse_csv(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    numbered = []
    start = 1
    for cells in reader:
        numbered.append((start, cells))
        start = reader.line_num + 1
    return numbered


def _read_csv(path: Path) -> PlanTable:
    text = _decode(path, path.read_bytes())
    # The delimiter is whichever makes a header appear: Excel writes ';' where the decimal
    # separator is ',' (Vietnamese settings), and a sniffer is fooled by commas in cells.
    best: tuple[int, list[tuple[int, list[str]]]] | None = None
    first_error: str | None = None
    for delimiter in (",", ";", "\t"):
        try:
            rows = _parse_csv(text, delimiter)
        except csv.Error as exc:
            first_error = first_error or f"{path}: CSV không hợp lệ: {exc}"
            continue
        header_at = _find_header(rows)
        if header_at is None:
            best = best or (0, rows)
            continue
        try:
            score = len(map_headers(rows[header_at][1]))
        except UserError:
            score = 1
        if best is None or score > best[0]:
            best = (score, rows)
    if best is None:
        raise UserError(first_error or f"{path}: CSV không hợp lệ.")
    return _table_from_rows(str(path), best[1], xlsx=False)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        # A date typed into a deadline cell: write it the way the plan's phrases do.
        return f"{value:%d/%m/%Y}" if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return str(value)


def _sheet_rows(sheet: Any) -> tuple[list[tuple[int, list[str]]], frozenset[tuple[int, int]]]:
    """Rows of text; a cell merged down over several rows repeats in each of them."""
    grid = [
        [_cell_text(v) for v in values]
        for values in sheet.iter_rows(min_row=1, max_row=sheet.max_row, values_only=True)
    ]
    filled: set[tuple[int, int]] = set()
    for merged in sheet.merged_cells.ranges:
        top, column = merged.min_row, merged.min_col - 1
        for row in range(top + 1, merged.max_row + 1):
            # A lead or deadline cell merged over several tasks applies to each of them.
            if row - 1 < len(grid) and column < len(grid[row - 1]):
                grid[row - 1][column] = grid[top - 1][column]
                filled.add((row, column))
    return list(enumerate(grid, start=1)), frozenset(filled)


def _read_xlsx(path: Path, sheet_name: str | None) -> PlanTable:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # Not read-only: merged cells are only known in the full model.
        workbook = load_workbook(path, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise UserError(f"{path}: không mở được tệp Excel: {exc}") from None
    try:
        sheets = workbook.worksheets
        if sheet_name is not None:
            sheets = [s for s in sheets if fold_words(s.title) == fold_words(sheet_name)]
            if not sheets:
                titles = ", ".join(f"'{s.title}'" for s in workbook.worksheets)
                raise UserError(
                    f"{path}: không có trang tính '{sheet_name}'; các trang tính: {titles}."
                )
        problems: list[str] = []
        tables: list[PlanTable] = []
        for sheet in sheets:
            rows, filled = _sheet_rows(sheet)
            try:
                tables.append(
                    _table_from_rows(f"{path} [{sheet.title}]", rows, xlsx=True, filled=filled)
                )
            except UserError as exc:
                problems.append(exc.message)
        if not tables:
            raise UserError(" ".join(problems) or f"{path}: tệp Excel không có trang tính nào.")
        # "Phụ lục I" and "Phụ lục II" on two sheets: import one, say so about the others.
        others = [t.source.removeprefix(f"{path} [").removesuffix("]") for t in tables[1:]]
        return replace(tables[0], other_tables=others)
    finally:
        workbook.close()


def read_plan_table(path: Path, sheet: str | None = None) -> PlanTable:
    """The task table of a CSV or XLSX file; `sheet` picks an Excel sheet by name."""
    if not path.is_file():
        raise UserError(f"Không tìm thấy tệp {path}.")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    if suffix in (".csv", ".txt"):
        if sheet is not None:
            raise UserError(f"{path}: --sheet chỉ dùng cho tệp Excel (.xlsx).")
        return _read_csv(path)
    raise UserError(
        f"{path}: định dạng '{suffix or '(không có)'}' chưa được hỗ trợ; hãy dùng .csv hoặc .xlsx "
        "(với .doc/.docx: sao chép bảng Phụ lục sang Excel rồi lưu)."
    )
