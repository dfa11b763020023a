"""One grid → one `PlanTable`: the header found, rows mapped to fields, cells cleaned.

Tables copied out of Word repeat their header on every page; those rows are skipped
and counted. A row of column numbers "(1) (2) (3)" under the header is skipped too.
"""

from __future__ import annotations

from dataclasses import replace

from dondoc.errors import UserError
from dondoc.planfile.cleaning import CleanText, clean_cell
from dondoc.planfile.headers import (
    COLUMN_NUMBER,
    HEADER_SEARCH_ROWS,
    OWN_ROW,
    column_letter,
    find_header,
    map_headers,
    with_subheaders,
)
from dondoc.planfile.model import BULLET, FIELD_LABELS, REQUIRED, Grid, PlanTable, SourceRow
from rules.text import nfc

_SHOWN = 60


def build_table(grid: Grid) -> PlanTable:
    """The task table of one grid; raises `UserError` naming the file and row."""
    rows = grid.rows
    source = grid.source
    header_at = find_header(rows)
    if header_at is None:
        wanted = ", ".join(FIELD_LABELS[f] for f in REQUIRED)
        raise UserError(
            f"{source}: không tìm thấy dòng tiêu đề trong {HEADER_SEARCH_ROWS} dòng đầu; "
            f"bảng cần có các cột {wanted}."
        )
    header_line, header_cells = rows[header_at]
    header_cells = [clean_cell(c).text for c in header_cells]
    above = [" ".join(nfc(c) for c in cells if nfc(c)) for _, cells in rows[:header_at]]
    sub_header: list[str] | None = None
    try:
        if header_at + 1 < len(rows):
            # A header cell merged down over the sub-header row is not a label of its own.
            line, below = rows[header_at + 1]
            below = ["" if (line, i) in grid.filled else v for i, v in enumerate(below)]
            combined = with_subheaders(header_cells, below)
            if combined is not None:
                sub_header = below
                header_cells, header_at = combined, header_at + 1
        mapping = map_headers(header_cells)
    except UserError as exc:
        raise UserError(f"{source}:{header_line}: {exc.message}") from None
    missing = [f for f in REQUIRED if f not in mapping.values()]
    if missing:
        found = ", ".join(f"'{nfc(h)}'" for h in header_cells if nfc(h)) or "(trống)"
        raise UserError(
            f"{source}:{header_line}: thiếu cột {', '.join(FIELD_LABELS[f] for f in missing)}; "
            f"các cột có trong tệp: {found}."
        )
    headers = {field: nfc(header_cells[i]) for i, field in mapping.items()}
    columns = {
        field: (
            f"cột {column_letter(i)} ({headers[field]})"
            if grid.spreadsheet
            else f"cột '{headers[field]}'"
        )
        for i, field in mapping.items()
    }
    ignored = [nfc(h) for i, h in enumerate(header_cells) if i not in mapping and nfc(h)]
    repeated = _RepeatedHeader(rows[header_at - (1 if sub_header else 0)][1], sub_header, mapping)
    table_rows: list[SourceRow] = []
    repairs: list[str] = []
    joined: list[str] = []
    repeats = 0
    for line, cells in rows[header_at + 1 :]:
        if repeated.matches(cells):
            repeats += 1
            continue
        values: dict[str, str] = {}
        merged: set[str] = set()
        repaired: set[str] = set()
        garbled: set[str] = set()
        for i, field in mapping.items():
            carried = (line, i) in grid.filled
            if carried:
                merged.add(field)
            raw = cells[i] if i < len(cells) and not (field in OWN_ROW and carried) else ""
            clean = clean_cell(raw) if raw else None
            if clean is None:
                values[field] = ""
                continue
            values[field] = clean.text.strip()
            # Converted from TCVN3/VNI: never a new agency, as for mended mojibake.
            if clean.repaired or (line, i) in grid.converted:
                repaired.add(field)
            if clean.garbled:
                garbled.add(field)
            if (clean.repaired or clean.removed) and not carried:
                repairs.append(_repair_note(grid, line, columns[field], raw, clean))
        non_empty = [v for v in values.values() if v]
        if not non_empty or all(COLUMN_NUMBER.match(v) for v in non_empty):
            continue  # blank rows and the "(1) (2) (3)" row under the header
        row = SourceRow(
            line=line,
            cells=values,
            columns=columns,
            page=grid.pages.get(line),
            merged=frozenset(merged),
            repaired=frozenset(repaired),
            garbled=frozenset(garbled),
        )
        if table_rows and _split_by_page(table_rows[-1], row):
            table_rows[-1] = _rejoin(table_rows[-1], row)
            joined.append(
                f"{row.where}: dòng đầu trang không có STT được hiểu là phần còn lại của "
                f"dòng {table_rows[-1].line} (trang {table_rows[-1].page}), bị ngắt qua trang "
                "khi xuất PDF, và được ghép vào dòng đó; hãy kiểm tra lại nhiệm vụ này."
            )
            continue
        table_rows.append(row)
    return PlanTable(
        source=source,
        headers=headers,
        ignored_headers=ignored,
        rows=table_rows,
        title_lines=grid.title_lines + [line for line in above if line],
        repeated_headers=repeats,
        repairs=repairs,
        joined_rows=joined,
    )


class _RepeatedHeader:
    """Recognises the header (and its sub-header row) when Word repeats it on a new page.

    A repeated header is a copy, so cells compare with spacing and case evened out only.
    """

    def __init__(self, header: list[str], sub: list[str] | None, mapping: dict[int, str]):
        rows = [header] if sub is None else [header, sub]
        columns = [i for i, f in mapping.items() if f in REQUIRED]
        self.wanted = [[(i, _key(row[i]) if i < len(row) else "") for i in columns] for row in rows]

    def matches(self, cells: list[str]) -> bool:
        return any(
            any(key for _, key in wanted)
            and all(_key(cells[i]) == key if i < len(cells) else not key for i, key in wanted)
            for wanted in self.wanted
        )


def _split_by_page(previous: SourceRow, row: SourceRow) -> bool:
    """Word lets a table row break across pages: in the PDF its rest opens the next page
    as a row with no STT. (A row whose STT cell a merge carried is a row of its own.)"""
    return (
        row.page is not None
        and previous.page is not None
        and row.page > previous.page
        and not row.cell("number")
        and "number" not in row.merged
    )


def _rejoin(previous: SourceRow, rest: SourceRow) -> SourceRow:
    cells = dict(previous.cells)
    for field, text in rest.cells.items():
        if not text or field in rest.merged:
            continue
        before = cells.get(field, "")
        # As the PDF reader unwraps lines: a break is kept before a bullet or after ';' / ':'.
        meant = bool(BULLET.match(text)) or before.rstrip().endswith((";", ":"))
        cells[field] = (before + ("\n" if meant else " ") + text).strip() if before else text
    return replace(
        previous,
        cells=cells,
        repaired=previous.repaired | rest.repaired,
        garbled=previous.garbled | rest.garbled,
    )


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _repair_note(grid: Grid, line: int, column: str, raw: str, clean: CleanText) -> str:
    page = grid.pages.get(line)
    where = (f"trang {page}, " if page else "") + f"dòng {line}, {column}"
    parts = []
    if clean.repaired:
        parts.append(f"đã sửa lỗi mã hóa '{_short(raw)}' → '{_short(clean.text)}'")
    if clean.removed:
        parts.append(f"đã bỏ {clean.removed} ký tự điều khiển")
    return f"{where}: {'; '.join(parts)}"


def _short(text: str) -> str:
    text = nfc(text)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
