"""Which name an assignment goes under on a given day, after mergers and renamings.

A plan of 2022 gave a task to "Sở Thông tin và Truyền thông"; since 01/03/2025 that is
"Sở Khoa học và Công nghệ". A report about a day before the merger names the agency of
that day; a report about a later day names today's agency with the former name in
brackets: "Sở Khoa học và Công nghệ (Sở Thông tin và Truyền thông)".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from dondoc.models import Agency, Assignment, Task
from dondoc.models_agency_history import AgencyChange, AgencyFormerName
from dondoc.names import name_key


@dataclass(frozen=True)
class Former:
    name: str
    until: date
    keys: tuple[str, ...]  # the name and its aliases, in `name_key` form


def formers_by_agency(session: Session, agency_ids: Iterable[int]) -> dict[int, list[Former]]:
    rows = session.exec(
        select(AgencyFormerName)
        .where(col(AgencyFormerName.agency_id).in_(list(agency_ids)))
        .order_by(col(AgencyFormerName.until), col(AgencyFormerName.id))
    ).all()
    result: dict[int, list[Former]] = {}
    for row in rows:
        keys = tuple(k for k in (name_key(n) for n in [row.name, *row.aliases]) if k)
        result.setdefault(row.agency_id or 0, []).append(Former(row.name, row.until, keys))
    return result


def moved_by_changes(session: Session) -> dict[int, Former]:
    """Assignment id → the name it had before a merger or renaming recorded in the store."""
    result: dict[int, Former] = {}
    changes = session.exec(
        select(AgencyChange)
        .where(col(AgencyChange.undone_at).is_(None))
        .order_by(col(AgencyChange.effective_on), col(AgencyChange.id))
    ).all()
    for change in changes:
        former = Former(change.old_name, change.effective_on, (name_key(change.old_name),))
        for assignment_id in change.moved.get("assignments", []):
            result.setdefault(int(assignment_id), former)
    return result


def named_as(
    assignment: Assignment,
    task: Task,
    formers: list[Former],
    moved: dict[int, Former],
) -> Former | None:
    """The former name this assignment was given under, if it was given under one."""
    if assignment.id is not None and assignment.id in moved:
        return moved[assignment.id]
    cell = task.lead_text if assignment.role == "lead" else task.coordinator_text
    text = f" {name_key(cell or '')} "
    for former in formers:
        if any(re.search(rf"(?<!\w){re.escape(key)}(?!\w)", text) for key in former.keys):
            return former
    return None


def responsible_on(agency: Agency, former: Former | None, day: date) -> tuple[str, str | None]:
    """Who answers on `day`, and the former name to show beside it: before the change,
    the former agency itself; from the change on, today's agency with the former name."""
    if former is None:
        return agency.name, None
    if day < former.until:
        return former.name, None
    return agency.name, former.name
