"""What an import found and did: the report a person reviews and scripts read.

`--dry-run` prints `ImportReport.tasks` (each task as understood); `--json` prints
`ImportReport.to_dict()`. The errors refuse an import as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dondoc.errors import UserError


class PlanImportError(UserError):
    def __init__(self, source: str, problems: list[str]) -> None:
        lines = "\n".join(f"  • {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} lỗi, chưa nhập gì vào cơ sở dữ liệu:\n{lines}")
        self.problems = problems


class PlanWarningsError(UserError):
    """`--strict`: a warning (recipients that would be lost) stops the import."""

    def __init__(self, source: str, warnings: list[str]) -> None:
        lines = "\n".join(f"  • {w}" for w in warnings)
        super().__init__(
            f"{source}: --strict: {len(warnings)} cảnh báo được coi là lỗi, chưa nhập gì vào "
            f"cơ sở dữ liệu:\n{lines}"
        )
        self.warnings = warnings


@dataclass
class TaskPreview:
    """One task as the import understood it: what `--dry-run` shows for review."""

    number: str
    short_number: str
    section: str | None
    section_title: str | None
    title: str
    where: str
    deadline_text: str | None
    deadline: str | None  # the phrase as understood, in words
    leads: list[tuple[str, str]]  # (code, name), groups expanded
    coordinators: list[tuple[str, str]]
    notes: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "short_number": self.short_number,
            "section": self.section,
            "section_title": self.section_title,
            "title": self.title,
            "where": self.where,
            "deadline_text": self.deadline_text,
            "deadline": self.deadline,
            "leads": [{"code": c, "name": n} for c, n in self.leads],
            "coordinators": [{"code": c, "name": n} for c, n in self.coordinators],
            "notes": self.notes,
        }


@dataclass
class ImportReport:
    plan_code: str
    plan_created: bool
    dry_run: bool
    tasks_total: int = 0
    added: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    assignments_added: int = 0
    assignments_removed: int = 0
    new_agencies: list[str] = field(default_factory=list)
    no_deadline: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    repeated_headers: int = 0
    tasks: list[TaskPreview] = field(default_factory=list)

    @property
    def assignments_total(self) -> int:
        return sum(len(t.leads) + len(t.coordinators) for t in self.tasks)

    @property
    def agencies_reminded(self) -> int:
        return len({code for t in self.tasks for code, _ in t.leads + t.coordinators})

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan_code,
            "plan_created": self.plan_created,
            "dry_run": self.dry_run,
            "tasks": [t.to_dict() for t in self.tasks],
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "new_agencies": self.new_agencies,
            "no_deadline": self.no_deadline,
            "notes": self.notes,
            "repairs": self.repairs,
            "warnings": self.warnings,
            "totals": {
                "tasks": self.tasks_total,
                "assignments": self.assignments_total,
                "agencies_reminded": self.agencies_reminded,
                "repeated_headers": self.repeated_headers,
                "warnings": len(self.warnings),
                "assignments_added": self.assignments_added,
                "assignments_removed": self.assignments_removed,
            },
        }
