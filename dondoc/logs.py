"""Log set-up for the daemon: one line per event, stamped with the daemon's own clock."""

from __future__ import annotations

import logging
from typing import Any

from dondoc.clock import Clock


class _ClockFilter(logging.Filter):
    """Stamps each log line with the daemon's clock, which is virtual under --simulate."""

    def __init__(self, clock: Clock, tz: Any) -> None:
        super().__init__()
        self.clock, self.tz = clock, tz

    def filter(self, record: logging.LogRecord) -> bool:
        record.vnow = self.clock.now().astimezone(self.tz).strftime("%Y-%m-%d %H:%M")
        return True


def configure_logging(clock: Clock, tz: Any, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_ClockFilter(clock, tz))
    handler.setFormatter(logging.Formatter("%(vnow)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "apscheduler", "telegram", "aiosmtplib", "mail.log", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
