"""HTML for the reports: jinja2 templates under dondoc/reports/templates, autoescaped.

Task titles come from plan files written by people; autoescape and StrictUndefined
keep a stray "<" or "{{" in them from changing the page. The templates are bundled, yet
render in Jinja's sandbox like every other template of dondoc.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from dondoc.reports.chart import bar_chart
from dondoc.reports.late import LateReport
from dondoc.reports.quarter import QuarterReport
from dondoc.tasks import ROLE_LABELS
from rules.status import APART, DATED, LATE, Category, category_label

TEMPLATES = Path(__file__).with_name("templates")
VIA_LABELS = {
    "paper": "văn bản giấy",
    "email": "email",
    "telegram": "Telegram",
    "zalo": "Zalo",
    "api": "hệ thống kết nối (API)",
}


def _environment(tz: tzinfo) -> Environment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )

    def vn_date(value: date | None) -> str:
        return value.strftime("%d/%m/%Y") if value else "—"

    def vn_datetime(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%H:%M %d/%m/%Y") if value else "—"

    env.filters["vn_date"] = vn_date
    env.filters["vn_datetime"] = vn_datetime
    env.filters["role"] = lambda role: ROLE_LABELS.get(role, role)
    env.filters["category"] = lambda category: category_label(category, "vi")
    env.filters["via"] = lambda via: VIA_LABELS.get(via, via)
    env.filters["percent"] = lambda part, whole: f"{100 * part / whole:.1f}%" if whole else "—"
    return env


def _common(office_name: str | None) -> dict[str, Any]:
    return {
        "office_name": office_name or "Văn phòng Ủy ban nhân dân tỉnh",
        "Category": Category,
        "dated": DATED,
        "apart": APART,
        "late_categories": LATE,
    }


def render_late_html(report: LateReport, *, tz: tzinfo, office_name: str | None = None) -> str:
    chart = bar_chart([(a.code, a.name, a.count) for a in report.agencies])
    template = _environment(tz).get_template("late.html")
    return template.render(report=report, chart=chart, **_common(office_name))


def render_quarter_html(
    report: QuarterReport, *, tz: tzinfo, office_name: str | None = None
) -> str:
    late_agencies = [(a.code, a.name, a.counts.late) for a in report.agencies if a.counts.late]
    chart = bar_chart(late_agencies)
    template = _environment(tz).get_template("quarter.html")
    return template.render(report=report, chart=chart, **_common(office_name))
