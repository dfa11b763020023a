"""Plan files written in code for the tests: Word, PDF and Excel appendices.

A cell is a string, or `Span(text, rows, columns)` for a merged cell; the cells a span
covers are left out of the rows below it and beside it, as a person merging them in
Word would see. The same rows build every format, so one plan can be read from each.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),  # Debian: fonts-dejavu-core
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)


@dataclass(frozen=True)
class Span:
    text: str
    rows: int = 1
    columns: int = 1


Cell = str | Span
Row = list[Cell]


def _layout(rows: list[Row]) -> tuple[int, list[list[tuple[int, Span]]]]:
    """Each row's cells with their grid column, skipping the columns spans cover."""
    covered: set[tuple[int, int]] = set()
    placed: list[list[tuple[int, Span]]] = []
    width = 0
    for r, row in enumerate(rows):
        column, out = 0, []
        for cell in row:
            while (r, column) in covered:
                column += 1
            span = cell if isinstance(cell, Span) else Span(cell)
            out.append((column, span))
            for dr in range(span.rows):
                for dc in range(span.columns):
                    if dr or dc:
                        covered.add((r + dr, column + dc))
            column += span.columns
        while (r, column) in covered:
            column += 1
        width = max(width, column)
        placed.append(out)
    return width, placed


def write_docx(path: Path, tables: list[list[Row] | str], above: tuple[str, ...] = ()) -> Path:
    """`tables` in document order; a string there is a paragraph between tables."""
    import docx

    document = docx.Document()
    for line in above:
        document.add_paragraph(line)
    for rows in tables:
        if isinstance(rows, str):
            document.add_paragraph(rows)
            continue
        width, placed = _layout(rows)
        table = document.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        for r, cells in enumerate(placed):
            for column, span in cells:
                target = table.cell(r, column)
                if span.rows > 1 or span.columns > 1:
                    target = target.merge(table.cell(r + span.rows - 1, column + span.columns - 1))
                target.text = span.text
        document.add_paragraph("")
    document.save(str(path))
    return path


def write_xlsx(path: Path, rows: list[Row], above: tuple[str, ...] = ()) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for line in above:
        sheet.append([line])
    offset = len(above)
    _, placed = _layout(rows)
    for r, cells in enumerate(placed, start=offset + 1):
        for column, span in cells:
            sheet.cell(r, column + 1).value = (
                int(span.text) if span.text.isascii() and span.text.isdigit() else span.text
            )
            if span.rows > 1 or span.columns > 1:
                sheet.merge_cells(
                    start_row=r,
                    start_column=column + 1,
                    end_row=r + span.rows - 1,
                    end_column=column + span.columns,
                )
    workbook.save(path)
    return path


def font() -> Path:
    for candidate in FONT_CANDIDATES:
        if candidate.is_file():
            return candidate
    reason = "No DejaVuSans.ttf for Vietnamese PDF fixtures: install Debian's fonts-dejavu-core."
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError(reason)  # .ci/run installs it: a missing font in CI is a defect
    pytest.skip(reason)


def _landscape_pdf(above: tuple[str, ...]) -> Any:
    """A landscape A4 PDF in DejaVu Sans, the lines `above` written before the table."""
    from fpdf import FPDF

    pdf = FPDF(orientation="L")
    pdf.add_font("DejaVu", fname=str(font()))
    pdf.set_font("DejaVu", size=8)
    pdf.add_page()
    for line in above:
        pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    return pdf


def write_pdf(path: Path, rows: list[Row], above: tuple[str, ...] = ()) -> Path:
    """A text PDF (landscape A4) with the rows as one ruled table, as Word exports it."""
    from fpdf.fonts import FontFace

    pdf = _landscape_pdf(above)
    _, placed = _layout(rows)
    with pdf.table(headings_style=FontFace(emphasis=None), first_row_as_headings=False) as table:
        for cells in placed:
            row = table.row()
            for _, span in cells:
                row.cell(span.text, rowspan=span.rows, colspan=span.columns)
    pdf.output(str(path))
    return path


def write_scanned_pdf(path: Path) -> Path:
    """A PDF as a scanner makes it: one picture per page, no text layer."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    image = Image.new("L", (800, 400), 255)
    draw = ImageDraw.Draw(image)
    for y in range(20, 400, 40):
        draw.line((20, y, 780, y), fill=0)
    pdf = FPDF(orientation="L")
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=270)
    pdf.output(str(path))
    return path


def write_pdf_pages(path: Path, rows: list[Row], above: tuple[str, ...] = ()) -> Path:
    """A PDF whose table runs over pages, the header row repeated on each (as Word does)."""
    from fpdf.fonts import FontFace

    pdf = _landscape_pdf(above)
    with pdf.table(headings_style=FontFace(emphasis=None), repeat_headings=1) as table:
        for cells in rows:
            row = table.row()
            for cell in cells:
                span = cell if isinstance(cell, Span) else Span(cell)
                row.cell(span.text, rowspan=span.rows, colspan=span.columns)
    pdf.output(str(path))
    return path


def write_pdf_broken_row(path: Path, pages: list[list[Row]]) -> Path:
    """A PDF as Word exports a table whose row breaks across a page: one ruled table per
    page, the header repeated, the broken row's rest first on the next page (no STT)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="L")
    pdf.add_font("DejaVu", fname=str(font()))
    pdf.set_font("DejaVu", size=8)
    for rows in pages:
        pdf.add_page()
        with pdf.table(headings_style=FontFace(emphasis=None), first_row_as_headings=False) as t:
            for cells in rows:
                row = t.row()
                for cell in cells:
                    row.cell(str(cell))
    pdf.output(str(path))
    return path
