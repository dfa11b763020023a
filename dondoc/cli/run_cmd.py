"""`dondoc run`: the daemon (`dondoc status`, what it is doing, is in status_cmd)."""

from __future__ import annotations

import asyncio
import gc
import logging

import typer

from dondoc.cli.common import get_app, parse_moment
from dondoc.clock import ManualClock
from dondoc.errors import UserError
from dondoc.logs import configure_logging


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
    daemon = app.build_daemon(rehearsal=until is not None)
    # What start-up built lives as long as the daemon. Frozen out of the collector's way,
    # a full collection no longer walks it: that pause held every send for 0.1-0.3 s.
    gc.freeze()
    asyncio.run(daemon.run(simulate_until=until, speed=speed))
    logging.getLogger("dondoc.daemon").info("stopped cleanly")
