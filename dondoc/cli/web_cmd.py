"""`dondoc web` (serve the office's web app), `dondoc user …` (office accounts) and
`dondoc agency link` (an agency's portal and calendar links, and revoking them)."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlmodel import select

from dondoc.cli.common import console, get_app, print_json
from dondoc.errors import NotFoundError, UserError
from dondoc.models import Agency
from dondoc.store import session_scope

# dondoc.web (FastAPI and the whole web app) is imported by the commands that use it:
# `dondoc agency invite` and the rest of the CLI do not pay for it.

user_app = typer.Typer(help="Tài khoản cán bộ Văn phòng (office accounts).", no_args_is_help=True)


@user_app.callback()
def _user_group() -> None:
    """Tài khoản cán bộ Văn phòng dùng trang web (office accounts)."""


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Tên đăng nhập, ví dụ nguyen.van.a"),
    role: str = typer.Option(..., "--role", help="admin (quản trị) | viewer (chỉ xem)"),
    password: str = typer.Option(
        ...,
        "--password",
        prompt="Mật khẩu",
        hide_input=True,
        confirmation_prompt=True,
        help="Được hỏi khi chạy lệnh; không nên ghi trên dòng lệnh.",
    ),
    locale: str = typer.Option(
        "vi", "--locale", help="Ngôn ngữ trang web: vi (tiếng Việt) | en (English)."
    ),
) -> None:
    """Thêm tài khoản đăng nhập trang web của Văn phòng."""
    from dondoc.web.accounts import add_user

    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        user = add_user(
            session,
            name=name,
            role=role,
            password=password,
            actor="cli",
            now=app.clock.now(),
            locale=locale,
        )
        made = (user.name, user.role, user.locale)
    console.print(
        f"Đã thêm tài khoản {made[0]} ({made[1]}); ngôn ngữ trang web: {made[2]}.", markup=False
    )


@user_app.command("list")
def user_list(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="In dạng JSON.")
) -> None:
    """Danh sách tài khoản."""
    from dondoc.web.accounts import list_users

    app = get_app(ctx)
    tz = app.settings.tz
    with session_scope(app.ready_engine()) as session:
        rows = [
            {
                "name": u.name,
                "role": u.role,
                "active": u.active,
                "locale": u.locale,
                "last_login_at": u.last_login_at.astimezone(tz).isoformat()
                if u.last_login_at
                else None,
            }
            for u in list_users(session)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("Chưa có tài khoản nào: thêm bằng `dondoc user add TÊN --role admin`.")
        return
    table = Table("Tên", "Vai trò", "Trạng thái", "Ngôn ngữ", "Đăng nhập gần nhất")
    for row in rows:
        table.add_row(
            str(row["name"]),
            "quản trị" if row["role"] == "admin" else "chỉ xem",
            "đang dùng" if row["active"] else "đã khóa",
            str(row["locale"]),
            str(row["last_login_at"] or ""),
        )
    console.print(table)


@user_app.command("disable")
def user_disable(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Khóa một tài khoản: không đăng nhập được nữa, phiên đang mở cũng hết hiệu lực."""
    from dondoc.web.accounts import disable_user

    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        changed = disable_user(session, name=name, actor="cli", now=app.clock.now())
    console.print(
        f"Đã khóa tài khoản {name}." if changed else f"Tài khoản {name} đã bị khóa trước đó.",
        markup=False,
    )


@user_app.command("set-locale")
def user_set_locale(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    locale: str = typer.Argument(..., help="vi (tiếng Việt) | en (English)"),
) -> None:
    """Đổi ngôn ngữ trang web của một tài khoản (người dùng cũng tự đổi được trên trang)."""
    from dondoc.web.accounts import set_locale

    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        changed = set_locale(session, name=name, locale=locale, actor="cli", now=app.clock.now())
    console.print(
        f"Tài khoản {name} từ nay xem trang bằng: {locale}."
        if changed
        else f"Tài khoản {name} đã dùng ngôn ngữ {locale}.",
        markup=False,
    )


def agency_link(
    ctx: typer.Context,
    agency: str = typer.Argument(..., help="Mã cơ quan, ví dụ so-noi-vu."),
    revoke: bool = typer.Option(
        False, "--revoke", help="Thu hồi mọi liên kết trang riêng và lịch đã cấp, rồi cấp mới."
    ),
    as_json: bool = typer.Option(False, "--json", help="In dạng JSON."),
) -> None:
    """Liên kết trang riêng (portal) và lịch (iCalendar) của một cơ quan."""
    from config.settings import secret_key
    from dondoc.web.links import Links, Signer, current_grant, revoke_links

    app = get_app(ctx)
    public = app.settings.public_url
    if not public:
        raise UserError(
            "Chưa đặt DONDOC_PUBLIC_URL (địa chỉ mọi người truy cập trang web): "
            "không tạo được liên kết."
        )
    links = Links(public, Signer(secret_key(app.settings), clock=app.clock))
    with session_scope(app.ready_engine()) as session:
        if revoke:
            found = revoke_links(session, agency_code=agency, actor="cli", now=app.clock.now())
        else:
            lookup = session.exec(select(Agency).where(Agency.code == agency)).first()
            if lookup is None:
                raise NotFoundError("cơ quan", agency)
            found = lookup
        grant = current_grant(session, found.id or 0)
        name = found.name
    made = {"agency": agency, "portal": links.portal(grant), "calendar": links.calendar(grant)}
    if as_json:
        print_json(made)
        return
    if revoke:
        console.print(f"Đã thu hồi các liên kết cũ của {name}. Liên kết mới:", markup=False)
    console.print(f"Trang riêng: {made['portal']}", markup=False)
    console.print(f"Lịch (iCalendar): {made['calendar']}", markup=False)


def web(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Mặc định: DONDOC_HTTP_HOST."),
    port: int | None = typer.Option(None, "--port", help="Mặc định: DONDOC_HTTP_PORT."),
) -> None:
    """Chạy riêng trang web của Văn phòng (không gửi nhắc việc)."""
    import uvicorn

    from dondoc.web import create_app

    app = get_app(ctx)
    web_app = create_app(engine=app.ready_engine(), settings=app.settings, clock=app.clock)
    host = host or app.settings.http_host
    port = port if port is not None else app.settings.http_port
    console.print(f"Trang web: http://{host}:{port}/ (Ctrl+C để dừng)", markup=False)
    uvicorn.run(web_app, host=host, port=port, log_level="warning", access_log=False)
