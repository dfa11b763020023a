"""Word documents into one grid per table, in document order.

The text above each table (the appendix's title lines) travels with it. A cell merged
vertically ("vMerge") carries its text into every row it spans, as in Excel; a cell
merged horizontally ("gridSpan") keeps its text in its first column only.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from dondoc.errors import UserError
from dondoc.planfile.guards import check_cell, check_rows, check_zip
from dondoc.planfile.model import Grid, Limits
from rules.text import nfc

_TITLE_LINES = 6  # paragraphs above a table kept as its title lines


def read_docx(path: Path, limits: Limits) -> list[Grid]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    check_zip(path, limits, "Word", ("word/document.xml",), limits.max_docx_xml_bytes)
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, OSError) as exc:
        raise UserError(f"{path}: không mở được tệp Word: {exc}") from None
    grids: list[Grid] = []
    above: list[str] = []
    rows_seen = cells_seen = 0
    for block in document.iter_inner_content():
        if not isinstance(block, Table):
            text = nfc(block.text)
            if text:
                above = [*above, text][-_TITLE_LINES:]
            continue
        index = len(grids) + 1
        source = f"{path}, bảng {index}"
        rows, filled = _table_rows(block, source, limits, rows_seen, cells_seen)
        rows_seen += len(rows)
        cells_seen += sum(len(r) for _, r in rows)
        grids.append(
            Grid(
                source=source,
                rows=rows,
                filled=filled,
                title_lines=above,
                label=f"bảng {index}",
                index=index,
            )
        )
        above = []
    if not grids:
        raise UserError(
            f"{path}: tệp Word không có bảng nào; bảng Phụ lục cần là một bảng (Table) "
            "của Word, không phải chữ căn bằng dấu cách hay tab."
        )
    return grids


def _table_rows(
    table: Any, source: str, limits: Limits, rows_before: int, cells_before: int
) -> tuple[list[tuple[int, list[str]]], frozenset[tuple[int, int]]]:
    from docx.table import _Cell

    grid: list[list[str]] = []
    filled: set[tuple[int, int]] = set()
    cells = cells_before
    for line, tr in enumerate(table._tbl.tr_lst, start=1):
        check_rows(source, rows_before + line, cells, limits)
        row: list[str] = [""] * tr.grid_before
        for tc in tr.tc_lst:
            column = len(row)
            if tc.vMerge == "continue":
                above = grid[-1] if grid else []
                text = above[column] if column < len(above) else ""
                if grid:
                    filled.add((line, column))
            else:
                # Nested tables count as text of their cell.
                text = _Cell(tc, table).text
            check_cell(source, line, column, text, limits)
            row.append(text)
            row.extend([""] * (tc.grid_span - 1))
        cells += len(row)
        grid.append(row)
    return list(enumerate(grid, start=1)), frozenset(filled)
