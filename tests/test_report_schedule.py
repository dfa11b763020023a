"""Scheduled reports: when they are due, and what goes into the outbox for the daemon."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from report_scenario import (  # noqa: F401 (fixtures)
    TZ,
    at,
    parse_html,
    simulated_db_fixture,
    store_fixture,
)
from sqlalchemy.engine import Engine
from sqlmodel import select

from dondoc.directory import default_office
from dondoc.errors import UserError
from dondoc.models import OutboxMessage
from dondoc.reports.schedule import ReportJob, due_report_jobs, enqueue_report
from dondoc.store import session_scope
from notifiers.render import Renderer
from rules.policy import ReportSchedule


def from_yaml(**values: object) -> ReportSchedule:
    """As the rule config loader builds it from the `reports:` mapping."""
    return ReportSchedule.model_validate(values)


BOTH = from_yaml(late_list=True, quarter_report=True)


def due(schedule: ReportSchedule, now: datetime, since: datetime | None = None) -> list[str]:
    return [job.key for job in due_report_jobs(schedule=schedule, now=now, tz=TZ, since=since)]


def test_nothing_is_scheduled_until_the_rule_config_turns_reports_on() -> None:
    assert due(ReportSchedule(), at(2023, 4, 5, 9)) == []


def test_the_late_list_of_a_month_is_due_on_the_set_day_of_the_next_month() -> None:
    schedule = from_yaml(late_list=True, late_list_day=5, late_list_time="08:00")
    assert due(schedule, at(2023, 4, 5, 7)) == ["report:late:2023-02"]
    assert due(schedule, datetime(2023, 4, 5, 8, 0, tzinfo=TZ)) == ["report:late:2023-03"]
    assert due(schedule, at(2023, 4, 30, 23)) == ["report:late:2023-03"]
    assert due(schedule, at(2023, 1, 6)) == ["report:late:2022-12"]


def test_the_quarterly_report_is_due_before_day_20_of_the_quarter_last_month() -> None:
    schedule = from_yaml(quarter_report=True, quarter_report_day=15)
    assert due(schedule, at(2023, 3, 14, 17)) == ["report:quarter:2022Q4"]
    assert due(schedule, at(2023, 3, 15, 8)) == ["report:quarter:2023Q1"]
    assert due(schedule, at(2023, 5, 1)) == ["report:quarter:2023Q1"]
    assert due(schedule, at(2023, 6, 15, 9)) == ["report:quarter:2023Q2"]
    with pytest.raises(ValueError, match="less than or equal to 19"):
        from_yaml(quarter_report=True, quarter_report_day=20)


def test_the_moment_is_read_in_the_office_time_zone() -> None:
    schedule = from_yaml(late_list=True, late_list_day=1, late_list_time="08:00")
    # 00:30 UTC on 1 April is 07:30 in Hà Nội: not yet; 01:00 UTC is 08:00 there.
    assert due(schedule, datetime(2023, 4, 1, 0, 30, tzinfo=UTC)) == ["report:late:2023-02"]
    assert due(schedule, datetime(2023, 4, 1, 1, 0, tzinfo=UTC)) == ["report:late:2023-03"]


def test_a_new_installation_does_not_open_with_an_old_report() -> None:
    started = at(2023, 4, 20)
    assert due(BOTH, at(2023, 4, 20, 10), since=started) == []
    assert due(BOTH, at(2023, 5, 5, 8), since=started) == ["report:late:2023-04"]


def test_an_unquoted_yaml_time_is_refused_with_how_to_write_it() -> None:
    with pytest.raises(ValueError, match='"08:00"'):
        from_yaml(late_list=True, late_list_time=480)


def late_job(**overrides: object) -> ReportJob:
    [job] = due_report_jobs(
        schedule=from_yaml(late_list=True, **overrides),
        now=at(2023, 5, 5, 9),
        tz=TZ,
    )
    return job


def test_a_due_report_is_built_and_queued_once_for_the_office(
    store: Engine, tmp_path: Path
) -> None:
    job = late_job()
    with session_scope(store) as session:
        office = default_office(session)
        assert office is not None
        added = enqueue_report(
            session, job=job, data_dir=tmp_path, now=at(2023, 5, 5, 9), office_agency_id=office.id
        )
    assert added == 1
    with session_scope(store) as session:
        [row] = session.exec(select(OutboxMessage)).all()
    assert row.key == "report:late:2023-04:vp-ubnd:email"
    assert (row.kind, row.channel, row.template, row.stage) == (
        "report",
        "email",
        "late_report",
        "report",
    )
    assert row.agency_id == office.id
    report = row.context["report"]
    assert (
        report["title"]
        == "Danh sách cơ quan, đơn vị chậm muộn trong thực hiện nhiệm vụ tháng 04/2023"
    )
    assert report["summary"] == {
        "agencies": 2,
        "late": 5,
        "overdue": 4,
        "done_late": 1,
        "explained": 1,
        "missing_explanation": 4,
    }
    assert row.context["recipient"] == {"code": "vp-ubnd", "name": "Văn phòng UBND tỉnh"}
    assert row.context["office"] == {"code": "vp-ubnd", "name": "Văn phòng UBND tỉnh"}

    html_path, csv_path = Path(report["html_path"]), Path(report["csv_path"])
    assert html_path.parent == (tmp_path / "reports").resolve()
    page = parse_html(html_path.read_text(encoding="utf-8"))
    sections = page.find_all("section", class_="agency")
    assert sum(int(s.attrs["data-count"]) for s in sections) == 5
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5
    assert {r["Mã cơ quan"] for r in rows} == {"so-tu-phap", "so-khcn"}

    # Asked again at the next tick: nothing new, and the files are not rebuilt.
    html_path.unlink()
    with session_scope(store) as session:
        again = enqueue_report(
            session, job=job, data_dir=tmp_path, now=at(2023, 5, 5, 9), office_agency_id=office.id
        )
    assert again == 0
    assert not html_path.exists()


def test_each_named_recipient_gets_its_own_row(store: Engine, tmp_path: Path) -> None:
    [job] = due_report_jobs(
        schedule=from_yaml(quarter_report=True, to=["office", "so-noi-vu"], plan="nq131"),
        now=at(2023, 3, 16),
        tz=TZ,
    )
    with session_scope(store) as session:
        office = default_office(session)
        added = enqueue_report(
            session,
            job=job,
            data_dir=tmp_path,
            now=at(2023, 3, 16),
            office_agency_id=office.id if office else None,
        )
        keys = sorted(row.key for row in session.exec(select(OutboxMessage)).all())
    assert added == 2
    assert keys == [
        "report:quarter:2023Q1:nq131:so-noi-vu:email",
        "report:quarter:2023Q1:nq131:vp-ubnd:email",
    ]
    assert (tmp_path / "reports" / "bao-cao-quy-2023Q1-nq131.html").exists()
    assert (tmp_path / "reports" / "bao-cao-quy-2023Q1-nq131.csv").exists()


def test_an_unknown_recipient_is_named_and_nothing_is_queued(store: Engine, tmp_path: Path) -> None:
    job = late_job(to=["so-khong-co"])
    with session_scope(store) as session, pytest.raises(UserError, match="'so-khong-co'"):
        enqueue_report(
            session, job=job, data_dir=tmp_path, now=at(2023, 5, 5, 9), office_agency_id=None
        )
    with session_scope(store) as session:
        assert session.exec(select(OutboxMessage)).all() == []
    assert not (tmp_path / "reports").exists()


def test_the_queued_report_renders_as_a_vietnamese_email_with_its_figures(
    store: Engine, tmp_path: Path
) -> None:
    job = late_job()
    with session_scope(store) as session:
        office = default_office(session)
        enqueue_report(
            session,
            job=job,
            data_dir=tmp_path,
            now=at(2023, 5, 5, 9),
            office_agency_id=office.id if office else None,
        )
        [row] = session.exec(select(OutboxMessage)).all()
    # The channels' templates are the peer that turns this row into the email.
    mail = Renderer().render(row.template, items=[row.context], locale="vi", today=date(2023, 5, 5))
    assert mail.subject == (
        "[Báo cáo] Danh sách cơ quan, đơn vị chậm muộn trong thực hiện nhiệm vụ tháng 04/2023"
    )
    assert "Kính gửi: Văn phòng UBND tỉnh" in mail.text
    assert "tháng 04/2023" in mail.text
    assert "Chưa có giải trình: 4" in mail.text
    assert "Số nhiệm vụ chậm: 5" in mail.text
