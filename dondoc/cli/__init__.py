"""The `dondoc` command line: one Typer app; each command group lives in its own module.

Domain errors (`UserError`) become one line on stderr and exit code 2; anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import typer

from config.errors import ConfigError
from dondoc.cli.lazy import LazySubcommand, lazy_group
from dondoc.errors import UserError

# Every sub-command, in the order `dondoc --help` lists them: "module:attribute" of its
# Typer app (a group) or function (a command), and the help line shown without importing
# it. Nothing is discovered; a new sub-command adds its line here (see dondoc/cli/lazy.py).
COMMANDS: dict[str, LazySubcommand] = {
    name: LazySubcommand(f"dondoc.cli.{target}", help)
    for name, target, help in (
        ("init", "directory_cmd:init",
         "Tạo hoặc nâng cấp cơ sở dữ liệu (create or upgrade the store)."),
        ("plans", "plan_cmd:plans", "Liệt kê các kế hoạch (list plans)."),
        ("tasks", "plan_cmd:tasks",
         "Liệt kê nhiệm vụ và cơ quan được giao (tasks and their agencies)."),
        ("explain", "explain_cmd:explain",
         "Ghi nhận báo cáo giải trình của một cơ quan về nhiệm vụ chậm muộn."),
        ("preview", "preview_cmd:preview",
         "Xem trước mọi lời nhắc sẽ gửi nếu không ai phản hồi (preview every reminder)."),
        ("run", "run_cmd:run", "Chạy daemon: nhắc việc, gửi thư, nhận phản hồi (run the daemon)."),
        ("status", "status_cmd:status", "Tình trạng daemon: hàng đợi, lỗi gửi, lần chạy gần nhất."),
        ("web", "web_cmd:web", "Chạy riêng trang web của Văn phòng (không gửi nhắc việc)."),
        ("agencies", "directory_cmd:agencies_app", "Danh bạ cơ quan (agency directory)."),
        ("plan", "plan_cmd:plan_app", "Kế hoạch (plans)."),
        ("task", "plan_cmd:task_app", "Một nhiệm vụ (one task)."),
        ("rules", "rules_cmd:app",
         "Quy tắc thời hạn: xem dondoc hiểu một thời hạn ra sao (deadline rules)."),
        ("report", "report_cmd:report_app", "Báo cáo (reports)."),
        ("config", "config_cmd:config_app", "Cấu hình quy tắc nhắc việc (the rule config)."),
        ("agency", "channels_cmd:agency_app", "Một cơ quan (one agency)."),
        ("extension", "channels_cmd:extension_app", "Đề nghị gia hạn (extension requests)."),
        ("user", "web_cmd:user_app", "Tài khoản cán bộ Văn phòng (office accounts)."),
        ("token", "token_cmd:token_app", "Mã truy cập API (API tokens)."),
        ("webhook", "webhook_cmd:webhook_app",
         "Webhook: gửi sự kiện của dondoc tới hệ thống khác (outbound webhooks)."),
    )
}  # fmt: skip

app = typer.Typer(
    name="dondoc",
    help="dondoc — đôn đốc thực hiện kế hoạch hành động (keeps an action plan on schedule).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=lazy_group(COMMANDS),
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


def _fail(message: str, code: int) -> None:
    from rich.console import Console

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
