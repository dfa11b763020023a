"""Report cells are data, never code: what keeps a spreadsheet or a Markdown viewer from
running text that came from a plan file, a chat or a display name.

CSV follows OWASP's CSV-injection guidance: a cell starting with `=`, `+`, `-`, `@`, a
tab or a carriage return gets a leading apostrophe, so Excel and LibreOffice show it as
text. Numbers we write ourselves ("-3", "12") are left alone, as OWASP allows. XLSX needs
no apostrophe: cells are typed (see xlsx.py), and text that looks like a formula is
marked as text with Excel's quote prefix, so editing the cell does not arm it either.
"""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo

# Fullwidth forms too: Excel's input method turns "＝" into "=".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?\Z")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")

Cell = str | int | date | datetime | None


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS) and not _NUMBER.match(text)


def csv_cell(value: Cell, tz: tzinfo) -> str:
    """The text of one CSV cell: ISO dates, the office's time, neutralised text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return "'" + value if looks_like_formula(value) else value


def markdown_text(text: str) -> str:
    """One line of text for a Markdown table or heading, shown as written.

    Markdown punctuation is backslash-escaped and `&` / `<` become entities, so neither
    a `<script>` nor a link or emphasis typed into a plan or a chat turns into markup.
    """
    flat = " ".join(text.split())
    flat = flat.replace("&", "&amp;")
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", flat)
    return escaped.replace("\\<", "&lt;").replace("\\>", "&gt;")
