"""`dondoc rules explain PHRASE`: how dondoc reads a deadline phrase, and the dates it gives.

Pure: no settings, no database. The only clock read is `today()`, which `--after`
replaces, so the output of a test never depends on the day it runs.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

import typer

from dondoc.errors import UserError
from rules.deadline import Deadline, ParseError, format_date, parse_deadline

OFFICE_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NEXT_DATES = 6
LANGS = ("vi", "en")

app = typer.Typer(no_args_is_help=True)


@app.callback()
def rules() -> None:
    """Quy tắc thời hạn: xem dondoc hiểu một thời hạn ra sao (deadline rules)."""


def today() -> date:
    """Today in Vietnam, where the plan's deadlines fall."""
    return datetime.now(OFFICE_ZONE).date()


@app.command()
def explain(
    phrase: str = typer.Argument(..., help="Thời hạn như trong kế hoạch, ví dụ 'Quý II/2023'."),
    after: str | None = typer.Option(
        None,
        "--after",
        help="Liệt kê các hạn từ ngày này (YYYY-MM-DD hoặc DD/MM/YYYY); mặc định: hôm nay.",
    ),
    as_json: bool = typer.Option(False, "--json", help="In một đối tượng JSON."),
    lang: str = typer.Option(
        "vi", "--lang", envvar="DONDOC_LANG", help="Ngôn ngữ: vi | en (mặc định: DONDOC_LANG)."
    ),
) -> None:
    """Giải thích cách dondoc hiểu một thời hạn và các ngày hạn tiếp theo."""
    if lang not in LANGS:
        raise UserError(f"--lang '{lang}' không hợp lệ: dùng 'vi' hoặc 'en'.")
    since = today() if after is None else _parse_after(after, lang)
    try:
        deadline = parse_deadline(phrase)
    except ParseError as exc:
        raise UserError(exc.message(lang)) from None
    if as_json:
        typer.echo(json.dumps(explanation(deadline, since), ensure_ascii=False))
    else:
        typer.echo(for_people(deadline, since, lang))


def explanation(deadline: Deadline, after: date) -> dict[str, Any]:
    """The --json object: exactly the keys of issue 3, dates as ISO strings."""
    if deadline.series:
        upcoming = list(islice(deadline.occurrences(after), NEXT_DATES))
        due = upcoming[0] if upcoming else None
    else:
        due = deadline.due
        upcoming = [due] if deadline.kind == "once" and due is not None else []
    return {
        "phrase": deadline.phrase,
        "kind": deadline.kind,
        "start": _iso(deadline.start),
        "target": _iso(deadline.target),
        "due": _iso(due),
        "occurrences": [d.isoformat() for d in upcoming],
        "depends_on": deadline.depends_on,
        "note": deadline.note,
    }


def for_people(deadline: Deadline, after: date, lang: str = "vi") -> str:
    """Two lines: how the phrase was understood, then the dates that follow."""
    vi = lang == "vi"
    since = format_date(after, lang)
    upcoming = list(islice(deadline.occurrences(after), NEXT_DATES))
    if upcoming:
        dates = ", ".join(format_date(d, lang) for d in upcoming)
        label = f"Các hạn tiếp theo (từ {since})" if vi else f"Next due dates (from {since})"
        when = f"{label}: {dates}"
    elif deadline.kind == "once" and deadline.due is not None and not deadline.parts:
        when = (
            f"Hạn này đã qua so với ngày {since}."
            if vi
            else f"This deadline had passed by {since}."
        )
    elif deadline.series:
        when = f"Không còn hạn nào từ ngày {since}." if vi else f"No due dates left from {since}."
    else:
        when = "Không có ngày hạn cụ thể." if vi else "No fixed due date."
    return f"{deadline.describe(lang)}\n{when}"


def _parse_after(text: str, lang: str) -> date:
    for parse in (date.fromisoformat, _day_month_year):
        try:
            return parse(text.strip())
        except ValueError:
            continue
    if lang == "en":
        raise UserError(f"--after '{text}' is not a date: use YYYY-MM-DD, e.g. 2023-06-01.")
    raise UserError(
        f"--after '{text}' không phải một ngày: hãy ghi theo dạng YYYY-MM-DD, ví dụ 2023-06-01."
    )


def _day_month_year(text: str) -> date:
    # People in Vietnam write 01/06/2023 for 1 June.
    return datetime.strptime(text, "%d/%m/%Y").date()


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
