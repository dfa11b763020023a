"""The working-day calendar of a Vietnamese office: when a reminder may be sent.

It decides when to speak, never what is due: a legal deadline that falls on a holiday
stays where the plan put it.

Public holidays come from the `holidays` package. Each year the Government also swaps
working days around the holidays (a Monday off, paid back by working a Saturday); the
package knows the days off of recent swaps but none of the working Saturdays, so both
are listed below, and config adds later announcements through `extra_days_off` and
`working_days` without waiting for a release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Names are (Vietnamese, English). Sources: Thông báo 2450/VPCP-KGVX (2024),
# 6150/TB-BLĐTBXH (2025), and the 2026 National Day swap the `holidays` package cites.
# The days off are repeated here because releases older than 0.109, which pyproject
# allows, do not all carry them.
SUBSTITUTE_DAYS_OFF: Mapping[date, tuple[str, str]] = MappingProxyType(
    {
        date(2024, 4, 29): (
            "Ngày nghỉ hoán đổi (làm bù thứ Bảy 04/05/2024)",
            "Day off swapped with Saturday 4 May 2024",
        ),
        date(2025, 5, 2): (
            "Ngày nghỉ hoán đổi (làm bù thứ Bảy 26/04/2025)",
            "Day off swapped with Saturday 26 April 2025",
        ),
        date(2026, 8, 31): (
            "Ngày nghỉ hoán đổi (làm bù thứ Bảy 22/08/2026)",
            "Day off swapped with Saturday 22 August 2026",
        ),
    }
)

# The Saturdays worked to pay for the days above: no release of `holidays` has them.
MAKEUP_WORKING_DAYS: Mapping[date, tuple[str, str]] = MappingProxyType(
    {
        date(2024, 5, 4): (
            "Làm bù cho thứ Hai 29/04/2024",
            "Working Saturday in exchange for Monday 29 April 2024",
        ),
        date(2025, 4, 26): (
            "Làm bù cho thứ Sáu 02/05/2025",
            "Working Saturday in exchange for Friday 2 May 2025",
        ),
        date(2026, 8, 22): (
            "Làm bù cho thứ Hai 31/08/2026",
            "Working Saturday in exchange for Monday 31 August 2026",
        ),
    }
)

_PACKAGE_LANGUAGE = {"vi": "vi", "en": "en_US"}
# Looking further than this for an open office means the configuration closes every day.
_SEARCH_LIMIT = timedelta(days=3 * 366)


@lru_cache(maxsize=64)
def _public_holidays(year: int, lang: str) -> Mapping[date, str]:
    # Building the package's table costs milliseconds; reminders ask about the same
    # few years all day long. Imported on first use: the package imports every
    # country's calendar, which costs a short command more than its own work.
    import holidays

    table = holidays.country_holidays("VN", years=year, language=_PACKAGE_LANGUAGE[lang])
    return MappingProxyType(dict(table.items()))


def public_holidays(year: int) -> frozenset[date]:
    """The public holidays of `year` as the `holidays` package has them, with the
    substitute days off it knows (not those of SUBSTITUTE_DAYS_OFF)."""
    return frozenset(_public_holidays(year, "vi"))


def _check_lang(lang: str) -> str:
    if lang not in _PACKAGE_LANGUAGE:
        raise ValueError(f"unsupported language {lang!r}: use 'vi' or 'en'")
    return lang


@dataclass(frozen=True)
class OfficeHours:
    """The part of a working day when a reminder may reach people (local time)."""

    start: time = time(7, 30)
    end: time = time(17, 0)

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("office hours are local wall-clock times, without a time zone")
        if not self.start < self.end:
            raise ValueError(f"office hours must start before they end: {self.start}-{self.end}")

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class WorkCalendar:
    """Which days an office works and when its day begins.

    Precedence, most specific first: config `working_days`, config `extra_days_off`,
    the built-in working Saturdays, public holidays (with substitute days), the weekend.
    """

    timezone: str = "Asia/Ho_Chi_Minh"
    office_hours: OfficeHours = OfficeHours()
    extra_days_off: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()
    weekend: frozenset[int] = frozenset({5, 6})
    # `public_holidays` of some years, when the caller has them already (a command keeps
    # them between runs: dondoc/holiday_cache.py); other years are asked of the package.
    known_holidays: Mapping[int, frozenset[date]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        try:  # an unknown zone fails here, at start-up, not at the first reminder
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
        clash = self.extra_days_off & self.working_days
        if clash:
            days = ", ".join(sorted(d.isoformat() for d in clash))
            raise ValueError(f"days both off and working in the configuration: {days}")
        if not self.weekend <= frozenset(range(7)):
            raise ValueError(f"weekend days are weekday() numbers 0-6, got {sorted(self.weekend)}")

    def is_holiday(self, d: date) -> bool:
        """A public holiday, including the substitute days off around it."""
        known = self.known_holidays.get(d.year)
        public = _public_holidays(d.year, "vi") if known is None else known
        return d in public or d in SUBSTITUTE_DAYS_OFF

    def holiday_name(self, d: date, lang: str = "vi") -> str | None:
        names = _public_holidays(d.year, _check_lang(lang))
        if d in names:
            return names[d]
        if d in SUBSTITUTE_DAYS_OFF:
            vi, en = SUBSTITUTE_DAYS_OFF[d]
            return vi if lang == "vi" else en
        return None

    def is_working_day(self, d: date) -> bool:
        if d in self.working_days:
            return True
        if d in self.extra_days_off:
            return False
        if d in MAKEUP_WORKING_DAYS:
            return True
        if self.is_holiday(d):
            return False
        return d.weekday() not in self.weekend

    def next_working_time(self, dt: datetime, office_hours: OfficeHours | None = None) -> datetime:
        """`dt` if the office is open then, else the moment it next opens (in `timezone`)."""
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError(f"next_working_time needs a time-zone-aware datetime, got {dt!r}")
        hours = office_hours or self.office_hours
        zone = ZoneInfo(self.timezone)
        local = dt.astimezone(zone)
        day = local.date()
        if self.is_working_day(day):
            if hours.contains(local.time()):
                return local
            if local.time() < hours.start:
                return datetime.combine(day, hours.start, tzinfo=zone)
        limit = day + _SEARCH_LIMIT
        day += timedelta(days=1)
        while day <= limit:
            if self.is_working_day(day):
                return datetime.combine(day, hours.start, tzinfo=zone)
            day += timedelta(days=1)
        raise ValueError(f"no working day within three years after {local.date()}")
