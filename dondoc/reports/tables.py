"""The reports as rows: CSV and Markdown for the late list, typed rows shared with the
quarterly workbook. Headers are Vietnamese (the reports are published as they are);
dates are ISO so a spreadsheet sorts them; the category code sits beside its label so
a program can read the file back without parsing Vietnamese. Text from plans and chats
is neutralised on the way out (cells.py): a report is data, never code.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import tzinfo

from dondoc.reports.cells import Cell, csv_cell, markdown_text
from dondoc.reports.data import Item
from dondoc.reports.late import LateReport
from dondoc.reports.quarter import QuarterReport
from dondoc.tasks import ROLE_LABELS
from rules.status import category_label

ITEM_HEADERS = (
    "Kế hoạch",
    "Phần",
    "STT",
    "Nhiệm vụ",
    "Thời hạn",
    "Mã cơ quan",
    "Cơ quan, đơn vị",
    "Vai trò",
    "Hạn hoàn thành",
    "Mã tình trạng",
    "Tình trạng",
    "Ngày hoàn thành",
    "Số ngày chậm",
    "Giải trình",
    "Nội dung giải trình",
    "Người giải trình",
    "Thời điểm giải trình",
)
QUARTER_EXTRA = ("Mã tình trạng nhiệm vụ", "Tình trạng nhiệm vụ")


def item_row(item: Item) -> list[Cell]:
    """One item as typed values: dates as dates, days late as a number, text as text."""
    obligation = item.obligation
    explanation = item.explanation
    explained = "" if not item.is_late else ("Đã giải trình" if explanation else "Chưa giải trình")
    return [
        item.plan_code,
        item.section_code or "",
        item.task_number,
        item.task_title,
        item.deadline_text or "",
        item.agency_code,
        item.agency_label,
        ROLE_LABELS.get(item.role, item.role),
        obligation.due,
        str(item.category),
        category_label(item.category),
        obligation.done_on,
        obligation.days_late,
        explained,
        explanation.text if explanation else "",
        explanation.author if explanation else "",
        explanation.at if explanation else None,
    ]


def _csv(headers: Iterable[str], rows: Iterable[list[Cell]], tz: tzinfo) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(list(headers))
    writer.writerows([csv_cell(value, tz) for value in row] for row in rows)
    return buffer.getvalue()


def late_csv(report: LateReport, *, tz: tzinfo) -> str:
    return _csv(ITEM_HEADERS, (item_row(item) for item in report.items), tz)


def quarter_rows(report: QuarterReport) -> list[list[Cell]]:
    rows = []
    for task in report.tasks:
        for line in task.assignments:
            for item in line.items:
                rows.append([*item_row(item), str(task.category), category_label(task.category)])
    return rows


def quarter_csv(report: QuarterReport, *, tz: tzinfo) -> str:
    return _csv((*ITEM_HEADERS, *QUARTER_EXTRA), quarter_rows(report), tz)


def late_markdown(report: LateReport, *, tz: tzinfo) -> str:
    summary = report.summary()
    data = report.data
    lines = [
        f"# {report.title}",
        "",
        f"*Tính đến hết ngày {data.as_of:%d/%m/%Y}. Kế hoạch: "
        + "; ".join(f"{markdown_text(p.title)} [{markdown_text(p.code)}]" for p in data.plans)
        + ".*",
        "",
        f"- Số cơ quan, đơn vị chậm muộn: **{summary['agencies']}**",
        f"- Số nhiệm vụ chậm muộn: **{summary['late']}** (chưa hoàn thành, quá hạn: "
        f"{summary['overdue']}; hoàn thành nhưng quá hạn: {summary['done_late']})",
        f"- Đã giải trình: **{summary['explained']}**; chưa giải trình: "
        f"**{summary['missing_explanation']}**",
        "",
    ]
    if not report.agencies:
        lines.append(f"Không có cơ quan, đơn vị nào chậm muộn trong {report.period.label('vi')}.")
    for n, agency in enumerate(report.agencies, start=1):
        lines += [
            f"## {n}. {markdown_text(agency.name)} — {agency.count} nhiệm vụ chậm muộn",
            "",
            "| STT | Nhiệm vụ | Vai trò | Thời hạn | Hạn | Số ngày chậm | Tình trạng "
            "| Giải trình |",
            "|---|---|---|---|---|---:|---|---|",
        ]
        for item in agency.items:
            due = item.obligation.due
            explained = (
                f"Đã giải trình: {markdown_text(item.explanation.text)}"
                if item.explanation
                else "**Chưa giải trình**"
            )
            cells = [
                markdown_text(item.task_number),
                markdown_text(item.task_title),
                ROLE_LABELS.get(item.role, item.role)
                + (f" ({markdown_text(item.former_name)})" if item.former_name else ""),
                markdown_text(item.deadline_text or "—"),
                f"{due:%d/%m/%Y}" if due else "—",
                str(item.obligation.days_late),
                category_label(item.category),
                explained,
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
