"""`dondoc run` (the daemon) and `dondoc status` (what it is doing)."""

from __future__ import annotations

import asyncio
import gc
import logging
from datetime import datetime
from typing import Any

import typer
from rich.table import Table
from sqlmodel import col, func, select

from dondoc.cli.common import console, get_app, parse_moment, print_json
from dondoc.clock import ManualClock
from dondoc.errors import UserError
from dondoc.logs import configure_logging
from dondoc.models import Agency, DaemonState, OutboxMessage
from dondoc.store import session_scope
from scheduler.summary import local


def run(
    ctx: typer.Context,
    simulate: tuple[str, str] | None = typer.Option(
        None, "--simulate", metavar="FROM TO", help="Chạy trên đồng hồ ảo từ FROM đến TO."
    ),
    speed: float = typer.Option(
        0.0, "--speed", min=0, help="Giây ảo mỗi giây thật; 0 = nhanh nhất có thể."
    ),
) -> None:
    """Chạy daemon: nhắc việc, gửi thư, nhận phản hồi (run the daemon)."""
    app = get_app(ctx)
    tz = app.settings.tz
    until = None
    if isinstance(app.clock, ManualClock) and simulate is None:
        raise UserError("--now chỉ dùng cùng --simulate: daemon thật chạy theo giờ thật.")
    if simulate is not None:
        start = parse_moment(simulate[0], tz, option="--simulate FROM")
        until = parse_moment(simulate[1], tz, option="--simulate TO")
        if until <= start:
            raise UserError("--simulate: TO phải sau FROM.")
        app.clock = ManualClock(start)
    configure_logging(app.clock, tz)
    daemon = app.build_daemon()
    # What start-up built lives as long as the daemon. Frozen out of the collector's way,
    # a full collection no longer walks it: that pause held every send for 0.1-0.3 s.
    gc.freeze()
    asyncio.run(daemon.run(simulate_until=until, speed=speed))
    logging.getLogger("dondoc.daemon").info("stopped cleanly")


def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Tình trạng daemon: hàng đợi, lỗi gửi, lần chạy gần nhất."""
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        state = session.get(DaemonState, "daemon")
        counts = dict(
            session.exec(
                select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
            ).all()
        )
        failures = session.exec(
            select(OutboxMessage, Agency)
            .join(Agency, col(Agency.id) == OutboxMessage.agency_id, isouter=True)
            .where(OutboxMessage.status == "failed")
            .order_by(col(OutboxMessage.id).desc())
            .limit(10)
        ).all()
    data: dict[str, Any] = {
        "daemon": state.value if state else None,
        "outbox": {s: counts.get(s, 0) for s in ("pending", "sending", "sent", "failed")},
        "recent_failures": [
            {
                "key": m.key,
                "channel": m.channel,
                "agency": a.code if a else None,
                "error": m.last_error,
            }
            for m, a in failures
        ],
    }
    if as_json:
        print_json(data)
        return
    daemon = data["daemon"]
    tz = app.settings.tz
    if daemon:
        # Stored in whatever zone the clock gave; an officer reads the office's zone.
        last = local(datetime.fromisoformat(daemon["last_tick_at"]), tz)
        started = local(datetime.fromisoformat(daemon["started_at"]), tz)
        console.print(
            f"Lần chạy gần nhất: {last} ({daemon['last_tick_seconds']} giây), "
            f"PID {daemon['pid']}, chạy từ {started} (giờ {app.settings.timezone})."
        )
        if daemon.get("config_error"):
            console.print(f"[red]Cấu hình bị từ chối:[/] {daemon['config_error']}")
    else:
        console.print("Daemon chưa chạy lần nào.")
    outbox = data["outbox"]
    console.print(
        f"Hàng đợi: {outbox['pending']} chờ gửi, {outbox['sending']} đang gửi, "
        f"{outbox['sent']} đã gửi, {outbox['failed']} thất bại."
    )
    if data["recent_failures"]:
        table = Table(title="Lỗi gửi gần đây")
        for column in ("Khóa", "Kênh", "Cơ quan", "Lỗi"):
            table.add_column(column)
        for item in data["recent_failures"]:
            table.add_row(item["key"], item["channel"], item["agency"] or "—", item["error"] or "")
        console.print(table)
