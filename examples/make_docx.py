"""Build examples/nq131-phu-luc.docx from the CSV, laid out as an office's Word appendix.

Run `python examples/make_docx.py` after editing the CSV. The document has what Word
appendices have: title paragraphs above the table, a header row that Word repeats on
every page, section rows ("I", "II", …) whose title is merged across the remaining
columns, and multi-line agency cells. The file is reproducible: the same CSV gives the
same bytes.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "nq131-phu-luc.csv"
TARGET = HERE / "nq131-phu-luc.docx"

TITLE_LINES = (
    "PHỤ LỤC",
    "NHIỆM VỤ TRIỂN KHAI NGHỊ QUYẾT SỐ 131/NQ-CP NGÀY 06/10/2022 CỦA CHÍNH PHỦ",
    "(Kèm theo Kế hoạch số 256/KH-UBND ngày 15/11/2022 của UBND tỉnh)",
)
COLUMN_WIDTHS_CM = (1.2, 8.5, 4.5, 4.5, 5.0, 3.0)
_SECTION = re.compile(r"^[IVXLC]+$")
# Fixed so that rebuilding from an unchanged CSV does not change the committed file.
_FIXED_TIME = datetime(2022, 11, 15, 8, 0, 0)
_ZIP_TIME = (2022, 11, 15, 8, 0, 0)


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def build_document(header: list[str], rows: list[list[str]]) -> docx.document.Document:
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Cm(1.5))
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(11)

    for number, text in enumerate(TITLE_LINES):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(text)
        run.bold = number < 2
        run.italic = number == 2

    table = document.add_table(rows=1 + len(rows), cols=len(header))
    table.style = "Table Grid"
    for column, text in enumerate(header):
        cell = table.cell(0, column)
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    _repeat_as_header(table.rows[0])
    for index, values in enumerate(rows, start=1):
        is_section = bool(_SECTION.match(values[0].strip())) and not any(values[2:])
        if is_section:
            table.cell(index, 0).text = values[0]
            merged = table.cell(index, 1).merge(table.cell(index, len(header) - 1))
            merged.text = values[1]
            merged.paragraphs[0].runs[0].bold = True
            continue
        for column, text in enumerate(values):
            # One paragraph per line, as people type "- Sở …" lists in Word.
            cell = table.cell(index, column)
            lines = text.split("\n")
            cell.text = lines[0]
            for line in lines[1:]:
                cell.add_paragraph(line)
    for row in table.rows:
        for column, width in enumerate(COLUMN_WIDTHS_CM):
            row.cells[column].width = Cm(width)

    properties = document.core_properties
    properties.author = properties.last_modified_by = "dondoc"
    properties.created = properties.modified = _FIXED_TIME
    properties.revision = 1
    return document


def _repeat_as_header(row: docx.table._Row) -> None:
    """Mark the row as Word's repeating header (w:tblHeader): shown on every page."""
    properties = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    properties.append(flag)


def save_reproducibly(document: docx.document.Document, path: Path) -> None:
    """Save with fixed zip timestamps, so the bytes depend only on the content."""
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w") as target:
        for item in sorted(source.infolist(), key=lambda i: i.filename):
            info = zipfile.ZipInfo(item.filename, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(item.filename))


def main() -> None:
    header, rows = read_rows(SOURCE)
    save_reproducibly(build_document(header, rows), TARGET)
    print(f"{TARGET.relative_to(HERE.parent)}: {len(rows)} rows from {SOURCE.name}")


if __name__ == "__main__":
    main()
