"""What a plan's deadline phrase means: immutable values and the dates they yield.

`rules.deadline.parse` turns a phrase such as "Tháng 11/2022, chậm nhất tháng 3/2023"
into a `Deadline`; this module sits below the grammar and knows nothing of it. Like
APScheduler's triggers, a `Deadline` is a small frozen value with an `occurrences(after)`
generator: no clock, no I/O, so the scheduler can ask it anything with any `now`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, NamedTuple, get_args

from rules.deadline.describe import describe_deadline

DeadlineKind = Literal["once", "recurring", "ongoing", "external", "event"]
# Kinds without a date of their own until the office sets one.
UNDATED_KINDS: tuple[DeadlineKind, ...] = ("external", "event")
KINDS: tuple[DeadlineKind, ...] = get_args(DeadlineKind)
# Kinds whose due dates a deadline made of parts can hold.
SERIES_KINDS: tuple[DeadlineKind, ...] = ("once", "recurring")

# Periods must tile the calendar year so that "every quarter" means Jan-Mar, Apr-Jun...
PERIOD_MONTHS = (1, 2, 3, 4, 6, 12)
_FORMAT_VERSION = 1
_QUOTED = 60  # characters of an overlong phrase quoted back


class Expected(NamedTuple):
    """What the parser needed at the failing spot, phrased to follow "cần" / "expected"."""

    vi: str
    en: str


class ParseError(ValueError):
    """A deadline phrase dondoc does not understand; it never guesses instead.

    `phrase` is the phrase as read (NFC, single spaces) and `position` a 0-based index
    into it; `str(exc)` is the Vietnamese message, `message("en")` the English one.
    """

    def __init__(
        self, phrase: str, position: int, expected: Expected | str, length: int = 0
    ) -> None:
        self.phrase = phrase
        self.position = max(0, min(position, len(phrase)))
        self.expected = expected if isinstance(expected, Expected) else Expected(expected, expected)
        self.length = length
        end = self.position + length if length > 0 else phrase.find(" ", self.position)
        self.fragment = phrase[self.position : end if end >= 0 else len(phrase)]
        super().__init__(self.message("vi"))

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild from the parts, not from the message, when sent to another process.
        return (type(self), (self.phrase, self.position, self.expected, self.length))

    def message(self, lang: str = "vi") -> str:
        vi = lang != "en"
        expected = self.expected.vi if vi else self.expected.en
        if not self.phrase:
            return (
                f"Thời hạn đang để trống: cần {expected}."
                if vi
                else (f"The deadline is empty: expected {expected}.")
            )
        where = self.position + 1
        if vi:
            spot = (
                f"tại “{self.fragment}” (ký tự thứ {where})"
                if self.fragment
                else f"ở cuối cụm từ (ký tự thứ {where})"
            )
            return f"Chưa hiểu thời hạn “{self.phrase}”: {spot} cần {expected}."
        spot = (
            f"at “{self.fragment}” (character {where})"
            if self.fragment
            else f"at the end (character {where})"
        )
        return f"Cannot read the deadline “{self.phrase}”: {spot} expected {expected}."


class PhraseTooLong(ParseError):
    """A deadline cell longer than any deadline: refused before reading it."""

    def __init__(self, phrase: str, limit: int) -> None:
        self.limit = limit
        super().__init__(
            phrase, limit, Expected(f"tối đa {limit} ký tự", f"at most {limit} characters"), 1
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.phrase, self.limit))

    def message(self, lang: str = "vi") -> str:
        size, start = len(self.phrase), self.phrase[:_QUOTED].rstrip()
        if lang == "en":
            return (
                f"The deadline is too long ({size:,} characters; at most {self.limit}):"
                f" “{start}…”. Write the deadline briefly and keep explanations in another"
                " column."
            )
        return (
            f"Thời hạn quá dài ({size:,} ký tự; tối đa {self.limit} ký tự):".replace(",", ".")
            + f" “{start}…”. Xin ghi thời hạn ngắn gọn, phần giải thích để ở cột khác."
        )


def month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


@dataclass(frozen=True)
class Recurrence:
    """A due date in every period of `every_months`, periods aligned to the calendar year.

    `day` None is the month's last day; a day the month lacks (31 in April) becomes its
    last day. `month_in_period` is 1-based; None is the period's last month.
    """

    every_months: int
    day: int | None = None
    month_in_period: int | None = None

    def __post_init__(self) -> None:
        if self.every_months not in PERIOD_MONTHS:
            raise ValueError(f"every_months must divide the year: one of {PERIOD_MONTHS}")
        if self.day is not None and not 1 <= self.day <= 31:
            raise ValueError(f"day must be 1-31 or None, got {self.day}")
        if self.month_in_period is not None and not 1 <= self.month_in_period <= self.every_months:
            raise ValueError(
                f"month_in_period must be 1-{self.every_months} or None, got {self.month_in_period}"
            )

    def in_period(self, year: int, index: int) -> date:
        """The due date of the `index`-th (0-based) period of `year`."""
        month = index * self.every_months + (self.month_in_period or self.every_months)
        last = month_end(year, month)
        return last if self.day is None else last.replace(day=min(self.day, last.day))

    def occurrences(self, after: date) -> Iterator[date]:
        """Due dates on or after `after`, in order, until the calendar runs out."""
        year, index = after.year, (after.month - 1) // self.every_months
        per_year = 12 // self.every_months
        while year <= date.max.year:
            due = self.in_period(year, index)
            if due >= after:
                yield due
            index += 1
            if index == per_year:
                year, index = year + 1, 0


@dataclass(frozen=True)
class Deadline:
    """How a deadline phrase was understood.

    once: `due` (and `target` for "X, chậm nhất Y"; `start` for a window).
    recurring: `recurrence`, optionally bounded by `start` and by `due`, the last
    occurrence. ongoing: no date (`start`: nothing is owed before it). external: no date
    until the office sets one for the milestone named in `depends_on`. event: done when
    something happens ("Khi có yêu cầu", "Theo yêu cầu của UBND tỉnh", named in
    `depends_on`), no date until the office sets one. `report_to` is the agency a
    periodic report goes to, kept for people.

    Several deadlines in one cell ("Quý I/2026, Quý III/2026", "- Sơ kết: Tháng 6/2026
    - Tổng kết: Tháng 12/2026", "Năm 2026; định kỳ báo cáo 6 tháng") are `parts`, each a
    one-off or recurring deadline with its `label`; their due dates are owed in turn,
    like a recurrence's. The whole is "once" when every part is, "recurring" otherwise,
    so that a list of one-off dates keeps the one-off policy; its `due` is the last date.
    """

    phrase: str
    kind: DeadlineKind
    start: date | None = None
    target: date | None = None
    due: date | None = None
    recurrence: Recurrence | None = None
    depends_on: str | None = None
    note: str | None = None
    report_to: str | None = None
    label: str | None = None
    parts: tuple[Deadline, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown deadline kind {self.kind!r}")
        if self.parts:
            self._check_parts()
        elif (self.kind == "recurring") != (self.recurrence is not None):
            raise ValueError("a recurrence belongs to recurring deadlines, and only to them")
        if self.kind == "once" and self.due is None:
            raise ValueError("a one-off deadline needs a due date")
        if self.kind in UNDATED_KINDS and (self.due or self.target):
            raise ValueError(f"an {self.kind} deadline has no date until the office sets one")
        if self.due is not None:
            for name, other in (("start", self.start), ("target", self.target)):
                if other is not None and other > self.due:
                    raise ValueError(f"{name} {other} is after the due date {self.due}")

    def _check_parts(self) -> None:
        if len(self.parts) < 2 or any(p.parts or p.kind not in SERIES_KINDS for p in self.parts):
            raise ValueError("parts are two or more one-off or recurring deadlines")
        if self.recurrence is not None or self.target is not None or self.start is not None:
            raise ValueError("a deadline made of parts has its dates in its parts")
        kind = "recurring" if any(p.kind == "recurring" for p in self.parts) else "once"
        if self.kind != kind:
            raise ValueError(f"a deadline made of these parts is {kind!r}, not {self.kind!r}")
        dues = [p.due for p in self.parts]
        last = None if None in dues else max(d for d in dues if d is not None)
        if self.due != last:
            raise ValueError(f"the due date of a deadline made of parts is its last, {last}")

    @property
    def series(self) -> bool:
        """Whether its due dates are worked one at a time: a recurrence, or several dates."""
        return self.kind == "recurring" or bool(self.parts)

    @property
    def owed_before_assignment(self) -> bool:
        """A list of one-off dates: each is owed as a single one-off deadline is, even one
        that passed before the agency was assigned (then it is overdue from the start).
        A recurrence owes nothing from before the assignment."""
        return bool(self.parts) and self.kind == "once"

    def part_for(self, occurrence: date) -> Deadline | None:
        """The part one of its due dates belongs to (the first, if several share it)."""
        for part in self.parts:
            if next(part.occurrences(occurrence), None) == occurrence:
                return part
        return None

    def occurrences(self, after: date) -> Iterator[date]:
        """Due dates on or after `after`: one for a one-off, none for ongoing/external."""
        if self.parts:
            previous = None
            for due in heapq.merge(*(part.occurrences(after) for part in self.parts)):
                if due != previous:
                    yield due
                previous = due
        elif self.kind == "once" and self.due is not None and self.due >= after:
            yield self.due
        elif self.recurrence is not None:
            lower = max(after, self.start) if self.start else after
            for due in self.recurrence.occurrences(lower):
                if self.due is not None and due > self.due:
                    return
                yield due

    def first_occurrence(self, after: date) -> date | None:
        return next(self.occurrences(after), None)

    def describe(self, lang: str = "vi") -> str:
        """One sentence saying how the phrase was understood ("vi" or "en")."""
        return describe_deadline(self, lang)

    def to_dict(self) -> dict[str, Any]:
        rec = self.recurrence
        return {
            "version": _FORMAT_VERSION,
            "phrase": self.phrase,
            "kind": self.kind,
            "start": _iso(self.start),
            "target": _iso(self.target),
            "due": _iso(self.due),
            "recurrence": None
            if rec is None
            else {
                "every_months": rec.every_months,
                "day": rec.day,
                "month_in_period": rec.month_in_period,
            },
            "depends_on": self.depends_on,
            "note": self.note,
            "report_to": self.report_to,
            **({"label": self.label} if self.label is not None else {}),
            **({"parts": [part.to_dict() for part in self.parts]} if self.parts else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Deadline:
        """The inverse of `to_dict`; raises ValueError for data it did not write."""
        version = data.get("version", _FORMAT_VERSION)
        if version != _FORMAT_VERSION:
            raise ValueError(f"unsupported deadline format version {version!r}")
        rec = data.get("recurrence")
        if rec is not None and not isinstance(rec, Mapping):
            raise ValueError(f"recurrence must be an object or null, got {rec!r}")
        parts = data.get("parts", [])
        if not isinstance(parts, list) or not all(isinstance(p, Mapping) for p in parts):
            raise ValueError(f"parts must be a list of objects, got {parts!r}")
        try:
            return cls(
                phrase=_text(data, "phrase", required=True) or "",
                kind=data["kind"],
                start=_date(data.get("start")),
                target=_date(data.get("target")),
                due=_date(data.get("due")),
                recurrence=None
                if rec is None
                else Recurrence(
                    every_months=_int(rec.get("every_months"), "every_months"),
                    day=_optional_int(rec.get("day"), "day"),
                    month_in_period=_optional_int(rec.get("month_in_period"), "month_in_period"),
                ),
                depends_on=_text(data, "depends_on"),
                note=_text(data, "note"),
                report_to=_text(data, "report_to"),
                label=_text(data, "label"),
                parts=tuple(cls.from_dict(part) for part in parts),
            )
        except KeyError as exc:
            raise ValueError(f"deadline data lacks {exc.args[0]!r}") from None


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: object) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"dates are ISO strings, got {value!r}")
    return date.fromisoformat(value)


def _int(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return value


def _optional_int(value: object, name: str) -> int | None:
    return None if value is None else _int(value, name)


def _text(data: Mapping[str, Any], key: str, required: bool = False) -> str | None:
    value = data[key] if required else data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text, got {value!r}")
    return value
