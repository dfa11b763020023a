"""A scheduled report about a period before anything was tracked is not sent: the demo
once mailed the office an empty late list for October 2022, a month before the plan."""

from __future__ import annotations

from pathlib import Path

from daemon_support import at, make_app, simulate
from fakes.smtp import SmtpSink

pytest_plugins = ["fakes.fixtures"]


def test_no_late_list_for_a_month_before_the_plan_was_imported(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    app = make_app(tmp_path, smtp_sink, start="2022-11-01")  # imported on 1 November 2022
    daemon = simulate(app, at("2022-11-30"))
    subjects = [m.subject for m in smtp_sink.messages]
    assert not [s for s in subjects if "[Báo cáo]" in s], subjects
    assert not (tmp_path / "data" / "reports" / "danh-sach-cham-muon-2022-10.html").exists()
    simulate(app, at("2022-12-06"), daemon)
    reports = [m.subject for m in smtp_sink.messages if "[Báo cáo]" in m.subject]
    assert reports == [
        "[Báo cáo] Danh sách cơ quan, đơn vị chậm muộn trong thực hiện nhiệm vụ tháng 11/2022"
    ]
