"""One sentence, in Vietnamese or English, of how a deadline phrase was understood.

People check the parser by reading this, so it states the dates in full rather than
echoing the phrase back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Protocol

# The shapes this module reads, so that it sits below `values` instead of importing it.


class Recurrence(Protocol):
    @property
    def every_months(self) -> int: ...
    @property
    def day(self) -> int | None: ...
    @property
    def month_in_period(self) -> int | None: ...


class Deadline(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def start(self) -> date | None: ...
    @property
    def target(self) -> date | None: ...
    @property
    def due(self) -> date | None: ...
    @property
    def recurrence(self) -> Recurrence | None: ...
    @property
    def depends_on(self) -> str | None: ...
    @property
    def note(self) -> str | None: ...
    @property
    def report_to(self) -> str | None: ...
    @property
    def label(self) -> str | None: ...
    @property
    def parts(self) -> Sequence[Deadline]: ...
    def first_occurrence(self, after: date) -> date | None: ...


_MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

_FREQUENCY = {
    "vi": {1: "hằng tháng", 2: "2 tháng một lần", 3: "hằng quý", 4: "4 tháng một lần",
           6: "6 tháng một lần", 12: "hằng năm"},
    "en": {1: "every month", 2: "every 2 months", 3: "every quarter", 4: "every 4 months",
           6: "every 6 months", 12: "every year"},
}  # fmt: skip
_PERIOD = {
    "vi": {2: "kỳ 2 tháng", 3: "quý", 4: "kỳ 4 tháng", 6: "kỳ 6 tháng"},
    "en": {2: "2-month period", 3: "quarter", 4: "4-month period", 6: "half-year"},
}


def format_date(d: date, lang: str = "vi") -> str:
    if lang == "en":
        return f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"
    return d.strftime("%d/%m/%Y")


def describe_deadline(deadline: Deadline, lang: str = "vi") -> str:
    lang = "en" if lang == "en" else "vi"
    if deadline.parts:
        parts = [_several(deadline.parts, lang)]
    elif deadline.kind == "once":
        parts = [_once(deadline, lang)]
    elif deadline.kind == "recurring" and deadline.recurrence is not None:
        parts = [_recurring(deadline.recurrence, lang)]
    elif deadline.kind == "ongoing" and deadline.start is not None and deadline.due is None:
        start = format_date(deadline.start, lang)
        parts = [
            f"Thực hiện thường xuyên kể từ ngày {start}, không có hạn chót cố định; trước"
            f" ngày đó chưa phải thực hiện, từ ngày đó nhắc việc theo lịch kiểm tra định kỳ"
            if lang == "vi"
            else f"Ongoing from {start}, with no fixed deadline; nothing is owed before"
            " then, and the periodic check-in applies from then on"
        ]
    elif deadline.kind == "ongoing":
        parts = [
            "Thực hiện thường xuyên, không có hạn chót cố định; nhắc việc theo lịch kiểm tra"
            " định kỳ"
            if lang == "vi"
            else "Ongoing, with no fixed deadline; the periodic check-in applies"
        ]
    elif deadline.kind == "event":
        parts = [
            f"Thực hiện khi có yêu cầu hoặc phát sinh (“{deadline.depends_on}”): chưa có"
            " ngày cụ thể, văn phòng sẽ ấn định thời hạn khi có yêu cầu"
            if lang == "vi"
            else f"Done on request or as the need arises (“{deadline.depends_on}”): no date"
            " yet, the office sets one when the request comes"
        ]
    else:
        parts = [
            f"Chưa có ngày cụ thể: thời hạn phụ thuộc vào “{deadline.depends_on}”, sẽ được"
            " ấn định khi có mốc"
            if lang == "vi"
            else f"No date yet: it depends on “{deadline.depends_on}” and will be set once"
            " that milestone is known"
        ]
    if deadline.kind == "recurring" and not deadline.parts:
        parts.extend(_bounds(deadline, lang))
    if deadline.kind == "ongoing" and deadline.due is not None:  # "… đến hết năm 2025"
        parts.extend(_bounds(deadline, lang))
    if deadline.report_to:
        parts.append(
            f"báo cáo về {deadline.report_to}"
            if lang == "vi"
            else f"report to {deadline.report_to}"
        )
    if deadline.depends_on and deadline.kind not in ("external", "event"):
        parts.append(
            f"theo “{deadline.depends_on}”" if lang == "vi" else f"per “{deadline.depends_on}”"
        )
    if deadline.note:
        parts.append(f"ghi chú: “{deadline.note}”" if lang == "vi" else f"note: “{deadline.note}”")
    return "; ".join(parts) + "."


def _several(parts: Sequence[Deadline], lang: str) -> str:
    """ "(1) Sơ kết: hạn chót ngày 30/06/2026; (2) Tổng kết: …", each part in full."""
    items = []
    for number, part in enumerate(parts, 1):
        text = describe_deadline(part, lang).rstrip(".")
        if part.label:
            text = f"{part.label}: {text[0].lower()}{text[1:]}"
        items.append(f"({number}) {text}")
    if lang == "vi":
        return f"Gồm {len(parts)} thời hạn, đôn đốc lần lượt từng hạn: " + "; ".join(items)
    return f"{len(parts)} deadlines, each chased in turn: " + "; ".join(items)


def _once(deadline: Deadline, lang: str) -> str:
    if deadline.due is None:
        return ""
    vi = lang == "vi"
    text = (
        f"hạn chót ngày {format_date(deadline.due)}"
        if vi
        else (f"due by {format_date(deadline.due, lang)}")
    )
    if deadline.target == deadline.due:
        text += " (cũng là mốc phấn đấu)" if vi else " (also the target)"
    elif deadline.target is not None:
        target = format_date(deadline.target, lang)
        text = f"phấn đấu hoàn thành ngày {target}, {text}" if vi else f"target {target}, {text}"
    if deadline.start is not None:
        start = format_date(deadline.start, lang)
        text = f"thực hiện từ ngày {start}, {text}" if vi else f"from {start}, {text}"
    return text[0].upper() + text[1:]


def _recurring(rec: Recurrence, lang: str) -> str:
    frequency = _FREQUENCY[lang][rec.every_months]
    if lang == "vi":
        return f"Định kỳ {frequency}, hạn là {_when_vi(rec)}"
    return f"Recurring {frequency}, due on {_when_en(rec)}"


def _when_vi(rec: Recurrence) -> str:
    every, day, nth = rec.every_months, rec.day, rec.month_in_period
    short = " (tháng nào ít ngày hơn thì là ngày cuối tháng)" if day and day > 28 else ""
    if every == 1:
        return "ngày cuối cùng của tháng" if day is None else f"ngày {day} hằng tháng{short}"
    if every == 12:
        calendar_month = nth or 12
        if day is None and calendar_month == 2:
            return "ngày cuối cùng của tháng 2"
        shown = _days_in(calendar_month) if day is None else day
        return f"ngày {shown:02d}/{calendar_month:02d}{short}"
    period = _PERIOD["vi"][every]
    if day is None and nth is None:
        return f"ngày cuối cùng của {period}"
    month = (
        f"tháng cuối {period}"
        if nth is None
        else (f"tháng đầu {period}" if nth == 1 else f"tháng thứ {nth} của {period}")
    )
    return f"ngày cuối cùng của {month}" if day is None else f"ngày {day} của {month}{short}"


def _when_en(rec: Recurrence) -> str:
    every, day, nth = rec.every_months, rec.day, rec.month_in_period
    short = " (or the month's last day when it is shorter)" if day and day > 28 else ""
    if every == 1:
        return "the last day of the month" if day is None else f"day {day} of each month{short}"
    if every == 12:
        calendar_month = nth or 12
        name = _MONTHS_EN[calendar_month - 1]
        if day is None and calendar_month == 2:
            return "the last day of February"
        return f"{_days_in(calendar_month) if day is None else day} {name}{short}"
    period = _PERIOD["en"][every]
    if day is None and nth is None:
        return f"the last day of the {period}"
    month = (
        f"the {period}'s last month"
        if nth is None
        else (f"the {period}'s first month" if nth == 1 else f"month {nth} of the {period}")
    )
    return f"the last day of {month}" if day is None else f"day {day} of {month}{short}"


def _days_in(month: int) -> int:
    """Length of a month other than February (any year will do)."""
    return (date(2001 + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day


def _bounds(deadline: Deadline, lang: str) -> list[str]:
    vi = lang == "vi"
    parts = []
    if deadline.start is not None:
        start = format_date(deadline.start, lang)
        first = deadline.first_occurrence(deadline.start) if deadline.kind == "recurring" else None
        if first != deadline.start:
            parts.append(f"từ ngày {start}" if vi else f"from {start}")
        if first is not None:
            shown = format_date(first, lang)
            parts.append(f"lần đầu ngày {shown}" if vi else f"first on {shown}")
    if deadline.due is not None:
        due = format_date(deadline.due, lang)
        if deadline.kind == "recurring":
            parts.append(f"lần cuối ngày {due}" if vi else f"last on {due}")
        else:
            parts.append(f"đến ngày {due}" if vi else f"until {due}")
    return [", ".join(parts)] if parts else []
