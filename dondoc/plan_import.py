"""Importing a plan: validate every row first, then write all of it or nothing.

Re-importing the same plan updates tasks in place (matched by plan and STT) and keeps
statuses, acknowledgements and history; tasks or agencies dropped from the file are
deactivated, not deleted, so their history stays readable.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rules.deadline import ParseError, parse_deadline
from sqlmodel import Session, select

from dondoc.directory import build_name_index, default_office, group_members
from dondoc.errors import UserError
from dondoc.models import Agency, Assignment, AuditEntry, Plan, Task
from dondoc.names import NameIndex, Target, name_key
from dondoc.plan_reader import FIELD_LABELS, SourceRow, read_plan_table
from rules.text import fold_words, nfc

_SECTION = re.compile(r"^(?P<code>[IVXLC]{1,6}|[A-ZĐ])(?:[.)]|\s*$|\s+)\s*(?P<rest>.*)$")
_TASK_FIELDS = (
    "section_code",
    "section_title",
    "title",
    "product",
    "deadline_text",
    "deadline",
    "lead_text",
    "coordinator_text",
    "notes",
    "position",
)


class PlanImportError(UserError):
    def __init__(self, source: str, problems: list[str]) -> None:
        lines = "\n".join(f"  • {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} lỗi, chưa nhập gì vào cơ sở dữ liệu:\n{lines}")
        self.problems = problems


@dataclass
class TaskDraft:
    line: int
    number: str
    values: dict[str, Any]
    leads: list[str]
    coordinators: list[str]


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


def _slug(text: str) -> str:
    return "-".join(fold_words(text).split())[:60] or "co-quan"


class _RowReader:
    """Turns source rows into task drafts, collecting every problem instead of stopping."""

    def __init__(self, session: Session, source: str, create_agencies: bool) -> None:
        self.source = source
        self.index: NameIndex = build_name_index(session)
        self.members = group_members(session)
        self.create_agencies = create_agencies
        self.created: dict[str, str] = {}  # name_key → new code
        self.problems: list[str] = []
        self.notes: list[str] = []

    def problem(self, row: SourceRow, fieldname: str | None, message: str) -> None:
        where = f"dòng {row.line}" + (f", {row.columns[fieldname]}" if fieldname else "")
        self.problems.append(f"{where}: {message}")

    def agencies(self, row: SourceRow, fieldname: str) -> list[str]:
        reading = self.index.read_cell(row.cell(fieldname))
        codes: list[str] = []
        for target in reading.targets:
            expanded = (
                self.members.get(target.code, []) if target.kind == "group" else [target.code]
            )
            codes.extend(c for c in expanded if c not in codes)
        for name in reading.unknown:
            if self.create_agencies:
                code = self.created.setdefault(name_key(name), self._new_code(name))
                self.index.add(Target("agency", code, name), [name])
                codes.append(code)
                continue
            hint = self.index.suggestions(name)
            suggestion = f" Có phải: {'; '.join(hint)}?" if hint else ""
            self.problem(
                row,
                fieldname,
                f"không có cơ quan '{name}' trong danh bạ.{suggestion} (Thêm vào danh bạ bằng "
                "`dondoc agencies load`, hoặc nhập với --create-agencies.)",
            )
        for note in reading.notes:
            self.notes.append(f"dòng {row.line}: ghi chú '{note}' (không phải người nhận)")
        return codes

    def _new_code(self, name: str) -> str:
        base = _slug(name)
        code, n = base, 2
        while code in self.created.values() or self.index.lookup(code) is not None:
            code, n = f"{base}-{n}", n + 1
        return code

    def read(self, rows: list[SourceRow]) -> list[TaskDraft]:
        drafts: list[TaskDraft] = []
        section_code: str | None = None
        section_title: str | None = None
        for position, row in enumerate(rows):
            number = nfc(row.cell("number")).rstrip(".")
            title = nfc(row.cell("title"))
            is_blank_task = not row.cell("lead") and not row.cell("deadline")
            section = _SECTION.match(number) if number else None
            if is_blank_task and (section or (not number and title)):
                section_code = section.group("code") if section else None
                section_title = title or (nfc(section.group("rest")) if section else None)
                continue
            if not number:
                self.problem(row, "number" if "number" in row.columns else None, "thiếu STT.")
                continue
            if not title:
                self.problem(row, "title", "thiếu tên nhiệm vụ.")
            leads = self.agencies(row, "lead")
            if not row.cell("lead"):
                self.problem(row, "lead", "thiếu cơ quan chủ trì.")
            coordinators = [c for c in self.agencies(row, "coordinators") if c not in leads]
            deadline_text = nfc(row.cell("deadline")) or None
            deadline = None
            if deadline_text:
                try:
                    deadline = parse_deadline(deadline_text).to_dict()
                except ParseError as exc:
                    self.problem(row, "deadline", f"'{deadline_text}': {exc}")
            values = {
                "section_code": section_code,
                "section_title": section_title,
                "title": title,
                "product": nfc(row.cell("product")) or None,
                "deadline_text": deadline_text,
                "deadline": deadline,
                "lead_text": row.cell("lead") or None,
                "coordinator_text": row.cell("coordinators") or None,
                "notes": nfc(row.cell("notes")) or None,
                "position": position,
            }
            drafts.append(TaskDraft(row.line, number, values, leads, coordinators))
        return self._qualify_numbers(drafts, rows)

    def _qualify_numbers(self, drafts: list[TaskDraft], rows: list[SourceRow]) -> list[TaskDraft]:
        # Plans that restart numbering in every section get "II.3"-style numbers.
        counts = Counter(d.number for d in drafts)
        if any(n > 1 for n in counts.values()):
            for draft in drafts:
                if draft.values["section_code"]:
                    draft.number = f"{draft.values['section_code']}.{draft.number}"
        seen: dict[str, int] = {}
        for draft in drafts:
            if draft.number in seen:
                self.problems.append(
                    f"dòng {draft.line}: STT '{draft.number}' trùng với dòng {seen[draft.number]}."
                )
            seen.setdefault(draft.number, draft.line)
        return drafts


def import_plan(
    session: Session,
    *,
    path: Path,
    now: datetime,
    plan_code: str | None = None,
    title: str | None = None,
    owner: str | None = None,
    create_agencies: bool = False,
    dry_run: bool = False,
    actor: str = "cli",
) -> ImportReport:
    table = read_plan_table(path)
    reader = _RowReader(session, table.source, create_agencies)
    drafts = reader.read(table.rows)
    if not drafts and not reader.problems:
        reader.problems.append("bảng không có nhiệm vụ nào.")
    code = plan_code or _slug(path.stem)
    plan = session.exec(select(Plan).where(Plan.code == code)).first()
    owner_agency = _owner(session, owner, plan)
    if reader.problems:
        raise PlanImportError(table.source, reader.problems)

    report = ImportReport(plan_code=code, plan_created=plan is None, dry_run=dry_run)
    report.notes = reader.notes + [f"cột không dùng đến: '{h}'" for h in table.ignored_headers]
    report.tasks_total = len(drafts)
    report.no_deadline = [d.number for d in drafts if not d.values["deadline_text"]]
    report.new_agencies = [f"{c} ({n})" for n, c in reader.created.items()]
    with session.no_autoflush:
        _apply(session, report, drafts, plan, code, title, owner_agency, reader, now, path)
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action="plan.import",
            plan_id=plan.id if plan else None,
            detail={
                "file": str(path),
                "added": report.added,
                "updated": sorted(report.updated),
                "removed": report.removed,
            },
        )
    )
    if dry_run:
        session.rollback()
    return report


def _owner(session: Session, owner: str | None, plan: Plan | None) -> Agency | None:
    if owner:
        agency = session.exec(select(Agency).where(Agency.code == owner)).first()
        if agency is None:
            raise UserError(f"--owner: không có cơ quan mã '{owner}' trong danh bạ.")
        return agency
    if plan is not None and plan.owner_agency_id is not None:
        return session.get(Agency, plan.owner_agency_id)
    return default_office(session)


def _apply(
    session: Session,
    report: ImportReport,
    drafts: list[TaskDraft],
    plan: Plan | None,
    code: str,
    title: str | None,
    owner: Agency | None,
    reader: _RowReader,
    now: datetime,
    path: Path,
) -> None:
    agencies = {a.code: a for a in session.exec(select(Agency)).all()}
    for name_k, new_code in reader.created.items():
        agencies[new_code] = Agency(
            code=new_code, name=_display(reader, new_code, name_k), kind="other"
        )
        session.add(agencies[new_code])
    if plan is None:
        plan = Plan(code=code, title=title or path.stem)
    elif title:
        plan.title = title
    plan.owner_agency_id = owner.id if owner else plan.owner_agency_id
    plan.source_file, plan.imported_at = str(path), now
    session.add(plan)
    session.flush()
    existing = {t.number: t for t in session.exec(select(Task).where(Task.plan_id == plan.id))}
    for draft in drafts:
        task = existing.pop(draft.number, None)
        if task is None:
            task = Task(plan_id=plan.id or 0, number=draft.number, title="")
            report.added.append(draft.number)
        else:
            changed = [f for f in _TASK_FIELDS if getattr(task, f) != draft.values[f]]
            changed = [f for f in changed if f != "position"] + (
                ["active"] if not task.active else []
            )
            if changed:
                report.updated[draft.number] = changed
        for name in _TASK_FIELDS:
            setattr(task, name, draft.values[name])
        task.active = True
        session.add(task)
        session.flush()
        _sync_assignments(
            session,
            report,
            task,
            draft,
            agencies,
            now,
            deadline_changed="deadline" in report.updated.get(draft.number, []),
        )
    for task in existing.values():
        if task.active:
            report.removed.append(task.number)
            task.active = False
            session.add(task)
            for assignment in session.exec(select(Assignment).where(Assignment.task_id == task.id)):
                assignment.active, assignment.next_due_at = False, None
                session.add(assignment)


def _display(reader: _RowReader, code: str, name_k: str) -> str:
    target = reader.index.lookup(code) or reader.index.lookup(name_k)
    return target.name if target else code


def _sync_assignments(
    session: Session,
    report: ImportReport,
    task: Task,
    draft: TaskDraft,
    agencies: dict[str, Agency],
    now: datetime,
    deadline_changed: bool,
) -> None:
    wanted = [(c, "lead") for c in draft.leads] + [(c, "coordinator") for c in draft.coordinators]
    current = {
        (a.agency_id, a.role): a
        for a in session.exec(select(Assignment).where(Assignment.task_id == task.id))
    }
    for agency_code, role in wanted:
        agency = agencies[agency_code]
        session.flush()
        assignment = current.pop((agency.id or 0, role), None)
        if assignment is None:
            assignment = Assignment(
                task_id=task.id or 0, agency_id=agency.id or 0, role=role, created_at=now
            )
            report.assignments_added += 1
        elif not assignment.active or deadline_changed:
            assignment.active = True
        else:
            continue
        # Ask the daemon to evaluate this assignment at its next tick.
        assignment.next_due_at = now
        session.add(assignment)
    for assignment in current.values():
        if assignment.active:
            report.assignments_removed += 1
            assignment.active, assignment.next_due_at = False, None
            session.add(assignment)


def describe_field(name: str) -> str:
    return FIELD_LABELS.get(name, name)
