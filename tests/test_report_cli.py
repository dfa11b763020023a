"""`dondoc report late|quarter` from the command line, on the example plan."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import Cli
from openpyxl import load_workbook
from report_scenario import (  # noqa: F401 (fixtures)
    InProcessCli,
    dondoc_fixture,
    example_cli_fixture,
    example_db_fixture,
    parse_html,
)


def test_the_late_list_goes_to_stdout_as_html_with_bars_matching_its_sections(
    example_cli: Cli,
) -> None:
    # The real entry point in a subprocess, once; the other tests run it in-process.
    result = example_cli("report", "late", "--month", "2023-01", "--plan", "nq131")
    assert result.exit_code == 0, result.stderr
    page = parse_html(result.stdout)
    assert "Danh sách cơ quan, đơn vị chậm muộn trong thực hiện nhiệm vụ" in page.text
    sections = {
        s.attrs["data-agency"]: int(s.attrs["data-count"])
        for s in page.find_all("section", class_="agency")
    }
    # Nobody has reported anything: every one-off task due by December 2022 is late.
    assert sections["so-khcn"] >= 3
    bars = {
        b.attrs["data-agency"]: int(b.attrs["data-count"])
        for b in page.find_all("rect")
        if b.has_class("bar")
    }
    assert bars == sections
    [late] = [td for td in page.find_all("td") if td.attrs.get("data-key") == "late"]
    assert int(late.text) == sum(sections.values())


def test_the_late_list_as_markdown_is_written_to_a_file(
    dondoc: InProcessCli, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "late.md"
    result = dondoc("report", "late", "--month", "03/2023", "--format", "md", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    text = out.read_text(encoding="utf-8")
    assert text.startswith(
        "# Danh sách cơ quan, đơn vị chậm muộn trong thực hiện nhiệm vụ tháng 03/2023"
    )
    assert f"vào {out}" in result.stderr


def test_the_quarterly_workbook_needs_a_file_and_then_opens_in_excel(
    dondoc: InProcessCli, tmp_path: Path
) -> None:
    result = dondoc("report", "quarter", "--quarter", "2023Q1", "--format", "xlsx")
    assert result.exit_code == 2
    assert result.stderr.strip() == "Lỗi: Định dạng xlsx cần tên tệp để ghi: thêm -o TỆP.xlsx."
    out = tmp_path / "q1.xlsx"
    result = dondoc("report", "quarter", "--quarter", "2023Q1", "--format", "xlsx", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    book = load_workbook(out, read_only=True)
    rows = list(book["Tổng hợp"].iter_rows(values_only=True))
    assert rows[0][0] == "BÁO CÁO TÌNH HÌNH THỰC HIỆN NHIỆM VỤ QUÝ I/2023"
    assert ("Tổng số nhiệm vụ", "total", 28) in [row[:3] for row in rows]


def test_the_quarterly_report_as_html_and_csv_agree(dondoc: InProcessCli, tmp_path: Path) -> None:
    html = dondoc("report", "quarter", "--quarter", "2023Q2")
    assert html.exit_code == 0, html.stderr
    page = parse_html(html.stdout)
    assert "Báo cáo tình hình thực hiện nhiệm vụ quý II/2023" in page.text
    out = tmp_path / "q2.csv"
    result = dondoc("report", "quarter", "--quarter", "2023Q2", "--format", "csv", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read Vietnamese
    agency_rows = [r for r in page.find_all("tr") if r.has_class("agency-row")]
    total = sum(int(r.find_all("td", data_category="total")[0].text) for r in agency_rows)
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assignments = {(r["STT"], r["Mã cơ quan"], r["Vai trò"]) for r in rows}
    assert len(assignments) == total


def test_bad_options_are_named_without_a_traceback(dondoc: InProcessCli) -> None:
    cases = [
        (
            ("late", "--month", "2023-13"),
            "Lỗi: --month '2023-13': cần một tháng dạng NĂM-THÁNG, ví dụ 2023-03.",
        ),
        (
            ("quarter", "--quarter", "2023Q5"),
            "Lỗi: --quarter '2023Q5': cần một quý dạng NĂMQquý, ví dụ 2023Q1.",
        ),
        (("late", "--format", "pdf"), "Lỗi: --format 'pdf' không hợp lệ: dùng html, csv, md."),
        (("quarter", "--format", "md"), "Lỗi: --format 'md' không hợp lệ: dùng html, csv, xlsx."),
        (("late", "--plan", "khong-co"), "Lỗi: Không tìm thấy kế hoạch 'khong-co'."),
    ]
    for args, message in cases:
        result = dondoc("report", *args)
        assert (result.exit_code, result.stderr.strip(), result.stdout) == (2, message, ""), args


def test_a_report_before_init_says_to_run_init(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    result = InProcessCli(cli.env, monkeypatch, capsys)("report", "late", "--month", "2023-03")
    assert result.exit_code == 2
    assert "dondoc init" in result.stderr
    assert "Traceback" not in result.stderr
