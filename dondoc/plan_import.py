"""Importing a plan: validate every row first, then write all of it or nothing.

Re-importing the same plan updates tasks in place (matched by plan and STT) and keeps
statuses, acknowledgements and history; tasks or agencies dropped from the file are
deactivated, not deleted, so their history stays readable.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from dondoc.agency_cells import slug
from dondoc.directory import default_office
from dondoc.errors import UserError
from dondoc.models import Agency, Assignment, AuditEntry, Plan, Task
from dondoc.plan_reader import FIELD_LABELS, Limits, PlanTable, read_plan_table
from dondoc.plan_report import ImportReport, PlanImportError, PlanWarningsError, TaskPreview
from dondoc.plan_rows import RowReader, TaskDraft
from rules.text import fold_words

_PLAN_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_APPENDIX_LABEL = re.compile(r"^phu luc( so)?( [0-9ivx]+)?$")
_BATCH = 5_000  # rows per INSERT: 50,000 tasks' parameters at once cost ~100 MB
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
    sheet: str | None = None,
    table: int | None = None,
    strict: bool = False,
    limits: Limits | None = None,
) -> ImportReport:
    code = plan_code or slug(path.stem)
    if not _PLAN_CODE.match(code):
        raise UserError(
            f"--plan: mã kế hoạch '{code}' chỉ được gồm chữ không dấu, số, '-', '_' hoặc '.' "
            "(tối đa 64 ký tự), ví dụ: nq131."
        )
    plan_table = read_plan_table(path, sheet=sheet, table=table, limits=limits)
    reader = RowReader(session, create_agencies)
    drafts = reader.read(plan_table.rows)
    plan_table = replace(plan_table, rows=[])  # the drafts hold what is needed from here
    if not drafts and not reader.problems:
        reader.problems.append("bảng không có nhiệm vụ nào.")
    plan = session.exec(select(Plan).where(Plan.code == code)).first()
    owner_agency = _owner(session, owner, plan)
    if reader.problems:
        raise PlanImportError(plan_table.source, reader.problems)
    warnings = plan_table.encoding_warnings + plan_table.joined_rows + reader.warnings
    if strict and warnings:
        raise PlanWarningsError(plan_table.source, warnings)

    report = ImportReport(plan_code=code, plan_created=plan is None, dry_run=dry_run)
    report.notes = reader.notes + [f"cột không dùng đến: '{h}'" for h in plan_table.ignored_headers]
    lead_header = plan_table.headers.get("lead", "")
    if "chu tri" not in fold_words(lead_header):
        # "Cơ quan thực hiện": every name there is chased as a lead unless its cell says
        # "Phối hợp:"; the office should know before it imports.
        report.notes.append(
            f"cột '{lead_header}' được hiểu là cột Cơ quan chủ trì: mọi cơ quan ghi ở đó là "
            "chủ trì, trừ khi ô ghi rõ 'Phối hợp:' hoặc '(phối hợp)'"
        )
    report.notes += [
        f"{label} cũng có bảng nhiệm vụ nhưng chưa được nhập "
        f"(nhập riêng với {option} và một mã --plan khác)"
        for label, option in plan_table.other_tables
    ]
    report.warnings = warnings
    report.repairs = list(plan_table.repairs)
    report.repeated_headers = plan_table.repeated_headers
    report.tasks = _previews(session, drafts, reader)
    report.tasks_total = len(drafts)
    report.no_deadline = [d.number for d in drafts if not d.values["deadline_text"]]
    report.new_agencies = [f"{a.code} ({a.name})" for a in reader.created.values()]
    with session.no_autoflush:
        plan = _upsert_plan(session, plan, code, title, plan_table, owner_agency, now, path)
        _apply(session, report, drafts, plan, reader, now)
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action="plan.import",
            plan_id=plan.id,
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


def _previews(session: Session, drafts: list[TaskDraft], reader: RowReader) -> list[TaskPreview]:
    names = {code: name for code, name in session.exec(select(Agency.code, Agency.name)).all()}
    names.update({new.code: new.name for new in reader.created.values()})
    return [
        TaskPreview(
            number=d.number,
            short_number=d.short_number,
            section=d.values["section_code"],
            section_title=d.values["section_title"],
            title=d.values["title"],
            where=d.where,
            deadline_text=d.values["deadline_text"],
            deadline=d.deadline_described,
            leads=[(c, names.get(c, c)) for c in d.leads],
            coordinators=[(c, names.get(c, c)) for c in d.coordinators],
            notes=d.values["notes"],
        )
        for d in drafts
    ]


def _owner(session: Session, owner: str | None, plan: Plan | None) -> Agency | None:
    if owner:
        agency = session.exec(select(Agency).where(Agency.code == owner)).first()
        if agency is None:
            raise UserError(f"--owner: không có cơ quan mã '{owner}' trong danh bạ.")
        return agency
    if plan is not None and plan.owner_agency_id is not None:
        return session.get(Agency, plan.owner_agency_id)
    return default_office(session)


def _upsert_plan(
    session: Session,
    plan: Plan | None,
    code: str,
    title: str | None,
    table: PlanTable,
    owner: Agency | None,
    now: datetime,
    path: Path,
) -> Plan:
    named, document = _names_above(table.title_lines)
    if plan is None:
        plan = Plan(code=code, title=title or named or path.stem)
    elif title:
        plan.title = title
    plan.document = plan.document or document
    plan.owner_agency_id = owner.id if owner else plan.owner_agency_id
    plan.source_file, plan.imported_at = str(path), now
    session.add(plan)
    return plan


def _names_above(lines: list[str]) -> tuple[str | None, str | None]:
    """The plan's name and issuing document from the lines above an appendix's table.

    'PHỤ LỤC' / 'NHIỆM VỤ TRIỂN KHAI …' / '(Kèm theo Kế hoạch số 256/KH-UBND …)'.
    """
    title = document = None
    for line in lines:
        folded = fold_words(line)
        if "kem theo" in folded:
            inner = line.strip("() ")
            document = document or re.sub(r"^kèm theo\s+", "", inner, flags=re.I)[:300]
        elif title is None and not _APPENDIX_LABEL.match(folded):
            title = line[:500]
    return title, document


def _apply(
    session: Session,
    report: ImportReport,
    drafts: list[TaskDraft],
    plan: Plan,
    reader: RowReader,
    now: datetime,
) -> None:
    agencies = {a.code: a for a in session.exec(select(Agency)).all()}
    for new in reader.created.values():
        agencies[new.code] = Agency(code=new.code, name=new.name, kind="other")
        session.add(agencies[new.code])
    session.flush()  # ids for the plan and new agencies; tasks and assignments flush once each
    existing = {t.number: t for t in session.exec(select(Task).where(Task.plan_id == plan.id))}
    tasks: list[tuple[int, TaskDraft]] = []
    fresh: list[TaskDraft] = []
    for draft in drafts:
        task = existing.pop(draft.number, None)
        if task is None:
            report.added.append(draft.number)
            fresh.append(draft)
            continue
        changed = [f for f in _TASK_FIELDS if getattr(task, f) != draft.values[f]]
        changed = [f for f in changed if f != "position"] + (["active"] if not task.active else [])
        if changed:
            report.updated[draft.number] = changed
        for name in _TASK_FIELDS:
            setattr(task, name, draft.values[name])
        task.active = True
        session.add(task)
        tasks.append((task.id or 0, draft))
    for task in existing.values():
        if task.active:
            report.removed.append(task.number)
            task.active = False
            session.add(task)
    session.flush()
    tasks += _insert_tasks(session, plan, fresh)
    current = _assignments_by_task(session, plan)
    added: list[dict[str, Any]] = []
    for task_id, draft in tasks:
        added += _sync_assignments(
            session,
            report,
            task_id,
            draft,
            current.get(task_id, {}),
            agencies,
            now,
            deadline_changed="deadline" in report.updated.get(draft.number, []),
        )
        if len(added) >= _BATCH:
            _insert(session, Assignment, added)
            added = []
    # Multi-row INSERTs: a plan has hundreds of assignments once groups are expanded.
    _insert(session, Assignment, added)
    for task in existing.values():
        for assignment in current.get(task.id or 0, {}).values():
            assignment.active, assignment.next_due_at = False, None
            session.add(assignment)


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Core, not the ORM's bulk path: a plain executemany, in batches to bound memory."""
    if rows:
        session.connection().execute(sa.insert(model.__table__), rows)


def _insert_tasks(
    session: Session, plan: Plan, drafts: list[TaskDraft]
) -> list[tuple[int, TaskDraft]]:
    """New tasks by multi-row INSERTs: building 50,000 ORM objects takes minutes."""
    if not drafts:
        return []
    for start in range(0, len(drafts), _BATCH):
        rows = [
            {
                "plan_id": plan.id,
                "number": d.number,
                "active": True,
                "tags": [],
                **{name: d.values[name] for name in _TASK_FIELDS},
            }
            for d in drafts[start : start + _BATCH]
        ]
        _insert(session, Task, rows)
    # The plan's numbers are unique; no IN list (SQLite caps bound parameters).
    ids = dict(session.exec(select(Task.number, Task.id).where(Task.plan_id == plan.id)).all())
    return [(ids[d.number] or 0, d) for d in drafts]


def _assignments_by_task(
    session: Session, plan: Plan
) -> dict[int, dict[tuple[int, str], Assignment]]:
    rows = session.exec(
        select(Assignment)
        .join(Task, col(Task.id) == Assignment.task_id)
        .where(Task.plan_id == plan.id)
    ).all()
    by_task: dict[int, dict[tuple[int, str], Assignment]] = {}
    for assignment in rows:
        by_task.setdefault(assignment.task_id, {})[(assignment.agency_id, assignment.role)] = (
            assignment
        )
    return by_task


def _sync_assignments(
    session: Session,
    report: ImportReport,
    task_id: int,
    draft: TaskDraft,
    current: dict[tuple[int, str], Assignment],
    agencies: dict[str, Agency],
    now: datetime,
    deadline_changed: bool,
) -> list[dict[str, Any]]:
    """Update this task's assignments in place; returns the rows to insert."""
    wanted = [(c, "lead") for c in draft.leads] + [(c, "coordinator") for c in draft.coordinators]
    current = dict(current)
    new_rows: list[dict[str, Any]] = []
    for agency_code, role in wanted:
        agency_id = agencies[agency_code].id
        if agency_id is None:
            raise RuntimeError("agencies and tasks are flushed before their assignments")
        assignment = current.pop((agency_id, role), None)
        if assignment is None:
            # next_due_at = now: the daemon evaluates it at its next tick.
            new_rows.append(
                {
                    "task_id": task_id,
                    "agency_id": agency_id,
                    "role": role,
                    "status": "open",
                    "active": True,
                    "created_at": now,
                    "next_due_at": now,
                }
            )
        elif not assignment.active or deadline_changed:
            assignment.active, assignment.next_due_at = True, now
            session.add(assignment)
    report.assignments_added += len(new_rows)
    for assignment in current.values():
        if assignment.active:
            report.assignments_removed += 1
            assignment.active, assignment.next_due_at = False, None
            session.add(assignment)
    return new_rows


def describe_field(name: str) -> str:
    return FIELD_LABELS.get(name, name)
