"""`dondoc webhook …`: subscriptions of outside systems to dondoc's events."""

from __future__ import annotations

import asyncio
import json
import uuid

import typer
from rich.table import Table

from dondoc import events
from dondoc.cli.common import console, get_app, print_json
from dondoc.errors import NotFoundError, UserError
from dondoc.store import session_scope
from dondoc.webhooks import (
    CHANNEL,
    add_subscription,
    find_subscription,
    list_subscriptions,
    parse_event_types,
    remove_subscription,
    sample_event,
    validate_url,
)
from notifiers.base import ChannelError
from notifiers.webhook import WebhookChannel, WebhookMessage

webhook_app = typer.Typer(
    help="Webhook: gửi sự kiện của dondoc tới hệ thống khác (outbound webhooks).",
    no_args_is_help=True,
)


@webhook_app.callback()
def _webhook_group() -> None:
    """Webhook: gửi sự kiện của dondoc tới hệ thống khác (outbound webhooks)."""


@webhook_app.command("add")
def webhook_add(
    ctx: typer.Context,
    url: str = typer.Argument(..., help="Địa chỉ máy nhận, http:// hoặc https://"),
    event_types: str = typer.Option(
        "all",
        "--events",
        help="Các loại sự kiện, cách nhau bởi dấu phẩy, hoặc all. Gồm: "
        + ", ".join(events.EVENT_TYPES),
    ),
    secret: str | None = typer.Option(
        None, "--secret", help="Khóa ký (ít nhất 16 ký tự); bỏ trống để dondoc tự tạo."
    ),
) -> None:
    """Đăng ký một máy nhận sự kiện; khóa ký chỉ được in ra một lần."""
    app = get_app(ctx)
    chosen = parse_event_types(event_types)
    with session_scope(app.ready_engine()) as session:
        sub, key = add_subscription(
            session, url=url, event_types=chosen, secret=secret, actor="cli", now=app.clock.now()
        )
        made = (sub.id, sub.url)
    console.print(f"Đã đăng ký webhook #{made[0]}: {made[1]}", markup=False)
    console.print(f"Sự kiện: {', '.join(chosen) if chosen else 'tất cả (all)'}", markup=False)
    if secret is None:
        console.print(
            f"Khóa ký (chỉ hiện một lần, hãy lưu lại): {key}\n"
            "Máy nhận dùng khóa này để kiểm tra chữ ký X-Dondoc-Signature.",
            markup=False,
        )
    console.print(
        "Sự kiện xảy ra từ bây giờ sẽ được gửi khi `dondoc run` đang chạy. "
        f"Gửi thử: dondoc webhook test {made[1]}",
        markup=False,
    )


@webhook_app.command("list")
def webhook_list(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="In dạng JSON.")
) -> None:
    """Danh sách máy nhận (không bao giờ in khóa ký)."""
    app = get_app(ctx)
    tz = app.settings.tz
    with session_scope(app.ready_engine()) as session:
        rows = list_subscriptions(session)
    for row in rows:
        row["created_at"] = row["created_at"].astimezone(tz).isoformat()
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("Chưa có webhook nào: thêm bằng `dondoc webhook add URL --events all`.")
        return
    table = Table("ID", "URL", "Sự kiện", "Trạng thái", "Đang chờ", "Đã gửi", "Thất bại")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["url"]),
            ", ".join(row["events"]),
            "đang dùng" if row["active"] else "tạm dừng",
            str(row["queued"]),
            str(row["sent"]),
            str(row["failed"]),
        )
    console.print(table)


@webhook_app.command("remove")
def webhook_remove(
    ctx: typer.Context, ref: str = typer.Argument(..., metavar="ID|URL", help="Số hoặc URL.")
) -> None:
    """Gỡ một máy nhận; các sự kiện chưa gửi tới nó bị bỏ."""
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        url, dropped = remove_subscription(session, ref=ref, actor="cli", now=app.clock.now())
    extra = f" ({dropped} sự kiện chưa gửi đã bị bỏ)" if dropped else ""
    console.print(f"Đã gỡ webhook {url}{extra}.", markup=False)


@webhook_app.command("test")
def webhook_test(
    ctx: typer.Context,
    ref: str = typer.Argument(..., metavar="URL|ID", help="Webhook đã đăng ký (URL hoặc số)."),
    secret: str | None = typer.Option(
        None, "--secret", help="Khóa ký, để thử một URL chưa đăng ký."
    ),
) -> None:
    """Gửi ngay một sự kiện mẫu đã ký tới máy nhận và in câu trả lời."""
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        try:
            sub = find_subscription(session, ref)
            url, key = sub.url, secret or sub.secret
        except NotFoundError:
            if secret is None:
                raise UserError(
                    f"Webhook '{ref}' chưa được đăng ký: thêm bằng `dondoc webhook add`, "
                    "hoặc thử với --secret KHÓA."
                ) from None
            url, key = validate_url(ref), secret
    event = sample_event(app.clock.now())
    message = WebhookMessage(
        channel=CHANNEL,
        address=url,
        subject=event.type,
        text=json.dumps(events.event_json(event), ensure_ascii=False, separators=(",", ":")),
        message_key=f"{CHANNEL}:test:{uuid.uuid4().hex}",
        secret=key,
    )
    channel = WebhookChannel(clock=app.clock)

    async def send() -> tuple[int, str]:
        try:
            answer = await channel.post(message)
        finally:
            await channel.close()
        return answer.status, answer.body

    try:
        status, body = asyncio.run(send())
    except ChannelError as exc:
        raise UserError(f"Gửi thử tới {url} không thành công: {exc.message}") from None
    console.print(f"Máy nhận {url} đã nhận sự kiện thử: HTTP {status}.", markup=False)
    if body.strip():
        console.print(f"Câu trả lời: {body.strip()}", markup=False)
