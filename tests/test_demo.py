"""`make run`: the demo runs the whole loop and says where to read what it sent."""

from __future__ import annotations

import mailbox
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow


def test_the_demo_reminds_reports_and_says_where_to_read_the_emails(tmp_path: Path) -> None:
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
    assert "Nhiệm vụ (28)" in done.stdout  # the imported plan, agencies by role
    assert "Các sở, ban, ngành (13)" in done.stdout
    maildir = tmp_path / "demo" / "maildir"
    emails = mailbox.Maildir(maildir, create=False)
    assert f"trong {len(emails)} email" in done.stdout
    assert len(emails) > 100
    recipients = {str(message["To"]) for message in emails}
    assert {"so-khcn@tinhmau.example", "vp-ubnd@tinhmau.example"} <= recipients
    reports = sorted(p.name for p in (tmp_path / "demo" / "reports").iterdir())
    assert "danh-sach-cham-muon-2023-03.html" in reports and "bao-cao-quy-2023Q1.csv" in reports
    assert str(maildir) in done.stdout
    assert "Traceback" not in done.stderr
