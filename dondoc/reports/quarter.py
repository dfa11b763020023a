"""The quarterly progress report: counts per category by section and by agency, and the
lists behind them, with the explanations received for late items.

A task's category is its lead agencies' (chủ trì), combined worst first, as the
Government Office judges a task by the agency that leads it; coordinators' parts are
counted in the per-agency table, each assignment on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from sqlmodel import Session

from dondoc.reports.data import Item, ReportData, gather
from dondoc.reports.periods import Period
from rules.status import Category, Counts, combine


@dataclass
class AssignmentLine:
    agency_code: str
    agency_name: str
    role: str
    status: str
    items: list[Item]

    @property
    def category(self) -> Category:
        return combine(item.category for item in self.items)

    @property
    def late_items(self) -> list[Item]:
        return [item for item in self.items if item.is_late]


@dataclass
class TaskLine:
    plan_code: str
    task_id: int
    number: str
    title: str
    deadline_text: str | None
    assignments: list[AssignmentLine] = field(default_factory=list)

    @property
    def category(self) -> Category:
        leads = [a for a in self.assignments if a.role == "lead"] or self.assignments
        return combine(a.category for a in leads)

    @property
    def late_items(self) -> list[Item]:
        return [item for a in self.assignments for item in a.late_items]


@dataclass
class SectionBlock:
    plan_code: str
    code: str | None
    title: str | None
    tasks: list[TaskLine] = field(default_factory=list)

    @property
    def counts(self) -> Counts:
        counts = Counts()
        for task in self.tasks:
            counts.add(task.category)
        return counts

    def tasks_in(self, category: Category) -> list[TaskLine]:
        return [task for task in self.tasks if task.category is category]


@dataclass
class AgencyRow:
    code: str
    name: str
    counts: Counts


@dataclass
class QuarterReport:
    period: Period
    data: ReportData
    sections: list[SectionBlock]
    agencies: list[AgencyRow]

    @property
    def title(self) -> str:
        return f"Báo cáo tình hình thực hiện nhiệm vụ {self.period.label('vi')}"

    @property
    def tasks(self) -> list[TaskLine]:
        return [task for section in self.sections for task in section.tasks]

    @property
    def task_counts(self) -> Counts:
        counts = Counts()
        for task in self.tasks:
            counts.add(task.category)
        return counts

    @property
    def assignment_counts(self) -> Counts:
        counts = Counts()
        for row in self.agencies:
            for category, n in row.counts.by_category.items():
                counts.add(category, n)
        return counts

    def summary(self) -> dict[str, int]:
        """Task-level figures, for the email that carries the report."""
        counts = self.task_counts
        late = [item for task in self.tasks for item in task.late_items]
        return counts.to_dict() | {
            "late_items": len(late),
            "explained": sum(1 for item in late if item.explanation is not None),
            "missing_explanation": sum(1 for item in late if item.explanation is None),
        }


def quarter_report(data: ReportData, period: Period) -> QuarterReport:
    sections: dict[tuple[str, str | None, str | None], SectionBlock] = {}
    tasks: dict[int, TaskLine] = {}
    lines: dict[int, AssignmentLine] = {}
    agency_parts: dict[str, tuple[str, list[AssignmentLine]]] = {}
    for item in data.items:
        task = tasks.get(item.task_id)
        if task is None:
            key = (item.plan_code, item.section_code, item.section_title)
            section = sections.setdefault(
                key, SectionBlock(item.plan_code, item.section_code, item.section_title)
            )
            task = TaskLine(
                item.plan_code, item.task_id, item.task_number, item.task_title, item.deadline_text
            )
            tasks[item.task_id] = task
            section.tasks.append(task)
        line = lines.get(item.assignment_id)
        if line is None:
            line = AssignmentLine(
                item.agency_code, item.agency_label, item.role, item.status, items=[]
            )
            lines[item.assignment_id] = line
            task.assignments.append(line)
            agency_parts.setdefault(item.agency_code, (item.agency_label, []))[1].append(line)
        line.items.append(item)
    agencies = []
    for code, (name, parts) in agency_parts.items():
        counts = Counts()
        for part in parts:
            counts.add(part.category)
        agencies.append(AgencyRow(code, name, counts))
    agencies.sort(key=lambda row: (-row.counts.late, row.name))
    return QuarterReport(
        period=period, data=data, sections=list(sections.values()), agencies=agencies
    )


def build_quarter_report(
    session: Session,
    *,
    period: Period,
    now: datetime,
    tz: tzinfo,
    plan: str | None = None,
    milestone_for: Callable[[str], date | None] | None = None,
) -> QuarterReport:
    data = gather(
        session,
        period_start=period.start,
        period_end=period.end,
        now=now,
        tz=tz,
        plan=plan,
        milestone_for=milestone_for,
    )
    return quarter_report(data, period)
