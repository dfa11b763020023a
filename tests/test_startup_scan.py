"""Start-up reads only what is due: no statement on the way to the first good tick scans
the assignments or the messages whole, and the start summary's "next reminder" comes
from the index, yet says what a full evaluation would.

The 1M figure itself is in bench/bench_startup.py; here a 20k store and SQLite's own
query plans make a full scan fail the test whatever the machine's speed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from daemon_support import at, make_app, simulate
from fakes.smtp import SmtpSink
from sqlmodel import col, select

from bench.startup_store import build
from config.settings import load_settings
from dondoc.app import App
from dondoc.evaluation import load_states
from dondoc.models import Assignment
from dondoc.store import session_scope
from rules.evaluate import evaluate
from scheduler import reevaluation
from scheduler.summary import next_due_moment

pytest_plugins = ["fakes.fixtures"]

BIG_TABLES = {"assignment", "outbox", "message_context", "deliveryattempt", "auditentry"}
STORE = 20_000


def _scanned(db: sqlite3.Connection, statement: str, parameters: Any) -> set[str]:
    """The big tables SQLite's plan reads whole (`SCAN t`, a covering index included)."""
    if not re.match(r"\s*(SELECT|UPDATE|DELETE|INSERT|WITH)\b", statement, re.IGNORECASE):
        return set()
    aliases = {b: a for a, b in re.findall(r"\b(\w+) AS (\w+)", statement) if a in BIG_TABLES}
    plan = db.execute(f"EXPLAIN QUERY PLAN {statement}", parameters or ()).fetchall()
    found = set()
    for *_, detail in plan:
        match = re.match(r"SCAN (\w+)", str(detail))
        if match:
            table = aliases.get(match.group(1), match.group(1))
            if table in BIG_TABLES:
                found.add(table)
    return found


async def _until_first_good_tick_and_summary(
    app: App, caplog: pytest.LogCaptureFixture
) -> datetime:
    daemon = app.build_daemon()
    running = asyncio.ensure_future(daemon.run())
    deadline = time.monotonic() + 120
    summary = False
    while time.monotonic() < deadline and not (daemon.last_good_tick and summary):
        await asyncio.sleep(0.05)
        summary = any(r.getMessage().startswith("dondoc bắt đầu") for r in caplog.records)
        if running.done():
            running.result()
    daemon.request_stop()
    await running
    if daemon.last_good_tick is None or not summary:
        raise AssertionError("no good tick and start summary within 120 s")
    return daemon.last_good_tick


def test_start_up_to_the_first_good_tick_scans_no_big_table_whole(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "data" / "dondoc.db"
    url = f"sqlite:///{database}"
    build(url, assignments=STORE, data_dir=tmp_path / "data", now=datetime.now(UTC))
    app = App(settings=load_settings(data_dir=tmp_path / "data", database_url=url, http_port=0))
    seen: list[tuple[bool, str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, _x: Any, many: bool) -> None:
        first = parameters[0] if many and parameters else parameters
        main = threading.current_thread() is threading.main_thread()
        seen.append((main, statement, first))

    sa.event.listen(app.engine, "before_cursor_execute", record)
    with caplog.at_level(logging.INFO, logger="dondoc.daemon"):
        asyncio.run(_until_first_good_tick_and_summary(app, caplog))
    app.close()
    with sqlite3.connect(database) as db:
        scans = [(main, s, _scanned(db, s, p)) for main, s, p in seen]
    scans = [(main, s, tables) for main, s, tables in scans if tables]
    # The start summary's count of what is tracked reads one index whole, on a thread of
    # its own while the first tick runs; nothing else may.
    assert [(main, tables) for main, _, tables in scans] == [(False, {"assignment"})]
    assert "count(*)" in scans[0][1].lower()
    assert len(seen) < 200, len(seen)  # a few statements, not one per assignment


def _brute_force(app: App, now: datetime) -> datetime | None:
    """The earliest reminder moment by evaluating every assignment, as start-up used to."""
    daemon = app.build_daemon()
    earliest = None
    with session_scope(app.engine) as session:
        ids = [i for i in session.exec(select(Assignment.id)).all() if i is not None]
        for _c, state, _n, policy in load_states(session, assignment_ids=ids, config=daemon.config):
            result = evaluate(state, policy, now, config=daemon.config)
            moment = now if result.reminders else result.next_at
            if moment is not None and (earliest is None or moment < earliest):
                earliest = moment
    return earliest


@pytest.mark.parametrize("day", ["2022-11-02", "2022-12-18", "2023-01-20"])
def test_the_next_reminder_from_the_index_is_what_evaluating_everything_says(
    tmp_path: Path, smtp_sink: SmtpSink, store_url: str, day: str
) -> None:
    app = make_app(tmp_path, smtp_sink, store_url=store_url)
    simulate(app, at(day))  # every next_due_at now computed under the rules in force
    later = at(day, 9)
    config = app.build_daemon().config
    with session_scope(app.engine) as session:
        found = next_due_moment(session, config=config, now=later, engine=app.engine)
    assert found == (_brute_force(app, later), True)


def test_while_a_pass_is_pending_the_rows_it_has_not_reached_are_evaluated_or_not_guessed(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    app = make_app(tmp_path, smtp_sink)
    simulate(app, at("2022-11-02"))
    with session_scope(app.engine) as session:  # stale values a new pass must not trust
        for assignment in session.exec(select(Assignment)).all():
            assignment.next_due_at = at("2031-01-01")
            session.add(assignment)
    now = at("2022-11-03")
    reevaluation.require(app.engine, version="edited", now=now)
    config = app.build_daemon().config
    with session_scope(app.engine) as session:
        stale = len(session.exec(select(Assignment.id).where(col(Assignment.active))).all())
        exact = next_due_moment(session, config=config, now=now, engine=app.engine)
        over = next_due_moment(session, config=config, now=now, engine=app.engine, budget=stale - 1)
    assert exact == (_brute_force(app, now), True)
    assert exact[0] is not None and exact[0] < at("2031-01-01")
    assert over == (None, False)  # more than the budget left: said, not guessed
