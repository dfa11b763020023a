"""The `dondoc` command line: one Typer app; each command group lives in its own module.

Domain errors (`UserError`) become one line on stderr and exit code 2; anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from config.errors import ConfigError
from dondoc.errors import UserError

app = typer.Typer(
    name="dondoc",
    help="dondoc — đôn đốc thực hiện kế hoạch hành động (keeps an action plan on schedule).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"dondoc {version('dondoc')}")
        raise typer.Exit()


@app.callback()
def _root(
    now: str | None = typer.Option(
        None,
        "--now",
        metavar="MOMENT",
        help="Chạy như thể lúc này là MOMENT (YYYY-MM-DD[THH:MM]): để diễn tập và kiểm thử.",
    ),
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="In phiên bản rồi thoát."
    ),
) -> None:
    """dondoc — đôn đốc thực hiện kế hoạch hành động (keeps an action plan on schedule)."""


def _register() -> None:
    # Explicit registration: every command group is listed here, nothing is discovered.
    from dondoc.cli import directory_cmd, plan_cmd, rules_cmd

    app.command("init")(directory_cmd.init)
    app.add_typer(directory_cmd.agencies_app, name="agencies")
    app.add_typer(plan_cmd.plan_app, name="plan")
    app.command("plans")(plan_cmd.plans)
    app.command("tasks")(plan_cmd.tasks)
    app.add_typer(plan_cmd.task_app, name="task")
    app.add_typer(rules_cmd.app, name="rules")
    from dondoc.cli import explain_cmd, report_cmd

    app.add_typer(report_cmd.report_app, name="report")
    app.command("explain")(explain_cmd.explain)
    from dondoc.cli import config_cmd, preview_cmd

    app.add_typer(config_cmd.config_app, name="config")
    app.command("preview")(preview_cmd.preview)
    from dondoc.cli import run_cmd

    app.command("run")(run_cmd.run)
    app.command("status")(run_cmd.status)
    from dondoc.cli import channels_cmd

    app.add_typer(channels_cmd.agency_app, name="agency")
    app.add_typer(channels_cmd.extension_app, name="extension")
    from dondoc.cli import web_cmd

    app.command("web")(web_cmd.web)
    app.add_typer(web_cmd.user_app, name="user")
    channels_cmd.agency_app.command("link")(web_cmd.agency_link)
    from dondoc.cli import token_cmd

    app.add_typer(token_cmd.token_app, name="token")
    from dondoc.cli import webhook_cmd

    app.add_typer(webhook_cmd.webhook_app, name="webhook")


_register()


def _fail(message: str, code: int) -> None:
    # markup=False: the message may quote the user's text, brackets included.
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"Lỗi: {message}", markup=False)
    sys.exit(code)


def main() -> None:
    """Console-script entry point."""
    try:
        # Without standalone mode a `typer.Exit(code)` comes back as the return value.
        code = app(standalone_mode=False)
    except UserError as exc:
        _fail(exc.message, exc.exit_code)
    except ConfigError as exc:
        _fail("\n".join(exc.problems), 2)
    except typer.Abort:
        sys.exit(1)
    except SystemExit:
        raise
    except Exception as exc:
        # A usage error (missing option, unknown command) is click's ClickException, which
        # recent Typer versions vendor: recognised by its interface, not by its module.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        raise  # anything else is a bug and keeps its traceback
    if isinstance(code, int) and code:
        sys.exit(code)
