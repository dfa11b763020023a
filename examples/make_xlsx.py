"""Build examples/nq131-phu-luc.xlsx from the CSV, laid out the way an office's appendix is.

Run `python examples/make_xlsx.py` after editing the CSV. The workbook has what real
appendices have and the importer must cope with: title lines above the table, the
header, a "(1) (2) (3)…" row of column numbers, wrapped multi-line cells and section
rows ("I", "II", …) whose title is merged across the remaining columns. The file is
reproducible: the same CSV gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "nq131-phu-luc.csv"
TARGET = HERE / "nq131-phu-luc.xlsx"

TITLE_LINES = (
    "PHỤ LỤC",
    "NHIỆM VỤ TRIỂN KHAI NGHỊ QUYẾT SỐ 131/NQ-CP NGÀY 06/10/2022 CỦA CHÍNH PHỦ",
    "(Kèm theo Kế hoạch số 256/KH-UBND ngày 15/11/2022 của UBND tỉnh)",
)
COLUMN_WIDTHS = (6, 60, 32, 32, 40, 20)
_SECTION = re.compile(r"^[IVXLC]+$")
# Fixed so that rebuilding from an unchanged CSV does not change the committed file.
_FIXED_TIME = datetime(2022, 11, 15, 8, 0, 0)
_ZIP_TIME = (2022, 11, 15, 8, 0, 0)


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def build_workbook(header: list[str], rows: list[list[str]]) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    if sheet is None:
        raise RuntimeError("a new workbook always has a sheet")
    sheet.title = "Phụ lục"
    width = len(header)
    last = get_column_letter(width)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    centred = Alignment(wrap_text=True, horizontal="center", vertical="center")

    for line, text in enumerate(TITLE_LINES, start=1):
        sheet.append([text])
        sheet.merge_cells(f"A{line}:{last}{line}")
        sheet.cell(line, 1).font = Font(bold=line < len(TITLE_LINES), italic=line == 3)
        sheet.cell(line, 1).alignment = centred
    sheet.append([])

    sheet.append(header)
    sheet.append([f"({n})" for n in range(1, width + 1)])
    header_row = sheet.max_row - 1
    for row in (header_row, header_row + 1):
        for column in range(1, width + 1):
            cell = sheet.cell(row, column)
            cell.font = Font(bold=row == header_row, italic=row != header_row)
            cell.alignment, cell.border = centred, box

    for values in rows:
        is_section = bool(_SECTION.match(values[0].strip())) and not any(values[2:])
        sheet.append(_typed(values))
        row = sheet.max_row
        if is_section:
            sheet.merge_cells(f"B{row}:{last}{row}")
        for column in range(1, width + 1):
            cell = sheet.cell(row, column)
            cell.border = box
            cell.alignment = centred if column == 1 else wrap
            cell.font = Font(bold=is_section)

    for column, size in enumerate(COLUMN_WIDTHS[:width], start=1):
        sheet.column_dimensions[get_column_letter(column)].width = size
    sheet.freeze_panes = sheet.cell(header_row + 2, 1)
    workbook.properties.creator = "dondoc"
    workbook.properties.created = workbook.properties.modified = _FIXED_TIME
    return workbook


def _typed(values: list[str]) -> list[str | int]:
    # Offices type STT as a number; the importer must read 1 and "1" alike.
    number = values[0].strip()
    return [int(number) if number.isdigit() else number, *values[1:]]


def save_reproducibly(workbook: Workbook, path: Path) -> None:
    """Save with fixed zip timestamps, so the bytes depend only on the content."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                # openpyxl stamps "modified" with the current time on every save.
                stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp + rb"\g<2>",
                    data,
                )
            info = zipfile.ZipInfo(item.filename, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, data)


def main() -> None:
    header, rows = read_rows(SOURCE)
    save_reproducibly(build_workbook(header, rows), TARGET)
    print(f"{TARGET.relative_to(HERE.parent)}: {len(rows)} rows from {SOURCE.name}")


if __name__ == "__main__":
    main()
