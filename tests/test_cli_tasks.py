"""The real `dondoc` command line on the example plan: tables, JSON, status changes, mistakes.

Each CLI run is a fresh Python process (about a second), so the tests share one
initialized store per module where they can and use plan codes or tasks of their own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_PLAN, Cli

REQUIRED_KEYS = {
    "id",
    "plan",
    "section",
    "number",
    "title",
    "product",
    "deadline_text",
    "deadline",
    "assignments",
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """`dondoc init` and the example plan imported as "nq131", once for this module."""
    home = tmp_path_factory.mktemp("cli-tasks")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update({"DONDOC_DATA_DIR": str(home / "data"), "COLUMNS": "200", "NO_COLOR": "1"})
    cli = Cli(env=env, cwd=home)
    for args in (("init",), ("plan", "import", str(EXAMPLE_PLAN), "--plan", "nq131")):
        result = cli(*args)
        assert result.exit_code == 0, result.stderr
    return cli


def tasks_json(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = cli("tasks", "--json", *args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    return data


def test_tasks_json_lists_every_task_with_its_agencies_by_role(shared: Cli) -> None:
    tasks = tasks_json(shared)
    assert len(tasks) == 28
    assert all(set(task) >= REQUIRED_KEYS for task in tasks)
    first = tasks[0]
    assert (first["plan"], first["section"], first["number"]) == ("nq131", "I", "1")
    assert first["deadline_text"] == "Tháng 12/2022"
    assert isinstance(first["deadline"], dict)
    assert (first["deadline"]["kind"], first["deadline"]["due"]) == ("once", "2022-12-31")
    assignments = first["assignments"]
    assert isinstance(assignments, list)
    assert len(assignments) == 20
    assert {"agency": "so-noi-vu", "role": "lead", "status": "open"}.items() <= assignments[
        0
    ].items()
    roles = {a["agency"]: a["role"] for t in tasks if t["number"] == "14" for a in t["assignments"]}
    assert roles == {
        "so-khcn": "lead",
        "so-noi-vu": "coordinator",
        "so-tai-chinh": "coordinator",
        "vp-ubnd": "coordinator",
    }


def test_tasks_for_one_agency_show_only_that_agencys_part(shared: Cli) -> None:
    tasks = tasks_json(shared, "--plan", "nq131", "--agency", "so-tu-phap")
    numbers = [t["number"] for t in tasks]
    assert len(numbers) == 23
    assert "7" in numbers and "13" not in numbers
    assert all([a["agency"] for a in t["assignments"]] == ["so-tu-phap"] for t in tasks)


def test_the_task_table_names_whole_groups_and_marks_missing_deadlines(shared: Cli) -> None:
    result = shared("tasks", "--plan", "nq131")
    assert result.exit_code == 0, result.stderr
    assert "Nhiệm vụ (28)" in result.stdout
    assert "Các sở, ban, ngành (13)" in result.stdout
    assert "Sở Khoa học và Công nghệ" in result.stdout


def test_marking_an_agency_done_and_reopening_is_shown_everywhere(shared: Cli) -> None:
    done = shared("task", "done", "nq131/13", "--agency", "so-khcn")
    assert (done.exit_code, done.stdout.strip()) == (0, "Nhiệm vụ #13, so-khcn: đã hoàn thành.")
    again = shared("task", "done", "13", "--agency", "so-khcn")
    assert again.stdout.strip() == (
        "Nhiệm vụ #13, so-khcn: đã ở trạng thái 'đã hoàn thành', không thay đổi."
    )
    shown = shared("task", "show", "nq131/13")
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "#13 — nq131 STT 13"
    assert "Thời hạn: Tháng 11/2022, chậm nhất tháng 3/2023" in lines
    done_line = next(line for line in lines if "[so-khcn]" in line)
    assert done_line.startswith("  • chủ trì: Sở Khoa học và Công nghệ [so-khcn] — đã hoàn thành (")
    assert done_line.endswith(", cli)")
    assert "  • phối hợp: Văn phòng UBND tỉnh [vp-ubnd] — chưa xong" in lines

    reopened = shared("task", "reopen", "13", "--agency", "so-khcn")
    assert reopened.stdout.strip() == "Nhiệm vụ #13, so-khcn: chưa xong."
    assert tasks_json(shared, "--status", "done") == []


def test_task_show_json_is_the_same_object_as_in_the_task_list(shared: Cli) -> None:
    result = shared("task", "show", "26", "--json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["number"] == "26"
    assert shown["notes"].startswith("Chủ trì: Phòng Tổng hợp; ")
    assert [a["agency"] for a in shown["assignments"]] == [
        "vp-ubnd",
        "so-tai-chinh",
        "so-khcn",
        "thong-ke",
    ]


def test_plans_lists_each_plan_with_its_owner_and_task_count(shared: Cli) -> None:
    result = shared("plans", "--json")
    assert result.exit_code == 0, result.stderr
    [plan] = [p for p in json.loads(result.stdout) if p["code"] == "nq131"]
    assert (plan["title"], plan["owner"], plan["tasks"]) == ("nq131-phu-luc", "vp-ubnd", 28)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("task", "show", "999"), "Lỗi: Không tìm thấy nhiệm vụ '999'."),
        (
            ("task", "done", "13", "--agency", "so-y-te"),
            "Lỗi: Cơ quan 'so-y-te' không được giao nhiệm vụ #13.",
        ),
        (
            ("tasks", "--status", "xong"),
            "Lỗi: --status phải là một trong: open, acknowledged, done.",
        ),
        (("tasks", "--plan", "nq132"), "Lỗi: Không tìm thấy kế hoạch 'nq132'."),
    ],
)
def test_a_users_mistake_is_one_line_on_stderr_with_exit_code_2(
    shared: Cli, args: tuple[str, ...], message: str
) -> None:
    result = shared(*args)
    assert (result.exit_code, result.stdout, result.stderr.strip()) == (2, "", message)


def test_a_missing_option_is_a_usage_message_not_a_traceback(shared: Cli) -> None:
    result = shared("task", "done", "13")
    assert result.exit_code == 2
    assert "Missing option '--agency'" in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_import_reports_what_it_did(shared: Cli, tmp_path: Path) -> None:
    text = EXAMPLE_PLAN.read_text(encoding="utf-8")
    # Task 1 without a deadline, and an agency the directory does not know yet.
    text = text.replace(",Kế hoạch,Tháng 12/2022", ",Kế hoạch,", 1)
    text += "29,Phối hợp với Bộ Công an,Công an tỉnh,Bộ Công an,,Quý IV/2023\n"
    path = tmp_path / "moi.csv"
    path.write_text(text, encoding="utf-8")

    dry = shared("plan", "import", str(path), "--plan", "moi", "--create-agencies", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.splitlines()[:2] == [
        "Sẽ tạo kế hoạch moi: 29 nhiệm vụ.",
        "(--dry-run: chưa ghi gì vào cơ sở dữ liệu)",
    ]
    assert "moi" not in [p["code"] for p in json.loads(shared("plans", "--json").stdout)]

    result = shared("plan", "import", str(path), "--plan", "moi", "--create-agencies")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("Đã tạo kế hoạch moi: 29 nhiệm vụ.\n")
    assert "  phân công: +466 / −0" in out
    assert "  cơ quan mới trong danh bạ: bo-cong-an (Bộ Công an)" in out
    assert "chưa có thời hạn (STT 1): sẽ nhắc Văn phòng đặt thời hạn." in out
    assert "lưu ý: dòng 61: ghi chú 'Phòng Tổng hợp' (không phải người nhận)" in result.stderr


def test_plan_import_with_mistakes_lists_them_and_writes_nothing(
    shared: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "loi.csv"
    path.write_text(
        "STT,Nhiệm vụ,Cơ quan chủ trì,Thời hạn\n"
        "1,Rà soát,Sở Tài chánh,Tháng 3/2023\n"
        "2,,Sở Nội vụ,Hôm nào đó\n",
        encoding="utf-8",
    )
    result = shared("plan", "import", str(path), "--plan", "loi")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"Lỗi: {path}: 3 lỗi, chưa nhập gì vào cơ sở dữ liệu:"
    assert lines[1].startswith(
        "  • dòng 2, cột 'Cơ quan chủ trì': không có cơ quan 'Sở Tài chánh' trong danh bạ. "
        "Có phải: Sở Tài chính?"
    )
    assert lines[2] == "  • dòng 3, cột 'Nhiệm vụ': thiếu tên nhiệm vụ."
    assert lines[3].startswith("  • dòng 3, cột 'Thời hạn': Chưa hiểu thời hạn “Hôm nào đó”")


def test_the_commands_ask_for_init_on_a_fresh_data_directory(cli: Cli) -> None:
    result = cli("plan", "import", str(EXAMPLE_PLAN))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Lỗi: Cơ sở dữ liệu chưa được khởi tạo hoặc cần nâng cấp: hãy chạy `dondoc init`."
    )
