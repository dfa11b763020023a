"""`make run`: the demo runs the whole loop and says where to read what it sent."""

from __future__ import annotations

import email
import email.policy
import mailbox
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from report_scenario import parse_html

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", name="demo")
def demo_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`make run` once for the module: its directory and what it printed."""
    tmp_path = tmp_path_factory.mktemp("demo-run")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update({"DONDOC_DEMO_DIR": str(tmp_path / "demo"), "COLUMNS": "160"})
    done = subprocess.run(
        [sys.executable, "-m", "dondoc.demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return tmp_path, done.stdout


def test_the_demo_reminds_reports_and_says_where_to_read_the_emails(
    demo: tuple[Path, str],
) -> None:
    tmp_path, stdout = demo
    assert "Nhiệm vụ (28)" in stdout  # the imported plan, agencies by role
    assert "Các sở, ban, ngành (13)" in stdout
    maildir = tmp_path / "demo" / "maildir"
    emails = mailbox.Maildir(maildir, create=False)
    assert f"trong {len(emails)} email" in stdout
    assert len(emails) > 100
    recipients = {str(message["To"]) for message in emails}
    assert {"so-khcn@tinhmau.example", "vp-ubnd@tinhmau.example"} <= recipients
    reports = sorted(p.name for p in (tmp_path / "demo" / "reports").iterdir())
    assert "danh-sach-cham-muon-2023-03.html" in reports and "bao-cao-quy-2023Q1.csv" in reports
    assert str(maildir) in stdout
    # No late list for October 2022: the plan was imported on 1 November.
    assert "danh-sach-cham-muon-2022-10.html" not in reports
    assert not [m for m in emails if "10/2022" in str(m["Subject"])]


def _decoded(message: mailbox.MaildirMessage) -> tuple[str, str]:
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    body = parsed.get_body(preferencelist=("plain",))
    return str(parsed["Subject"]), body.get_content() if body is not None else ""


def test_the_demo_writes_a_readable_index_and_prints_a_reminder_decoded(
    demo: tuple[Path, str],
) -> None:
    tmp_path, stdout = demo
    index = tmp_path / "demo" / "emails.html"
    assert index.as_uri() in stdout  # the summary links the index
    emails = [_decoded(m) for m in mailbox.Maildir(tmp_path / "demo" / "maildir", create=False)]
    page = parse_html(index.read_text(encoding="utf-8"))
    links = [a.text for a in page.find_all("a")]
    assert sorted(links) == sorted(" ".join(subject.split()) for subject, _ in emails)
    bodies = [pre.text for pre in page.find_all("pre")]
    assert len(bodies) == len(emails)
    assert any("Kính gửi: Sở Khoa học và Công nghệ" in text for text in bodies)
    assert "=?utf-8?" not in index.read_text(encoding="utf-8")  # no encoded subjects left
    # One reminder, decoded, in the terminal: its subject and its Vietnamese text.
    reminders = [subject for subject, _ in emails if subject.startswith("[Nhắc việc]")]
    assert "Một email nhắc việc mẫu" in stdout
    assert any(f"Tiêu đề: {subject}\n" in stdout for subject in reminders)
    assert "Kính gửi:" in stdout and "Trân trọng," in stdout
