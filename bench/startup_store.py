"""A store of many assignments with nothing due, built fast and kept between runs.

The rows are written through the DBAPI (one `executemany` of tuples on SQLite, COPY on
PostgreSQL), not through the ORM: a million assignments take seconds rather than
minutes. A built SQLite store is kept under the temporary directory, keyed by
`STORE_VERSION`, the schema head and its size, and copied for each run (a run changes
it). Deadlines and `next_due_at` lie in the coming year from the real clock, because
`dondoc run` runs on it; a cached store whose earliest `next_due_at` has come is rebuilt.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from config.settings import BUNDLED_RULES, ensure_secret_key, load_settings
from dondoc.daemon_state import put_state
from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.models import Agency, Plan, Task
from dondoc.store import _alembic_config, make_engine, migrate, session_scope
from rules.deadline import parse_deadline
from scheduler import reevaluation

# Change when what the builder writes changes: cached stores of another version are unused.
STORE_VERSION = "startup-store-2"
CACHE = Path(tempfile.gettempdir()) / "dondoc-bench-startup"
# A cached store is used while nothing in it falls due within this margin.
MARGIN = timedelta(hours=6)
_CHUNK = 50_000
_TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy keeps a DateTime in SQLite


def _head() -> str:
    engine = make_engine("sqlite://")
    try:
        return str(ScriptDirectory.from_config(_alembic_config(engine)).get_current_head())
    finally:
        engine.dispose()


def _months(now: datetime) -> list[tuple[str, datetime]]:
    """(deadline text, first day) for each of the twelve months starting two months on,
    so the first stage (two weeks ahead) is never due today."""
    out = []
    year, month = now.year, now.month
    for step in range(2, 14):
        m = (month - 1 + step) % 12 + 1
        y = year + (month - 1 + step) // 12
        out.append((f"Tháng {m}/{y}", datetime(y, m, 1, tzinfo=UTC)))
    return out


def _assignment_rows(
    *, task_ids: list[tuple[int, datetime]], agency_ids: list[int], count: int, now: datetime
) -> Iterator[tuple[object, ...]]:
    """(task_id, agency_id, role, status, next_due_at, active, created_at), `count` of them:
    each task's agencies in turn, next_due_at some time before its month (the reminders
    two weeks and a week ahead), never before `now` + a day."""
    rng = random.Random(count)
    created = now - timedelta(days=60)
    made = 0
    for task_id, month in task_ids:
        for agency_id in agency_ids:
            if made == count:
                return
            earliest = max(now + timedelta(days=1), month - timedelta(days=21))
            due = earliest + timedelta(seconds=rng.uniform(0, 14 * 86_400))
            yield (task_id, agency_id, "lead", "open", due, True, created)
            made += 1


def _insert_tasks(engine: Engine, *, count: int, plan_id: int, now: datetime) -> list[int]:
    months = _months(now)
    deadlines = [(text, parse_deadline(text).to_dict()) for text, _ in months]
    rows = [
        {
            "plan_id": plan_id,
            "number": str(n),
            "title": f"Nhiệm vụ {n}",
            "position": n,
            "deadline_text": deadlines[n % 12][0],
            "deadline": deadlines[n % 12][1],
            "tags": [],
            "active": True,
        }
        for n in range(1, count + 1)
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(Task.__table__), rows)  # type: ignore[attr-defined]
        return [row[0] for row in conn.execute(sa.text("SELECT id FROM task ORDER BY id"))]


def build(url: str, *, assignments: int, data_dir: Path, now: datetime) -> None:
    """Migrate, load the bundled directory, one plan of `assignments` assignments, and the
    rules' version as a finished pass (a restart under the rules in force)."""
    engine = make_engine(url)
    try:
        migrate(engine)
        ensure_secret_key(load_settings(data_dir=data_dir))  # the web app starts too
        with session_scope(engine) as session:
            load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
            agencies = [a for a in session.exec(select(Agency.id).order_by(col(Agency.id))).all()]
            plan = Plan(code="bench", title="bench", owner_agency_id=agencies[0])
            session.add(plan)
            session.flush()
            plan_id = int(plan.id or 0)
        per_task = [a for a in agencies[1:] if a is not None]
        task_ids = _insert_tasks(
            engine, count=-(-assignments // len(per_task)), plan_id=plan_id, now=now
        )
        months = [m for _, m in _months(now)]
        tasks = [(task_id, months[n % 12]) for n, task_id in enumerate(task_ids, start=1)]
        rows = _assignment_rows(task_ids=tasks, agency_ids=per_task, count=assignments, now=now)
        _copy_assignments(engine, rows)
        version = reevaluation.rules_version(reevaluation.rules_digest(BUNDLED_RULES))
        state = {"version": version, "after_id": assignments, "done": True}
        with session_scope(engine) as session:
            put_state(session, reevaluation.STATE_KEY, state, now=now)
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("ANALYZE"))
    finally:
        engine.dispose()


def _copy_assignments(engine: Engine, rows: Iterator[tuple[object, ...]]) -> None:
    columns = "task_id, agency_id, role, status, next_due_at, active, created_at"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY assignment ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            chunk: list[tuple[object, ...]] = []
            statement = f"INSERT INTO assignment ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)"
            for task_id, agency_id, role, status, due, active, created in rows:
                due_text, created_text = _sqlite_ts(due), _sqlite_ts(created)
                chunk.append((task_id, agency_id, role, status, due_text, active, created_text))
                if len(chunk) == _CHUNK:
                    cursor.executemany(statement, chunk)
                    chunk.clear()
            if chunk:
                cursor.executemany(statement, chunk)
        raw.commit()
    finally:
        raw.close()


def _sqlite_ts(moment: object) -> str:
    if not isinstance(moment, datetime):
        raise TypeError(f"a datetime was expected, got {moment!r}")
    return moment.astimezone(UTC).replace(tzinfo=None).strftime(_TS)


def earliest_due(url: str) -> datetime | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            value = conn.execute(
                sa.text("SELECT min(next_due_at) FROM assignment WHERE active")
            ).scalar()
    finally:
        engine.dispose()
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def sqlite_store(*, assignments: int, into: Path, now: datetime) -> tuple[Path, float | None]:
    """A fresh copy of the cached store at `into`/data; the seconds spent building it
    (None when the cache served)."""
    cached = CACHE / f"{STORE_VERSION}-{_head()}-{assignments}"
    database = cached / "dondoc.db"
    built: float | None = None
    complete = cached / "complete"  # written last: a build cut short is not used
    usable = complete.exists() and (earliest_due(f"sqlite:///{database}") or now) > now + MARGIN
    if not usable:
        shutil.rmtree(cached, ignore_errors=True)
        cached.mkdir(parents=True)
        started = time.perf_counter()
        build(f"sqlite:///{database}", assignments=assignments, data_dir=cached, now=now)
        built = time.perf_counter() - started
        complete.write_text(STORE_VERSION, encoding="utf-8")
    data = into / "data"
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(cached, data)
    return data / "dondoc.db", built
