"""`dondoc agency invite` (link a Telegram or Zalo chat), `dondoc extension …` (decide)."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from dondoc.chat_links import MAX_INVITE_HOURS, create_invite
from dondoc.chat_members import add_member, list_members, remove_member
from dondoc.cli.common import console, get_app, print_json
from dondoc.cli.web_cmd import agency_link
from dondoc.extensions import decide_extension, list_extensions
from dondoc.store import session_scope
from notifiers.render import format_date

agency_app = typer.Typer(help="Một cơ quan (one agency).", no_args_is_help=True)
extension_app = typer.Typer(help="Đề nghị gia hạn (extension requests).", no_args_is_help=True)

STATUS_LABELS = {"pending": "chờ duyệt", "approved": "đã đồng ý", "denied": "không đồng ý"}


@agency_app.callback()
def _agency_group() -> None:
    """Một cơ quan (one agency)."""


@agency_app.command("invite")
def invite(
    ctx: typer.Context,
    agency: str = typer.Argument(..., help="Mã cơ quan, ví dụ so-noi-vu."),
    hours: int = typer.Option(72, "--hours", help=f"Hiệu lực (giờ), 1–{MAX_INVITE_HOURS}."),
    as_json: bool = typer.Option(False, "--json", help="In dạng JSON."),
) -> None:
    """Cấp mã dùng một lần để liên kết một cuộc trò chuyện Telegram hoặc Zalo với cơ quan."""
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        made = create_invite(
            session, agency_code=agency, hours=hours, actor="cli", now=app.clock.now()
        )
    bot = app.settings.telegram.bot_username
    links = (
        {
            "private": f"https://t.me/{bot}?start={made.code}",
            "group": f"https://t.me/{bot}?startgroup={made.code}",
        }
        if bot
        else None
    )
    expires = made.expires_at.astimezone(app.settings.tz)
    zalo = app.settings.zalo.token is not None
    if as_json:
        print_json(
            {
                "agency": made.agency_code,
                "code": made.code,
                "expires_at": expires.isoformat(),
                "links": links,
                "command": f"/start {made.code}",
                **({"zalo": {"command": f"/start {made.code}", "or": made.code}} if zalo else {}),
            }
        )
        return
    lines = [
        f"Mã liên kết Telegram của {made.agency_name} ({made.agency_code}): {made.code}",
        f"Dùng một lần, hết hạn lúc {expires:%H:%M} ngày {format_date(expires.date(), 'vi')} "
        f"({app.settings.timezone}).",
    ]
    if links:
        lines += [
            f"Cuộc trò chuyện riêng với bot: {links['private']}",
            f"Thêm bot vào nhóm của cơ quan: {links['group']}",
        ]
    else:
        lines.append("(Đặt DONDOC_TELEGRAM__BOT_USERNAME để in đường link t.me tới bot.)")
    lines.append(f"Hoặc gửi cho bot tin nhắn: /start {made.code}")
    if zalo:
        lines.append(
            f"Zalo: thêm bot vào nhóm Zalo của cơ quan (hoặc nhắn riêng cho bot) rồi gửi "
            f"/start {made.code} hoặc chỉ gửi mã {made.code}. Mỗi mã liên kết một cuộc trò chuyện."
        )
    console.print("\n".join(lines), markup=False)


@agency_app.command("members")
def members(
    ctx: typer.Context,
    agency: str = typer.Argument(..., help="Mã cơ quan, ví dụ so-noi-vu."),
    add: int | None = typer.Option(None, "--add", help="Thêm mã người dùng Telegram."),
    name: str | None = typer.Option(None, "--name", help="Tên người được thêm."),
    remove: int | None = typer.Option(None, "--remove", help="Bỏ mã người dùng Telegram."),
) -> None:
    """Người được trả lời nhắc việc trong nhóm Telegram của cơ quan.

    Mặc định (danh sách trống) mọi thành viên nhóm đã liên kết đều được trả lời."""
    app = get_app(ctx)
    now = app.clock.now()
    with session_scope(app.ready_engine()) as session:
        if add is not None:
            added = add_member(
                session, agency_code=agency, user_id=add, name=name, actor="cli", now=now
            )
            console.print(f"Đã thêm {add}." if added else f"{add} đã có trong danh sách.")
        if remove is not None:
            removed = remove_member(
                session, agency_code=agency, user_id=remove, actor="cli", now=now
            )
            console.print(f"Đã bỏ {remove}." if removed else f"{remove} không có trong danh sách.")
        listed = [(m.user_id, m.name) for m in list_members(session, agency_code=agency)]
    if not listed:
        console.print(
            f"{agency}: chưa giới hạn người trả lời; mọi thành viên nhóm đã liên kết đều được "
            "trả lời nhắc việc."
        )
        return
    console.print(f"{agency}: chỉ những người sau được trả lời trong nhóm:")
    for user_id, who in listed:
        console.print(f"- {user_id}" + (f" ({who})" if who else ""), markup=False)


@extension_app.command("list")
def list_command(
    ctx: typer.Context,
    status: str = typer.Option(
        "pending", "--status", help="pending (mặc định), approved, denied hoặc all."
    ),
    as_json: bool = typer.Option(False, "--json", help="In dạng JSON."),
) -> None:
    """Liệt kê các đề nghị gia hạn."""
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        rows = list_extensions(session, status=None if status == "all" else status)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(
            "Không có đề nghị gia hạn nào" + (" đang chờ duyệt." if status == "pending" else ".")
        )
        return
    table = Table(title="Đề nghị gia hạn")
    for column in (
        "#",
        "Nhiệm vụ",
        "Cơ quan",
        "Hạn hiện tại",
        "Đề nghị đến",
        "Lý do",
        "Trạng thái",
    ):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["id"]),
            f"{row['plan']}/{row['number']}",
            row["agency_name"],
            format_date(row["current_due"], "vi") or "—",
            format_date(row["proposed_due"], "vi"),
            row["reason"],
            STATUS_LABELS.get(row["status"], row["status"]),
        )
    console.print(table)


def _decide(ctx: typer.Context, request_id: int, *, approve: bool, note: str | None) -> None:
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        view: dict[str, Any] = decide_extension(
            session,
            request_id=request_id,
            approve=approve,
            note=note,
            actor="cli",
            now=app.clock.now(),
        )
    task = f"nhiệm vụ {view['plan']}/{view['number']}"
    proposed = format_date(view["proposed_due"], "vi")
    if approve:
        before = format_date(view["previous_due"], "vi")
        console.print(
            f"Đã đồng ý gia hạn #{request_id}: {view['agency_name']}, {task}, "
            f"hạn mới {proposed}" + (f" (trước đây {before})" if before else "") + ". "
            "Đã báo cho cơ quan.",
            markup=False,
        )
    else:
        console.print(
            f"Đã từ chối đề nghị gia hạn #{request_id} ({view['agency_name']}, {task}, "
            f"đề nghị đến {proposed}); thời hạn giữ nguyên. Đã báo cho cơ quan.",
            markup=False,
        )


@extension_app.command("approve")
def approve(
    ctx: typer.Context,
    request_id: int = typer.Argument(
        ..., metavar="ID", help="Số của đề nghị (dondoc extension list)."
    ),
    note: str | None = typer.Option(None, "--note", help="Ý kiến gửi kèm cho cơ quan."),
) -> None:
    """Đồng ý: thời hạn của cơ quan đó với nhiệm vụ đó đổi thành ngày đề nghị."""
    _decide(ctx, request_id, approve=True, note=note)


@extension_app.command("deny")
def deny(
    ctx: typer.Context,
    request_id: int = typer.Argument(
        ..., metavar="ID", help="Số của đề nghị (dondoc extension list)."
    ),
    note: str | None = typer.Option(None, "--note", help="Lý do không đồng ý, gửi cho cơ quan."),
) -> None:
    """Không đồng ý: thời hạn giữ nguyên, cơ quan được thông báo."""
    _decide(ctx, request_id, approve=False, note=note)


# `agency link` lives with the other web links in web_cmd; it belongs to this group.
agency_app.command("link")(agency_link)
