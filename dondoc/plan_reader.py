"""Reading a plan's appendix table (CSV or XLSX) into rows that know where they came from.

Plans are typed by people: headers vary ("Thời gian hoàn thành", "Thời hạn", "Tiến độ"),
columns come in any order, a row of column numbers "(1) (2) (3)" may follow the header,
and sections are rows numbered I, II, III. This module only reads; deciding what a row
means is the importer's job.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dondoc.errors import UserError
from rules.text import fold_words, nfc

FIELDS = ("number", "title", "lead", "coordinators", "product", "deadline", "notes")
REQUIRED = ("title", "lead", "deadline")
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
_HEADER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("number", r"^(stt|tt|so tt|so thu tu|no|#)$"),
        ("lead", r"chu tri|\blead\b|responsible"),
        ("coordinators", r"phoi hop|coordinat|support"),
        ("deadline", r"thoi gian|thoi han|tien do|han hoan thanh|deadline|due|timeline"),
        ("product", r"san pham|ket qua|output|deliverable|product"),
        ("notes", r"ghi chu|\bnotes?\b|remarks?"),
        ("title", r"nhiem vu|noi dung|giai phap|cong viec|\btasks?\b|activit|^ten\b"),
    )
)
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


def map_headers(headers: list[str]) -> dict[int, str]:
    """Column index → field for the columns recognised; raises on duplicates."""
    mapping: dict[int, str] = {}
    taken: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = fold_words(header)
        if not key:
            continue
        for field, pattern in _HEADER_PATTERNS:
            if pattern.search(key):
                if field in taken:
                    first = headers[taken[field]]
                    raise UserError(
                        f"Hai cột cùng là '{FIELD_LABELS[field]}': '{nfc(first)}' và "
                        f"'{nfc(header)}'. Hãy đổi tên một cột."
                    )
                taken[field] = index
                mapping[index] = field
                break
    return mapping


def _is_header(cells: list[str]) -> bool:
    try:
        fields = set(map_headers(cells).values())
    except UserError:
        return True  # a header, but a faulty one: let the caller report it
    return len(fields & set(REQUIRED)) >= 2


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _table_from_rows(
    source: str, numbered: Iterable[tuple[int, list[str]]], xlsx: bool
) -> PlanTable:
    rows = list(numbered)
    header_at = next(
        (i for i, (_, cells) in enumerate(rows[:_HEADER_SEARCH_ROWS]) if _is_header(cells)), None
    )
    if header_at is None:
        wanted = ", ".join(FIELD_LABELS[f] for f in REQUIRED)
        raise UserError(
            f"{source}: không tìm thấy dòng tiêu đề trong {_HEADER_SEARCH_ROWS} dòng đầu; "
            f"bảng cần có các cột {wanted}."
        )
    header_line, header_cells = rows[header_at]
    mapping = map_headers(header_cells)
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
            field: (cells[i].strip() if i < len(cells) else "") for i, field in mapping.items()
        }
        non_empty = [v for v in values.values() if v]
        if not non_empty or all(_COLUMN_NUMBER.match(v) for v in non_empty):
            continue  # blank rows and the "(1) (2) (3)" row under the header
        table_rows.append(SourceRow(line=line, cells=values, columns=columns))
    return PlanTable(source=source, headers=headers, ignored_headers=ignored, rows=table_rows)


def _read_csv(path: Path) -> PlanTable:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{path}:{line}: tệp không phải UTF-8. Hãy lưu lại dưới dạng "
            "'CSV UTF-8' (Excel: Save As → CSV UTF-8)."
        ) from None
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    numbered = []
    start = 1
    try:
        for cells in reader:
            numbered.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UserError(f"{path}:{reader.line_num}: CSV không hợp lệ: {exc}") from None
    return _table_from_rows(str(path), numbered, xlsx=False)


def _read_xlsx(path: Path) -> PlanTable:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise UserError(f"{path}: không mở được tệp Excel: {exc}") from None
    try:
        problems = []
        for sheet in workbook.worksheets:
            numbered = [
                (i, ["" if v is None else str(v) for v in values])
                for i, values in enumerate(sheet.iter_rows(values_only=True), start=1)
            ]
            try:
                return _table_from_rows(f"{path} [{sheet.title}]", numbered, xlsx=True)
            except UserError as exc:
                problems.append(exc.message)
        raise UserError(" ".join(problems) or f"{path}: tệp Excel không có trang tính nào.")
    finally:
        workbook.close()


def read_plan_table(path: Path) -> PlanTable:
    if not path.is_file():
        raise UserError(f"Không tìm thấy tệp {path}.")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise UserError(
        f"{path}: định dạng '{suffix or '(không có)'}' chưa được hỗ trợ; hãy dùng .csv hoặc .xlsx "
        "(với .doc/.docx: sao chép bảng Phụ lục sang Excel rồi lưu)."
    )
