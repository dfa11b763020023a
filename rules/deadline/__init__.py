"""The deadline language: what a plan's "Thời gian hoàn thành" phrase means.

The modules depend one way, each only on those listed before it:

    values     Deadline, Recurrence, ParseError (describe: their sentences)
    tokens     the tokenizer, the vocabulary type and the cursor
    words      the vocabulary, Vietnamese and English
    numbers    days, months, quarters and years
    periods    points in time
    clauses    a point or window with the words that bind it
    recurring  periods, day rules and bounds of repeating deadlines
    draft      a deadline being assembled, and its trailers
    several    from a point on, then every period, and lists of several deadlines
    parse      the grammar's entry point

This facade is what the rest of dondoc imports.
"""

from __future__ import annotations

from rules.deadline.describe import describe_deadline, format_date
from rules.deadline.parse import MAX_PHRASE_LENGTH, parse
from rules.deadline.values import (
    KINDS,
    PERIOD_MONTHS,
    UNDATED_KINDS,
    Deadline,
    DeadlineKind,
    Expected,
    ParseError,
    PhraseTooLong,
    Recurrence,
    month_end,
)

__all__ = [
    "KINDS",
    "MAX_PHRASE_LENGTH",
    "PERIOD_MONTHS",
    "UNDATED_KINDS",
    "Deadline",
    "DeadlineKind",
    "Expected",
    "ParseError",
    "PhraseTooLong",
    "Recurrence",
    "describe_deadline",
    "format_date",
    "month_end",
    "parse_deadline",
]


def parse_deadline(text: str) -> Deadline:
    """Read a deadline phrase; raises ParseError for anything it does not understand."""
    return parse(text)
