"""Limits checked before and while a file is read, so a hostile file stops early.

XLSX and DOCX are zip files: their members' declared sizes are checked before anything
is unpacked (Python's zipfile never inflates a member past its declared size, so the
declaration bounds the memory a bomb can take).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from dondoc.errors import UserError
from dondoc.planfile.model import Limits

_MB = 1024 * 1024


def check_file_size(path: Path, limits: Limits) -> None:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise UserError(
            f"{path}: tệp nặng {size / _MB:.0f} MB, vượt giới hạn "
            f"{limits.max_file_bytes / _MB:.0f} MB cho một kế hoạch."
        )


def check_zip(
    path: Path, limits: Limits, kind: str, content: tuple[str, ...], content_limit: int
) -> None:
    """`kind` names the format to a person: "Excel", "Word". The members whose names
    start with one of `content` are read whole into memory; together they are held to
    `content_limit` bytes."""
    check_file_size(path, limits)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserError(f"{path}: không mở được tệp {kind}: {exc}") from None
    unpacked = sum(m.file_size for m in members)
    if unpacked > limits.max_unpacked_bytes:
        raise UserError(
            f"{path}: tệp {kind} khi giải nén chiếm {unpacked / _MB:.0f} MB, vượt giới hạn "
            f"{limits.max_unpacked_bytes / _MB:.0f} MB; tệp hỏng hoặc không phải một bảng "
            "kế hoạch."
        )
    tree = sum(m.file_size for m in members if m.filename.startswith(content))
    if tree > content_limit:
        raise UserError(
            f"{path}: nội dung tệp {kind} chiếm {tree / _MB:.0f} MB, vượt giới hạn "
            f"{content_limit / _MB:.0f} MB để đọc an toàn; hãy tách bảng Phụ lục thành nhiều "
            "tệp."
        )


def check_rows(source: str, rows: int, cells: int, limits: Limits) -> None:
    """Called as rows are read, so the count stops at the first row past a limit."""
    if rows > limits.max_rows:
        raise UserError(
            f"{source}: bảng có hơn {_n(limits.max_rows)} dòng, vượt giới hạn cho một kế "
            "hoạch; hãy tách thành nhiều tệp."
        )
    if cells > limits.max_cells:
        raise UserError(
            f"{source}: bảng có hơn {_n(limits.max_cells)} ô, vượt giới hạn cho một kế "
            "hoạch; hãy bỏ các cột thừa hoặc tách thành nhiều tệp."
        )


def check_cell(source: str, line: int, column: int, text: str, limits: Limits) -> None:
    if len(text) > limits.max_cell_chars:
        raise UserError(
            f"{source}:{line}: ô ở cột thứ {column + 1} dài {_n(len(text))} ký tự, vượt giới "
            f"hạn {_n(limits.max_cell_chars)} ký tự."
        )


def _n(number: int) -> str:
    """12.345: Vietnamese groups thousands with a dot."""
    return f"{number:,}".replace(",", ".")
