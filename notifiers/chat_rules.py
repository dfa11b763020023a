"""What the chat bots need of the rule config: how long an acknowledgement holds.

The bots answer `/tasks` with each task's status; an acknowledgement older than the
config's `ack_timeout` no longer silences the reminders, so it must read "open" there
too. The file is read again only when it changes; while it cannot be read, statuses are
shown as stored (`dondoc config check` says what is wrong).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from config.errors import ConfigError
from config.rules_loader import load_rule_config
from config.settings import Settings


def ack_timeout_of(settings: Settings) -> Callable[[], timedelta | None]:
    path = settings.rules_path
    cached: list[tuple[int, timedelta | None]] = []  # (file's mtime, its ack_timeout)

    def current() -> timedelta | None:
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return None
        if not cached or cached[0][0] != stamp:
            try:
                value: timedelta | None = load_rule_config(path).ack_timeout
            except ConfigError:
                value = None
            cached[:] = [(stamp, value)]
        return cached[0][1]

    return current
