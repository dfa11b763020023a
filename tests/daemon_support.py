"""Building a real daemon on a small plan for the daemon tests (no mocks of our code)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fakes.smtp import SmtpSink
from sqlmodel import col, select

from config.settings import load_settings
from dondoc.app import App
from dondoc.clock import ManualClock
from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.models import Agency, OutboxMessage
from dondoc.plan_import import import_plan
from dondoc.store import migrate, session_scope

VN = ZoneInfo("Asia/Ho_Chi_Minh")

# One task due at the end of December 2022, a lead and a coordinator.
SMALL_PLAN = """STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Sản phẩm,Thời gian hoàn thành
1,Xây dựng kế hoạch số hóa hồ sơ,Sở Tư pháp,Sở Nội vụ,Kế hoạch,Tháng 12/2022
"""


def at(day: str, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), VN)


def make_app(
    tmp_path: Path,
    sink: SmtpSink,
    *,
    store_url: str | None = None,
    rules_file: Path | None = None,
    plan: str = SMALL_PLAN,
    start: str = "2022-11-01",
    **overrides: Any,
) -> App:
    """A migrated store with the example directory and `plan`, and an App whose clock
    stands at `start`; extra keyword arguments are settings (e.g. telegram={...})."""
    settings = load_settings(
        data_dir=tmp_path / "data",
        database_url=store_url,
        smtp={"host": sink.host, "port": sink.port, "sender": "dondoc@tinhmau.example"},
        http_port=0,
        rules_file=rules_file,
        **overrides,
    )
    app = App(settings=settings, clock=ManualClock(at(start)))
    migrate(app.engine)
    plan_file = tmp_path / "plan.csv"
    plan_file.write_text(plan, encoding="utf-8")
    with session_scope(app.engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
        import_plan(session, path=plan_file, now=app.clock.now(), plan_code="test")
    return app


def simulate(app: App, until: datetime, daemon: Any = None) -> Any:
    """Run the real daemon on the virtual clock up to `until`; returns the daemon."""
    daemon = daemon or app.build_daemon()
    asyncio.run(daemon.run(simulate_until=until, speed=0))
    return daemon


def sent_rows(app: App) -> list[tuple[OutboxMessage, str]]:
    with session_scope(app.engine) as session:
        rows = session.exec(
            select(OutboxMessage, Agency)
            .join(Agency, col(Agency.id) == OutboxMessage.agency_id)
            .where(OutboxMessage.status == "sent")
            .order_by(col(OutboxMessage.sent_at), col(OutboxMessage.id))
        ).all()
        return [
            (m, a.code + ("#head" if m.context.get("audience") == "head" else "")) for m, a in rows
        ]


def arrivals(app: App) -> dict[tuple[str, str], set[datetime]]:
    """(stage, recipient) → the virtual moments those reminders were sent."""
    found: dict[tuple[str, str], set[datetime]] = defaultdict(set)
    for row, recipient in sent_rows(app):
        if row.sent_at is not None:
            found[(row.stage, recipient)].add(row.sent_at.astimezone(VN))
    return found


def outbox_statuses(app: App) -> dict[str, int]:
    with session_scope(app.engine) as session:
        statuses: dict[str, int] = defaultdict(int)
        for status in session.exec(select(OutboxMessage.status)).all():
            statuses[status] += 1
        return dict(statuses)
