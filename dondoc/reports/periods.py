"""The periods reports cover: a month ("2023-03") or a quarter ("2023Q1")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from dondoc.errors import UserError

_MONTH = re.compile(r"^\s*(?:(\d{4})-(\d{1,2})|(\d{1,2})/(\d{4}))\s*$")
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*Q([1-4])\s*$|^\s*Q([1-4])\s*[-/]\s*(\d{4})\s*$", re.I)
_ROMAN = ("I", "II", "III", "IV")


@dataclass(frozen=True, order=True)
class Period:
    kind: Literal["month", "quarter"]
    year: int
    index: int  # the month (1-12) or the quarter (1-4)

    @property
    def months(self) -> int:
        return 1 if self.kind == "month" else 3

    @property
    def start(self) -> date:
        return date(self.year, (self.index - 1) * self.months + 1, 1)

    @property
    def end(self) -> date:
        last_month = self.index * self.months
        if last_month == 12:
            return date(self.year, 12, 31)
        return date(self.year, last_month + 1, 1) - timedelta(days=1)

    @property
    def last_month_start(self) -> date:
        return date(self.year, self.index * self.months, 1)

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.index:02d}"
        return f"{self.year}Q{self.index}"

    def label(self, lang: str = "vi") -> str:
        if self.kind == "month":
            return (
                f"tháng {self.index:02d}/{self.year}"
                if lang != "en"
                else self.start.strftime("%B %Y")
            )
        return f"quý {_ROMAN[self.index - 1]}/{self.year}" if lang != "en" else self.key

    def previous(self) -> Period:
        per_year = 12 // self.months
        if self.index == 1:
            return Period(self.kind, self.year - 1, per_year)
        return Period(self.kind, self.year, self.index - 1)


def month_of(day: date) -> Period:
    return Period("month", day.year, day.month)


def quarter_of(day: date) -> Period:
    return Period("quarter", day.year, (day.month - 1) // 3 + 1)


def parse_month(text: str, option: str = "--month") -> Period:
    match = _MONTH.match(text)
    if match:
        year = int(match.group(1) or match.group(4))
        month = int(match.group(2) or match.group(3))
        if 1 <= month <= 12:
            return Period("month", year, month)
    raise UserError(f"{option} '{text}': cần một tháng dạng NĂM-THÁNG, ví dụ 2023-03.")


def parse_quarter(text: str, option: str = "--quarter") -> Period:
    match = _QUARTER.match(text)
    if match:
        year = int(match.group(1) or match.group(4))
        return Period("quarter", year, int(match.group(2) or match.group(3)))
    raise UserError(f"{option} '{text}': cần một quý dạng NĂMQquý, ví dụ 2023Q1.")
