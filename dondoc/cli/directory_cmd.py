"""`dondoc init` and `dondoc agencies`: the store and the agency directory."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import col, func, select

from config.settings import ensure_secret_key
from dondoc.agency_changes import ChangeReport, merge_agency, rename_agency, undo_change
from dondoc.app import App
from dondoc.cli.common import console, get_app, print_json
from dondoc.directory import (
    BUNDLED_DIRECTORY,
    LoadSummary,
    load_directory,
    read_directory_file,
)
from dondoc.errors import UserError
from dondoc.models import Agency, AgencyGroup, Contact
from dondoc.models_agency_history import AgencyFormerName
from dondoc.store import migrate, session_scope

agencies_app = typer.Typer(help="Danh bạ cơ quan (agency directory).", no_args_is_help=False)


def init(
    ctx: typer.Context,
    agencies: Path | None = typer.Option(
        None, "--agencies", help="Tệp YAML danh bạ; mặc định là danh bạ mẫu đi kèm."
    ),
) -> None:
    """Tạo hoặc nâng cấp cơ sở dữ liệu (create or upgrade the store)."""
    app = get_app(ctx)
    directory = read_directory_file(agencies) if agencies else None
    migrate(app.engine)
    if ensure_secret_key(app.settings):
        # The path only: the key itself is never printed or logged.
        console.print(f"Đã tạo khóa ký liên kết tại {app.settings.secret_key_path}.", markup=False)
    where = app.settings.db_url.split("@")[-1]  # never the password of a database URL
    with session_scope(app.engine) as session:
        stored = session.exec(select(func.count()).select_from(Agency)).one()
        if directory is None and stored:
            # Upgrading a store in use: the sample directory must not mix into the real one.
            console.print(
                f"Đã nâng cấp cơ sở dữ liệu {where}; danh bạ giữ nguyên ({stored} cơ quan).",
                markup=False,
            )
            return
        directory = directory or read_directory_file(BUNDLED_DIRECTORY)
        summary = load_directory(session, directory)
    console.print(f"Đã khởi tạo cơ sở dữ liệu {where}; danh bạ: {_summary(summary)}.", markup=False)


def _summary(summary: LoadSummary) -> str:
    if not summary.added and not summary.updated:
        return f"không có gì thay đổi ({len(summary.groups)} nhóm)"
    return (
        f"{len(summary.added)} cơ quan mới, {len(summary.updated)} cập nhật, "
        f"{len(summary.groups)} nhóm"
    )


@agencies_app.callback(invoke_without_command=True)
def list_agencies(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="In dạng JSON.")
) -> None:
    """Liệt kê danh bạ cơ quan (list the directory)."""
    if ctx.invoked_subcommand is not None:
        return
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        agencies = session.exec(select(Agency).order_by(col(Agency.id))).all()
        contacts = session.exec(select(Contact).where(Contact.active)).all()
        groups = session.exec(select(AgencyGroup).order_by(col(AgencyGroup.id))).all()
        formers = session.exec(select(AgencyFormerName).order_by(col(AgencyFormerName.until))).all()
    former_names: dict[int, list[AgencyFormerName]] = {}
    for former in formers:
        if former.agency_id is not None:
            former_names.setdefault(former.agency_id, []).append(former)
    by_agency: dict[int, list[Contact]] = {}
    for contact in contacts:
        by_agency.setdefault(contact.agency_id, []).append(contact)
    if as_json:
        print_json(
            [
                {
                    "code": a.code,
                    "name": a.name,
                    "kind": a.kind,
                    "locale": a.locale,
                    "aliases": a.aliases,
                    "former": [
                        {"name": f.name, "until": f.until.isoformat()}
                        for f in former_names.get(a.id or 0, [])
                    ],
                    "contacts": [
                        {"channel": c.channel, "address": c.address, "head": c.is_head}
                        for c in by_agency.get(a.id or 0, [])
                    ],
                }
                for a in agencies
            ]
        )
        return
    table = Table(title="Danh bạ cơ quan")
    for column in ("Mã", "Tên", "Loại", "Liên hệ"):
        table.add_column(column)
    for agency in agencies:
        reach = ", ".join(
            f"{c.address}{' (lãnh đạo)' if c.is_head else ''}"
            if c.channel == "email"
            else f"Telegram {c.address}"
            for c in by_agency.get(agency.id or 0, [])
        )
        table.add_row(escape(agency.code), escape(agency.name), agency.kind, escape(reach) or "—")
    console.print(table)
    by_code = {a.id: a.code for a in agencies}
    was = [
        f"{by_code.get(agency_id, '?')}: "
        + "; ".join(f"{f.name} (đến {f.until:%d/%m/%Y})" for f in names)
        for agency_id, names in former_names.items()
    ]
    if was:
        console.print("Tên cũ: " + " | ".join(was), markup=False)
    console.print("Nhóm: " + "; ".join(f"{g.code} = {g.name}" for g in groups), markup=False)


@agencies_app.command("load")
def load(ctx: typer.Context, file: Path = typer.Argument(..., help="Tệp YAML danh bạ.")) -> None:
    """Thêm hoặc cập nhật cơ quan từ tệp YAML (add/update agencies from YAML)."""
    app = get_app(ctx)
    directory = read_directory_file(file)
    with session_scope(app.ready_engine()) as session:
        summary = load_directory(session, directory)
    console.print(f"{file}: {_summary(summary)}.", markup=False)


def _day(text: str | None, option: str) -> date:
    if not text:
        raise UserError(f"{option}: hãy ghi ngày có hiệu lực, dạng YYYY-MM-DD hoặc DD/MM/YYYY.")
    for form in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), form).date()
        except ValueError:
            continue
    raise UserError(f"{option}: '{text}' không phải ngày hợp lệ (YYYY-MM-DD hoặc DD/MM/YYYY).")


def _print_change(report: ChangeReport) -> None:
    if report.undone:
        after = (
            f"{report.moved} phân công trả về {report.old}"
            if report.kind == "merge"
            else f"tên lại là '{report.old}'"
        )
        console.print(f"Đã hoàn tác: {report.note}; {after}.", markup=False)
        return
    lines = [f"Đã ghi nhận: {report.note}."]
    if report.kind == "merge":
        lines.append(
            f"  {report.moved} phân công chưa xong chuyển sang {report.new}; "
            f"{report.merged_into_existing} trùng với phần việc {report.new} đã có; "
            f"{report.chats} cuộc trò chuyện Telegram chuyển theo."
        )
    lines.append(f"  Hoàn tác được trước ngày {report.effective_on:%d/%m/%Y} bằng --undo.")
    console.print("\n".join(lines), markup=False)


def _undo(app: App, *, kind: str, code: str) -> ChangeReport:
    """`--undo` of a merge or a renaming not yet in force: the same for both commands."""
    now = app.clock.now()
    with session_scope(app.ready_engine()) as session:
        return undo_change(
            session,
            kind=kind,
            code=code,
            today=now.astimezone(app.settings.tz).date(),
            now=now,
            actor="cli",
        )


@agencies_app.command("merge")
def merge(
    ctx: typer.Context,
    old: str = typer.Argument(..., help="Mã cơ quan bị sáp nhập."),
    into: str | None = typer.Option(None, "--into", help="Mã cơ quan tiếp nhận."),
    on: str | None = typer.Option(None, "--on", help="Ngày có hiệu lực (YYYY-MM-DD)."),
    undo: bool = typer.Option(False, "--undo", help="Hoàn tác lần sáp nhập chưa có hiệu lực."),
) -> None:
    """Sáp nhập một cơ quan vào cơ quan khác (merge OLD into NEW on DATE)."""
    app = get_app(ctx)
    now = app.clock.now()
    if undo:
        _print_change(_undo(app, kind="merge", code=old))
        return
    if not into:
        raise UserError("--into: hãy ghi mã cơ quan tiếp nhận.")
    with session_scope(app.ready_engine()) as session:
        report = merge_agency(
            session, old=old, into=into, on=_day(on, "--on"), now=now, actor="cli"
        )
    _print_change(report)


@agencies_app.command("rename")
def rename(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Mã cơ quan."),
    name: str | None = typer.Option(None, "--name", help="Tên mới."),
    on: str | None = typer.Option(None, "--on", help="Ngày có hiệu lực (YYYY-MM-DD)."),
    undo: bool = typer.Option(False, "--undo", help="Hoàn tác lần đổi tên chưa có hiệu lực."),
) -> None:
    """Đổi tên một cơ quan từ một ngày (rename CODE on DATE)."""
    app = get_app(ctx)
    now = app.clock.now()
    if undo:
        _print_change(_undo(app, kind="rename", code=code))
        return
    if not name:
        raise UserError("--name: hãy ghi tên mới.")
    with session_scope(app.ready_engine()) as session:
        report = rename_agency(
            session, code=code, name=name, on=_day(on, "--on"), now=now, actor="cli"
        )
    _print_change(report)
