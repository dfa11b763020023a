"""The quarterly report as an Excel workbook: totals, sections, agencies and the list.

Cells are typed (text as text, dates as dates, counts as numbers) and none is ever a
formula: openpyxl reads a string starting with "=" as one, so every text cell is
written as a string, and text that a spreadsheet would run carries the quote prefix.
"""

from __future__ import annotations

import io
from datetime import date, datetime, tzinfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from dondoc.reports.cells import Cell, looks_like_formula
from dondoc.reports.quarter import QuarterReport
from dondoc.reports.tables import ITEM_HEADERS, QUARTER_EXTRA, quarter_rows
from rules.status import APART, DATED, category_label

SHOWN = (*DATED, *APART)


def _as_data(book: Workbook) -> None:
    """Every text cell a string, never a formula; formula-like text quote-prefixed."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
                    if looks_like_formula(cell.value):
                        cell.quotePrefix = True


def _typed(values: list[Cell], tz: tzinfo) -> list[Cell]:
    # Excel has no time zones: a moment is shown in the office's local time.
    return [
        v.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
        if isinstance(v, datetime)
        else v
        for v in values
    ]


def _header(sheet: Worksheet, values: list[str]) -> None:
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def quarter_xlsx(report: QuarterReport, *, tz: tzinfo) -> bytes:
    book = Workbook()
    summary = book.active
    if summary is None:  # a new Workbook always has one sheet; keeps the type checker calm
        summary = book.create_sheet()
    summary.title = "Tổng hợp"
    summary.append([report.title.upper()])
    summary["A1"].font = Font(bold=True, size=13)
    summary.append([f"Số liệu tính đến hết ngày {report.data.as_of:%d/%m/%Y}"])
    summary.append([])
    _header(summary, ["Tình trạng", "Mã tình trạng", "Số nhiệm vụ"])
    totals = report.task_counts
    for category in SHOWN:
        summary.append([category_label(category), str(category), totals[category]])
    summary.append(["Tổng số nhiệm vụ", "total", totals.total])
    summary.append([])
    _header(
        summary,
        ["Kế hoạch", "Phần", "Tên phần", *(category_label(c) for c in SHOWN), "Tổng"],
    )
    for section in report.sections:
        counts = section.counts
        summary.append(
            [
                section.plan_code,
                section.code or "",
                section.title or "",
                *(counts[c] for c in SHOWN),
                counts.total,
            ]
        )
    summary.column_dimensions["A"].width = 40
    summary.column_dimensions["C"].width = 50

    agencies = book.create_sheet("Theo cơ quan")
    _header(
        agencies, ["Mã cơ quan", "Cơ quan, đơn vị", *(category_label(c) for c in SHOWN), "Tổng"]
    )
    for row in report.agencies:
        agencies.append([row.code, row.name, *(row.counts[c] for c in SHOWN), row.counts.total])
    agencies.column_dimensions["B"].width = 45

    items = book.create_sheet("Danh sách")
    _header(items, [*ITEM_HEADERS, *QUARTER_EXTRA])
    for values in quarter_rows(report):
        items.append(_typed(values, tz))
    for row in items.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = "DD/MM/YYYY HH:MM"
            elif isinstance(cell.value, date):
                cell.number_format = "DD/MM/YYYY"
    items.column_dimensions["D"].width = 60
    items.freeze_panes = "A2"
    _as_data(book)

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
