"""Shared CLI plumbing: the App from the Typer context, consoles, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console

from dondoc.app import App, build_app

console = Console(highlight=False, soft_wrap=False)
err_console = Console(stderr=True, highlight=False)


def get_app(ctx: typer.Context) -> App:
    """The App for this invocation, built on first use (settings are read only then)."""
    root = ctx.find_root()
    if not isinstance(root.obj, App):
        root.obj = build_app()
        root.call_on_close(root.obj.close)
    return root.obj


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
