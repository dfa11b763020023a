"""Scheduled reports with several daemons on one PostgreSQL: each report run is claimed by
one daemon; the others skip it while it is built and find it queued afterwards."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from daemon_support import VN, at, make_app
from fakes.smtp import SmtpSink
from sqlmodel import select

from config.rules_loader import load_rule_config
from config.settings import BUNDLED_RULES
from dondoc.directory import default_office
from dondoc.models import OutboxMessage
from dondoc.reports.schedule import due_report_jobs
from dondoc.store import session_scope
from scheduler.reports import claim_key, enqueue_due_reports

pytest_plugins = ["fakes.fixtures"]
pytestmark = pytest.mark.postgres


def test_a_report_run_is_claimed_by_one_daemon_and_queued_once(
    tmp_path: Path, smtp_sink: SmtpSink, postgres_url: str
) -> None:
    app = make_app(tmp_path, smtp_sink, store_url=postgres_url, start="2022-11-01")
    bundled = load_rule_config(BUNDLED_RULES)
    # The monthly late list alone, so each figure below is about one report.
    reports = bundled.reports.model_copy(update={"late_list": True, "quarter_report": False})
    config = bundled.model_copy(update={"reports": reports})
    calendar = config.calendar()
    with session_scope(app.engine) as session:
        office = default_office(session)
        assert office is not None
    data_dirs = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]

    def run(now_day: str, data_dir: Path) -> int:
        return enqueue_due_reports(
            app.engine,
            config=config,
            calendar=calendar,
            now=at(now_day, 9),
            data_dir=data_dir,
            office_agency_id=office.id,
        )

    assert run("2022-12-01", data_dirs[0]) == 0  # the first run: nothing older is caught up
    [job] = due_report_jobs(schedule=config.reports, now=at("2023-01-05", 9), tz=VN)
    # Another daemon is building this report right now: it holds the run's claim.
    holder = app.engine.connect()
    try:
        holder.execute(
            sa.text(
                "INSERT INTO daemonstate (key, value, updated_at) "
                "VALUES (:k, '{}', now()) ON CONFLICT DO NOTHING"
            ),
            {"k": claim_key(job)},
        )
        holder.commit()
        holder.execute(
            sa.text("SELECT key FROM daemonstate WHERE key = :k FOR UPDATE"), {"k": claim_key(job)}
        )
        assert run("2023-01-05", data_dirs[1]) == 0  # skipped, not waited on
        assert not (data_dirs[1] / "reports").exists()  # and its files not built twice
    finally:
        holder.rollback()
        holder.close()

    # Three daemons at the same tick: the report is queued once, its files built once.
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda d=d: results.append(run("2023-01-05", d))) for d in data_dirs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with session_scope(app.engine) as session:
        keys = [
            r.key for r in session.exec(select(OutboxMessage).where(OutboxMessage.kind == "report"))
        ]
    assert keys == [f"{job.key}:vp-ubnd:email"]
    assert sorted(results) == [0, 0, 1]
    built = [d for d in data_dirs if (d / "reports").exists()]
    assert len(built) == 1
