"""Sub-commands that are imported only when run: `dondoc --help` stays fast.

Typer builds every command from its function at start-up, so a CLI that registers all of
them imports the store, the web app and the spreadsheet writer before printing a line.
This is click's documented lazy-loading pattern ("LazyGroup") on Typer's own group: the
root lists each sub-command by name and help text, and imports its module only when
click resolves that name to run it (`dondoc plan …`, `dondoc plan --help`).

`LazySubcommand.help` is what `dondoc --help` prints for it; tests/test_cli_lazy.py
checks that it matches what the loaded command would print.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class LazySubcommand:
    """`target` is "module:attribute": a Typer app (a command group) or a function (one
    command), exactly what `add_typer` or `command` would have been given."""

    target: str
    help: str

    def build(self, name: str) -> Any:
        module, _, attribute = self.target.partition(":")
        # A command's imports leave tens of thousands of objects that live until it
        # exits, and almost no garbage: collections while importing, and later ones
        # that scan those objects again, were a quarter of `dondoc preview`'s CPU time.
        # So none run while importing, and what was imported is left out of later ones.
        enabled = gc.isenabled()
        gc.disable()
        try:
            found = getattr(importlib.import_module(module), attribute)
        finally:
            if enabled:
                gc.enable()
        gc.freeze()
        parent = typer.Typer()
        if isinstance(found, typer.Typer):
            parent.add_typer(found, name=name)
        else:
            parent.command(name)(found)
        return typer.main.get_group(parent).commands[name]


class _Placeholder(TyperCommand):
    """Stands for a sub-command in the root's help and suggestions; never run."""


class LazyGroup(TyperGroup):
    """A Typer group whose `lazy` sub-commands are imported when resolved, not listed."""

    lazy: ClassVar[Mapping[str, LazySubcommand]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, entry in self.lazy.items():
            self.commands.setdefault(name, _Placeholder(name, help=entry.help))

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[Any, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, _Placeholder) and name is not None:
            command = self.load(name)
        return name, command, rest

    def load(self, name: str) -> Any:
        """The real command `name`, imported now and kept."""
        command = self.commands.get(name)
        if isinstance(command, _Placeholder):
            command = self.commands[name] = self.lazy[name].build(name)
        return command


def lazy_group(commands: Mapping[str, LazySubcommand]) -> type[LazyGroup]:
    """The group class to give `typer.Typer(cls=…)`, with these lazy sub-commands."""
    return type("DondocGroup", (LazyGroup,), {"lazy": dict(commands)})
