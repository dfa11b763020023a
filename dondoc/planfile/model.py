"""Value types shared by every stage of plan reading, and the limits a file must keep."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

# A list item's mark at the start of a line: "- Sở …", "• Sở …".
BULLET = re.compile(r"^\s*[-+•–*·]")
FIELDS = ("number", "title", "lead", "coordinators", "product", "deadline", "notes")
REQUIRED = ("number", "title", "lead", "deadline")
FIELD_LABELS = {
    "number": "STT",
    "title": "Nhiệm vụ",
    "lead": "Cơ quan chủ trì",
    "coordinators": "Cơ quan phối hợp",
    "product": "Sản phẩm",
    "deadline": "Thời gian hoàn thành",
    "notes": "Ghi chú",
}


@dataclass(frozen=True)
class Limits:
    """What one plan file may hold; past any of these it is refused, never half-read.

    A real appendix has tens to a few thousand rows; the defaults leave room for the
    largest plans (the bench reads 50,000 rows) while a zip bomb stops before it unpacks.
    """

    max_rows: int = 100_000
    max_cells: int = 2_000_000
    max_cell_chars: int = 20_000
    max_unpacked_bytes: int = 200 * 1024 * 1024  # XLSX and DOCX: the zip's declared sizes
    # python-docx holds the whole document as a tree of about 13 bytes per byte of XML:
    # 25 MB of XML (tens of thousands of plain rows, thousands of formatted ones) stays
    # within 400 MB.
    max_docx_xml_bytes: int = 25 * 1024 * 1024
    # openpyxl builds one object per cell: 60 MB of sheet XML is about 100,000 rows.
    max_xlsx_xml_bytes: int = 60 * 1024 * 1024
    max_file_bytes: int = 100 * 1024 * 1024
    max_pdf_pages: int = 1_000


@dataclass(frozen=True)
class Grid:
    """One table as a format reader found it: text cells, before any meaning is read.

    `filled` holds (line, column) of cells that a vertical merge repeated from the row
    above; `pages` maps a line to its PDF page.
    """

    source: str  # how to name this table to a person: "kh.docx, bảng 2"
    rows: list[tuple[int, list[str]]]
    filled: frozenset[tuple[int, int]] = frozenset()
    spreadsheet: bool = False  # columns are named by letter (A, B, …)
    title_lines: list[str] = dataclasses.field(default_factory=list)
    label: str = ""  # the table among its siblings: "trang tính 'Phụ lục'", "bảng 2"
    index: int = 1  # 1-based position in the file, for --table
    choose: str = ""  # the option that imports this table alone: "--sheet 'Phụ lục II'"
    pages: dict[int, int] = dataclasses.field(default_factory=dict)
    # (line, column) of cells converted from a legacy font encoding (TCVN3, VNI).
    converted: frozenset[tuple[int, int]] = frozenset()


@dataclass(frozen=True)
class SourceRow:
    """One table row: where it is in the file, and its cells by field."""

    line: int  # CSV: the line the record starts on; XLSX: the sheet row; DOCX/PDF: table row
    cells: dict[str, str]
    columns: dict[str, str]  # field → how to name its column to a person ("D" or the header)
    page: int | None = None  # PDF only
    # Fields whose cell a vertical merge carried down from the row above.
    merged: frozenset[str] = frozenset()
    repaired: frozenset[str] = frozenset()  # fields whose mojibake was repaired
    garbled: frozenset[str] = frozenset()  # fields that still look garbled after repair

    def cell(self, field: str) -> str:
        return self.cells.get(field, "")

    @property
    def where(self) -> str:
        return (f"trang {self.page}, " if self.page else "") + f"dòng {self.line}"


@dataclass(frozen=True)
class PlanTable:
    source: str
    headers: dict[str, str]  # field → header text as written in the file
    ignored_headers: list[str]
    rows: list[SourceRow]
    # Text above the header: "PHỤ LỤC", the plan's name, "(Kèm theo Kế hoạch số …)".
    title_lines: list[str] = dataclasses.field(default_factory=list)
    # Other tables (sheets, Word tables) that hold a task table too (not imported).
    # (label, option that picks it): "trang tính 'Phụ lục II'", "--sheet 'Phụ lục II'".
    other_tables: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    repeated_headers: int = 0  # header rows repeated inside the table (skipped)
    repairs: list[str] = dataclasses.field(default_factory=list)  # what cleaning changed
    # PDF rows a page break had cut in two, joined again: warnings (the guess may be wrong).
    joined_rows: list[str] = dataclasses.field(default_factory=list)
    # The file was typed in a legacy encoding and converted: a warning, like a joined row.
    encoding_warnings: list[str] = dataclasses.field(default_factory=list)
