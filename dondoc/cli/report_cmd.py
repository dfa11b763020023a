"""`dondoc report late|quarter`: the reports the office publishes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import typer

from config.rules_loader import load_rule_config
from dondoc.app import App
from dondoc.cli.common import err_console, get_app
from dondoc.errors import UserError
from dondoc.reports.files import office_name, write_atomic
from dondoc.reports.late import build_late_report
from dondoc.reports.periods import month_of, parse_month, parse_quarter, quarter_of
from dondoc.reports.quarter import build_quarter_report
from dondoc.reports.render_html import render_late_html, render_quarter_html
from dondoc.reports.tables import late_csv, late_markdown, quarter_csv
from dondoc.reports.xlsx import quarter_xlsx
from dondoc.store import session_scope

report_app = typer.Typer(help="Báo cáo (reports).", no_args_is_help=True)

LATE_FORMATS = ("html", "csv", "md")
QUARTER_FORMATS = ("html", "csv", "xlsx")


def _check_format(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise UserError(f"--format '{value}' không hợp lệ: dùng {', '.join(allowed)}.")
    return value


def _milestone_for(app: App) -> Callable[[str], date | None]:
    """The dates the office set for external references (the rule config's `milestones`).

    The same matching as the reminders use, so a report never disagrees with them.
    """
    return load_rule_config(app.settings.rules_path).milestone_for


def _emit(content: str | bytes, output: Path | None, what: str) -> None:
    if output is None:
        if isinstance(content, bytes):
            raise UserError("Định dạng xlsx cần tên tệp để ghi: thêm -o TỆP.xlsx.")
        sys.stdout.write(content)
        return
    # A BOM lets Excel open a Vietnamese CSV without mangling diacritics.
    if output.suffix.lower() == ".csv" and isinstance(content, str):
        content = "\ufeff" + content
    write_atomic(output, content)
    err_console.print(f"Đã ghi {what} vào {output}.", markup=False, highlight=False)


@report_app.command("late")
def late(
    ctx: typer.Context,
    month: str | None = typer.Option(
        None, "--month", help="Tháng, ví dụ 2023-03; mặc định là tháng trước."
    ),
    plan: str | None = typer.Option(None, "--plan", help="Mã kế hoạch; mặc định: tất cả."),
    fmt: str = typer.Option("html", "--format", help="html | csv | md"),
    output: Path | None = typer.Option(None, "-o", "--output", help="Ghi ra tệp."),
) -> None:
    """Danh sách cơ quan, đơn vị chậm muộn trong tháng (kèm tình trạng giải trình)."""
    _check_format(fmt, LATE_FORMATS)
    app = get_app(ctx)
    tz = app.settings.tz
    now = app.clock.now()
    period = parse_month(month) if month else month_of(now.astimezone(tz).date()).previous()
    with session_scope(app.ready_engine()) as session:
        report = build_late_report(
            session, period=period, now=now, tz=tz, plan=plan, milestone_for=_milestone_for(app)
        )
        office = office_name(session, plan)
    if fmt == "html":
        content = render_late_html(report, tz=tz, office_name=office)
    elif fmt == "csv":
        content = late_csv(report, tz=tz)
    else:
        content = late_markdown(report, tz=tz)
    summary = report.summary()
    _emit(
        content,
        output,
        f"danh sách chậm muộn {period.label('vi')} ({summary['agencies']} cơ quan, "
        f"{summary['late']} nhiệm vụ chậm muộn, {summary['missing_explanation']} chưa giải trình)",
    )


@report_app.command("quarter")
def quarter(
    ctx: typer.Context,
    quarter: str | None = typer.Option(
        None, "--quarter", help="Quý, ví dụ 2023Q1; mặc định là quý hiện tại."
    ),
    plan: str | None = typer.Option(None, "--plan", help="Mã kế hoạch; mặc định: tất cả."),
    fmt: str = typer.Option("html", "--format", help="html | csv | xlsx"),
    output: Path | None = typer.Option(None, "-o", "--output", help="Ghi ra tệp."),
) -> None:
    """Báo cáo quý: số nhiệm vụ theo tình trạng, theo phần và theo cơ quan, kèm danh sách."""
    _check_format(fmt, QUARTER_FORMATS)
    app = get_app(ctx)
    tz = app.settings.tz
    now = app.clock.now()
    period = parse_quarter(quarter) if quarter else quarter_of(now.astimezone(tz).date())
    with session_scope(app.ready_engine()) as session:
        report = build_quarter_report(
            session, period=period, now=now, tz=tz, plan=plan, milestone_for=_milestone_for(app)
        )
        office = office_name(session, plan)
    content: str | bytes
    if fmt == "html":
        content = render_quarter_html(report, tz=tz, office_name=office)
    elif fmt == "csv":
        content = quarter_csv(report, tz=tz)
    else:
        content = quarter_xlsx(report, tz=tz)
    counts = report.task_counts
    _emit(
        content,
        output,
        f"báo cáo {period.label('vi')} ({counts.total} nhiệm vụ, {counts.late} chậm muộn)",
    )
