"""`dondoc config check [FILE]`: is a rule config safe to put live?"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import typer
from rich.console import Console

from config.errors import ConfigError
from dondoc.cli.common import console, get_app
from dondoc.cli.rule_config import load_checked_config
from notifiers.template_check import check_templates

config_app = typer.Typer(help="Cấu hình quy tắc nhắc việc (the rule config).", no_args_is_help=True)


@config_app.command("check")
def check(
    ctx: typer.Context,
    file: Path | None = typer.Argument(
        None, help="Tệp quy tắc; mặc định là tệp đang dùng (DONDOC_RULES_FILE hoặc bản đi kèm)."
    ),
) -> None:
    """Kiểm tra tệp quy tắc: lỗi in dạng TỆP:DÒNG:CỘT; mã thoát 0 nếu hợp lệ, 2 nếu không."""
    app = get_app(ctx)
    path = file or app.settings.rules_path
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    templates_dir = app.settings.templates_dir
    template_problems = check_templates(templates_dir) if templates_dir else []
    try:
        config, notes = load_checked_config(app, path)
    except ConfigError as exc:
        count = len(exc.problems)
        err.print(f"Tệp quy tắc {path} có {count} lỗi ({count} problems):", markup=False)
        for problem in exc.problems:
            err.print(problem, markup=False)
        _print_template_problems(err, templates_dir, template_problems)
        sys.exit(2)
    if template_problems:
        _print_template_problems(err, templates_dir, template_problems)
        sys.exit(2)
    cal = config.office_calendar
    console.print(f"Hợp lệ (valid): {path}", markup=False, highlight=False)
    for name, policy in config.policies.items():
        stages = ", ".join(stage.name for stage in policy.stages)
        console.print(f"  chính sách {name}: {len(policy.stages)} bước ({stages})", markup=False)
    kinds = ", ".join(f"{kind} → {name}" for kind, name in config.policy_for.kind.items())
    console.print(f"  theo loại thời hạn: {kinds}", markup=False)
    overrides = sum(
        len(m) for m in (config.policy_for.plan, config.policy_for.tag, config.policy_for.task)
    )
    console.print(f"  quy tắc riêng (overrides): {overrides}", markup=False)
    console.print(
        f"  múi giờ {config.timezone}; giờ làm việc {cal.office_hours.start:%H:%M}-"
        f"{cal.office_hours.end:%H:%M}; xác nhận hết hiệu lực sau {_duration(config.ack_timeout)}; "
        f"mốc đã đặt: {len(config.milestones)}",
        markup=False,
    )
    for note in notes:
        console.print(note, markup=False)


def _print_template_problems(err: Console, folder: Path | None, problems: list[str]) -> None:
    if not problems:
        return
    count = len(problems)
    err.print(
        f"Thư mục mẫu tin {folder} có {count} lỗi (custom templates: {count} problems):",
        markup=False,
    )
    for problem in problems:
        err.print(problem, markup=False)


def _duration(value: timedelta) -> str:
    if value % timedelta(days=1) == timedelta(0):
        return f"{value.days} ngày"
    return f"{int(value.total_seconds() // 3600)} giờ"
