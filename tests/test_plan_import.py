"""Importing a plan's appendix: the example plan, other layouts, and re-imports."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_PLAN, EXAMPLES
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from dondoc.actions import find_assignment, set_status
from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.models import Agency, Assignment, AuditEntry, Plan, Task
from dondoc.plan_import import ImportReport, import_plan
from dondoc.store import make_engine, migrate, session_scope
from dondoc.tasks import get_task, list_tasks
from rules.text import fold_words

EXAMPLE_XLSX = EXAMPLES / "nq131-phu-luc.xlsx"
NOW = datetime(2023, 1, 9, 2, 0, tzinfo=UTC)
# The bundled directory is the province after the 2025 reforms: the plan of 2022 names
# departments merged since (Sở KH&ĐT into Sở Tài chính, …) and districts, now communes.
DEPARTMENTS = [
    "so-noi-vu",
    "so-tu-phap",
    "so-tai-chinh",
    "so-cong-thuong",
    "so-nnmt",
    "so-xay-dung",
    "so-khcn",
    "so-vhttdl",
    "so-gddt",
    "so-y-te",
    "so-dttg",
    "thanh-tra",
    "ban-qlkkt",
]
COMMUNES = [
    "p-an-binh",
    "p-phu-thinh",
    "x-dong-son",
    "x-tay-hoa",
    "x-nam-giang",
    "x-bac-ha",
    "dk-hon-ngoc",
]
# STT → (lead agencies, coordinating agencies), counted by hand from the appendix: a group
# counts all its members, and an agency that leads is not also listed as coordinating.
# Task 14 names Sở KH&ĐT and Sở Tài chính, one agency since 01/03/2025.
EXPECTED_COUNTS = {
    "1": (20, 0), "2": (20, 0), "3": (20, 1), "4": (1, 20), "5": (1, 20), "6": (20, 0),
    "7": (1, 1), "8": (20, 1), "9": (8, 1), "10": (20, 1), "11": (21, 1), "12": (21, 1),
    "13": (1, 1), "14": (1, 3), "15": (1, 2), "16": (13, 1), "17": (21, 1), "18": (1, 19),
    "19": (20, 1), "20": (1, 20), "21": (2, 13), "22": (20, 1), "23": (1, 13), "24": (1, 20),
    "25": (2, 19), "26": (1, 3), "27": (1, 20), "28": (20, 0),
}  # fmt: skip


@pytest.fixture
def store(engine: Engine) -> Engine:
    """A store holding the bundled directory, on each backend."""
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    return engine


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One SQLite store with the directory and the example plan as "original", shared by
    the tests of file layouts: each imports under a plan code of its own."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('layouts') / 'dondoc.db'}")
    migrate(engine)
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    run_import(engine, EXAMPLE_PLAN, plan="original")
    yield engine
    engine.dispose()


def run_import(engine: Engine, path: Path, plan: str = "nq131", **options: Any) -> ImportReport:
    now = options.pop("now", NOW)
    with session_scope(engine) as session:
        return import_plan(session, path=path, now=now, plan_code=plan, **options)


def read_example() -> list[list[str]]:
    with EXAMPLE_PLAN.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def edited_example(tmp_path: Path, edit: Callable[[list[list[str]]], None]) -> Path:
    rows = read_example()
    edit(rows)
    return write_csv(tmp_path / "nq131-sua.csv", rows)


def row_of(rows: list[list[str]], number: str) -> list[str]:
    return next(r for r in rows if r[0] == number)


def snapshot(engine: Engine, plan: str) -> list[tuple[Any, ...]]:
    """What a person sees of a plan: every task field and who does it in which role."""
    with Session(engine) as session:
        views = list_tasks(session, plan=plan)
    return [
        (
            v["section"],
            v["section_title"],
            v["number"],
            v["title"],
            v["product"],
            v["deadline_text"],
            v["deadline"],
            v["notes"],
            sorted((a["agency"], a["role"], a["status"]) for a in v["assignments"]),
        )
        for v in views
    ]


def assignments_of(engine: Engine, plan: str, number: str) -> dict[tuple[str, str], str]:
    with Session(engine) as session:
        view = get_task(session, f"{plan}/{number}")
    return {(a["agency"], a["role"]): a["status"] for a in view["assignments"]}


def mark(engine: Engine, plan: str, number: str, agency: str, status: str) -> None:
    with session_scope(engine) as session:
        task_id = get_task(session, f"{plan}/{number}")["id"]
        assignment = find_assignment(session, task_id=task_id, agency_code=agency)
        set_status(session, assignment=assignment, status=status, actor="test", now=NOW)


# --- The example plan -------------------------------------------------------------------


def test_the_example_plan_imports_28_tasks_with_each_group_expanded_to_its_members(
    store: Engine,
) -> None:
    report = run_import(store, EXAMPLE_PLAN)
    assert (report.plan_created, report.tasks_total) == (True, 28)
    assert report.added == [str(n) for n in range(1, 29)]
    assert report.assignments_added == sum(a + b for a, b in EXPECTED_COUNTS.values()) == 464
    with Session(store) as session:
        views = list_tasks(session, plan="nq131")
    counts = {
        v["number"]: (
            sum(a["role"] == "lead" for a in v["assignments"]),
            sum(a["role"] == "coordinator" for a in v["assignments"]),
        )
        for v in views
    }
    assert counts == EXPECTED_COUNTS
    first = views[0]
    assert sorted(a["agency"] for a in first["assignments"]) == sorted(DEPARTMENTS + COMMUNES)
    assert {a["status"] for a in first["assignments"]} == {"open"}
    assert (first["section"], first["section_title"]) == (
        "I",
        "TỔ CHỨC TRIỂN KHAI THỰC HIỆN NGHỊ QUYẾT SỐ 131/NQ-CP",
    )
    assert [v["section"] for v in views].count("III") == 14


def test_a_list_with_a_shared_prefix_and_an_unspecific_phrase_gives_named_agencies_and_a_note(
    store: Engine,
) -> None:
    run_import(store, EXAMPLE_PLAN)
    with Session(store) as session:
        task = get_task(session, "nq131/14")
        office_task = get_task(session, "nq131/26")
    assert [(a["agency"], a["role"]) for a in task["assignments"]] == [
        ("so-khcn", "lead"),
        ("so-noi-vu", "coordinator"),
        ("so-tai-chinh", "coordinator"),
        ("vp-ubnd", "coordinator"),
    ]
    # Names of 2022 resolve to today's agencies, and the task says so.
    assert task["notes"] == (
        "Chủ trì: Sở Thông tin và Truyền thông → Sở Khoa học và Công nghệ từ 01/03/2025; "
        "Phối hợp: các cơ quan, đơn vị liên quan; "
        "Phối hợp: Sở Kế hoạch và Đầu tư → Sở Tài chính từ 01/03/2025"
    )
    assert [a["agency"] for a in office_task["assignments"]] == [
        "vp-ubnd",
        "so-tai-chinh",
        "so-khcn",
        "thong-ke",
    ]
    assert office_task["notes"].startswith("Chủ trì: Phòng Tổng hợp; Phối hợp: Sở Kế hoạch")


def test_each_deadline_is_stored_verbatim_and_parsed(store: Engine) -> None:
    run_import(store, EXAMPLE_PLAN)
    with Session(store) as session:
        tasks = {v["number"]: v for v in list_tasks(session, plan="nq131")}
    assert tasks["1"]["deadline_text"] == "Tháng 12/2022"
    assert tasks["1"]["deadline"]["due"] == "2022-12-31"
    assert tasks["2"]["deadline"]["kind"] == "ongoing"
    assert tasks["3"]["deadline"]["kind"] == "recurring"
    assert tasks["13"]["deadline"]["target"] == "2022-11-30"
    assert tasks["13"]["deadline"]["due"] == "2023-03-31"
    assert tasks["15"]["deadline"]["kind"] == "external"


def test_the_import_is_audited_with_its_plan(store: Engine) -> None:
    run_import(store, EXAMPLE_PLAN)
    with Session(store) as session:
        plan = session.exec(select(Plan).where(Plan.code == "nq131")).one()
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "plan.import")).one()
        office = session.exec(select(Agency).where(Agency.code == "vp-ubnd")).one()
    assert (entry.plan_id, entry.actor, entry.at) == (plan.id, "cli", NOW)
    assert len(entry.detail["added"]) == 28
    assert plan.owner_agency_id == office.id
    assert plan.imported_at == NOW


def test_csv_and_xlsx_give_the_same_store(store: Engine) -> None:
    run_import(store, EXAMPLE_PLAN, plan="from-csv")
    report = run_import(store, EXAMPLE_XLSX, plan="from-xlsx")
    assert report.tasks_total == 28
    assert snapshot(store, "from-xlsx") == snapshot(store, "from-csv")


def test_the_lines_above_an_appendix_give_the_plan_its_name_and_document(store: Engine) -> None:
    run_import(store, EXAMPLE_XLSX, plan="from-xlsx")
    run_import(store, EXAMPLE_PLAN, plan="from-csv", title="Kế hoạch 131")
    with Session(store) as session:
        plans = {p.code: p for p in session.exec(select(Plan))}
    assert plans["from-xlsx"].title == (
        "NHIỆM VỤ TRIỂN KHAI NGHỊ QUYẾT SỐ 131/NQ-CP NGÀY 06/10/2022 CỦA CHÍNH PHỦ"
    )
    assert plans["from-xlsx"].document == "Kế hoạch số 256/KH-UBND ngày 15/11/2022 của UBND tỉnh"
    assert (plans["from-csv"].title, plans["from-csv"].document) == ("Kế hoạch 131", None)


# --- Re-importing -----------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing_and_keeps_statuses(store: Engine) -> None:
    run_import(store, EXAMPLE_PLAN)
    mark(store, "nq131", "1", "so-noi-vu", "done")
    mark(store, "nq131", "1", "x-bac-ha", "acknowledged")
    mark(store, "nq131", "7", "so-tu-phap", "done")
    with Session(store) as session:
        ids_before = session.exec(select(Assignment.id).order_by(col(Assignment.id))).all()
    before = snapshot(store, "nq131")

    report = run_import(store, EXAMPLE_PLAN, now=NOW + timedelta(days=1))
    assert (report.plan_created, report.added, report.updated, report.removed) == (
        False,
        [],
        {},
        [],
    )
    assert (report.assignments_added, report.assignments_removed) == (0, 0)
    assert snapshot(store, "nq131") == before
    first = assignments_of(store, "nq131", "1")
    assert first[("so-noi-vu", "lead")] == "done"
    assert first[("x-bac-ha", "lead")] == "acknowledged"
    assert first[("so-tu-phap", "lead")] == "open"
    assert assignments_of(store, "nq131", "7")[("so-tu-phap", "lead")] == "done"
    with Session(store) as session:
        assert session.exec(select(Assignment.id).order_by(col(Assignment.id))).all() == ids_before
        changes = session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all()
    assert changes == [
        "plan.import",
        "assignment.done",
        "assignment.acknowledged",
        "assignment.done",
        "plan.import",
    ]


def test_a_changed_deadline_updates_the_task_keeps_statuses_and_asks_for_a_new_look(
    store: Engine, tmp_path: Path
) -> None:
    run_import(store, EXAMPLE_PLAN)
    mark(store, "nq131", "5", "vp-ubnd", "acknowledged")
    later = NOW + timedelta(days=30)
    changed = edited_example(tmp_path, lambda rows: row_of(rows, "5").__setitem__(5, "Quý I/2023"))

    report = run_import(store, changed, now=later)
    assert report.updated == {"5": ["deadline_text", "deadline"]}
    assert (report.added, report.removed) == ([], [])
    with Session(store) as session:
        task = get_task(session, "nq131/5")
        due = session.exec(
            select(Assignment.next_due_at).where(Assignment.task_id == task["id"])
        ).all()
    assert (task["deadline_text"], task["deadline"]["due"]) == ("Quý I/2023", "2023-03-31")
    assert assignments_of(store, "nq131", "5")[("vp-ubnd", "lead")] == "acknowledged"
    assert set(due) == {later}


def test_a_task_dropped_from_the_file_is_deactivated_and_keeps_its_history(
    store: Engine, tmp_path: Path
) -> None:
    run_import(store, EXAMPLE_PLAN)
    mark(store, "nq131", "7", "so-tu-phap", "done")
    without_7 = edited_example(tmp_path, lambda rows: rows.remove(row_of(rows, "7")))

    report = run_import(store, without_7)
    assert (report.removed, report.tasks_total, report.assignments_removed) == (["7"], 27, 0)
    with Session(store) as session:
        assert "7" not in [v["number"] for v in list_tasks(session, plan="nq131")]
        shown = get_task(session, "nq131/7")
        task = session.exec(select(Task).where(Task.number == "7")).one()
        kept = session.exec(select(Assignment).where(Assignment.task_id == task.id)).all()
        audited = session.exec(select(AuditEntry).where(AuditEntry.task_id == task.id)).all()
    assert task.active is False
    assert (shown["active"], shown["assignments"]) == (False, [])
    assert sorted((a.status, a.active, a.next_due_at) for a in kept) == [
        ("done", False, None),
        ("open", False, None),
    ]
    assert [e.action for e in audited] == ["assignment.done"]

    report = run_import(store, EXAMPLE_PLAN)
    assert report.updated == {"7": ["active"]}
    assert assignments_of(store, "nq131", "7") == {
        ("so-tu-phap", "lead"): "done",
        ("vp-ubnd", "coordinator"): "open",
    }


def test_an_agency_dropped_from_a_task_loses_only_its_own_assignment(
    store: Engine, tmp_path: Path
) -> None:
    run_import(store, EXAMPLE_PLAN)
    mark(store, "nq131", "21", "cong-an", "acknowledged")
    only_police = edited_example(
        tmp_path, lambda rows: row_of(rows, "21").__setitem__(2, "Công an tỉnh")
    )

    report = run_import(store, only_police)
    # The note "Sở Thông tin và Truyền thông → Sở Khoa học và Công nghệ" goes with it.
    assert report.updated == {"21": ["lead_text", "notes"]}
    assert (report.assignments_added, report.assignments_removed) == (1, 1)
    assignments = assignments_of(store, "nq131", "21")
    assert assignments[("cong-an", "lead")] == "acknowledged"
    assert ("so-khcn", "lead") not in assignments
    # Sở KH&CN no longer leads, so as one of "Các sở, ban, ngành" it now coordinates.
    assert assignments[("so-khcn", "coordinator")] == "open"


def test_dry_run_shows_the_changes_and_writes_nothing(store: Engine, tmp_path: Path) -> None:
    report = run_import(store, EXAMPLE_PLAN, dry_run=True)
    assert (report.dry_run, report.plan_created, len(report.added)) == (True, True, 28)
    with Session(store) as session:
        assert session.exec(select(func.count()).select_from(Task)).one() == 0
        assert session.exec(select(func.count()).select_from(Plan)).one() == 0
        assert session.exec(select(func.count()).select_from(AuditEntry)).one() == 0

    run_import(store, EXAMPLE_PLAN)
    before = snapshot(store, "nq131")
    changed = edited_example(tmp_path, lambda rows: rows.remove(row_of(rows, "28")))
    report = run_import(store, changed, dry_run=True)
    assert (report.plan_created, report.removed, report.added) == (False, ["28"], [])
    assert snapshot(store, "nq131") == before


# --- Other layouts ----------------------------------------------------------------------

VARIANT_HEADERS = {
    "vietnamese variants": [
        "Stt",
        "Tên nhiệm vụ",
        "Đơn vị chủ trì",
        "Đơn vị phối hợp",
        "Kết quả/sản phẩm",
        "Thời hạn",
    ],
    "other province": [
        "TT",
        "Nội dung nhiệm vụ",
        "Cơ quan, đơn vị chủ trì thực hiện",
        "Cơ quan, đơn vị phối hợp",
        "Sản phẩm",
        "Thời gian thực hiện",
    ],
    "english": ["No.", "Task", "Lead agency", "Coordinating agencies", "Output", "Deadline"],
    "no diacritics": [
        "STT",
        "Nhiem vu",
        "Co quan chu tri",
        "Co quan phoi hop",
        "San pham cong viec",
        "Thoi han hoan thanh",
    ],
}


@pytest.mark.parametrize("headers", VARIANT_HEADERS.values(), ids=VARIANT_HEADERS.keys())
def test_columns_in_another_order_with_variant_headers_import_the_same(
    layouts: Engine, tmp_path: Path, headers: list[str]
) -> None:
    order = [5, 0, 3, 1, 4, 2]  # deadline first, lead last
    rows = read_example()
    rows[0] = headers
    shuffled = [[row[i] for i in order] for row in rows]
    shuffled.insert(1, [f"({i + 1})" for i in order])  # the column-number row
    path = write_csv(tmp_path / "khac.csv", shuffled)
    code = f"variant-{fold_words(headers[1]).replace(' ', '-')}"
    report = run_import(layouts, path, plan=code)
    assert report.tasks_total == 28
    assert snapshot(layouts, code) == snapshot(layouts, "original")


def test_a_semicolon_separated_csv_with_a_bom_and_title_lines_imports_the_same(
    layouts: Engine, tmp_path: Path
) -> None:
    rows = [["PHỤ LỤC", "", "", "", "", ""], ["Kèm theo Kế hoạch số 256/KH-UBND"], []]
    path = write_csv(tmp_path / "ban-ke.csv", rows + read_example(), delimiter=";")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    run_import(layouts, path, plan="semicolons")
    assert snapshot(layouts, "semicolons") == snapshot(layouts, "original")


def test_a_utf16_tab_separated_export_imports_the_same(layouts: Engine, tmp_path: Path) -> None:
    text_path = write_csv(tmp_path / "unicode.txt", read_example(), delimiter="\t")
    text_path.write_bytes(text_path.read_text(encoding="utf-8").encode("utf-16"))
    run_import(layouts, text_path, plan="utf16")
    assert snapshot(layouts, "utf16") == snapshot(layouts, "original")


def test_a_blank_deadline_is_allowed_and_reported_as_not_set(
    layouts: Engine, tmp_path: Path
) -> None:
    path = edited_example(tmp_path, lambda rows: row_of(rows, "9").__setitem__(5, " "))
    report = run_import(layouts, path, plan="chua-co-han")
    assert report.no_deadline == ["9"]
    with Session(layouts) as session:
        task = get_task(session, "chua-co-han/9")
    assert (task["deadline_text"], task["deadline"]) == (None, None)


def test_numbering_that_restarts_in_each_section_gets_qualified_numbers(
    layouts: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "danh-so-lai.csv",
        [
            ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Thời hạn"],
            ["I", "Cải cách thể chế", "", ""],
            ["1", "Rà soát văn bản", "Sở Tư pháp", "Quý I/2023"],
            ["2", "Ban hành quy chế", "Sở Nội vụ", "Quý II/2023"],
            ["II", "Chuyển đổi số", "", ""],
            ["1", "Số hóa hồ sơ", "Sở TT&TT", "Tháng 6/2023"],
        ],
    )
    report = run_import(layouts, path, plan="lai")
    assert report.added == ["I.1", "I.2", "II.1"]
    with Session(layouts) as session:
        task = get_task(session, "lai/II.1")
    assert (task["section"], task["section_title"], task["title"]) == (
        "II",
        "Chuyển đổi số",
        "Số hóa hồ sơ",
    )


def test_sub_tasks_under_a_numbered_heading_are_numbered_below_it(
    layouts: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "muc-con.csv",
        [
            ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"],
            ["I", "NHIỆM VỤ CHUNG", "", "", ""],
            ["1", "Cải cách thủ tục hành chính", "", "", ""],
            ["a)", "Rà soát thủ tục", "Văn phòng UBND tỉnh", "", "Tháng 3/2023"],
            ["b)", "Công bố thủ tục", "Các sở, ban, ngành", "", "Tháng 6/2023"],
            ["2", "Kiện toàn bộ phận một cửa", "UBND cấp xã", "", "Quý II/2023"],
            ["3", "Chuyển đổi số", "", "", ""],
            ["3.1", "Số hóa hồ sơ", "Sở KH&ĐT", "", "Tháng 9/2023"],
            ["3.2", "Thanh toán trực tuyến", "Sở Tài chính", "Sở NN&MT", "Tháng 12/2023"],
            ["a", "Hướng dẫn thanh toán", "Sở Tài chính", "", "Tháng 12/2023"],
        ],
    )
    report = run_import(layouts, path, plan="con")
    assert report.added == ["1.a", "1.b", "2", "3.1", "3.2", "3.2.a"]
    with Session(layouts) as session:
        tasks = {v["number"]: v for v in list_tasks(session, plan="con")}
    assert tasks["1.a"]["notes"] == "Thuộc nhóm nhiệm vụ 1: Cải cách thủ tục hành chính"
    assert tasks["2"]["notes"] is None
    assert tasks["3.2"]["notes"] == "Thuộc nhóm nhiệm vụ 3: Chuyển đổi số"
    assert len(tasks["1.b"]["assignments"]) == len(DEPARTMENTS)
    assert [a["agency"] for a in tasks["3.1"]["assignments"]] == ["so-tai-chinh"]


def test_create_agencies_adds_unknown_names_once_and_reports_them(
    store: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "co-quan-moi.csv",
        [
            ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn"],
            ["1", "Phối hợp với Bộ", "Sở Nội vụ", "Bộ Công an; Bộ Nội vụ", "Tháng 3/2023"],
            ["2", "Báo cáo Bộ", "Bộ Công an", "", "Tháng 6/2023"],
        ],
    )
    report = run_import(store, path, plan="moi", create_agencies=True)
    assert report.new_agencies == ["bo-cong-an (Bộ Công an)", "bo-noi-vu (Bộ Nội vụ)"]
    assert assignments_of(store, "moi", "2") == {("bo-cong-an", "lead"): "open"}
    with Session(store) as session:
        created = session.exec(select(Agency).where(Agency.kind == "other")).all()
    assert sorted((a.code, a.name) for a in created) == [
        ("bo-cong-an", "Bộ Công an"),
        ("bo-noi-vu", "Bộ Nội vụ"),
    ]
    again = run_import(store, path, plan="moi", create_agencies=True)
    assert again.new_agencies == []


def xlsx_with_merged_cells(path: Path) -> Path:
    """The layout offices produce in Excel: a two-row header and cells merged down."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["PHỤ LỤC"])
    sheet.merge_cells("A1:G1")
    sheet.append(
        ["STT", "Nhiệm vụ", "Cơ quan thực hiện", None, "Thời gian thực hiện", None, "Kinh phí"]
    )
    sheet.append([None, None, "Chủ trì", "Phối hợp", "Bắt đầu", "Hoàn thành", None])
    for merged in ("A2:A3", "B2:B3", "C2:D2", "E2:F2", "G2:G3"):
        sheet.merge_cells(merged)
    sheet.append([1, "Rà soát thủ tục", "Sở Tư pháp", "VP UBND tỉnh", "01/01/2023", None, 10])
    sheet.append([2, "Công bố thủ tục", None, None, None, datetime(2023, 6, 30), None])
    sheet.append([3.0, "Kiểm tra thủ tục", "Sở Nội vụ", None, None, "Quý IV/2023", None])
    sheet.merge_cells("C4:C5")  # Sở Tư pháp leads tasks 1 and 2
    sheet.merge_cells("F4:F4")
    sheet["F4"] = date(2023, 3, 15)
    workbook.save(path)
    return path


def test_an_excel_table_with_a_two_row_header_and_merged_cells_is_read_as_offices_mean_it(
    layouts: Engine, tmp_path: Path
) -> None:
    report = run_import(layouts, xlsx_with_merged_cells(tmp_path / "gop-o.xlsx"), plan="xlsx")
    assert report.added == ["1", "2", "3"]
    assert "cột không dùng đến: 'Kinh phí'" in report.notes
    assert "cột không dùng đến: 'Thời gian thực hiện Bắt đầu'" in report.notes
    with Session(layouts) as session:
        tasks = {v["number"]: v for v in list_tasks(session, plan="xlsx")}
    assert tasks["1"]["deadline_text"] == "15/03/2023"
    assert tasks["2"]["deadline_text"] == "30/06/2023"
    assert [(a["agency"], a["role"]) for a in tasks["1"]["assignments"]] == [
        ("so-tu-phap", "lead"),
        ("vp-ubnd", "coordinator"),
    ]
    assert [a["agency"] for a in tasks["2"]["assignments"]] == ["so-tu-phap"]
    assert [a["agency"] for a in tasks["3"]["assignments"]] == ["so-noi-vu"]


def test_a_workbook_with_two_appendices_imports_one_sheet_at_a_time(
    layouts: Engine, tmp_path: Path
) -> None:
    workbook = Workbook()
    notes = workbook.active
    assert notes is not None
    notes.title = "Hướng dẫn"
    notes.append(["Các cơ quan cập nhật tiến độ hằng tháng."])
    for title, task in (("Phụ lục I", "Rà soát thủ tục"), ("Phụ lục II", "Số hóa hồ sơ")):
        sheet = workbook.create_sheet(title)
        sheet.append(["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Thời hạn"])
        sheet.append([1, task, "Sở Nội vụ", "Quý IV/2023"])
    path = tmp_path / "hai-phu-luc.xlsx"
    workbook.save(path)

    first = run_import(layouts, path, plan="phu-luc-1")
    assert first.notes == [
        "trang tính 'Phụ lục II' cũng có bảng nhiệm vụ nhưng chưa được nhập "
        "(nhập riêng với --sheet 'Phụ lục II' và một mã --plan khác)"
    ]
    run_import(layouts, path, plan="phu-luc-2", sheet="phu luc II")
    with Session(layouts) as session:
        assert get_task(session, "phu-luc-1/1")["title"] == "Rà soát thủ tục"
        assert get_task(session, "phu-luc-2/1")["title"] == "Số hóa hồ sơ"
