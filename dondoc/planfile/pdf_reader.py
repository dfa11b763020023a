"""PDFs with a text layer into grids: ruled tables found by pdfplumber, joined over pages.

A table that runs over several pages comes back as one table per page; consecutive
pieces with the same number of columns are one table. A cell merged vertically is
found by its box reaching below its row; it then applies to every row it spans.
A scan (no text layer) is refused: dondoc does not guess text from images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dondoc.errors import UserError
from dondoc.planfile.guards import check_cell, check_file_size, check_rows
from dondoc.planfile.model import BULLET, Grid, Limits
from rules.text import nfc

_EPSILON = 1.0  # points: boxes of one row differ by rounding only


@dataclass(frozen=True)
class _Piece:
    page: int
    first_on_page: bool
    rows: list[list[str]]
    filled: set[tuple[int, int]]
    above: list[str]


def read_pdf(path: Path, limits: Limits) -> list[Grid]:
    import pdfplumber
    from pdfminer.psexceptions import PSException
    from pdfplumber.utils.exceptions import PdfminerException

    check_file_size(path, limits)
    try:
        document = pdfplumber.open(path)
        with document:
            return _read(path, document, limits)
    except (PdfminerException, PSException, OSError) as exc:
        raise UserError(f"{path}: không mở được tệp PDF: {exc}") from None


def _read(path: Path, document: Any, limits: Limits) -> list[Grid]:
    if len(document.pages) > limits.max_pdf_pages:
        raise UserError(
            f"{path}: tệp PDF có {len(document.pages)} trang, vượt giới hạn "
            f"{limits.max_pdf_pages} trang cho một kế hoạch."
        )
    pieces: list[_Piece] = []
    has_text = False
    rows_seen = cells_seen = 0
    for number, page in enumerate(document.pages, start=1):
        has_text = has_text or bool(page.chars)
        tables = page.find_tables()
        above = _text_above(page, tables[0].bbox[1]) if tables else []
        for position, table in enumerate(tables):
            rows, filled = _table_rows(table)
            rows_seen += len(rows)
            cells_seen += sum(len(r) for r in rows)
            check_rows(str(path), rows_seen, cells_seen, limits)
            for line, row in enumerate(rows, start=1):
                for column, text in enumerate(row):
                    check_cell(f"{path}, trang {number}", line, column, text, limits)
            pieces.append(_Piece(number, position == 0, rows, filled, above))
            above = []
        page.flush_cache()  # pdfplumber keeps every page's objects otherwise
    if not has_text:
        raise UserError(
            f"{path}: tệp PDF không có lớp chữ (có lẽ là bản scan/ảnh chụp), dondoc không "
            "đọc được chữ từ ảnh. Hãy dùng bản Word (.docx) hoặc PDF xuất từ Word của kế "
            "hoạch, hoặc nhận dạng chữ (OCR) trước rồi nhập lại."
        )
    if not pieces:
        raise UserError(
            f"{path}: không tìm thấy bảng có kẻ ô trong tệp PDF. Hãy dùng bản Word (.docx) "
            "của kế hoạch, hoặc chép bảng Phụ lục sang Excel."
        )
    return _join(path, pieces)


def _text_above(page: Any, top: float) -> list[str]:
    region = page.crop((0, 0, page.width, max(top, 1)))
    return [line for line in (nfc(t) for t in (region.extract_text() or "").splitlines()) if line]


def _table_rows(table: Any) -> tuple[list[list[str]], set[tuple[int, int]]]:
    """Text per cell, with (row, column) of the cells a vertical merge filled."""
    texts = table.extract()
    open_spans: dict[int, tuple[float, str]] = {}  # column → (bottom of its box, text)
    filled: set[tuple[int, int]] = set()
    grid: list[list[str]] = []
    for index, (row, values) in enumerate(zip(table.rows, texts, strict=True)):
        top = row.bbox[1]
        out: list[str] = []
        for column, (box, value) in enumerate(zip(row.cells, values, strict=True)):
            if box is not None:
                text = _unwrap(value or "")
                open_spans[column] = (box[3], text)
            else:
                span = open_spans.get(column)
                if span is not None and span[0] > top + _EPSILON:
                    text = span[1]
                    filled.add((index, column))
                else:
                    text = ""  # part of a cell merged across columns
            out.append(text)
        grid.append(out)
    return grid, filled


@dataclass
class _Joined:
    width: int
    last_page: int
    title_lines: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    filled: set[tuple[int, int]] = field(default_factory=set)
    pages: dict[int, int] = field(default_factory=dict)


def _unwrap(text: str) -> str:
    """Lines a PDF wrapped to fit the column become one again ("Sở\nY tế" is "Sở Y tế").

    A line break is kept where the writer meant one: before a bullet ("- Sở …") and
    after a ';' or ':' that ends a list item.
    """
    lines = text.split("\n")
    out = lines[0]
    for line in lines[1:]:
        meant = BULLET.match(line) or out.rstrip().endswith((";", ":"))
        out += ("\n" if meant else " ") + line
    return out


def _join(path: Path, pieces: list[_Piece]) -> list[Grid]:
    """A table's piece on the next page, first on its page and as wide, continues it."""
    joined: list[_Joined] = []
    for piece in pieces:
        width = max((len(r) for r in piece.rows), default=0)
        last = joined[-1] if joined else None
        if (
            last is None
            or last.width != width
            or not piece.first_on_page
            or (piece.page == last.last_page)
        ):
            last = _Joined(width=width, last_page=piece.page, title_lines=piece.above)
            joined.append(last)
        offset = len(last.rows)
        for index, row in enumerate(piece.rows):
            last.rows.append((offset + index + 1, row))
            last.pages[offset + index + 1] = piece.page
        last.filled |= {(offset + r + 1, c) for r, c in piece.filled}
        last.last_page = piece.page
    return [
        Grid(
            source=f"{path}, bảng {index}",
            rows=table.rows,
            filled=frozenset(table.filled),
            title_lines=table.title_lines,
            label=f"bảng {index}",
            index=index,
            pages=table.pages,
        )
        for index, table in enumerate(joined, start=1)
    ]
