"""Where an assignment stands today, judged exactly as the reports judge it
(rules.status.assess): its QĐ 42 category, the due date that decides it, days late.

The API shows the standing as of today: for a recurring task that is the occurrence in
progress and any earlier one still outstanding (`period_start` = today).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from dondoc.models import Assignment, Task
from rules.deadline import Deadline
from rules.status import Category, Obligation, assess, category_label, combine

MilestoneFor = Callable[[str], date | None] | None


@dataclass(frozen=True)
class Standing:
    category: Category | None
    due: date | None
    days_late: int

    @property
    def label(self) -> str | None:
        return category_label(self.category) if self.category else None


class Judge:
    """Judges assignments as of one day, reading each task's deadline once."""

    def __init__(self, *, today: date, tz: tzinfo, milestone_for: MilestoneFor) -> None:
        self.today = today
        self.tz = tz
        self.milestone_for = milestone_for
        self._deadlines: dict[int, Deadline | None] = {}
        # The assignments of one task mostly share these columns: judged once per value.
        self._seen: dict[tuple[object, ...], Standing] = {}

    def deadline(self, task: Task) -> Deadline | None:
        key = task.id or 0
        if key not in self._deadlines:
            try:
                self._deadlines[key] = Deadline.from_dict(task.deadline) if task.deadline else None
            except ValueError:
                self._deadlines[key] = None  # the reports name such a task; here: undated
        return self._deadlines[key]

    def standing(self, assignment: Assignment, task: Task) -> Standing:
        return self.standing_of(
            task,
            status=assignment.status,
            due_override=assignment.due_override,
            done_at=assignment.done_at,
            done_through=assignment.done_through,
            created_at=assignment.created_at,
        )

    def standing_of(
        self,
        task: Task,
        *,
        status: str,
        due_override: date | None,
        done_at: datetime | None,
        done_through: date | None,
        created_at: datetime | None,
    ) -> Standing:
        """The standing from the columns that decide it (lists read only those)."""
        key = (task.id, status, due_override, done_at, done_through, created_at)
        found = self._seen.get(key)
        if found is not None:
            return found
        deadline = self.deadline(task)
        milestone = (
            self.milestone_for(deadline.depends_on)
            if self.milestone_for and deadline and deadline.depends_on
            else None
        )
        obligations = assess(
            deadline=deadline,
            due_override=due_override,
            milestone=milestone,
            status=status,
            done_at=done_at,
            done_through=done_through,
            as_of=self.today,
            tz=self.tz,
            since=created_at.astimezone(self.tz).date() if created_at else None,
            period_start=self.today,
        )
        found = self._seen[key] = _standing(obligations)
        return found


def _standing(obligations: list[Obligation]) -> Standing:
    if not obligations:
        return Standing(None, None, 0)
    category = combine(o.category for o in obligations)
    # The obligation that decides the category gives the due date shown with it.
    deciding = next(o for o in obligations if o.category == category)
    return Standing(category, deciding.due, max(o.days_late for o in obligations))


def combined(standings: Iterable[Standing]) -> Standing:
    """A task's standing: as far behind as its furthest-behind assignment."""
    parts = [s for s in standings if s.category is not None]
    if not parts:
        return Standing(None, None, 0)
    category = combine(s.category for s in parts if s.category is not None)
    deciding = next(s for s in parts if s.category == category)
    return Standing(category, deciding.due, max(s.days_late for s in parts))


def combined_status(statuses: Iterable[str]) -> str:
    """A task is done when every agency is done, acknowledged when every one has at least
    acknowledged, open otherwise."""
    found = set(statuses)
    if not found:
        return "open"
    if found == {"done"}:
        return "done"
    if "open" in found:
        return "open"
    return "acknowledged"
