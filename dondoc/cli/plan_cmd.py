"""`dondoc plan import`, `dondoc plans`, `dondoc tasks`, `dondoc task …`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import col, func, select

from config.errors import ConfigError
from config.rules_loader import load_rule_config
from dondoc.actions import find_assignment, set_status
from dondoc.app import App
from dondoc.cli.common import console, err_console, get_app, print_json
from dondoc.directory import group_names
from dondoc.models import Agency, Plan, Task
from dondoc.plan_import import ImportReport, import_plan
from dondoc.store import session_scope
from dondoc.task_table import task_table
from dondoc.tasks import ROLE_LABELS, STATUS_LABELS, get_task, list_tasks
from rules.deadline import Deadline, describe_deadline

plan_app = typer.Typer(help="Kế hoạch (plans).", no_args_is_help=True)
task_app = typer.Typer(help="Một nhiệm vụ (one task).", no_args_is_help=True)


@plan_app.command("import")
def import_command(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., help="Bảng Phụ lục: .docx, .pdf (có lớp chữ), .xlsx hoặc .csv (UTF-8)."
    ),
    plan: str | None = typer.Option(None, "--plan", help="Mã kế hoạch; mặc định theo tên tệp."),
    title: str | None = typer.Option(None, "--title", help="Tên kế hoạch."),
    owner: str | None = typer.Option(None, "--owner", help="Mã cơ quan theo dõi kế hoạch."),
    create_agencies: bool = typer.Option(
        False, "--create-agencies", help="Thêm các cơ quan chưa có trong danh bạ."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Chỉ cho xem, không ghi gì."),
    sheet: str | None = typer.Option(
        None, "--sheet", help="Tên trang tính (Excel); mặc định là trang đầu có bảng nhiệm vụ."
    ),
    table: int | None = typer.Option(
        None,
        "--table",
        min=1,
        help="Số thứ tự của bảng (hoặc trang tính) trong tệp, từ 1; mặc định là bảng đầu "
        "có tiêu đề cột của Phụ lục.",
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Coi mọi cảnh báo là lỗi: không nhập gì nếu có cảnh báo."
    ),
    as_json: bool = typer.Option(False, "--json", help="In kết quả dạng JSON."),
) -> None:
    """Nhập (hoặc cập nhật) một kế hoạch từ bảng Phụ lục."""
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        report = import_plan(
            session,
            path=file,
            now=app.clock.now(),
            plan_code=plan,
            title=title,
            owner=owner,
            create_agencies=create_agencies,
            dry_run=dry_run,
            sheet=sheet,
            table=table,
            strict=strict,
        )
    for warning in report.warnings:
        err_console.print(f"cảnh báo: {warning}", markup=False)
    if as_json:
        print_json(report.to_dict())
        return
    _print_report(report)


def _print_tasks(report: ImportReport) -> None:
    """Every task as understood, for a person to check before the plan is written."""
    for task in report.tasks:
        head = f"STT {task.number}"
        if task.section:
            head += f" (mục {task.section}" + (
                f": {_clip(task.section_title, 60)})" if task.section_title else ")"
            )
        elif task.section_title:  # a section row without a numeral
            head += f" (mục: {_clip(task.section_title, 60)})"
        lines = [
            f"{head} — {task.where}",
            f"  Nhiệm vụ: {_clip(task.title, 120)}",
            "  Thời hạn: "
            + (f"{task.deadline_text} → {task.deadline}" if task.deadline_text else "(chưa có)"),
            f"  Chủ trì ({len(task.leads)}): {_names(task.leads)}",
            f"  Phối hợp ({len(task.coordinators)}): {_names(task.coordinators)}",
        ]
        if task.notes:
            lines.append(f"  Ghi chú: {task.notes}")
        for line in lines:
            console.print(line, markup=False)


def _names(agencies: list[tuple[str, str]]) -> str:
    return "; ".join(name for _, name in agencies) or "—"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _print_report(report: ImportReport) -> None:
    verb = "Sẽ" if report.dry_run else "Đã"
    head = "tạo kế hoạch" if report.plan_created else "cập nhật kế hoạch"
    console.print(
        f"{verb} {head} [bold]{escape(report.plan_code)}[/]: {report.tasks_total} nhiệm vụ."
    )
    if report.dry_run:
        console.print("(--dry-run: chưa ghi gì vào cơ sở dữ liệu)")
        _print_tasks(report)
    lines = [
        ("thêm", report.added),
        ("sửa", [f"{n} ({', '.join(f)})" for n, f in report.updated.items()]),
        ("ngừng theo dõi", report.removed),
    ]
    for label, items in lines:
        if items:
            console.print(f"  {label} {len(items)}: {escape(', '.join(items))}")
    console.print(f"  phân công: +{report.assignments_added} / −{report.assignments_removed}")
    if report.new_agencies:
        console.print(f"  cơ quan mới trong danh bạ: {escape(', '.join(report.new_agencies))}")
    if report.no_deadline:
        console.print(
            f"  [yellow]chưa có thời hạn[/] (STT {escape(', '.join(report.no_deadline))}): "
            "sẽ nhắc Văn phòng đặt thời hạn."
        )
    if report.repeated_headers:
        console.print(f"  bỏ qua {report.repeated_headers} dòng tiêu đề lặp lại trong bảng")
    for repair in report.repairs:
        err_console.print(f"  đã sửa: {escape(repair)}")
    for note in report.notes:
        err_console.print(f"  lưu ý: {escape(note)}")
    console.print(
        f"Tổng cộng: {report.tasks_total} nhiệm vụ, {report.assignments_total} phân công, "
        f"{report.agencies_reminded} cơ quan được nhắc, {len(report.warnings)} cảnh báo."
    )


@plan_app.callback()
def _plan_group() -> None:
    """Kế hoạch (plans)."""


@plan_app.command("list")  # `dondoc plan list` and `dondoc plans` are the same command
def plans(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Liệt kê các kế hoạch (list plans)."""
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        rows = session.exec(
            select(Plan, func.count(col(Task.id)))
            .join(Task, (col(Task.plan_id) == Plan.id) & col(Task.active), isouter=True)
            .group_by(col(Plan.id))
            .order_by(col(Plan.code))
        ).all()
        owners = {a.id: a.code for a in session.exec(select(Agency)).all()}
    data = [
        {
            "code": p.code,
            "title": p.title,
            "owner": owners.get(p.owner_agency_id),
            "tasks": n,
            "imported_at": p.imported_at.isoformat() if p.imported_at else None,
        }
        for p, n in rows
    ]
    if as_json:
        print_json(data)
        return
    table = Table(title="Kế hoạch")
    for column in ("Mã", "Tên", "Cơ quan theo dõi", "Số nhiệm vụ"):
        table.add_column(column)
    for item in data:
        table.add_row(
            escape(str(item["code"])),
            escape(str(item["title"])),
            str(item["owner"] or "—"),
            str(item["tasks"]),
        )
    console.print(table)


def tasks(
    ctx: typer.Context,
    plan: str | None = typer.Option(None, "--plan", help="Mã kế hoạch."),
    agency: str | None = typer.Option(None, "--agency", help="Mã cơ quan."),
    status: str | None = typer.Option(None, "--status", help="open | acknowledged | done"),
    number: str | None = typer.Option(
        None, "--number", help="STT ngắn (1.1) hoặc đủ mục (A.I.1.1); cần --plan."
    ),
    as_json: bool = typer.Option(False, "--json", help="In dạng JSON."),
) -> None:
    """Liệt kê nhiệm vụ và cơ quan được giao (tasks and their agencies)."""
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        views = list_tasks(
            session,
            plan=plan,
            agency=agency,
            status=status,
            now=app.clock.now(),
            ack_timeout=_ack_timeout(app),
            number=number,
        )
        groups = group_names(session)
    if as_json:
        print_json(views)
        return
    console.print(task_table(views, groups))


@task_app.command("show")
def show(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="ID hoặc KẾ_HOẠCH/STT (STT ngắn hoặc đủ mục: A.I.1.1)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Xem một nhiệm vụ (show one task)."""
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        view = get_task(session, ref, now=app.clock.now(), ack_timeout=_ack_timeout(app))
    if as_json:
        print_json(view)
        return
    tz = app.settings.tz
    lines = [f"#{view['id']} — {view['plan']} STT {view['number']}"]
    if not view["active"]:
        lines[0] += " (không còn theo dõi: đã bỏ khỏi kế hoạch khi nhập lại)"
    if view["section_title"]:
        lines.append(f"Mục {view['section'] or ''}: {view['section_title']}")
    lines += [
        f"Nhiệm vụ: {view['title']}",
        f"Sản phẩm: {view['product'] or '—'}",
        f"Thời hạn: {view['deadline_text'] or '(chưa có)'}",
        f"  hiểu là: {_understood(view)}",
    ]
    if view["notes"]:
        lines.append(f"Ghi chú: {view['notes']}")
    for item in view["assignments"]:
        when = (
            f" ({_local(item['status_at'], tz)}, {item['status_by']})" if item["status_at"] else ""
        )
        status = STATUS_LABELS[item["current_status"]]
        if item["status"] == "acknowledged":
            until = _local(item["acknowledged_until"], tz) if item["acknowledged_until"] else None
            if item["current_status"] == "open" and until:
                since = _local(item["status_at"], tz) if item["status_at"] else "?"
                status += (
                    f" (xác nhận đã nhận lúc {since} đã hết hiệu lực lúc {until}; "
                    "nhắc lặp lại tiếp tục)"
                )
                when = ""
            elif until:
                status += f" (dừng nhắc lặp lại đến {until})"
        lines.append(
            f"  • {ROLE_LABELS[item['role']]}: {item['agency_name']} [{item['agency']}] — "
            f"{status}{when}"
        )
        for extension in item.get("extensions", []):
            decided = (
                f", duyệt {_local(extension['decided_at'], tz)}" if extension["decided_at"] else ""
            )
            lines.append(
                f"      gia hạn đã duyệt: hạn mới "
                f"{date.fromisoformat(extension['proposed_due']):%d/%m/%Y}{decided}"
            )
        if item["due_override"]:
            lines.append(
                f"      hạn đang áp dụng: {date.fromisoformat(item['due_override']):%d/%m/%Y}"
            )
    # Plain text: titles and names come from the plan file and may hold brackets.
    console.print(lines[0], style="bold", markup=False)
    for line in lines[1:]:
        console.print(line, markup=False)


def _ack_timeout(app: App) -> timedelta | None:
    """How long an acknowledgement holds, from the rule config; None when it cannot be
    read (`dondoc config check` says why), and statuses are shown as stored."""
    try:
        return load_rule_config(app.settings.rules_path).ack_timeout
    except ConfigError:
        err_console.print(
            "Cảnh báo: không đọc được tệp quy tắc (dondoc config check), trạng thái 'đã nhận' "
            "hiển thị như đã lưu.",
            markup=False,
        )
        return None


def _understood(view: dict[str, Any]) -> str:
    if view["deadline"] is None:
        if view["deadline_text"]:
            return "(chưa đọc được cụm thời hạn này; văn phòng cần đặt thời hạn)"
        return "(chưa có thời hạn)"
    return describe_deadline(Deadline.from_dict(view["deadline"]))


def _local(iso: str, tz: ZoneInfo) -> str:
    """An officer reads times in the province's time zone, day first."""
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%d/%m/%Y %H:%M")


def _change(ctx: typer.Context, ref: str, agency: str, status: str) -> None:
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        task_id = get_task(session, ref)["id"]
        assignment = find_assignment(session, task_id=task_id, agency_code=agency)
        now = app.clock.now()
        changed = set_status(session, assignment=assignment, status=status, actor="cli", now=now)
        if not changed and status == "acknowledged":
            # Acknowledging again renews it, as the chat button does.
            assignment.acknowledged_at = assignment.status_at = assignment.next_due_at = now
            session.add(assignment)
            changed = True
    label = STATUS_LABELS[status]
    console.print(
        f"Nhiệm vụ #{task_id}, {agency}: {label}."
        if changed
        else f"Nhiệm vụ #{task_id}, {agency}: đã ở trạng thái '{label}', không thay đổi."
    )


@task_app.command("done")
def done(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="ID hoặc KẾ_HOẠCH/STT."),
    agency: str = typer.Option(..., "--agency", help="Mã cơ quan."),
) -> None:
    """Đánh dấu cơ quan đã hoàn thành nhiệm vụ."""
    _change(ctx, ref, agency, "done")


@task_app.command("ack")
def ack(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="ID hoặc KẾ_HOẠCH/STT."),
    agency: str = typer.Option(..., "--agency", help="Mã cơ quan."),
) -> None:
    """Ghi nhận cơ quan đã nhận nhiệm vụ (như nút "Đã nhận"): tạm dừng nhắc lặp lại."""
    _change(ctx, ref, agency, "acknowledged")


@task_app.command("reopen")
def reopen(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="ID hoặc KẾ_HOẠCH/STT."),
    agency: str = typer.Option(..., "--agency", help="Mã cơ quan."),
) -> None:
    """Mở lại nhiệm vụ cho cơ quan (các nhắc nhở tiếp tục)."""
    _change(ctx, ref, agency, "open")
