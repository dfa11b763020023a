"""What a reminder must say beyond its assignment: whether the agency has explained the
delay already, and every lead of a task when a message speaks for the whole task.

Read once per tick batch; the templates then stop asking for an explanation that came
in, and a "set a deadline" notice names all lead agencies, not only the first.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from typing import Any

from sqlmodel import Session, col, select

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


def load_facts(
    session: Session, *, assignment_ids: Collection[int], task_ids: Collection[int], tz: tzinfo
) -> dict[int, Facts]:
    """Facts by assignment id for the assignments of one batch."""
    days: dict[int, list[date]] = {}
    for assignment_id, at in session.exec(
        select(Explanation.assignment_id, Explanation.at).where(
            col(Explanation.assignment_id).in_(list(assignment_ids))
        )
    ).all():
        days.setdefault(assignment_id, []).append(at.astimezone(tz).date())
    leads: dict[int, list[str]] = {}
    task_of: dict[int, int] = {}
    for row_id, task_id, role, name in session.exec(
        select(Assignment.id, Assignment.task_id, Assignment.role, Agency.name)
        .join(Agency, col(Agency.id) == Assignment.agency_id)
        .where(col(Assignment.task_id).in_(list(task_ids)), col(Assignment.active))
        .order_by(col(Assignment.id))
    ).all():
        task_of[row_id or 0] = task_id
        if role == "lead":
            leads.setdefault(task_id, []).append(name)
    return {
        assignment_id: Facts(
            explanation_days=tuple(days.get(assignment_id, ())),
            leads=tuple(leads.get(task_of.get(assignment_id, -1), ())),
        )
        for assignment_id in assignment_ids
    }
