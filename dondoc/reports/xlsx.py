"""The quarterly report as an Excel workbook: totals, sections, agencies and the list."""

from __future__ import annotations

import io
from datetime import tzinfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from dondoc.reports.quarter import QuarterReport
from dondoc.reports.tables import ITEM_HEADERS, QUARTER_EXTRA, quarter_rows
from rules.status import APART, DATED, category_label

SHOWN = (*DATED, *APART)


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
    days_late = ITEM_HEADERS.index("Số ngày chậm")
    for values in quarter_rows(report, tz=tz):
        items.append([int(v) if i == days_late else v for i, v in enumerate(values)])
    items.column_dimensions["D"].width = 60
    items.freeze_panes = "A2"

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
