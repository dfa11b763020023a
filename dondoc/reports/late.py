"""The monthly late list (danh sách cơ quan, đơn vị chậm muộn) the office publishes.

An item is on the list for a month when, on the month's last day (or today, while the
month runs), it is past its due date and not done, or when it was finished late during
the month. Nghị định 61/2018/NĐ-CP asks for a written explanation of every late item, so
each row says whether the agency has sent one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlmodel import Session

from dondoc.reports.data import Item, ReportData, gather
from dondoc.reports.periods import Period
from rules.status import Category


@dataclass
class AgencyLate:
    code: str
    name: str
    items: list[Item]

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def explained(self) -> int:
        return sum(1 for item in self.items if item.explanation is not None)

    @property
    def missing(self) -> int:
        return self.count - self.explained

    @property
    def overdue(self) -> int:
        return sum(1 for item in self.items if item.category is Category.OVERDUE)

    @property
    def done_late(self) -> int:
        return sum(1 for item in self.items if item.category is Category.DONE_LATE)


@dataclass
class LateReport:
    period: Period
    data: ReportData
    agencies: list[AgencyLate]

    @property
    def title(self) -> str:
        return (
            "Danh sách cơ quan, đơn vị chậm muộn trong thực hiện nhiệm vụ "
            f"{self.period.label('vi')}"
        )

    @property
    def items(self) -> list[Item]:
        return [item for agency in self.agencies for item in agency.items]

    def summary(self) -> dict[str, int]:
        """The figures an email or a log line quotes."""
        return {
            "agencies": len(self.agencies),
            "late": sum(a.count for a in self.agencies),
            "overdue": sum(a.overdue for a in self.agencies),
            "done_late": sum(a.done_late for a in self.agencies),
            "explained": sum(a.explained for a in self.agencies),
            "missing_explanation": sum(a.missing for a in self.agencies),
        }


def is_on_late_list(item: Item, period: Period) -> bool:
    obligation = item.obligation
    if obligation.category is Category.OVERDUE:
        return True
    return (
        obligation.category is Category.DONE_LATE
        and obligation.done_on is not None
        and period.start <= obligation.done_on <= period.end
    )


def late_report(data: ReportData, period: Period) -> LateReport:
    by_agency: dict[str, AgencyLate] = {}
    for item in data.items:
        if is_on_late_list(item, period):
            # Before a merger, the former agency has a section of its own.
            agency = by_agency.setdefault(
                f"{item.agency_code}\n{item.agency_name}",
                AgencyLate(item.agency_code, item.agency_name, []),
            )
            agency.items.append(item)
    for agency in by_agency.values():
        agency.items.sort(
            key=lambda i: (i.plan_code, i.task_position, i.obligation.due or date.min)
        )
    agencies = sorted(by_agency.values(), key=lambda a: (-a.count, a.name))
    return LateReport(period=period, data=data, agencies=agencies)


def build_late_report(
    session: Session,
    *,
    period: Period,
    now: datetime,
    tz: tzinfo,
    plan: str | None = None,
    milestone_for: Callable[[str], date | None] | None = None,
) -> LateReport:
    data = gather(
        session,
        period_start=period.start,
        period_end=period.end,
        now=now,
        tz=tz,
        plan=plan,
        milestone_for=milestone_for,
    )
    return late_report(data, period)
