"""The appendix table of a plan file, whatever its format: the facade of dondoc.planfile.

A file may hold several tables (Word documents hold signature blocks and lists; a
workbook has sheets). The appendix is the table whose header names the task columns;
a Word table split in two (a page break, a copy) is joined back when the second part
has no header of its own or repeats the first one's. `--table N` picks one by position.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dondoc.errors import UserError
from dondoc.planfile.csv_reader import read_csv
from dondoc.planfile.docx_reader import read_docx
from dondoc.planfile.headers import find_header
from dondoc.planfile.legacy import convert_legacy
from dondoc.planfile.model import (
    FIELD_LABELS,
    FIELDS,
    REQUIRED,
    Grid,
    Limits,
    PlanTable,
    SourceRow,
)
from dondoc.planfile.pdf_reader import read_pdf
from dondoc.planfile.table import build_table
from dondoc.planfile.xlsx_reader import read_xlsx
from rules.text import fold_words

__all__ = [
    "FIELDS",
    "FIELD_LABELS",
    "REQUIRED",
    "Limits",
    "PlanTable",
    "SourceRow",
    "read_plan_table",
]

SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".docx", ".pdf")


def read_plan_table(
    path: Path,
    sheet: str | None = None,
    table: int | None = None,
    limits: Limits | None = None,
) -> PlanTable:
    """The task table of a CSV, XLSX, DOCX or PDF file.

    `sheet` picks an Excel sheet by name, `table` a table (or sheet) by its 1-based
    position in the file.
    """
    limits = limits or Limits()
    if not path.is_file():
        raise UserError(f"Không tìm thấy tệp {path}.")
    # The whole file is converted from a legacy font encoding or none of it is.
    legacy = convert_legacy(str(path), _grids(path, sheet, limits))
    grids = legacy.grids
    warnings = [legacy.warning] if legacy.warning else []
    if table is not None:
        chosen = [g for g in grids if g.index == table]
        if not chosen:
            raise UserError(
                f"{path}: --table {table}: tệp chỉ có {len(grids)} bảng "
                f"(đánh số từ 1 theo thứ tự trong tệp)."
            )
        return replace(build_table(chosen[0]), encoding_warnings=warnings)
    if len(grids) > 1 and not grids[0].spreadsheet:
        grids = _join_split_tables(grids)
    problems: list[str] = []
    tables: list[tuple[Grid, PlanTable]] = []
    for grid in grids:
        try:
            tables.append((grid, build_table(grid)))
        except UserError as exc:
            problems.append(exc.message)
    if not tables:
        raise UserError("\n".join(problems) or f"{path}: tệp không có bảng nào.")
    # "Phụ lục I" and "Phụ lục II" in one file: import one, say so about the others.
    others = [(grid.label, grid.choose or f"--table {grid.index}") for grid, _ in tables[1:]]
    return replace(tables[0][1], other_tables=others, encoding_warnings=warnings)


def _grids(path: Path, sheet: str | None, limits: Limits) -> list[Grid]:
    suffix = path.suffix.lower()
    if sheet is not None and suffix not in (".xlsx", ".xlsm"):
        raise UserError(f"{path}: --sheet chỉ dùng cho tệp Excel (.xlsx).")
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, limits, sheet)
    if suffix in (".csv", ".txt"):
        return read_csv(path, limits)
    if suffix == ".docx":
        return read_docx(path, limits)
    if suffix == ".pdf":
        return read_pdf(path, limits)
    hint = " (tệp .doc cũ: mở bằng Word rồi lưu thành .docx)" if suffix == ".doc" else ""
    raise UserError(
        f"{path}: định dạng '{suffix or '(không có)'}' chưa được hỗ trợ; hãy dùng .csv, .xlsx, "
        f".docx hoặc .pdf có lớp chữ{hint}."
    )


def _join_split_tables(grids: list[Grid]) -> list[Grid]:
    """A table followed, with no text between, by one as wide with no header or the same
    header is one table split in two."""
    joined: list[Grid] = []
    for grid in grids:
        last = joined[-1] if joined else None
        if last is not None and _continues(last, grid):
            offset = last.rows[-1][0] if last.rows else 0
            rows = [(offset + line, cells) for line, cells in grid.rows]
            filled = {(offset + line, column) for line, column in grid.filled}
            pages = {offset + line: page for line, page in grid.pages.items()}
            joined[-1] = replace(
                last,
                rows=last.rows + rows,
                filled=last.filled | filled,
                pages={**last.pages, **pages},
                source=f"{last.source}+{grid.index}",
            )
            continue
        joined.append(grid)
    return joined


def _continues(first: Grid, grid: Grid) -> bool:
    # Text between two tables ("PHỤ LỤC II", a heading) makes them two tables.
    if grid.title_lines or _width(first) != _width(grid) or not grid.rows or not first.rows:
        return False
    header_at = find_header(grid.rows)
    if header_at is None:
        return find_header(first.rows) is not None
    first_at = find_header(first.rows)
    if first_at is None:
        return False
    return [fold_words(c) for c in grid.rows[header_at][1]] == [
        fold_words(c) for c in first.rows[first_at][1]
    ]


def _width(grid: Grid) -> int:
    return max((len(cells) for _, cells in grid.rows), default=0)
