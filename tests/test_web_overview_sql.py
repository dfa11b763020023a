"""The overview's SQL counting against the plain computation it replaced: every assignment
loaded and judged on its own by rules.status.assess, on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dondoc.models import Agency, Assignment, Plan, Task
from dondoc.store import session_scope
from dondoc.web.overview_data import overview_figures
from rules.deadline import Deadline, parse_deadline
from rules.status import Category, Counts, assess

TODAY = date(2023, 3, 20)
PERIOD_START = date(2023, 3, 1)
PHRASES = (
    "Tháng 12/2022",
    "Tháng 3/2023",
    "Năm 2023",
    "Trước 15/01/2023",
    "Hàng tháng",
    "Hàng tháng, từ tháng 3/2022",
    "Hằng quý, trước ngày 20 tháng cuối quý",
    "Thường xuyên",
    "Theo tiến độ của Bộ",
    "Khi có yêu cầu",
)
MILESTONES = {"Bộ": date(2023, 2, 28)}


# Days whose end decides a category: due dates, the period's start, the report date.
BOUNDARIES = tuple(
    date.fromisoformat(day)
    for day in (
        "2022-11-30",
        "2022-12-31",
        "2023-01-14",
        "2023-01-31",
        "2023-02-28",
        "2023-02-28",
        "2023-03-19",
        "2023-03-20",
        "2023-03-31",
    )
)


def _moment(rng: random.Random, tz: ZoneInfo) -> datetime:
    """Mostly a second either side of the office's midnight after a day that decides a
    category: the local day found in SQL must be the one assess() finds."""
    if rng.random() < 0.25:
        return datetime(2022, 11, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(200_000))
    day = rng.choice(BOUNDARIES) + timedelta(days=1)
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
    return midnight + timedelta(seconds=rng.choice((-1, 0)))


def _fill(engine: Engine, seed: int, tz: ZoneInfo) -> None:
    rng = random.Random(seed)
    with session_scope(engine) as session:
        agencies = [Agency(code=f"co-quan-{n}", name=f"Cơ quan {n}") for n in range(7)]
        session.add_all(agencies)
        session.flush()
        for plan_no in range(2):
            plan = Plan(code=f"kh{plan_no}", title=f"Kế hoạch {plan_no}")
            session.add(plan)
            session.flush()
            for n in range(30):
                phrase = rng.choice((*PHRASES, None))
                task = Task(
                    plan_id=plan.id or 0,
                    number=str(n + 1),
                    title=f"Nhiệm vụ {n + 1}",
                    position=n,
                    deadline_text=phrase,
                    deadline=parse_deadline(phrase).to_dict() if phrase else None,
                    active=n % 13 != 12,
                )
                session.add(task)
                session.flush()
                for agency in rng.sample(agencies, rng.randrange(1, 5)):
                    status = rng.choice(("open", "open", "acknowledged", "done", "done"))
                    session.add(
                        Assignment(
                            task_id=task.id or 0,
                            agency_id=agency.id or 0,
                            role=rng.choice(("lead", "coordinator")),
                            status=status,
                            done_at=(
                                _moment(rng, tz) if status == "done" or rng.random() < 0.2 else None
                            ),
                            done_through=rng.choice(
                                (None, None, date(2023, 1, 31), date(2023, 2, 28))
                            ),
                            due_override=rng.choice((None, None, None, date(2023, 3, 31))),
                            created_at=_moment(rng, tz) - timedelta(days=rng.choice((0, 30, 31))),
                            active=rng.random() > 0.05,
                        )
                    )


def _one_by_one(session: Session, tz: ZoneInfo) -> tuple[dict[str, Counts], Counter[str]]:
    """What the overview computed before: each active assignment judged on its own."""
    per_plan: dict[str, Counts] = {}
    overdue: Counter[str] = Counter()
    rows = session.exec(
        select(Assignment, Task, Plan, Agency)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .join(Plan, col(Plan.id) == col(Task.plan_id))
        .join(Agency, col(Agency.id) == col(Assignment.agency_id))
        .where(col(Assignment.active), col(Task.active))
    ).all()
    for assignment, task, plan, agency in rows:
        deadline = Deadline.from_dict(task.deadline) if task.deadline else None
        depends_on = deadline.depends_on if deadline else None
        milestone = MILESTONES.get(depends_on) if depends_on else None
        created = assignment.created_at
        for obligation in assess(
            deadline=deadline,
            due_override=assignment.due_override,
            milestone=milestone,
            status=assignment.status,
            done_at=assignment.done_at,
            done_through=assignment.done_through,
            as_of=TODAY,
            tz=tz,
            since=created.astimezone(tz).date() if created else None,
            period_start=PERIOD_START,
        ):
            per_plan.setdefault(plan.code, Counts()).add(obligation.category)
            if obligation.category == Category.OVERDUE:
                overdue[agency.code] += 1
    return per_plan, overdue


@pytest.mark.parametrize("zone", ["Asia/Ho_Chi_Minh", "Europe/Berlin"])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_sql_counts_equal_judging_each_assignment_on_its_own(
    engine: Engine, zone: str, seed: int
) -> None:
    # Berlin has summer time: the local day of a moment then depends on its date.
    tz = ZoneInfo(zone)
    _fill(engine, seed, tz)
    with Session(engine) as session:
        expected, overdue = _one_by_one(session, tz)
        figures = overview_figures(
            session,
            today=TODAY,
            period_start=PERIOD_START,
            tz=tz,
            milestone_for=MILESTONES.get,
        )
        again = overview_figures(
            session,
            today=TODAY,
            period_start=PERIOD_START,
            tz=tz,
            milestone_for=MILESTONES.get,
        )
    assert {code: c.by_category for code, c in figures.per_plan.items()} == {
        code: c.by_category for code, c in expected.items()
    }
    assert sum(overdue.values()) > 0 and len(expected) == 2
    # Plain integers on every backend (PostgreSQL sums as numeric): charts compute with them.
    assert all(type(n) is int for c in figures.per_plan.values() for n in c.by_category.values())
    ranked = figures.ranked(100)
    assert {code: n for (code, _), n in ranked} == dict(overdue)
    assert [n for _, n in ranked] == sorted((n for _, n in ranked), reverse=True)
    # Twice in one transaction: the ranking's temporary table is reused, not duplicated.
    assert again.ranked(100) == ranked


def test_an_empty_store_has_no_figures(engine: Engine) -> None:
    with Session(engine) as session:
        figures = overview_figures(
            session,
            today=TODAY,
            period_start=PERIOD_START,
            tz=ZoneInfo("Asia/Ho_Chi_Minh"),
            milestone_for=None,
        )
    assert figures.per_plan == {} and figures.ranked(15) == []
