"""`dondoc plan import --dry-run`: every task as understood, for review before writing.

A person checks the number, section, deadline as understood and who is reminded; a
script reads the same with --json. Whatever would drop recipients is a warning on
stderr, and --strict refuses the import when there is one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import Cli
from plan_files import Row, Span, write_docx

HEADER = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]
PLAN: list[Row] = [
    HEADER,
    ["A", Span("CẢI CÁCH THỂ CHẾ", columns=4)],
    ["I", Span("Rà soát văn bản", columns=4)],
    ["1", "Rà soát thủ tục", "Sở Tư pháp", "Văn phòng UBND tỉnh", "Tháng 3/2025"],
    [
        Span("2", rows=2),
        "Công bố thủ tục cấp tỉnh",
        "Sở Nội vụ",
        Span("Sở Tư pháp", rows=2),
        Span("Quý II/2025", rows=2),
    ],
    ["Công bố thủ tục cấp xã", "Sở Y tế"],
]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    home = tmp_path_factory.mktemp("review")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update({"DONDOC_DATA_DIR": str(home / "data"), "COLUMNS": "200", "NO_COLOR": "1"})
    cli = Cli(env=env, cwd=home)
    assert cli("init").exit_code == 0
    return cli


def test_the_dry_run_shows_each_task_as_understood_and_the_totals(
    shared: Cli, tmp_path: Path
) -> None:
    path = write_docx(tmp_path / "kh.docx", [PLAN], ("PHỤ LỤC",))
    result = shared("plan", "import", str(path), "--plan", "xem", "--dry-run")
    assert result.exit_code == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[:2] == [
        "Sẽ tạo kế hoạch xem: 3 nhiệm vụ.",
        "(--dry-run: chưa ghi gì vào cơ sở dữ liệu)",
    ]
    block = out[out.index("STT 2b (mục A.I: Rà soát văn bản) — dòng 6") :][:6]
    assert block[1:5] == [
        "  Nhiệm vụ: Công bố thủ tục cấp xã",
        "  Thời hạn: Quý II/2025 → Hạn chót ngày 30/06/2025.",
        "  Chủ trì (1): Sở Y tế",
        "  Phối hợp (1): Sở Tư pháp",
    ]
    assert block[5].startswith("  Ghi chú: Tiếp nối nhiệm vụ 2 (dòng không có STT)")
    assert out[-1] == "Tổng cộng: 3 nhiệm vụ, 6 phân công, 4 cơ quan được nhắc, 0 cảnh báo."
    assert "xem" not in shared("plans").stdout


def test_json_gives_scripts_the_same_review(shared: Cli, tmp_path: Path) -> None:
    path = write_docx(tmp_path / "kh.docx", [PLAN], ("PHỤ LỤC",))
    result = shared("plan", "import", str(path), "--plan", "xem-json", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    first = report["tasks"][0]
    assert (first["number"], first["section"], first["deadline_text"]) == (
        "1",
        "A.I",
        "Tháng 3/2025",
    )
    assert first["deadline"] == "Hạn chót ngày 31/03/2025."
    assert [a["name"] for a in first["coordinators"]] == ["Văn phòng UBND tỉnh"]
    assert report["totals"] == {
        "tasks": 3,
        "assignments": 6,
        "agencies_reminded": 4,
        "repeated_headers": 0,
        "warnings": 0,
        "assignments_added": 6,
        "assignments_removed": 0,
    }


def test_a_cell_that_names_nobody_warns_and_strict_refuses_the_import(
    shared: Cli, tmp_path: Path
) -> None:
    rows = [*PLAN, ["3", "Tổng hợp", "Sở Nội vụ", "Các cơ quan, đơn vị liên quan", "Quý IV/2025"]]
    path = write_docx(tmp_path / "kh.docx", [rows], ("PHỤ LỤC",))
    lenient = shared("plan", "import", str(path), "--plan", "canh-bao", "--dry-run")
    assert lenient.exit_code == 0, lenient.stderr
    warning = "cảnh báo: dòng 7, cột 'Cơ quan phối hợp': "
    assert warning in lenient.stderr
    assert lenient.stdout.splitlines()[-1].endswith(", 1 cảnh báo.")

    strict = shared("plan", "import", str(path), "--plan", "canh-bao", "--strict")
    assert strict.exit_code == 2
    assert f"{path}, bảng 1: --strict: 1 cảnh báo được coi là lỗi, chưa nhập gì" in strict.stderr
    assert "canh-bao" not in shared("plans").stdout
