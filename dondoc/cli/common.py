"""Shared CLI plumbing: the App from the Typer context, consoles, JSON output."""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime, time, tzinfo
from typing import TYPE_CHECKING, Any

import typer

from config.settings import unknown_variables
from dondoc.app import App, build_app
from dondoc.clock import ManualClock
from dondoc.errors import UserError

if TYPE_CHECKING:
    from rich.console import Console

    console: Console
    err_console: Console
else:

    def __getattr__(name: str) -> Any:
        if name in ("console", "err_console"):
            return _console(name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _console(name: str) -> Console:
    """`console` or `err_console`, made on first use: a command that prints plain lines
    (`dondoc preview`) does not import rich."""
    made: Console | None = globals().get(name)
    if made is not None:
        return made
    from rich.console import Console

    # soft_wrap: plain lines are never broken mid-sentence when output goes to a pipe or
    # file; tables still lay themselves out to the width.
    made = globals()[name] = Console(stderr=name == "err_console", highlight=False, soft_wrap=True)
    return made


def get_app(ctx: typer.Context) -> App:
    """The App for this invocation, built on first use (settings are read only then)."""
    root = ctx.find_root()
    if not isinstance(root.obj, App):
        fixed = root.params.get("now")
        app = build_app()
        for warning in unknown_variables(os.environ):
            _console("err_console").print(f"Cảnh báo: {warning}", markup=False)
        if fixed:
            app.clock = ManualClock(parse_moment(fixed, app.settings.tz, option="--now"))
        root.obj = app
        root.call_on_close(app.close)
    return root.obj


def parse_moment(text: str, tz: tzinfo, *, option: str) -> datetime:
    """A date (midnight) or date-time, in the office's time zone unless it names one."""
    try:
        if len(text.strip()) == 10:
            return datetime.combine(date.fromisoformat(text.strip()), time(0, 0), tzinfo=tz)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{option}: '{text}' không phải thời điểm hợp lệ (YYYY-MM-DD hoặc YYYY-MM-DDTHH:MM)."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
