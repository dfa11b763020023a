"""What people type and what buttons carry, read into plain values.

Pure parsing for notifiers/telegram_handlers.py: words that acknowledge or complete, the
proposed date in an extension request, and verified button data.
"""

from __future__ import annotations

import re
from datetime import date

from rules.text import fold_words

ACK_WORDS = {"da nhan", "nhan", "ok", "oke", "okay", "da nhan nhiem vu", "received"}
DONE_WORDS = {"xong", "da xong", "hoan thanh", "da hoan thanh", "done", "finished"}
DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b")


def parse_extension(text: str) -> tuple[date | None, bool]:
    """The proposed date in a reply, and whether a reason was given besides it."""
    match = DATE.search(text)
    if match is None:
        return None, bool(fold_words(text))
    day, month, year, iso_year, iso_month, iso_day = match.groups()
    try:
        if year:
            proposed = date(int(year), int(month), int(day))
        else:
            proposed = date(int(iso_year), int(iso_month), int(iso_day))
    except ValueError:
        return None, True
    rest = fold_words(text[: match.start()] + " " + text[match.end() :])
    # "đề nghị gia hạn đến" alone is not a reason: ask for one.
    filler = {"de", "nghi", "gia", "han", "den", "ngay", "toi", "extend", "to", "until"}
    return proposed, bool(set(rest.split()) - filler)


def intent_of(text: str) -> str | None:
    words = fold_words(text)
    if words in ACK_WORDS:
        return "ack"
    if words in DONE_WORDS:
        return "done"
    return None


def parse_button(data: str) -> tuple[str, int, date | None] | None:
    """("a", 12, None) from "a:12"; ("dc", 12, 2023-03-31) from "dc:12:20230331"."""
    parts = data.split(":")
    if len(parts) not in (2, 3) or parts[0] not in ("a", "d", "dc", "x", "e", "g"):
        return None
    try:
        assignment_id = int(parts[1])
        occurrence = None
        if len(parts) == 3:
            raw = parts[2]
            occurrence = date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
    except ValueError:
        return None
    return parts[0], assignment_id, occurrence
