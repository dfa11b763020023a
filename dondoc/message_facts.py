"""What a reminder must say beyond its assignment: whether the agency has explained the
delay already, and every lead of a task when a message speaks for the whole task.

Read once per tick batch; the templates then stop asking for an explanation that came
in, and a "set a deadline" notice names all lead agencies, not only the first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from dondoc.models import Agency, Assignment, Explanation
from rules.deadline import Deadline

# Far enough back to find the occurrence before any reminder's occurrence (a year at most).
_LOOKBACK = timedelta(days=400)


@dataclass(frozen=True)
class Facts:
    explanation_days: tuple[date, ...] = ()
    leads: tuple[str, ...] = ()

    def explained(self, occurrence: date | None, deadline: Any) -> bool:
        """Whether an explanation answers the reminder about `occurrence`.

        The same rule as the reports (rules/status.py): for a recurring task, an
        explanation answers an occurrence when it came after the previous occurrence;
        otherwise any explanation of the assignment does.
        """
        if not self.explanation_days:
            return False
        if occurrence is None or not isinstance(deadline, dict):
            return True
        try:
            parsed = Deadline.from_dict(deadline)
        except (ValueError, TypeError, KeyError):
            return True
        previous = None
        for due in parsed.occurrences(occurrence - _LOOKBACK):
            if due >= occurrence:
                break
            previous = due
        return previous is None or any(day > previous for day in self.explanation_days)


_E = Explanation.__table__  # type: ignore[attr-defined]
_A = Assignment.__table__  # type: ignore[attr-defined]
_AG = Agency.__table__  # type: ignore[attr-defined]
# Fixed statements (expanding IN lists): compiled once per process.
_EXPLANATIONS = sa.select(_E.c.assignment_id, _E.c.at).where(
    _E.c.assignment_id.in_(sa.bindparam("ids", expanding=True))
)
_LEADS = (
    sa.select(_A.c.task_id, _AG.c.name)
    .join(_AG, _AG.c.id == _A.c.agency_id)
    .where(_A.c.task_id.in_(sa.bindparam("ids", expanding=True)), _A.c.active)
    .where(_A.c.role == "lead")
    .order_by(_A.c.id)
)
_CHUNK = 900  # bound parameters per IN list (SQLite before 3.32 allows 999)


def load_facts(
    session: Session,
    *,
    tasks: Mapping[int, int],
    tz: tzinfo,
    leads: dict[int, tuple[str, ...]] | None = None,
) -> dict[int, Facts]:
    """Facts by assignment id for the assignments of one batch (`tasks`: the task id of
    each): two fixed statements per chunk, only lead rows read for the leads.

    `leads` (task id → its leads' names) is what earlier batches of the same tick read:
    only tasks it lacks are read, and it is filled in. A task's agencies are read once per
    tick, as the directory is: a task has ten leads on average, shared by all its
    assignments, and a 10k-due tick meets each task in most of its batches.
    """
    days: dict[int, list[date]] = {}
    for rows in _chunks(session, _EXPLANATIONS, list(tasks)):
        for assignment_id, at in rows:
            days.setdefault(assignment_id, []).append(at.astimezone(tz).date())
    known = {} if leads is None else leads
    wanted = sorted({task_id for task_id in tasks.values() if task_id not in known})
    found: dict[int, list[str]] = {}
    for rows in _chunks(session, _LEADS, wanted):
        for task_id, name in rows:
            found.setdefault(task_id, []).append(name)
    known.update((task_id, tuple(found.get(task_id, ()))) for task_id in wanted)
    # One Facts per task for the assignments with no explanation (nearly all of them).
    plain = {task_id: Facts(leads=known[task_id]) for task_id in set(tasks.values())}
    return {
        assignment_id: Facts(tuple(days[assignment_id]), known[task_id])
        if assignment_id in days
        else plain[task_id]
        for assignment_id, task_id in tasks.items()
    }


def _chunks(session: Session, statement: Any, ids: list[int]) -> Iterator[list[Any]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(session.execute(statement, {"ids": ids[start : start + _CHUNK]}).all())
