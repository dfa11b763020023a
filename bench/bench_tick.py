"""One daemon tick at 100, 10k and 100k assignments, with nothing due and with 1% due.

The tick finds due work through the indexed `next_due_at` column, so a tick with nothing
due should cost about the same at any size (target: the 100k one at most 2x the 100 one).
A real SQLite file, the bundled rules and the real tick; figures are medians of a few runs
and the ratios compare sizes within this one run (the machine's noise cancels out).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from config.rules_loader import load_rule_config
from config.settings import BUNDLED_RULES
from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.models import Agency, Assignment, OutboxMessage, Plan, Task
from dondoc.store import make_engine, migrate, session_scope
from rules.deadline import parse_deadline
from scheduler.tick import run_tick

SIZES = (100, 10_000, 100_000)
RUNS = 5
NOW = datetime(2022, 12, 20, 1, 0, tzinfo=UTC)


def build_store(path: Path, assignments: int) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
        agency_ids = list(session.exec(select(Agency.id).order_by(col(Agency.id))).all())
        plan = Plan(code="bench", title="bench", owner_agency_id=agency_ids[0])
        session.add(plan)
        session.flush()
        plan_id = plan.id
    per_task = len(agency_ids) - 1
    tasks = -(-assignments // per_task)
    deadline = parse_deadline("Tháng 12/2022").to_dict()
    later = NOW + timedelta(days=3650)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Task.__table__),  # type: ignore[attr-defined]
            [
                {
                    "plan_id": plan_id,
                    "number": str(n),
                    "title": f"Nhiệm vụ {n}",
                    "position": n,
                    "deadline_text": "Tháng 12/2022",
                    "deadline": deadline,
                    "tags": [],
                    "active": True,
                }
                for n in range(1, tasks + 1)
            ],
        )
        task_ids = [row[0] for row in conn.execute(sa.text("SELECT id FROM task ORDER BY id"))]
        rows: list[dict[str, object]] = []
        for task_id in task_ids:
            for agency_id in agency_ids[1:]:
                if len(rows) == assignments:
                    break
                rows.append(
                    {
                        "task_id": task_id,
                        "agency_id": agency_id,
                        "role": "lead",
                        "status": "open",
                        "next_due_at": later,
                        "active": True,
                        "created_at": NOW - timedelta(days=60),
                    }
                )
        conn.execute(sa.insert(Assignment.__table__), rows)  # type: ignore[attr-defined]
    return engine


def _reset(engine: Engine, due: int) -> None:
    """Make the first `due` assignments due now and forget what earlier runs queued."""
    table = Assignment.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(sa.delete(OutboxMessage.__table__))  # type: ignore[attr-defined]
        conn.execute(sa.update(table).values(next_due_at=NOW + timedelta(days=3650)))
        if due:
            ids = sa.select(table.c.id).order_by(table.c.id).limit(due).scalar_subquery()
            conn.execute(sa.update(table).where(table.c.id.in_(ids)).values(next_due_at=NOW))


def time_tick(engine: Engine, due: int) -> tuple[float, int]:
    config = load_rule_config(BUNDLED_RULES)
    calendar = config.calendar()
    samples = []
    evaluated = 0
    for _ in range(RUNS):
        _reset(engine, due)
        started = time.perf_counter()
        result = run_tick(engine, config=config, calendar=calendar, now=NOW, channels={"email"})
        samples.append(time.perf_counter() - started)
        evaluated = result.evaluated
    return statistics.median(samples), evaluated


def main() -> None:
    print("Tick benchmark (SQLite file, median of", RUNS, "runs)")
    print(f"{'assignments':>12} {'nothing due':>14} {'1% due':>14} {'evaluated':>10}")
    idle: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            engine = build_store(Path(tmp) / f"bench-{size}.db", size)
            idle[size], _ = time_tick(engine, 0)
            busy, evaluated = time_tick(engine, max(1, size // 100))
            print(
                f"{size:>12,} {idle[size] * 1000:>11.2f} ms {busy * 1000:>11.2f} ms "
                f"{evaluated:>10,}"
            )
            engine.dispose()
    base = idle[SIZES[0]]
    for size in SIZES[1:]:
        ratio = idle[size] / base
        verdict = "ok" if ratio <= 2 else "OVER TARGET"
        print(f"nothing due, {size:,} vs {SIZES[0]}: {ratio:.2f}x (target <= 2x: {verdict})")


if __name__ == "__main__":
    main()
