"""The office's pages over real HTTP: what a signed-in user reads, and the downloads."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from daemon_support import at, simulate
from fakes.smtp import SmtpSink
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from web_support import ADMIN, Site, log_in, serve_site

from config.settings import BUNDLED_RULES
from dondoc.actions import set_status
from dondoc.models import Assignment, Plan, Task
from dondoc.reports.data import gather
from dondoc.store import session_scope
from dondoc.web.overview_data import overview_figures
from rules.status import Category, Counts

pytest_plugins = ["fakes.fixtures"]


@pytest.fixture
def site(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Site]:
    with serve_site(tmp_path, smtp_sink) as served:
        simulate(served.app, at("2023-01-04"))
        yield served


def test_the_plan_page_shows_each_deadline_as_written_and_as_understood(site: Site) -> None:
    with site.client() as client:
        log_in(client, ADMIN)
        page = client.get("/plans/test")
    assert page.status_code == 200
    assert "Tháng 12/2022" in page.text and "Hạn chót ngày 31/12/2022." in page.text
    assert 'href="/agencies/so-tu-phap">Sở Tư pháp</a> (Chủ trì)' in page.text
    assert "Chưa xác nhận" in page.text


def test_the_agency_page_shows_contacts_tasks_and_the_messages_sent(site: Site) -> None:
    with site.client() as client:
        log_in(client, ADMIN)
        page = client.get("/agencies/so-tu-phap")
        assert client.get("/agencies/khong-co").status_code == 404
    assert "so-tu-phap@tinhmau.example" in page.text
    assert "lanhdao.so-tu-phap@tinhmau.example (lãnh đạo)" in page.text
    assert "Xây dựng kế hoạch số hóa hồ sơ" in page.text
    assert "overdue" in page.text and "sent" in page.text


def test_the_task_page_shows_its_audit_trail(site: Site) -> None:
    with site.client() as client:
        log_in(client, ADMIN)
        page = client.get("/tasks/1")
    assert "Nhật ký" in page.text and "Chưa có đề nghị gia hạn." in page.text


def test_the_late_list_downloads_as_csv_xlsx_and_html(site: Site) -> None:
    with site.client() as client:
        log_in(client, ADMIN)
        page = client.get("/late", params={"month": "2023-01"})
        assert "tháng 01/2023" in page.text and "Chưa giải trình" in page.text
        csv = client.get("/late", params={"month": "2023-01", "format": "csv"})
        xlsx = client.get("/late", params={"month": "2023-01", "format": "xlsx"})
        html = client.get("/late", params={"month": "2023-01", "format": "html"})
        bad = client.get("/late", params={"month": "2023-13"})
    assert csv.headers["content-disposition"].endswith('danh-sach-cham-muon-2023-01.csv"')
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert csv.text.count("so-tu-phap") == 1 and "Chưa giải trình" in csv.text
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert [row[5] for row in sheet.iter_rows(min_row=4, values_only=True)] == [
        "so-noi-vu",
        "so-tu-phap",
    ]
    assert "<svg" in html.text and "Sở Tư pháp" in html.text
    assert bad.status_code == 400


def test_the_rules_page_shows_the_config_its_check_and_a_preview(site: Site) -> None:
    with site.client() as client:
        log_in(client, ADMIN)
        page = client.get("/rules")
    assert "Kiểm tra: hợp lệ." in page.text
    assert "Xem trước" in page.text
    assert str(BUNDLED_RULES) in page.text


def test_the_rules_page_names_the_line_of_a_broken_config(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text(BUNDLED_RULES.read_text(encoding="utf-8"), encoding="utf-8")
    with serve_site(tmp_path, smtp_sink, rules_file=broken) as served:
        broken.write_text("policies: [\n", encoding="utf-8")  # an admin's bad edit
        with served.client() as client:
            log_in(client, ADMIN)
            page = client.get("/rules")
    assert "Kiểm tra: có" in page.text
    assert f"{broken}:" in page.text


def test_the_overview_counts_agree_with_the_reports_on_the_example_plan(
    plan_store: Engine,
) -> None:
    """The overview reads only a few columns for speed; it must judge as the reports do."""
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    now = datetime(2023, 4, 10, 3, 0, tzinfo=UTC)
    with session_scope(plan_store) as session:
        rows = session.exec(select(Assignment).order_by(col(Assignment.id))).all()
        for n, assignment in enumerate(rows[:30]):
            status = ("done", "acknowledged")[n % 2]
            set_status(session, assignment=assignment, status=status, actor="t", now=now)
    today = now.astimezone(tz).date()
    with session_scope(plan_store) as session:
        data = gather(session, period_start=date(2023, 4, 1), period_end=today, now=now, tz=tz)
        figures = overview_figures(
            session, today=today, period_start=date(2023, 4, 1), tz=tz, milestone_for=None
        )
    expected = Counts()
    overdue: Counter[str] = Counter()
    for item in data.items:
        expected.add(item.category)
        if item.category == Category.OVERDUE:
            overdue[item.agency_code] += 1
    assert figures.per_plan["nq131"].by_category == expected.by_category
    assert expected.total > 50 and expected[Category.OVERDUE] > 0
    assert {code: n for (code, _), n in figures.ranked(100)} == dict(overdue)


def test_the_overview_shows_counts_the_late_ranking_and_this_and_next_week(site: Site) -> None:
    with site.client() as client:
        log_in(client, ADMIN)
        page = client.get("/")
    text = page.text
    assert "Tổng quan ngày 04/01/2023" in text
    assert '<td>Chưa hoàn thành, quá hạn</td><td class="num">2</td>' in text
    assert 'data-key="overdue" data-value="2"' in text  # the chart's bar for it
    assert '<a href="/agencies/so-tu-phap">Sở Tư pháp</a></td><td class="num">1</td>' in text
    assert "Đã gửi tuần này (từ 02/01/2023)" in text and "Quá hạn (email): 3" in text
    # The weekly overdue repeats fall due on Monday 9 January.
    assert "Sẽ gửi tuần sau (từ 09/01/2023)" in text
    assert "Quá hạn (email): 3" in text.split("Sẽ gửi tuần sau")[1]


def test_next_weeks_forecast_follows_what_is_written_after_it_was_shown(site: Site) -> None:
    """The forecast is kept between views. After a write the overview does not wait for
    the new one: it shows the figures it has, says they are being updated, and the next
    view after the background refresh shows the new figures."""
    forecasts = site.web.state.web.forecasts
    with site.client() as client:
        log_in(client, ADMIN)
        first = client.get("/").text.split("Sẽ gửi tuần sau")[1]
        again = client.get("/").text.split("Sẽ gửi tuần sau")[1]
        with session_scope(site.app.engine) as session:
            now = site.app.clock.now()
            for assignment in session.exec(select(Assignment)).all():
                set_status(session, assignment=assignment, status="done", actor="t", now=now)
        stale = client.get("/").text.split("Sẽ gửi tuần sau")[1]
        forecasts.wait(timeout=30)
        after = client.get("/").text.split("Sẽ gửi tuần sau")[1]
    assert "Quá hạn (email): 3" in first and again == first
    assert 'data-forecast="updating"' not in first
    assert "Quá hạn (email): 3" in stale and 'data-forecast="updating"' in stale
    assert "Đang cập nhật theo thay đổi mới nhất" in stale
    assert "Quá hạn (email)" not in after and 'data-forecast="updating"' not in after


def test_a_plan_of_many_pages_is_entered_at_any_section(site: Site) -> None:
    """130 tasks in three sections: 50 a page, and an index naming each section's page."""
    with session_scope(site.app.engine) as session:
        plan = Plan(code="dai", title="Kế hoạch dài")
        session.add(plan)
        session.flush()
        for n in range(130):
            section = "I" if n < 40 else "II" if n < 110 else "III"
            session.add(
                Task(
                    plan_id=plan.id or 0,
                    number=str(n + 1),
                    title=f"Nhiệm vụ số {n + 1}",
                    position=n,
                    section_code=section,
                    section_title=f"Phần {section}",
                )
            )
    with site.client() as client:
        log_in(client, ADMIN)
        first = client.get("/plans/dai")
        third = client.get("/plans/dai", params={"page": 3})
        beyond = client.get("/plans/dai", params={"page": 99})
    index = re.findall(r'href="\?page=(\d+)#phan-\d+" data-section="(\w+)"', first.text)
    assert index == [("1", "I"), ("1", "II"), ("3", "III")]
    assert "Trang 1/3" in first.text and ">Nhiệm vụ số 50<" in first.text
    assert ">Nhiệm vụ số 51<" not in first.text
    assert 'id="phan-3"' in third.text and ">Nhiệm vụ số 130<" in third.text
    assert "Trang 3/3" in beyond.text  # past the end: the last page
