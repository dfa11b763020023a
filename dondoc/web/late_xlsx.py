"""The monthly late list as an Excel sheet: the same rows as its CSV (dondoc.reports)."""

from __future__ import annotations

import io
from datetime import tzinfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from dondoc.reports.late import LateReport
from dondoc.reports.tables import ITEM_HEADERS, item_row


def late_xlsx(report: LateReport, *, tz: tzinfo) -> bytes:
    book = Workbook()
    sheet = book.active or book.create_sheet()
    sheet.title = "Danh sách chậm muộn"
    sheet.append([report.title.upper()])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([])
    sheet.append(list(ITEM_HEADERS))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for item in report.items:
        sheet.append(item_row(item))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
