"""The overview's figures: each plan's counts per QĐ 42 category and agencies ranked by
overdue items, judged exactly as the reports judge them (rules.status.assess).

The reports load every assignment as an object; at 100k assignments that takes seconds.
Here the database does the counting: assignments are grouped (GROUP BY) on the columns
that decide a category, with completion and creation moments reduced to the office's
local day in SQL. assess() then runs once per distinct group, and once per distinct
deadline rather than per task. The ranking sums, per agency, the overdue items of the
groups found overdue, again in SQL (a join with a temporary table of those groups). No row
becomes an ORM object; only the groups cross into Python.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from dondoc.models import Agency, Assignment, Plan, Task
from rules.deadline import Deadline
from rules.status import Category, Counts, assess

# Offsets of the office's time zone are looked up over these years; SQLite has no time
# zone database, so its local day is the UTC moment shifted by the offset then in force.
ZONE_YEARS = (1990, 2060)
# Above this many tasks whose count depends on the creation day, the creation day is
# computed for every row rather than listing those tasks in the query.
MAX_LISTED_TASKS = 2000

Key = tuple[Any, ...]  # task_id, status, due_override, done_through, done_day, since_day
_GROUP_COLUMNS = ("task_id", "status", "due_override", "done_through", "done_day", "since_day", "n")
# The overdue groups, for the ranking's join; private to the connection, emptied after use.
_OVERDUE_GROUPS = sa.Table(
    "overview_overdue_group",
    sa.MetaData(),
    sa.Column("task_id", sa.Integer),
    sa.Column("status", sa.String(16)),
    sa.Column("due_override", sa.Date),
    sa.Column("done_through", sa.Date),
    sa.Column("done_day", sa.Date),
    sa.Column("since_day", sa.Date),
    sa.Column("n", sa.Integer),
    prefixes=["TEMPORARY"],
)


@dataclass
class Overview:
    per_plan: dict[str, Counts] = field(default_factory=dict)
    overdue_by_agency: Counter[int] = field(default_factory=Counter)
    agency_names: dict[int, tuple[str, str]] = field(default_factory=dict)

    def ranked(self, limit: int) -> list[tuple[tuple[str, str], int]]:
        """Most overdue first; equal counts in the order of the agency codes."""
        order = sorted(
            self.overdue_by_agency.items(),
            key=lambda item: (-item[1], self.agency_names.get(item[0], ("", ""))[0]),
        )
        return [(self.agency_names[agency_id], n) for agency_id, n in order[:limit] if n]


@dataclass(frozen=True)
class _TaskFacts:
    plan_code: str
    deadline_key: str
    deadline: Deadline | None


def overview_figures(
    session: Session,
    *,
    today: date,
    period_start: date,
    tz: tzinfo,
    milestone_for: Callable[[str], date | None] | None,
) -> Overview:
    tasks = _task_facts(session)
    # The creation day matters only for a recurrence without its own start (a list of
    # one-off dates owes every one of them, whenever the agency was assigned).
    counted_from_creation = [
        task_id
        for task_id, facts in tasks.items()
        if facts.deadline is not None
        and facts.deadline.series
        and not facts.deadline.owed_before_assignment
        and facts.deadline.start is None
    ]
    dialect = session.connection().dialect.name
    table = Assignment.__table__  # type: ignore[attr-defined]
    # First the raw columns, in the order of ix_assignment_overview: the database walks
    # that index and groups as it goes, without sorting every row. Then the local days,
    # over the (much fewer) groups.
    raw = [
        table.c.task_id,
        table.c.status,
        table.c.due_override,
        table.c.done_through,
        table.c.done_at,
        table.c.created_at,
    ]
    inner = (
        sa.select(*raw, sa.func.count().label("n"))
        .where(table.c.active)
        .group_by(*raw)
        .subquery("by_columns")
    )
    key = _key_columns(inner.c, dialect, tz, counted_from_creation)
    # Core results (session.connection()), not the ORM's: lighter rows, thousands of them.
    groups = (
        session.connection().execute(sa.select(*key, sa.func.sum(inner.c.n)).group_by(*key)).all()
    )
    result = Overview()
    judged: dict[Key, list[Category]] = {}
    overdue_keys: list[tuple[Key, int]] = []
    for *values, total in groups:
        row_key, n = tuple(values), int(total)  # PostgreSQL sums counts as numeric
        facts = tasks.get(row_key[0])
        if facts is None:
            continue  # the task is no longer tracked
        decisive = (facts.deadline_key, *row_key[1:])
        categories = judged.get(decisive)
        if categories is None:
            categories = judged[decisive] = _judge(
                facts.deadline, row_key, today, period_start, tz, milestone_for
            )
        counts = result.per_plan.get(facts.plan_code)
        if counts is None:
            counts = result.per_plan[facts.plan_code] = Counts()
        for category in categories:
            counts.add(category, n)
        overdue = categories.count(Category.OVERDUE)
        if overdue:
            overdue_keys.append((row_key, overdue))
    result.overdue_by_agency = _overdue_by_agency(
        session, _key_columns(table.c, dialect, tz, counted_from_creation), overdue_keys
    )
    if result.overdue_by_agency:
        for agency_id, code, name in session.exec(
            select(Agency.id, Agency.code, Agency.name).where(
                col(Agency.id).in_(list(result.overdue_by_agency))
            )
        ).all():
            result.agency_names[agency_id or 0] = (code, name)
    return result


def _task_facts(session: Session) -> dict[int, _TaskFacts]:
    plans: dict[int | None, str] = dict(session.exec(select(Plan.id, Plan.code)).all())
    parsed: dict[str, Deadline | None] = {}
    tasks: dict[int, _TaskFacts] = {}
    # The stored JSON as text: tasks mostly share a few deadlines, each parsed once.
    query = sa.select(Task.id, Task.plan_id, sa.cast(Task.deadline, sa.Text)).where(  # type: ignore[call-overload]
        col(Task.active)
    )
    for task_id, plan_id, stored in session.connection().execute(query).all():
        plan_code = plans.get(plan_id, "")
        if not plan_code:
            continue
        deadline_key = stored or ""
        if deadline_key not in parsed:
            parsed[deadline_key] = _parse_deadline(deadline_key)
        tasks[task_id] = _TaskFacts(plan_code, deadline_key, parsed[deadline_key])
    return tasks


def _parse_deadline(stored: str) -> Deadline | None:
    try:
        found = json.loads(stored) if stored else None
        return Deadline.from_dict(found) if found else None
    except ValueError:
        return None  # the reports name such a task; the overview just leaves it undated


def _key_columns(
    columns: Any, dialect: str, tz: tzinfo, counted_from_creation: Sequence[int]
) -> list[ColumnElement[Any]]:
    """The columns that decide an assignment's categories, as SQL expressions over
    `columns` (named as the assignment's).

    The completion moment counts only once the assignment is done (or has completed
    occurrences); both moments count only by the local day they fall on.
    """
    done = sa.or_(columns.status == "done", columns.done_through.is_not(None))
    done_day = sa.case((done, _local_day(columns.done_at, dialect, tz)), else_=sa.null())
    if not counted_from_creation:
        since_day: ColumnElement[Any] = sa.cast(sa.null(), sa.Date)
    elif len(counted_from_creation) > MAX_LISTED_TASKS:
        since_day = _local_day(columns.created_at, dialect, tz)
    else:
        since_day = sa.case(
            (
                columns.task_id.in_(list(counted_from_creation)),
                _local_day(columns.created_at, dialect, tz),
            ),
            else_=sa.null(),
        )
    return [
        columns.task_id,
        columns.status,
        columns.due_override,
        columns.done_through,
        sa.type_coerce(done_day, sa.Date).label("done_day"),
        sa.type_coerce(since_day, sa.Date).label("since_day"),
    ]


def _local_day(column: Any, dialect: str, tz: tzinfo) -> ColumnElement[Any]:
    """The office's calendar day of a stored UTC moment, computed by the database."""
    zone_name = tz.key if isinstance(tz, ZoneInfo) else None
    if dialect == "postgresql" and zone_name:
        return sa.cast(sa.func.timezone(zone_name, column), sa.Date)
    spans = _offset_spans(tz)
    text = sa.type_coerce(column, sa.String)

    def shifted(seconds: int) -> ColumnElement[Any]:
        if dialect == "postgresql":
            moment = sa.func.timezone("UTC", column) + sa.text(f"interval '{seconds} seconds'")
            return sa.cast(moment, sa.Date)
        return sa.func.date(text, f"{seconds:+d} seconds")

    if len(spans) == 1:
        return shifted(spans[0][1])
    # Newest span first: most moments are recent and stop at the first branch.
    whens = [(text >= start, shifted(seconds)) for start, seconds in reversed(spans[1:])]
    return sa.case(*whens, else_=shifted(spans[0][1]))


@cache
def _offset_spans(tz: tzinfo) -> tuple[tuple[str, int], ...]:
    """(UTC start as the store writes it, offset in seconds) for each period of one offset
    in ZONE_YEARS; the first period also covers every earlier moment."""
    moment = datetime(ZONE_YEARS[0], 1, 1, tzinfo=UTC)
    end = datetime(ZONE_YEARS[1], 1, 1, tzinfo=UTC)

    def offset(at: datetime) -> int:
        found = at.astimezone(tz).utcoffset()
        return int(found.total_seconds()) if found is not None else 0

    spans = [("", offset(moment))]
    while moment < end:
        step = moment + timedelta(days=1)
        if offset(step) != offset(moment):
            low, high = moment, step  # the change lies in (low, high]: find its second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == offset(low) else (low, middle)
            spans.append((high.strftime("%Y-%m-%d %H:%M:%S"), offset(high)))
        moment = step
    return tuple(spans)


def _overdue_by_agency(
    session: Session, key: list[ColumnElement[Any]], overdue_keys: list[tuple[Key, int]]
) -> Counter[int]:
    """Per agency, the overdue items of its assignments in the groups found overdue.

    The groups go to a temporary table (one executemany: a literal list of thousands of
    rows costs more to build than to run) joined on the same key expressions.
    """
    found: Counter[int] = Counter()
    if not overdue_keys:
        return found
    table = Assignment.__table__  # type: ignore[attr-defined]
    groups = _OVERDUE_GROUPS.c
    connection = session.connection()
    # Created once per connection and emptied around each use, never dropped: a DROP in
    # a transaction that is then rolled back would leave the table behind anyway.
    connection.execute(CreateTable(_OVERDUE_GROUPS, if_not_exists=True))
    connection.execute(_OVERDUE_GROUPS.delete())
    try:
        # The driver's executemany: thousands of rows without SQLAlchemy's per-row work.
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        day = _iso if connection.dialect.name == "sqlite" else _same
        connection.exec_driver_sql(
            f"INSERT INTO {_OVERDUE_GROUPS.name} ({', '.join(_GROUP_COLUMNS)}) "
            f"VALUES ({', '.join([mark] * len(_GROUP_COLUMNS))})",
            [(k[0], k[1], day(k[2]), day(k[3]), day(k[4]), day(k[5]), n) for k, n in overdue_keys],
        )
        match = sa.and_(
            table.c.task_id == groups.task_id,
            table.c.status == groups.status,
            key[2].is_not_distinct_from(groups.due_override),
            key[3].is_not_distinct_from(groups.done_through),
            key[4].is_not_distinct_from(groups.done_day),
            key[5].is_not_distinct_from(groups.since_day),
        )
        # Grouped on an expression, not the bare column: SQLite would otherwise walk the
        # agency index for the GROUP BY's order and look every row up in the groups,
        # instead of finding each group's rows through ix_assignment_overview.
        agency = (table.c.agency_id + 0).label("agency_id")
        query = (
            sa.select(agency, sa.func.sum(groups.n))
            .select_from(_OVERDUE_GROUPS.join(table, match))
            .where(table.c.active)
            .group_by(agency)
        )
        for agency_id, n in connection.execute(query).all():
            found[agency_id] += int(n)
    finally:
        connection.execute(_OVERDUE_GROUPS.delete())
    return found


def _iso(value: date | None) -> str | None:
    # SQLite keeps a date as its ISO text, as SQLAlchemy's Date type writes it.
    return value.isoformat() if value is not None else None


def _same(value: date | None) -> date | None:
    return value  # PostgreSQL's driver takes the date itself


def _judge(
    deadline: Deadline | None,
    key: Key,
    today: date,
    period_start: date,
    tz: tzinfo,
    milestone_for: Callable[[str], date | None] | None,
) -> list[Category]:
    _, status, due_override, done_through, done_day, since_day = key
    milestone = (
        milestone_for(deadline.depends_on)
        if milestone_for and deadline and deadline.depends_on
        else None
    )
    obligations = assess(
        deadline=deadline,
        due_override=_day(due_override),
        milestone=milestone,
        status=status,
        # Only the local day of completion matters to assess(); noon of that day is a
        # moment on it in any time zone.
        done_at=datetime.combine(done_day, time(12), tzinfo=tz) if done_day else None,
        done_through=_day(done_through),
        as_of=today,
        tz=tz,
        since=_day(since_day),
        period_start=period_start,
    )
    return [o.category for o in obligations]


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
