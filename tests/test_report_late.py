"""The monthly late list, built from a simulated run of the example plan and read back."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date

import pytest
from report_scenario import (  # noqa: F401 (fixtures)
    EXPLANATION_13,
    TZ,
    at,
    explain,
    parse_html,
    simulate,
    simulated_db_fixture,
    store_fixture,
)
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from dondoc.models import Agency, Assignment, Task
from dondoc.reports.late import LateReport, build_late_report
from dondoc.reports.periods import parse_month
from dondoc.reports.render_html import render_late_html
from dondoc.reports.tables import late_csv, late_markdown
from dondoc.store import session_scope

GENERATED = at(2023, 5, 2)


def late_list(engine: Engine, month: str, plan: str | None = None) -> LateReport:
    with session_scope(engine) as session:
        return build_late_report(
            session, period=parse_month(month), now=GENERATED, tz=TZ, plan=plan
        )


def rows_of(report: LateReport) -> set[tuple[str, str, str, int, bool]]:
    return {
        (
            item.agency_code,
            item.task_number,
            str(item.category),
            item.obligation.days_late,
            item.explanation is not None,
        )
        for item in report.items
    }


def test_the_april_list_names_each_late_item_with_its_days_late_and_explanation(
    engine: Engine,
) -> None:
    simulate(engine)  # on each backend the store supports
    report = late_list(engine, "2023-04")
    assert rows_of(report) == {
        ("so-tu-phap", "1", "overdue", 120, False),
        ("so-tu-phap", "8", "overdue", 120, False),
        ("so-tu-phap", "3", "overdue", 30, False),  # the Q1 report never came
        ("so-khcn", "13", "overdue", 30, True),
        ("so-khcn", "14", "done_late", 10, False),
    }
    assert [a.code for a in report.agencies] == ["so-tu-phap", "so-khcn"]
    assert report.summary() == {
        "agencies": 2,
        "late": 5,
        "overdue": 4,
        "done_late": 1,
        "explained": 1,
        "missing_explanation": 4,
    }


def test_a_task_finished_late_is_listed_in_the_month_it_was_finished_only(store: Engine) -> None:
    january = rows_of(late_list(store, "2023-01"))
    assert ("so-noi-vu", "1", "done_late", 10, False) in january
    assert ("so-tu-phap", "1", "overdue", 31, False) in january
    assert not any(row[0] == "so-noi-vu" for row in rows_of(late_list(store, "2023-02")))


def test_a_task_is_not_late_on_its_due_day(store: Engine) -> None:
    march = rows_of(late_list(store, "2023-03"))
    assert not any(row[1] in ("13", "14") for row in march)


def test_the_overdue_count_matches_the_store(store: Engine) -> None:
    # Independent of the report code: one-off tasks due before 30 April and not done by
    # then, counted straight from the tables.
    as_of = date(2023, 4, 30)
    with session_scope(store) as session:
        rows = session.exec(
            select(Assignment, Task, Agency)
            .join(Task, col(Task.id) == Assignment.task_id)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(col(Assignment.active), col(Task.active))
        ).all()
    expected: Counter[str] = Counter()
    for assignment, task, agency in rows:
        deadline = task.deadline or {}
        if deadline.get("kind") != "once":
            continue
        due = date.fromisoformat(deadline["due"])
        done = assignment.done_at.astimezone(TZ).date() if assignment.done_at else None
        if due < as_of and (done is None or done > as_of):
            expected[agency.code] += 1
    report = late_list(store, "2023-04")
    overdue_once = Counter(
        item.agency_code
        for item in report.items
        if item.category == "overdue" and not item.obligation.recurring
    )
    assert overdue_once == expected


def test_the_html_list_is_published_in_vietnamese_with_a_chart_matching_the_counts(
    store: Engine,
) -> None:
    report = late_list(store, "2023-04")
    page = parse_html(render_late_html(report, tz=TZ, office_name="Văn phòng UBND tỉnh"))
    [h1] = page.find_all("h1")
    assert h1.text == "Danh sách cơ quan, đơn vị chậm muộn trong thực hiện nhiệm vụ"
    assert "Tháng 04/2023" in page.text
    assert "Cộng hòa xã hội chủ nghĩa Việt Nam" in page.text
    [html] = page.find_all("html")
    assert html.attrs["lang"] == "vi"

    sections = {s.attrs["data-agency"]: s for s in page.find_all("section", class_="agency")}
    assert {code: int(s.attrs["data-count"]) for code, s in sections.items()} == {
        "so-tu-phap": 3,
        "so-khcn": 2,
    }
    for code, section in sections.items():
        rows = [r for r in section.find_all("tr") if r.has_class("late-item")]
        assert len(rows) == int(section.attrs["data-count"])
        assert all(r.attrs["data-agency"] == code for r in rows)

    bars = [r for r in page.find_all("rect") if r.has_class("bar")]
    assert {b.attrs["data-agency"]: int(b.attrs["data-count"]) for b in bars} == {
        "so-tu-phap": 3,
        "so-khcn": 2,
    }
    # Bar lengths are proportional to the counts, and each bar says its count.
    [svg] = page.find_all("svg")
    unit = float(svg.attrs["data-unit"])
    assert unit > 0
    for bar in bars:
        assert float(bar.attrs["width"]) == pytest.approx(int(bar.attrs["data-count"]) * unit)
    widths = {b.attrs["data-agency"]: float(b.attrs["width"]) for b in bars}
    assert widths["so-khcn"] / widths["so-tu-phap"] == pytest.approx(2 / 3)
    assert [b.find_all("title")[0].text for b in bars] == [
        "Sở Tư pháp: 3",
        "Sở Thông tin và Truyền thông: 2",
    ]

    explained = [
        r
        for r in page.find_all("tr")
        if r.has_class("late-item") and r.attrs["data-explained"] == "yes"
    ]
    assert [r.attrs["data-task"] for r in explained] == ["nq131/13"]
    assert "Đã giải trình" in explained[0].text
    assert EXPLANATION_13 in explained[0].text
    assert page.text.count("Chưa giải trình") == 4
    summary = {
        td.attrs["data-key"]: int(td.text) for td in page.find_all("td") if "data-key" in td.attrs
    }
    assert summary == report.summary()


def test_the_csv_reads_back_to_the_same_items(store: Engine) -> None:
    report = late_list(store, "2023-04")
    rows = list(csv.DictReader(io.StringIO(late_csv(report, tz=TZ))))
    assert len(rows) == 5
    read_back = {
        (
            r["Mã cơ quan"],
            r["STT"],
            r["Mã tình trạng"],
            int(r["Số ngày chậm"]),
            r["Giải trình"] == "Đã giải trình",
        )
        for r in rows
    }
    assert read_back == rows_of(report)
    [row_13] = [r for r in rows if r["STT"] == "13"]
    assert row_13["Hạn hoàn thành"] == "2023-03-31"
    assert row_13["Nội dung giải trình"] == EXPLANATION_13
    assert row_13["Tình trạng"] == "Chưa hoàn thành, quá hạn"
    [row_14] = [r for r in rows if r["STT"] == "14"]
    assert row_14["Ngày hoàn thành"] == "2023-04-10"


def test_the_markdown_list_has_one_table_per_agency(store: Engine) -> None:
    text = late_markdown(late_list(store, "2023-04"), tz=TZ)
    assert text.startswith(
        "# Danh sách cơ quan, đơn vị chậm muộn trong thực hiện nhiệm vụ tháng 04/2023\n"
    )
    assert "## 1. Sở Tư pháp — 3 nhiệm vụ chậm muộn" in text
    assert "## 2. Sở Thông tin và Truyền thông — 2 nhiệm vụ chậm muộn" in text
    assert text.count("**Chưa giải trình**") == 4


def test_a_month_with_nobody_late_says_so(store: Engine) -> None:
    report = late_list(store, "2022-11")
    assert report.agencies == []
    page = parse_html(render_late_html(report, tz=TZ))
    assert "Không có cơ quan, đơn vị nào chậm muộn trong tháng 11/2022." in page.text
    assert page.find_all("svg") == []


def test_task_text_with_markup_is_shown_literally(store: Engine) -> None:
    with session_scope(store) as session:
        task = session.exec(select(Task).where(Task.number == "13")).one()
        task.title = "Hợp nhất <script>alert(1)</script> {{ config }}"
        session.add(task)
    html = render_late_html(late_list(store, "2023-04"), tz=TZ)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ config }}" in html


def test_an_explanation_answers_only_for_occurrences_after_the_previous_one(
    store: Engine,
) -> None:
    def task_3_explained() -> bool:
        [item] = [i for i in late_list(store, "2023-04").items if i.task_number == "3"]
        return item.explanation is not None

    with session_scope(store) as session:
        explain(session, "3", "so-tu-phap", "Về báo cáo quý IV/2022.", at(2022, 12, 30))
    assert not task_3_explained()  # written before the Q1 cycle began
    with session_scope(store) as session:
        explain(session, "3", "so-tu-phap", "Báo cáo quý I chậm do thiếu số liệu.", at(2023, 4, 2))
    assert task_3_explained()


def test_an_explanation_received_after_publication_is_not_shown(store: Engine) -> None:
    with session_scope(store) as session:
        explain(session, "1", "so-tu-phap", "Đang hoàn thiện.", at(2023, 5, 20))
    published = {i.task_number: i.explanation for i in late_list(store, "2023-04").items}
    assert published["1"] is None  # the list was made on 2 May
