"""`dondoc preview`: every reminder the plans would send, before a config goes live."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import typer

from dondoc.cli.common import get_app, print_json
from dondoc.cli.rule_config import load_checked_config
from dondoc.errors import UserError
from dondoc.holiday_cache import with_known_holidays
from dondoc.preview import Preview, build_preview
from dondoc.store import session_scope
from dondoc.tasks import ROLE_LABELS

DEFAULT_DAYS = 90
_KEPT_YEARS = 10
_WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
_AUDIENCE = {"agency": "", "head": " (lãnh đạo)", "office": " (văn phòng)"}


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(
            f"{option} '{value}' không phải ngày dạng YYYY-MM-DD (a date such as 2023-03-31)."
        ) from None


def preview(
    ctx: typer.Context,
    start: str | None = typer.Option(
        None, "--from", help="Ngày bắt đầu (YYYY-MM-DD); mặc định hôm nay."
    ),
    end: str | None = typer.Option(
        None, "--to", help=f"Ngày kết thúc (YYYY-MM-DD); mặc định {DEFAULT_DAYS} ngày sau --from."
    ),
    plan: str | None = typer.Option(None, "--plan", help="Chỉ một kế hoạch (mã)."),
    agency: str | None = typer.Option(None, "--agency", help="Chỉ tin gửi đến một cơ quan (mã)."),
    as_json: bool = typer.Option(False, "--json", help="In dạng JSON."),
) -> None:
    """Xem trước mọi lời nhắc sẽ gửi nếu không ai phản hồi (preview every reminder)."""
    app = get_app(ctx)
    config, notes = load_checked_config(app)
    first = _date(start, "--from") or app.clock.now().astimezone(ZoneInfo(config.timezone)).date()
    last = _date(end, "--to") or first + timedelta(days=DEFAULT_DAYS)
    with session_scope(app.ready_engine()) as session:
        calendar = with_known_holidays(
            config.calendar(), folder=app.settings.data_dir / "cache", years=_years(first, last)
        )
        result = build_preview(
            session,
            config=config,
            start=first,
            end=last,
            plan=plan,
            agency=agency,
            calendar=calendar,
        )
    if as_json:
        print_json([row.to_dict() for row in result.rows])
        return
    _print(result, notes)


def _years(first: date, last: date) -> range:
    """The years whose holidays are kept between runs: sending times may move into the
    year after the end. A preview of many years asks the package about the later ones."""
    return range(first.year, min(last.year + 1, first.year + _KEPT_YEARS, date.max.year) + 1)


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d} {_WEEKDAYS[moment.weekday()]} {moment:%H:%M}"


def _print(result: Preview, notes: list[str]) -> None:
    # Plain lines: a year of reminders is thousands of rows, too many for rich markup.
    span = f"{result.start:%Y-%m-%d} → {(result.end - timedelta(days=1)):%Y-%m-%d}"
    lines = [
        f"Xem trước lời nhắc {span}: {len(result.rows)} tin, {result.assignments} phần việc "
        "(preview: messages if nobody responds)",
        f"{'Gửi lúc':<20} {'Cơ quan nhận':<36} {'Vai trò':<9} {'Kênh':<9} {'Bước':<18} Nhiệm vụ",
    ]
    for row in result.rows:
        who = row.agency + _AUDIENCE[row.audience]
        role = ROLE_LABELS.get(row.role, row.role)
        stage = row.stage + ("*" if row.ask_explanation else "")
        lines.append(
            f"{_when(row.send_at):<20} {who:<36} {role:<9} {row.channel:<9} {stage:<18} "
            f"{row.plan}/{row.number} (giao {row.assigned_agency})"
        )
    if any(row.ask_explanation for row in result.rows):
        lines.append("* yêu cầu báo cáo giải trình (asks for a written explanation)")
    lines.append("")
    lines.append("Số tin theo cơ quan nhận (per agency):")
    lines.extend(f"  {code:<36} {count:>6}" for code, count in result.per_agency())
    lines.append("")
    lines.append("Số tin theo tuần (per week, from Monday):")
    lines.extend(
        f"  {monday:%Y-%m-%d} (tuần {monday.isocalendar().week:>2})  {count:>6}"
        for monday, count in result.per_week()
    )
    if result.telegram_skipped:
        lines.append("")
        lines.append(
            f"{result.telegram_skipped} tin Telegram không tính: cơ quan chưa liên kết nhóm chat "
            "hoặc người nhận là lãnh đạo (nhận qua email). (Telegram messages left out: no "
            "linked chat, or sent to the head's email.)"
        )
    lines.extend(notes)
    sys.stdout.write("\n".join(lines) + "\n")
