"""`dondoc init` and `dondoc agencies`: the store and the agency directory."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import col, func, select

from config.settings import ensure_secret_key
from dondoc.cli.common import console, get_app, print_json
from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.models import Agency, AgencyGroup, Contact
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
    console.print(
        f"Đã khởi tạo cơ sở dữ liệu {where}; danh bạ: "
        f"{len(summary.added)} cơ quan mới, {len(summary.updated)} cập nhật, "
        f"{len(summary.groups)} nhóm.",
        markup=False,
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
    console.print("Nhóm: " + "; ".join(f"{g.code} = {g.name}" for g in groups), markup=False)


@agencies_app.command("load")
def load(ctx: typer.Context, file: Path = typer.Argument(..., help="Tệp YAML danh bạ.")) -> None:
    """Thêm hoặc cập nhật cơ quan từ tệp YAML (add/update agencies from YAML)."""
    app = get_app(ctx)
    directory = read_directory_file(file)
    with session_scope(app.ready_engine()) as session:
        summary = load_directory(session, directory)
    console.print(
        f"{file}: {len(summary.added)} cơ quan mới, {len(summary.updated)} cập nhật, "
        f"{len(summary.groups)} nhóm."
    )
