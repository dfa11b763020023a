"""Table structure: section levels of any depth, headings, continuation rows, numbers."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli
from sqlalchemy.engine import Engine

from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.plan_import import ImportReport, import_plan
from dondoc.plan_sections import SectionPath
from dondoc.store import make_engine, migrate, session_scope

HEADER = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('structure') / 'dondoc.db'}")
    migrate(engine)
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    yield engine
    engine.dispose()


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def dry_run(engine: Engine, path: Path, **options: Any) -> ImportReport:
    with session_scope(engine) as session:
        return import_plan(
            session,
            path=path,
            now=datetime(2025, 3, 1, tzinfo=UTC),
            plan_code="kh",
            dry_run=True,
            **options,
        )


def test_section_levels_of_any_depth_become_a_path(store: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "kh.csv",
        [
            HEADER,
            ["A", "PHẦN A", "", "", ""],
            ["I", "Mục một", "", "", ""],
            ["1.", "Nhóm việc thể chế", "", "", ""],
            ["1.1", "Rà soát", "Sở Tư pháp", "", "Tháng 3/2025"],
            ["a)", "Công bố", "Sở Nội vụ", "", "Tháng 4/2025"],
            ["II", "Mục hai", "", "", ""],
            ["1.1", "Số hóa", "Sở Y tế", "", "Tháng 5/2025"],
            ["B", "PHẦN B", "", "", ""],
            ["I", "Mục một", "", "", ""],
            ["1.1", "Kiểm tra", "Sở Tài chính", "", "Tháng 6/2025"],
            ["C", "PHẦN C", "", "", ""],
            ["1.1", "Tổng kết", "Sở Tư pháp", "", "Tháng 7/2025"],
        ],
    )
    report = dry_run(store, path)
    assert [(t.number, t.section, t.section_title) for t in report.tasks] == [
        ("A.I.1.1", "A.I", "Mục một"),
        ("A.I.1.1.a", "A.I", "Mục một"),
        ("A.II.1.1", "A.II", "Mục hai"),
        ("B.I.1.1", "B.I", "Mục một"),
        ("C.1.1", "C", "PHẦN C"),
    ]
    assert report.tasks[0].notes == "Thuộc nhóm nhiệm vụ 1: Nhóm việc thể chế"


def test_unique_numbers_stay_short_even_under_sections(store: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "kh.csv",
        [
            HEADER,
            ["I", "Mục một", "", "", ""],
            ["1", "Rà soát", "Sở Tư pháp", "", "Tháng 3/2025"],
            ["II", "Mục hai", "", "", ""],
            ["2", "Số hóa", "Sở Y tế", "", "Tháng 5/2025"],
        ],
    )
    assert [(t.number, t.section) for t in dry_run(store, path).tasks] == [
        ("1", "I"),
        ("2", "II"),
    ]


def test_rows_without_stt_under_a_task_become_1b_1c_taking_blank_cells_from_above(
    store: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "kh.csv",
        [
            HEADER,
            ["1", "Rà soát cấp tỉnh", "Sở Tư pháp", "Văn phòng UBND tỉnh", "Quý II/2025"],
            ["", "Rà soát cấp xã", "Sở Nội vụ", "", ""],
            ["", "Rà soát ngành y tế", "Sở Y tế", "Sở Tài chính", ""],
            ["2", "Công bố", "Sở Tư pháp", "", "Quý III/2025"],
        ],
    )
    report = dry_run(store, path)
    assert [
        (t.number, t.deadline_text, [n for _, n in t.leads], [n for _, n in t.coordinators])
        for t in report.tasks
    ] == [
        ("1", "Quý II/2025", ["Sở Tư pháp"], ["Văn phòng UBND tỉnh"]),
        ("1b", "Quý II/2025", ["Sở Nội vụ"], ["Văn phòng UBND tỉnh"]),
        ("1c", "Quý II/2025", ["Sở Y tế"], ["Sở Tài chính"]),
        ("2", "Quý III/2025", ["Sở Tư pháp"], []),
    ]
    assert report.tasks[2].notes == (
        "Tiếp nối nhiệm vụ 1 (dòng không có STT); lấy cột 'Thời gian hoàn thành' từ dòng trên"
    )


def test_each_distinct_deadline_phrase_is_parsed_once(store: Engine, tmp_path: Path) -> None:
    from dondoc.plan_reader import read_plan_table
    from dondoc.plan_rows import RowReader

    phrases = ["Tháng 3/2025", "Thường xuyên", "Hàng quý"]
    rows = [HEADER] + [
        [str(n), f"Việc {n}", "Sở Tư pháp", "", phrases[n % 3]] for n in range(1, 301)
    ]
    table = read_plan_table(write_csv(tmp_path / "kh.csv", rows))
    with session_scope(store) as session:
        reader = RowReader(session, create_agencies=False)
        drafts = reader.read(table.rows)
    assert len(drafts) == 300
    assert sorted(reader.deadlines) == sorted(phrases)


@pytest.mark.parametrize(
    ("codes", "path"),
    [
        (["A", "I", "II", "B", "I"], "B.I"),
        (["A", "B", "C"], "C"),  # letters, though C is a Roman numeral too
        (["I", "II", "III", "IV", "V"], "V"),
        (["H", "I"], "I"),  # I after H is a letter
        (["A", "I", "1"], "A.I.1"),
    ],
)
def test_a_section_path_follows_the_numbering_style(codes: list[str], path: str) -> None:
    sections = SectionPath()
    for code in codes:
        sections.enter(code, None)
    assert sections.code == path


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    home = tmp_path_factory.mktemp("structure-cli")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update({"DONDOC_DATA_DIR": str(home / "data"), "COLUMNS": "200", "NO_COLOR": "1"})
    runner = Cli(env=env, cwd=home)
    assert runner("init").exit_code == 0
    path = write_csv(
        home / "muc.csv",
        [
            HEADER,
            ["A", "PHẦN A", "", "", ""],
            ["1", "Rà soát", "Sở Tư pháp", "", "Tháng 3/2025"],
            ["2", "Công bố", "Sở Nội vụ", "", "Tháng 4/2025"],
            ["B", "PHẦN B", "", "", ""],
            ["1", "Số hóa", "Sở Y tế", "", "Tháng 5/2025"],
        ],
    )
    assert runner("plan", "import", str(path), "--plan", "muc").exit_code == 0
    return runner


def test_tasks_and_task_show_accept_the_short_and_the_full_number(cli: Cli) -> None:
    shown = json.loads(cli("task", "show", "muc/2", "--json").stdout)
    assert (shown["number"], shown["short_number"], shown["full_number"]) == ("A.2", "2", "A.2")
    listed = json.loads(cli("tasks", "--plan", "muc", "--number", "B.1", "--json").stdout)
    assert [t["title"] for t in listed] == ["Số hóa"]
    ambiguous = cli("task", "show", "muc/1")
    assert ambiguous.exit_code == 2
    assert (
        "STT '1' có ở nhiều mục của kế hoạch muc: A.1, B.1. Hãy ghi đủ số kèm mục, ví dụ "
        "muc/A.1." in ambiguous.stderr
    )
