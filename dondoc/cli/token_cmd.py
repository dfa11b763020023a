"""`dondoc token create|list|revoke`: access tokens of the integration API (/api/v1)."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from dondoc.api.tokens import create_token, list_tokens, revoke_token
from dondoc.cli.common import console, err_console, get_app, print_json
from dondoc.store import session_scope

token_app = typer.Typer(help="Mã truy cập API (API tokens).", no_args_is_help=True)


@token_app.callback()
def _token_group() -> None:
    """Mã truy cập API /api/v1 cho các hệ thống khác (API tokens)."""


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Tên mã, ví dụ he-thong-vpcp"),
    scope: str = typer.Option(..., "--scope", help="read (chỉ đọc) | write (đọc và ghi)"),
    plan: str | None = typer.Option(None, "--plan", help="Chỉ dùng cho kế hoạch này (mã)."),
    agency: str | None = typer.Option(
        None, "--agency", help="Chỉ xem và ghi phần việc của cơ quan này (mã)."
    ),
) -> None:
    """Tạo mã truy cập; mã chỉ được in một lần, hãy lưu lại ngay."""
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        token = create_token(
            session,
            name=name,
            scope=scope,
            plan=plan,
            agency=agency,
            actor="cli",
            now=app.clock.now(),
        )
    # The token alone on stdout, so `TOKEN=$(dondoc token create …)` works; the advice
    # goes to stderr.
    sys.stdout.write(token + "\n")
    err_console.print(
        f"Đã tạo mã truy cập '{name.strip().lower()}' ({scope}). Mã chỉ hiện một lần này; "
        "dondoc chỉ lưu bản băm của nó.",
        markup=False,
    )


@token_app.command("list")
def token_list(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="In dạng JSON.")
) -> None:
    """Danh sách mã truy cập (không bao giờ in lại chính mã)."""
    app = get_app(ctx)
    tz = app.settings.tz
    with session_scope(app.ready_engine()) as session:
        rows = [
            {
                "name": t.name,
                "scope": t.scope,
                "plan": t.plan,
                "agency": t.agency,
                "created_at": t.created_at.astimezone(tz).isoformat(),
                "last_used_at": t.last_used_at.astimezone(tz).isoformat()
                if t.last_used_at
                else None,
                "revoked_at": t.revoked_at.astimezone(tz).isoformat() if t.revoked_at else None,
            }
            for t in list_tokens(session)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("Chưa có mã truy cập nào: tạo bằng `dondoc token create TÊN --scope read`.")
        return
    table = Table("Tên", "Quyền", "Kế hoạch", "Cơ quan", "Dùng gần nhất", "Trạng thái")
    for row in rows:
        table.add_row(
            str(row["name"]),
            "đọc và ghi" if row["scope"] == "write" else "chỉ đọc",
            str(row["plan"] or "(mọi kế hoạch)"),
            str(row["agency"] or "(mọi cơ quan)"),
            str(row["last_used_at"] or "chưa dùng")[:16],
            "đã thu hồi" if row["revoked_at"] else "đang dùng",
        )
    console.print(table)


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Thu hồi một mã truy cập: mọi yêu cầu dùng mã này bị từ chối ngay."""
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        changed = revoke_token(session, name=name, actor="cli", now=app.clock.now())
    console.print(
        f"Đã thu hồi mã truy cập {name}."
        if changed
        else f"Mã truy cập {name} đã bị thu hồi trước đó.",
        markup=False,
    )
