"""`dondoc explain TASK --agency A --text …`: the office records an explanation it received."""

from __future__ import annotations

import sys

import typer

from dondoc.actions import find_assignment
from dondoc.cli.common import console, get_app
from dondoc.errors import UserError
from dondoc.models import Agency
from dondoc.reports.explanations import record_explanation
from dondoc.store import session_scope
from dondoc.tasks import get_task

VIA_CHOICES = {"paper": "văn bản giấy", "email": "email"}


def explain(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Mã nhiệm vụ (12) hoặc KẾ_HOẠCH/STT (nq131/5)."),
    agency: str = typer.Option(..., "--agency", help="Mã cơ quan giải trình."),
    text: str = typer.Option(..., "--text", help="Nội dung giải trình; '-' để đọc từ stdin."),
    via: str = typer.Option("paper", "--via", help="Nhận qua: paper (văn bản giấy) | email."),
    author: str | None = typer.Option(
        None, "--author", help="Người ký giải trình; mặc định là tên cơ quan."
    ),
) -> None:
    """Ghi nhận báo cáo giải trình của một cơ quan về nhiệm vụ chậm muộn."""
    if via not in VIA_CHOICES:
        raise UserError(f"--via '{via}' không hợp lệ: dùng {' hoặc '.join(VIA_CHOICES)}.")
    if text == "-":
        text = sys.stdin.read()
    app = get_app(ctx)
    with session_scope(app.ready_engine()) as session:
        view = get_task(session, task)
        assignment = find_assignment(session, task_id=view["id"], agency_code=agency)
        agency_row = session.get(Agency, assignment.agency_id)
        agency_name = agency_row.name if agency_row else agency
        record_explanation(
            session,
            assignment=assignment,
            text=text,
            author=author or agency_name,
            via=via,
            actor="cli",
            now=app.clock.now(),
        )
    console.print(
        f"Đã ghi nhận giải trình của {agency_name} về nhiệm vụ {view['plan']}/{view['number']} "
        f"(nhận qua {VIA_CHOICES[via]}).",
        markup=False,
    )
