"""Excel workbooks into one grid per sheet; merged cells repeat down the rows they span."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from dondoc.errors import UserError
from dondoc.planfile.guards import check_cell, check_rows, check_zip
from dondoc.planfile.headers import column_letter
from dondoc.planfile.model import Grid, Limits
from rules.text import fold_words


def read_xlsx(path: Path, limits: Limits, sheet_name: str | None) -> list[Grid]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    check_zip(
        path,
        limits,
        "Excel",
        ("xl/worksheets/", "xl/sharedStrings.xml"),
        limits.max_xlsx_xml_bytes,
    )
    try:
        # Not read-only: merged cells are only known in the full model.
        workbook = load_workbook(path, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise UserError(f"{path}: không mở được tệp Excel: {exc}") from None
    try:
        sheets = workbook.worksheets
        if sheet_name is not None:
            sheets = [s for s in sheets if fold_words(s.title) == fold_words(sheet_name)]
            if not sheets:
                titles = ", ".join(f"'{s.title}'" for s in workbook.worksheets)
                raise UserError(
                    f"{path}: không có trang tính '{sheet_name}'; các trang tính: {titles}."
                )
        formulas = _unsaved_formulas(path) if _has_formulas(path) else {}
        grids = []
        for index, sheet in enumerate(sheets, start=1):
            source = f"{path} [{sheet.title}]"
            check_rows(source, sheet.max_row, sheet.max_row * sheet.max_column, limits)
            rows, filled = _sheet_rows(sheet, source, limits, formulas.get(sheet.title, set()))
            grids.append(
                Grid(
                    source=source,
                    rows=rows,
                    filled=filled,
                    spreadsheet=True,
                    label=f"trang tính '{sheet.title}'",
                    index=index,
                    choose=f"--sheet '{sheet.title}'",
                )
            )
        return grids
    finally:
        workbook.close()


def _has_formulas(path: Path) -> bool:
    """Whether any sheet holds a formula: only then is the workbook read a second time."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                data = archive.read(name)
                if b"<f>" in data or b"<f " in data or b":f>" in data or b":f " in data:
                    return True
    return False


def _unsaved_formulas(path: Path) -> dict[str, set[tuple[int, int]]]:
    """Sheet title → (row, column) of every formula cell; those without a saved value
    read as empty with data_only, which would make "no deadline" out of a formula."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        found: dict[str, set[tuple[int, int]]] = {}
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if getattr(cell, "data_type", None) == "f":
                        found.setdefault(sheet.title, set()).add((cell.row, cell.column))
        return found
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        # A date typed into a deadline cell: write it the way the plan's phrases do.
        return f"{value:%d/%m/%Y}" if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return str(value)


def _sheet_rows(
    sheet: Any, source: str, limits: Limits, formulas: set[tuple[int, int]]
) -> tuple[list[tuple[int, list[str]]], frozenset[tuple[int, int]]]:
    """Rows of text; a cell merged down over several rows repeats in each of them."""
    grid: list[list[str]] = []
    for line, values in enumerate(
        sheet.iter_rows(min_row=1, max_row=sheet.max_row, values_only=True), start=1
    ):
        row = []
        for column, value in enumerate(values):
            if value is None and (line, column + 1) in formulas:
                raise UserError(
                    f"{source}: ô {column_letter(column)}{line} chứa công thức chưa có giá trị "
                    "đã lưu; hãy mở tệp bằng Excel, để Excel tính rồi lưu lại (hoặc thay "
                    "công thức bằng giá trị)."
                )
            text = _cell_text(value)
            check_cell(source, line, column, text, limits)
            row.append(text)
        grid.append(row)
    filled: set[tuple[int, int]] = set()
    for merged in sheet.merged_cells.ranges:
        top, column = merged.min_row, merged.min_col - 1
        for row_number in range(top + 1, merged.max_row + 1):
            # A lead or deadline cell merged over several tasks applies to each of them.
            if row_number - 1 < len(grid) and column < len(grid[row_number - 1]):
                grid[row_number - 1][column] = grid[top - 1][column]
                filled.add((row_number, column))
    return list(enumerate(grid, start=1)), frozenset(filled)
