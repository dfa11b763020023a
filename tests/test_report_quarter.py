"""The quarterly report, built from a simulated run of the example plan and read back."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from openpyxl import load_workbook
from report_scenario import (  # noqa: F401 (fixtures)
    EXPLANATION_13,
    TZ,
    at,
    parse_html,
    simulated_db_fixture,
    store_fixture,
)
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from dondoc.models import Assignment, Task
from dondoc.reports.periods import parse_quarter
from dondoc.reports.quarter import QuarterReport, build_quarter_report
from dondoc.reports.render_html import render_quarter_html
from dondoc.reports.tables import quarter_csv
from dondoc.reports.xlsx import quarter_xlsx
from dondoc.store import session_scope

GENERATED = at(2023, 7, 3)
# By task, as the lead agencies stand on 31 March 2023 (see report_scenario).
Q1_TASKS = {
    "done_on_time": ["5", "9"],
    "done_late": [],
    "in_time": ["3", "6", "13", "14", "18", "22", "23", "24", "26"],
    "overdue": ["1", "8"],
    "ongoing": ["2", "4", "7", "10", "12", "16", "17", "19", "20", "25", "28"],
    "external": ["11", "15", "21", "27"],
    "event": [],
    "undated": [],
}


def quarter(engine: Engine, text: str) -> QuarterReport:
    with session_scope(engine) as session:
        return build_quarter_report(session, period=parse_quarter(text), now=GENERATED, tz=TZ)


def test_each_task_falls_in_the_category_of_its_lead_agencies(store: Engine) -> None:
    report = quarter(store, "2023Q1")
    by_category: dict[str, list[str]] = {}
    for task in report.tasks:
        by_category.setdefault(str(task.category), []).append(task.number)
    assert {k: v for k, v in Q1_TASKS.items() if v} == by_category
    assert report.task_counts.to_dict()["total"] == 28


def test_the_second_quarter_sees_the_late_completions_and_what_is_still_open(
    store: Engine,
) -> None:
    report = quarter(store, "2023Q2")
    category = {task.number: str(task.category) for task in report.tasks}
    assert category["13"] == "overdue"
    assert category["14"] == "done_late"
    assert category["1"] == "overdue"
    # Sở Tư pháp still owes the Q1 report; the Q2 one is due on the report's last day.
    assert category["3"] == "overdue"
    assert category["18"] == "in_time"  # Quý II/2023: due 30/06, the day the report counts to
    assert category["24"] == "overdue"  # Tháng 5/2023


def test_agency_counts_cover_every_assignment_in_the_store(store: Engine) -> None:
    report = quarter(store, "2023Q1")
    with session_scope(store) as session:
        assignments = session.exec(
            select(func.count(col(Assignment.id)))
            .join(Task, col(Task.id) == Assignment.task_id)
            .where(col(Assignment.active), col(Task.active))
        ).one()
        tasks = session.exec(select(func.count(col(Task.id))).where(col(Task.active))).one()
    assert report.assignment_counts.total == assignments
    assert report.task_counts.total == tasks
    tu_phap = next(row for row in report.agencies if row.code == "so-tu-phap")
    assert tu_phap.counts["overdue"] == 2  # tasks 1 and 8
    assert report.agencies[0].code == "so-tu-phap"  # the most late first


def test_the_html_report_counts_match_the_report_per_section_and_agency(store: Engine) -> None:
    report = quarter(store, "2023Q1")
    page = parse_html(render_quarter_html(report, tz=TZ))
    [h1] = page.find_all("h1")
    assert h1.text == "Báo cáo tình hình thực hiện nhiệm vụ quý I/2023"
    assert "Số liệu tính đến hết ngày 31/03/2023" in page.text

    totals = {
        row.attrs["data-category"]: int(
            row.find_all("td")[1].text if row.find_all("td") else row.find_all("th")[1].text
        )
        for row in page.find_all("table", class_="totals")[0].find_all("tr")
        if "data-category" in row.attrs
    }
    assert totals == {k: len(v) for k, v in Q1_TASKS.items()} | {"total": 28}

    section_rows = [r for r in page.find_all("tr") if r.has_class("section-row")]
    assert [r.attrs["data-section"] for r in section_rows] == ["I", "II", "III", "IV", "V"]
    section_totals = [int(r.find_all("td", data_category="total")[0].text) for r in section_rows]
    assert section_totals == [4, 3, 14, 5, 2]
    assert sum(section_totals) == 28
    overdue_by_section = {
        r.attrs["data-section"]: int(r.find_all("td", data_category="overdue")[0].text)
        for r in section_rows
    }
    assert overdue_by_section == {"I": 1, "II": 0, "III": 1, "IV": 0, "V": 0}

    agency_rows = {
        r.attrs["data-agency"]: r for r in page.find_all("tr") if r.has_class("agency-row")
    }
    for row in report.agencies:
        cells = agency_rows[row.code]
        for category, n in row.counts.by_category.items():
            assert int(cells.find_all("td", data_category=str(category))[0].text) == n

    bars = [r for r in page.find_all("rect") if r.has_class("bar")]
    expected = {row.code: row.counts.late for row in report.agencies if row.counts.late}
    assert {b.attrs["data-agency"]: int(b.attrs["data-count"]) for b in bars} == expected


def test_the_lists_behind_the_counts_show_late_agencies_and_explanations(store: Engine) -> None:
    report = quarter(store, "2023Q2")
    page = parse_html(render_quarter_html(report, tz=TZ))
    overdue_tasks = [
        t
        for t in page.find_all("tr")
        if t.has_class("task") and t.attrs["data-category"] == "overdue"
    ]
    assert "nq131/13" in [t.attrs["data-task"] for t in overdue_tasks]
    [task_13] = [t for t in overdue_tasks if t.attrs["data-task"] == "nq131/13"]
    [late] = [li for li in task_13.find_all("li") if li.has_class("late-item")]
    assert late.attrs == late.attrs | {"data-agency": "so-khcn", "data-explained": "yes"}
    assert EXPLANATION_13 in late.text
    [task_1] = [t for t in overdue_tasks if t.attrs["data-task"] == "nq131/1"]
    late_1 = [li for li in task_1.find_all("li") if li.has_class("late-item")]
    # Cumulative, as the Government Office counts: finished late stays late.
    assert [(li.attrs["data-agency"], li.attrs["data-explained"]) for li in late_1] == [
        ("so-noi-vu", "no"),
        ("so-tu-phap", "no"),
    ]
    assert "Chưa giải trình" in late_1[0].text


def test_the_csv_reads_back_to_the_task_counts(store: Engine) -> None:
    report = quarter(store, "2023Q1")
    rows = list(csv.DictReader(io.StringIO(quarter_csv(report, tz=TZ))))
    task_category = {(r["Kế hoạch"], r["STT"]): r["Mã tình trạng nhiệm vụ"] for r in rows}
    counted = Counter(task_category.values())
    assert counted == Counter({k: len(v) for k, v in Q1_TASKS.items() if v})
    assert len({r["Mã cơ quan"] + "/" + r["STT"] + "/" + r["Vai trò"] for r in rows}) == (
        report.assignment_counts.total
    )


def test_the_workbook_has_totals_agencies_and_the_full_list(store: Engine, tmp_path: Path) -> None:
    report = quarter(store, "2023Q1")
    path = tmp_path / "q1.xlsx"
    path.write_bytes(quarter_xlsx(report, tz=TZ))
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["Tổng hợp", "Theo cơ quan", "Danh sách"]
    summary = list(book["Tổng hợp"].iter_rows(values_only=True))
    assert summary[0][0] == "BÁO CÁO TÌNH HÌNH THỰC HIỆN NHIỆM VỤ QUÝ I/2023"
    counts = {row[1]: row[2] for row in summary if row and row[1] in Q1_TASKS}
    assert counts == {k: len(v) for k, v in Q1_TASKS.items()}
    agencies = list(book["Theo cơ quan"].iter_rows(values_only=True))[1:]
    assert sum(row[-1] for row in agencies) == report.assignment_counts.total
    items = list(book["Danh sách"].iter_rows(values_only=True))
    header, body = items[0], items[1:]
    days = header.index("Số ngày chậm")
    assert max(row[days] for row in body) == 90  # tasks 1 and 8, overdue since 31/12/2022
