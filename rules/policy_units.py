"""Units admins write in the rule config: durations, day offsets, check-in periods.

Each value is dumped as it is written ("7d", "-14d", "1 months"), so a dumped config
validates again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, PlainSerializer

# Every number an admin writes has a range: a typo of many digits is an error naming the
# range, not an overflow. A year covers any reminder schedule a plan needs.
MAX_DURATION = timedelta(days=366)
MAX_OFFSET_DAYS = 366
MAX_PERIOD = {"month": 12, "week": 52}
_MAX_DIGITS = 6
_DURATION = re.compile(r"^\s*(\d+)\s*([dhw])\s*$")
_DURATION_UNITS = {"d": "days", "h": "hours", "w": "weeks"}
_OFFSET = re.compile(r"^\s*([+-]?)\s*(\d+)\s*([dw])\s*$")
_PERIOD = re.compile(r"^\s*(\d+)?\s*([^\d\s].*?)\s*$")
_PERIOD_UNITS = {
    "month": ("month", 1),
    "months": ("month", 1),
    "tháng": ("month", 1),
    "thang": ("month", 1),
    "quarter": ("month", 3),
    "quarters": ("month", 3),
    "quý": ("month", 3),
    "quy": ("month", 3),
    "year": ("month", 12),
    "years": ("month", 12),
    "năm": ("month", 12),
    "nam": ("month", 12),
    "week": ("week", 1),
    "weeks": ("week", 1),
    "tuần": ("week", 1),
    "tuan": ("week", 1),
}


def _quote(value: Any, limit: int = 40) -> str:
    # A pasted megabyte must not come back whole in the error (it goes to the logs).
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def parse_duration(value: Any) -> timedelta:
    """'7d', '12h', '2w' → timedelta; a bare number has no unit and is refused."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or not (match := _DURATION.match(value)):
        raise ValueError(
            f"khoảng thời gian không hợp lệ {_quote(value)}: viết như 7d, 12h, 2w "
            "(a duration such as 7d, 12h or 2w)"
        )
    digits, unit = match.group(1), _DURATION_UNITS[match.group(2)]
    duration = timedelta(**{unit: int(digits)}) if len(digits) <= _MAX_DIGITS else None
    if duration is None or duration > MAX_DURATION:
        raise ValueError(
            f"khoảng thời gian {_quote(value)} quá dài: tối đa {MAX_DURATION.days}d "
            f"(a duration is at most {MAX_DURATION.days} days)"
        )
    if not duration:
        raise ValueError("khoảng thời gian phải lớn hơn 0 (must be more than zero)")
    return duration


def parse_offset(value: Any) -> int:
    """'-14d', '0d', '+1d', '-2w' → a number of days relative to the anchor."""
    if isinstance(value, str) and (match := _OFFSET.match(value)):
        digits = match.group(2)
        days = int(digits) * (7 if match.group(3) == "w" else 1) if len(digits) <= 6 else None
        if days is None or days > MAX_OFFSET_DAYS:
            raise ValueError(
                f"khoảng lệch {_quote(value)} quá xa: tối đa ±{MAX_OFFSET_DAYS}d "
                f"(an offset is at most {MAX_OFFSET_DAYS} days)"
            )
        return -days if match.group(1) == "-" else days
    raise ValueError(
        f"khoảng lệch không hợp lệ {_quote(value)}: viết như -14d, -3d, 0d, +1d, -2w "
        "(an offset in days from the anchor, such as -14d, 0d, +1d)"
    )


@dataclass(frozen=True)
class Period:
    """A calendar-aligned check-in period: every `count` months or weeks."""

    unit: Literal["month", "week"]
    count: int


def parse_period(value: Any) -> Period:
    """'1 month', '3 months', '1 quarter', '2 weeks', '1 tháng', '1 tuần' → Period."""
    if isinstance(value, Period):
        return value
    match = _PERIOD.match(value) if isinstance(value, str) else None
    unit = _PERIOD_UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise ValueError(
            f"chu kỳ không hợp lệ {_quote(value)}: viết như '1 month', '3 months', '1 quarter', "
            "'1 week', '1 tháng', '1 quý', '2 tuần' (a period in months or weeks)"
        )
    digits = match.group(1) or "1"
    kind: Literal["month", "week"] = "month" if unit[0] == "month" else "week"
    count = int(digits) * unit[1] if len(digits) <= _MAX_DIGITS else MAX_PERIOD[kind] + 1
    if count == 0:
        raise ValueError("chu kỳ phải lớn hơn 0 (the period must be more than zero)")
    if count > MAX_PERIOD[kind]:
        most = "12 tháng (12 months)" if kind == "month" else "52 tuần (52 weeks)"
        raise ValueError(f"chu kỳ {_quote(value)} quá dài: tối đa {most}")
    return Period(unit=kind, count=count)


def _write_duration(value: timedelta) -> str:
    if value % timedelta(days=1) == timedelta(0):
        return f"{value.days}d"
    return f"{int(value.total_seconds() // 3600)}h"


Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(_write_duration, return_type=str)
]
Offset = Annotated[
    int, BeforeValidator(parse_offset), PlainSerializer(lambda d: f"{d:+d}d", return_type=str)
]
PeriodField = Annotated[
    Period,
    BeforeValidator(parse_period),
    PlainSerializer(lambda p: f"{p.count} {p.unit}s", return_type=str),
]
