"""`dondoc status`: every daemon on the store, the queue, and recent failures.

Several daemons may share one PostgreSQL: each has its own row (scheduler/presence.py),
so every one is listed, with its role in chat polling and its channel workers. A daemon
whose heartbeat stopped is shown as silent, never as alive; one that exited cleanly, as
stopped. Vietnamese by default, English with `--lang en` (or DONDOC_LANG=en).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import col, func, select

from dondoc.cli.common import console, get_app, print_json
from dondoc.daemon_state import RUNNING, STALE, DaemonView, list_daemons
from dondoc.errors import UserError
from dondoc.models import Agency, OutboxMessage
from dondoc.store import session_scope
from notifiers.zalo_inbox import open_pushes
from scheduler.summary import local

LANGS = ("vi", "en")
QUEUED = ("pending", "sending")

PHRASES: dict[str, dict[str, str]] = {
    "vi": {
        "none": "Daemon chưa chạy lần nào.",
        "count": "Daemon: {running} đang chạy, {stale} im lặng, {stopped} đã dừng.",
        "running": "đang chạy",
        "stopped": "đã dừng lúc {at}",
        "stale": (
            "IM LẶNG: không báo tin từ {silent:g} giây (giới hạn {limit:g} giây); có thể đã "
            "bị dừng đột ngột hoặc bị treo"
        ),
        "leader": "bot chat: DẪN ĐẦU (nhận tin nhắn)",
        "follower": "bot chat: dự phòng",
        "unhealthy": "KHÔNG ỔN (xem /healthz)",
        "last": "Lần chạy gần nhất: {last} ({seconds} giây), chạy từ {started} (giờ {tz}).",
        "no_tick": "Chưa chạy nhịp nào, chạy từ {started} (giờ {tz}).",
        "good": "Nhịp tốt gần nhất: {at}; báo tin cách đây {silent:g} giây.",
        "no_good": "Chưa có nhịp tốt nào; báo tin cách đây {silent:g} giây.",
        "channels": "Kênh: {channels}.",
        "busy": "đang gửi",
        "idle": "rảnh",
        "error": "LỖI",
        "bot_error": "Bot chat không khởi động được: {error}",
        "bot_problem": "Bot chat gặp sự cố: {error}",
        "config": "[red]Cấu hình bị từ chối:[/] {error}",
        "queue": (
            "Hàng đợi: {pending} chờ gửi, {sending} đang gửi, {sent} đã gửi, {failed} thất bại."
        ),
        "backlog": "Tồn đọng theo kênh: {backlog}.",
        "backlog_item": "{channel} {pending} chờ gửi, {sending} đang gửi",
        "pushes": "Tin Zalo đang chờ bot trả lời: {count}.",
        "failures": "Lỗi gửi gần đây",
        "columns": "Khóa|Kênh|Cơ quan|Lỗi",
    },
    "en": {
        "none": "No daemon has run yet.",
        "count": "Daemons: {running} running, {stale} silent, {stopped} stopped.",
        "running": "running",
        "stopped": "stopped at {at}",
        "stale": ("SILENT: no heartbeat for {silent:g} s (limit {limit:g} s); killed or hung"),
        "leader": "chat bots: LEADER (polls the chats)",
        "follower": "chat bots: standby",
        "unhealthy": "UNHEALTHY (see /healthz)",
        "last": "Last run: {last} ({seconds} s), running since {started} ({tz} time).",
        "no_tick": "No tick yet, running since {started} ({tz} time).",
        "good": "Last good tick: {at}; last heartbeat {silent:g} s ago.",
        "no_good": "No good tick yet; last heartbeat {silent:g} s ago.",
        "channels": "Channels: {channels}.",
        "busy": "sending",
        "idle": "idle",
        "error": "ERROR",
        "bot_error": "The chat bot could not start: {error}",
        "bot_problem": "The chat bot has a problem: {error}",
        "config": "[red]Rule config rejected:[/] {error}",
        "queue": "Queue: {pending} pending, {sending} sending, {sent} sent, {failed} failed.",
        "backlog": "Backlog by channel: {backlog}.",
        "backlog_item": "{channel} {pending} pending, {sending} sending",
        "pushes": "Zalo pushes waiting for the bot's answer: {count}.",
        "failures": "Recent delivery failures",
        "columns": "Key|Channel|Agency|Error",
    },
}


def status(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json"),
    lang: str = typer.Option(
        "vi", "--lang", envvar="DONDOC_LANG", help="Ngôn ngữ: vi | en (mặc định: DONDOC_LANG)."
    ),
) -> None:
    """Tình trạng daemon: hàng đợi, lỗi gửi, lần chạy gần nhất."""
    if lang not in LANGS:
        raise UserError(f"--lang '{lang}' không hợp lệ: dùng 'vi' hoặc 'en'.")
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        daemons = list_daemons(session)
        counts = dict(
            session.exec(
                select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
            ).all()
        )
        backlog: dict[str, dict[str, int]] = {}
        for channel, state, count in session.exec(
            select(OutboxMessage.channel, OutboxMessage.status, func.count())
            .where(col(OutboxMessage.status).in_(QUEUED))
            .group_by(col(OutboxMessage.channel), col(OutboxMessage.status))
        ).all():
            backlog.setdefault(channel, dict.fromkeys(QUEUED, 0))[state] = count
        failures = session.exec(
            select(OutboxMessage, Agency)
            .join(Agency, col(Agency.id) == OutboxMessage.agency_id, isouter=True)
            .where(OutboxMessage.status == "failed")
            .order_by(col(OutboxMessage.id).desc())
            .limit(10)
        ).all()
    waiting = open_pushes(app.engine)
    listed = [_as_json(d) for d in daemons]
    data: dict[str, Any] = {
        "daemons": listed,
        # The daemon heard from last, as the single `daemon` entry of earlier versions.
        "daemon": max(listed, key=lambda d: d["heartbeat_at"], default=None),
        "outbox": {s: counts.get(s, 0) for s in ("pending", "sending", "sent", "failed")},
        "backlog": dict(sorted(backlog.items())),
        # Zalo pushes taken in by any daemon and not yet answered by the chat leader.
        "zalo_pushes_waiting": waiting,
        "recent_failures": [
            {"key": m.key, "channel": m.channel, "agency": a.code if a else None,
             "error": m.last_error}
            for m, a in failures
        ],
    }  # fmt: skip
    if as_json:
        print_json(data)
        return
    say = PHRASES[lang]
    for line in daemon_lines(daemons, say=say, tz=app.settings.tz, zone=app.settings.timezone):
        console.print(line)
    console.print(say["queue"].format(**data["outbox"]))
    if backlog:
        items = [say["backlog_item"].format(channel=c, **n) for c, n in data["backlog"].items()]
        console.print(say["backlog"].format(backlog="; ".join(items)))
    if waiting:
        console.print(say["pushes"].format(count=waiting))
    if data["recent_failures"]:
        table = Table(title=say["failures"])
        for column in say["columns"].split("|"):
            table.add_column(column)
        for item in data["recent_failures"]:
            table.add_row(item["key"], item["channel"], item["agency"] or "—", item["error"] or "")
        console.print(table)


def _as_json(view: DaemonView) -> dict[str, Any]:
    return {
        "id": view.instance,
        "host": view.host,
        "pid": view.pid,
        "state": view.state,
        "started_at": view.started_at.isoformat(),
        "heartbeat_at": view.heartbeat_at.isoformat(),
        "stopped_at": view.stopped_at.isoformat() if view.stopped_at else None,
        "silent_seconds": view.silent_seconds,
        "stale_after": view.stale_after,
        **view.detail,
    }


def daemon_lines(
    daemons: list[DaemonView], *, say: dict[str, str], tz: tzinfo, zone: str
) -> list[str]:
    """Each daemon as a few lines (times in the office's zone, as an officer reads them)."""
    if not daemons:
        return [say["none"]]
    states = [d.state for d in daemons]
    lines = [
        say["count"].format(
            running=states.count(RUNNING),
            stale=states.count(STALE),
            stopped=len(states) - states.count(RUNNING) - states.count(STALE),
        )
    ]
    for daemon in daemons:
        detail = daemon.detail
        if daemon.state == RUNNING:
            parts = [say["running"]]
            if detail.get("role") in ("leader", "follower"):
                parts.append(say[detail["role"]])
            if detail.get("ok") is False:
                parts.append(say["unhealthy"])
        elif daemon.state == STALE:
            parts = [say["stale"].format(silent=daemon.silent_seconds, limit=daemon.stale_after)]
        else:
            parts = [say["stopped"].format(at=local(daemon.stopped_at or daemon.heartbeat_at, tz))]
        lines.append(f"• {escape(daemon.host)}, PID {daemon.pid}: " + "; ".join(parts))
        started = local(daemon.started_at, tz)
        if detail.get("last_tick_at"):
            last = local(datetime.fromisoformat(detail["last_tick_at"]), tz)
            lines.append("  " + say["last"].format(
                last=last, seconds=detail.get("last_tick_seconds"), started=started, tz=zone
            ))  # fmt: skip
        else:
            lines.append("  " + say["no_tick"].format(started=started, tz=zone))
        if daemon.state == RUNNING:
            good = detail.get("last_good_tick")
            lines.append("  " + (
                say["good"].format(at=local(datetime.fromisoformat(good), tz),
                                   silent=daemon.silent_seconds)
                if good else say["no_good"].format(silent=daemon.silent_seconds)
            ))  # fmt: skip
            channels = detail.get("channels") or {}
            if channels:
                lines.append("  " + say["channels"].format(
                    channels="; ".join(f"{n}: {_worker(w, say)}" for n, w in channels.items())
                ))  # fmt: skip
            for key in ("bot_error", "bot_problem"):
                if detail.get(key):
                    lines.append("  " + say[key].format(error=escape(detail[key])))
        if detail.get("config_error"):
            lines.append("  " + say["config"].format(error=escape(detail["config_error"])))
    return lines


def _worker(health: dict[str, Any], say: dict[str, str]) -> str:
    if not health.get("ok", True):
        return f"{say['error']} ({escape(str(health.get('error') or ''))})"
    return say["busy"] if health.get("busy") else say["idle"]
