"""What `dondoc run` says at start and at the end of a simulation, read as an operator."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import Cli
from daemon_support import at, make_app, simulate
from fakes.smtp import SmtpSink

pytest_plugins = ["fakes.fixtures"]


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "dondoc.daemon"]


def test_the_start_summary_names_channels_tick_http_what_is_tracked_and_the_next_due(
    tmp_path: Path, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(tmp_path, smtp_sink)
    with caplog.at_level(logging.INFO, logger="dondoc.daemon"):
        simulate(app, at("2022-11-02"))
    (summary,) = [m for m in _messages(caplog) if m.startswith("dondoc bắt đầu")]
    assert "mô phỏng 01/11/2022 00:00 → 02/11/2022 00:00" in summary
    assert "  kênh gửi: email" in summary.splitlines()
    assert "  mỗi lượt: 60 giây" in summary.splitlines()
    assert "  HTTP: tắt (DONDOC_HTTP_PORT=0)" in summary.splitlines()
    assert "  theo dõi: 1 kế hoạch, 2 phân công" in summary.splitlines()
    # Due 31/12/2022: the lead hears two weeks ahead, Saturday 17/12, sent on Monday.
    assert (
        "  lời nhắc đến hạn tiếp theo: 17/12/2022 00:00 (gửi lúc 19/12/2022 07:30, giờ làm việc)"
        in summary.splitlines()
    )
    assert not [r for r in caplog.records if "KÊNH GỬI" in r.getMessage()]


def test_a_simulation_ends_with_counts_per_stage_and_says_what_it_leaves_pending(
    tmp_path: Path, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(tmp_path, smtp_sink)
    with caplog.at_level(logging.INFO, logger="dondoc.daemon"):
        # Ends on Saturday 31/12/2022, the due date: "due today" waits for office hours.
        simulate(app, at("2022-12-31", 12, 0))
    (summary,) = [m for m in _messages(caplog) if m.startswith("Kết thúc mô phỏng")]
    lines = summary.splitlines()
    assert "  upcoming / email: 1 đã gửi" in lines
    assert "  coordinators / email: 1 đã gửi" in lines
    pending = next(line for line in lines if "CHƯA GỬI" in line)
    assert pending.startswith("  CÒN 2 tin đã đến hạn trước 31/12/2022 12:00 nhưng CHƯA GỬI")
    assert "(due_today / email: 2;" in pending  # the lead and its head
    assert "sớm nhất lúc 03/01/2023 07:30" in pending


def test_a_daemon_with_no_channel_says_so_loudly(initialized_cli: Cli) -> None:
    result = initialized_cli("run", "--simulate", "2022-11-01", "2022-11-01T01:00")
    assert result.exit_code == 0, result.stderr
    assert "WARNING dondoc.daemon: KHÔNG CÓ KÊNH GỬI NÀO" in result.stderr
    assert "  kênh gửi: KHÔNG CÓ" in result.stderr
    assert "Kết thúc mô phỏng 01/11/2022 00:00 → 01/11/2022 01:00:" in result.stderr
    status = initialized_cli("status")
    assert status.exit_code == 0, status.stderr
    assert "Lần chạy gần nhất: 01/11/2022 00:00 (" in status.stdout  # not ISO, not UTC
    assert "chạy từ 01/11/2022 00:00 (giờ Asia/Ho_Chi_Minh)" in status.stdout
