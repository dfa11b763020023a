"""Where each assignment stands against its deadline, as the Government Office counts it.

The categories follow QĐ 42/2014/QĐ-TTg as amended: done on time, done late, not done but
within the deadline, not done and overdue. Tasks the office cannot judge by a date yet
(ongoing, waiting for an external milestone, done on request, no deadline at all) are
counted apart.

Pure: the report date (`as_of`) and the office's time zone are passed in. A report for a
past month therefore reads the same whenever it is produced: a completion recorded after
`as_of` does not count as done on `as_of`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import TypeVar

from rules.deadline import UNDATED_KINDS, Deadline


class Category(StrEnum):
    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"
    IN_TIME = "in_time"
    OVERDUE = "overdue"
    ONGOING = "ongoing"
    EXTERNAL = "external"
    EVENT = "event"
    UNDATED = "undated"


# (Vietnamese, English): the wording of the Government Office's task tracking system.
CATEGORY_LABELS: Mapping[Category, tuple[str, str]] = {
    Category.DONE_ON_TIME: ("Đã hoàn thành đúng hạn", "Done on time"),
    Category.DONE_LATE: ("Đã hoàn thành quá hạn", "Done late"),
    Category.IN_TIME: ("Đang thực hiện trong hạn", "Not done, within the deadline"),
    Category.OVERDUE: ("Chưa hoàn thành, quá hạn", "Not done, overdue"),
    Category.ONGOING: ("Nhiệm vụ thường xuyên", "Ongoing"),
    Category.EXTERNAL: ("Theo tiến độ chung, chưa có mốc", "Awaiting an external milestone"),
    Category.EVENT: ("Khi có yêu cầu, chưa có thời hạn", "On request, no date set yet"),
    Category.UNDATED: ("Chưa có thời hạn", "No deadline set"),
}

# Counted against a deadline; the others are reported apart.
DATED = (Category.DONE_ON_TIME, Category.DONE_LATE, Category.IN_TIME, Category.OVERDUE)
APART = (Category.ONGOING, Category.EXTERNAL, Category.EVENT, Category.UNDATED)
LATE = (Category.OVERDUE, Category.DONE_LATE)

# When several obligations make up one thing (the occurrences of a recurring task, the
# agencies of one task), the thing is as far behind as its worst part: anything still
# overdue makes it overdue, anything unfinished makes it unfinished.
_PRECEDENCE = (
    Category.OVERDUE,
    Category.IN_TIME,
    Category.DONE_LATE,
    Category.DONE_ON_TIME,
    Category.EXTERNAL,
    Category.EVENT,
    Category.UNDATED,
    Category.ONGOING,
)


# Undated kinds of deadline and the category they are counted in until dated.
_APART_KINDS = {"external": Category.EXTERNAL, "event": Category.EVENT}


def category_label(category: Category, lang: str = "vi") -> str:
    vi, en = CATEGORY_LABELS[category]
    return en if lang == "en" else vi


@dataclass(frozen=True)
class Obligation:
    """One thing an assignment owes by one date: its deadline, or one occurrence of it.

    `explain_from`: explanations recorded on or after this day answer for this
    obligation (None: any explanation of the assignment does).
    """

    category: Category
    due: date | None = None
    recurring: bool = False
    done_on: date | None = None
    days_late: int = 0
    explain_from: date | None = None

    @property
    def is_late(self) -> bool:
        return self.category in LATE


def _local_date(moment: datetime | None, tz: tzinfo) -> date | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError(f"an aware datetime is needed to know the local day, got {moment!r}")
    return moment.astimezone(tz).date()


def _judge(
    due: date, done_on: date | None, as_of: date, explain_from: date | None, recurring: bool
) -> Obligation:
    if done_on is not None:
        late = (done_on - due).days
        category = Category.DONE_LATE if late > 0 else Category.DONE_ON_TIME
        return Obligation(category, due, recurring, done_on, max(late, 0), explain_from)
    # On the due day itself the task is still within its deadline.
    if as_of > due:
        return Obligation(Category.OVERDUE, due, recurring, None, (as_of - due).days, explain_from)
    return Obligation(Category.IN_TIME, due, recurring, None, 0, explain_from)


def assess(
    *,
    deadline: Deadline | None,
    due_override: date | None,
    milestone: date | None,
    status: str,
    done_at: datetime | None,
    done_through: date | None,
    as_of: date,
    tz: tzinfo,
    since: date | None = None,
    period_start: date | None = None,
) -> list[Obligation]:
    """The obligations of one assignment that matter for a report covering up to `as_of`.

    A one-off deadline gives one obligation: due on `due_override` (an approved
    extension) or the plan's due date; an external or event-driven one takes the office's
    `milestone`.
    A recurring deadline gives its occurrences since `since` (when the agency was
    tasked, unless the deadline has its own start) that fall in `period_start`..`as_of`,
    earlier ones still outstanding, and the coming one when none fell in the period.
    """
    done_on = _local_date(done_at, tz) if status == "done" else None
    if done_on is not None and done_on > as_of:
        done_on = None
    if deadline is not None and deadline.series and due_override is None:
        return _recurring(deadline, done_on, done_at, done_through, as_of, tz, since, period_start)
    due = due_override
    if due is None and deadline is not None:
        if deadline.kind == "once":
            due = deadline.due
        elif deadline.kind in UNDATED_KINDS:
            due = milestone
        elif deadline.kind == "ongoing":
            return [Obligation(Category.ONGOING, done_on=done_on)]
    if due is None:
        kind = Category.UNDATED if deadline is None else _APART_KINDS.get(deadline.kind)
        return [Obligation(kind or Category.EXTERNAL, done_on=done_on)]
    return [_judge(due, done_on, as_of, None, recurring=False)]


def _recurring(
    deadline: Deadline,
    done_on: date | None,
    done_at: datetime | None,
    done_through: date | None,
    as_of: date,
    tz: tzinfo,
    since: date | None,
    period_start: date | None,
) -> list[Obligation]:
    start = period_start or as_of
    lower = deadline.start or since or start
    if deadline.owed_before_assignment:  # every one of its dates, as a one-off's
        lower = min(lower, *(part.due for part in deadline.parts if part.due is not None))
    # `done_through` says which occurrences are complete but not when; only the most
    # recent completion's moment is known (`done_at`), so it times the latest covered
    # occurrence and earlier ones are taken as done on time. A "done" status completes
    # the first occurrence `done_through` leaves open: the cycle being worked on.
    last_done_on = _local_date(done_at, tz)
    latest_covered = _last_until(deadline, lower, done_through) if done_through else None
    obligations: list[Obligation] = []
    previous: date | None = None
    last: Obligation | None = None
    marked_done = done_on is not None
    for due in deadline.occurrences(lower):
        explain_from = previous + timedelta(days=1) if previous else None
        finished: date | None = None
        if done_through is not None and due <= done_through:
            finished = due
            if due == latest_covered and last_done_on is not None:
                finished = last_done_on if last_done_on <= as_of else None
        elif marked_done:
            finished, marked_done = done_on, False
        last = _judge(due, finished, as_of, explain_from, recurring=True)
        if due > as_of:
            break
        # Earlier occurrences matter while still outstanding, or if finished in the period.
        recent = last.done_on is not None and last.done_on >= start
        if due >= start or recent or last.category is Category.OVERDUE:
            obligations.append(last)
        previous = due
    # Nothing fell due in the period: the cycle in progress (or, once the series has
    # ended, its final occurrence) still says where the assignment stands.
    in_period = any(o.due and o.due >= start for o in obligations)
    if last is not None and not in_period and last not in obligations:
        obligations.append(last)
    return obligations


def _last_until(deadline: Deadline, lower: date, last: date) -> date | None:
    found = None
    for due in deadline.occurrences(lower):
        if due > last:
            break
        found = due
    return found


def combine(categories: Iterable[Category]) -> Category:
    """The category of a whole made of parts in `categories` (worst part first)."""
    present = set(categories)
    for category in _PRECEDENCE:
        if category in present:
            return category
    raise ValueError("cannot combine an empty set of categories")


def categorize(
    *,
    deadline: Deadline | None,
    due_override: date | None,
    milestone: date | None,
    status: str,
    done_at: datetime | None,
    done_through: date | None,
    as_of: date,
    tz: tzinfo,
    since: date | None = None,
    period_start: date | None = None,
) -> Category | None:
    """One category for one assignment (`assess` rolled up); None when nothing is owed."""
    obligations = assess(
        deadline=deadline,
        due_override=due_override,
        milestone=milestone,
        status=status,
        done_at=done_at,
        done_through=done_through,
        as_of=as_of,
        tz=tz,
        since=since,
        period_start=period_start,
    )
    return combine(o.category for o in obligations) if obligations else None


@dataclass
class Counts:
    """How many things fall in each category, with the totals a report prints."""

    by_category: dict[Category, int] = field(default_factory=lambda: dict.fromkeys(Category, 0))

    def add(self, category: Category, n: int = 1) -> None:
        self.by_category[category] += n

    def __getitem__(self, category: Category | str) -> int:
        return self.by_category[Category(category)]

    @property
    def total(self) -> int:
        return sum(self.by_category.values())

    @property
    def dated(self) -> int:
        return sum(self.by_category[c] for c in DATED)

    @property
    def late(self) -> int:
        return sum(self.by_category[c] for c in LATE)

    def to_dict(self) -> dict[str, int]:
        return {str(c): n for c, n in self.by_category.items()} | {
            "total": self.total,
            "late": self.late,
        }


K = TypeVar("K", bound=Hashable)


def roll_up(pairs: Iterable[tuple[K, Category]]) -> dict[K, Counts]:
    """Counts per key (agency, section, plan, …) from (key, category) pairs."""
    result: dict[K, Counts] = {}
    for key, category in pairs:
        result.setdefault(key, Counts()).add(category)
    return result


def roll_up_tasks(pairs: Iterable[tuple[K, Category]]) -> dict[K, Category]:
    """One category per task from its assignments' categories."""
    parts: dict[K, list[Category]] = {}
    for key, category in pairs:
        parts.setdefault(key, []).append(category)
    return {key: combine(categories) for key, categories in parts.items()}
