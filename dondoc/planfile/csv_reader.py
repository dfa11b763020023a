"""CSV (and Excel's "Unicode Text") files into one grid."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from dondoc.errors import UserError
from dondoc.planfile.guards import check_cell, check_file_size, check_rows
from dondoc.planfile.headers import find_header, map_headers
from dondoc.planfile.model import Grid, Limits


def read_csv(path: Path, limits: Limits) -> list[Grid]:
    check_file_size(path, limits)
    text = _decode(path, path.read_bytes())
    # The delimiter is whichever makes a header appear: Excel writes ';' where the decimal
    # separator is ',' (Vietnamese settings), and a sniffer is fooled by commas in cells.
    best: tuple[int, list[tuple[int, list[str]]]] | None = None
    first_error: str | None = None
    for delimiter in (",", ";", "\t"):
        try:
            rows = _parse_csv(str(path), text, delimiter, limits)
        except csv.Error as exc:
            first_error = first_error or f"{path}: CSV không hợp lệ: {exc}"
            continue
        header_at = find_header(rows)
        if header_at is None:
            best = best or (0, rows)
            continue
        try:
            score = len(map_headers(rows[header_at][1]))
        except UserError:
            score = 1
        if best is None or score > best[0]:
            best = (score, rows)
    if best is None:
        raise UserError(first_error or f"{path}: CSV không hợp lệ.")
    return [Grid(source=str(path), rows=best[1])]


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")  # Excel's "Unicode Text" export
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{path}:{line}: tệp không phải UTF-8. Hãy lưu lại dưới dạng "
            "'CSV UTF-8' (Excel: Save As → CSV UTF-8)."
        ) from None


def _parse_csv(
    source: str, text: str, delimiter: str, limits: Limits
) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    numbered: list[tuple[int, list[str]]] = []
    start = 1
    cells = 0
    for row in reader:
        cells += len(row)
        check_rows(source, len(numbered) + 1, cells, limits)
        for column, value in enumerate(row):
            check_cell(source, start, column, value, limits)
        numbered.append((start, row))
        start = reader.line_num + 1
    return numbered
