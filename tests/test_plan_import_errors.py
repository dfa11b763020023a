"""A plan that cannot be imported: every problem named by row and cell, nothing written."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_PLAN
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from dondoc.actions import find_assignment, set_status
from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.errors import UserError
from dondoc.models import Agency, Assignment, AuditEntry, Plan, Task
from dondoc.plan_import import PlanImportError, import_plan
from dondoc.store import make_engine, migrate, session_scope
from dondoc.tasks import get_task

NOW = datetime(2023, 1, 9, 2, 0, tzinfo=UTC)
HEADER = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn"]
HINT = "(Thêm vào danh bạ bằng `dondoc agencies load`, hoặc nhập với --create-agencies.)"


@pytest.fixture(scope="module")
def directory_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A SQLite store with the bundled directory; these tests leave it unchanged."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('errors') / 'dondoc.db'}")
    migrate(engine)
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    yield engine
    engine.dispose()


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def run_import(engine: Engine, path: Path, plan: str = "kh", **options: Any) -> None:
    with session_scope(engine) as session:
        import_plan(session, path=path, now=NOW, plan_code=plan, **options)


def problems(engine: Engine, path: Path, **options: Any) -> list[str]:
    with pytest.raises(PlanImportError) as caught:
        run_import(engine, path, **options)
    return caught.value.problems


def user_error(engine: Engine, path: Path, **options: Any) -> str:
    with pytest.raises(UserError) as caught:
        run_import(engine, path, **options)
    assert not isinstance(caught.value, PlanImportError)
    return caught.value.message


def counts(engine: Engine) -> tuple[int, ...]:
    with Session(engine) as session:
        return tuple(
            session.exec(select(func.count()).select_from(table)).one()
            for table in (Agency, Plan, Task, Assignment, AuditEntry)
        )


def one_bad_row(tmp_path: Path, bad: list[str]) -> Path:
    return write_csv(
        tmp_path / "kh.csv",
        [
            HEADER,
            ["1", "Rà soát thủ tục", "Sở Tư pháp", "Văn phòng UBND tỉnh", "Tháng 3/2023"],
            bad,
            ["3", "Công bố thủ tục", "Các sở, ban, ngành", "", "Quý II/2023"],
        ],
    )


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (
            ["2", "Kiểm tra", "Sở Tài chánh", "", "Tháng 6/2023"],
            "dòng 3, cột 'Cơ quan chủ trì': không có cơ quan 'Sở Tài chánh' trong danh bạ. "
            f"Có phải: Sở Tài chính? {HINT}",
        ),
        (
            ["2", "Kiểm tra", "Sở Nội vụ", "- Sở Nội vụ;\n- Sở Xây dựg.", "Tháng 6/2023"],
            "dòng 3, cột 'Cơ quan phối hợp': không có cơ quan 'Sở Xây dựg' trong danh bạ. "
            f"Có phải: Sở Xây dựng? {HINT}",
        ),
        (
            ["2", "Kiểm tra", "Tổng công ty Điện lực", "", "Tháng 6/2023"],
            "dòng 3, cột 'Cơ quan chủ trì': không có cơ quan 'Tổng công ty Điện lực' trong "
            f"danh bạ. {HINT}",
        ),
        (
            ["2", "Kiểm tra", "Sở Nội vụ", "", "Sớm nhất có thể"],
            "dòng 3, cột 'Thời hạn': Chưa hiểu thời hạn “Sớm nhất có thể”: ",
        ),
        (
            ["2", "Kiểm tra", "Sở Nội vụ", "", "Tháng 13/2023"],
            "dòng 3, cột 'Thời hạn': Chưa hiểu thời hạn “Tháng 13/2023”: tại “13” ",
        ),
        (["2", "", "Sở Nội vụ", "", "Tháng 6/2023"], "dòng 3, cột 'Nhiệm vụ': thiếu tên nhiệm vụ."),
        (["", "Kiểm tra", "Sở Nội vụ", "", "Tháng 6/2023"], "dòng 3, cột 'STT': thiếu STT."),
        (
            ["2", "Kiểm tra", "", "Sở Nội vụ", "Tháng 6/2023"],
            "dòng 3, cột 'Cơ quan chủ trì': thiếu cơ quan chủ trì.",
        ),
        (
            ["2", "Kiểm tra", "Các cơ quan, đơn vị liên quan", "", "Tháng 6/2023"],
            "dòng 3, cột 'Cơ quan chủ trì': 'Các cơ quan, đơn vị liên quan' không chỉ rõ cơ quan "
            "nào chủ trì; hãy ghi tên cơ quan.",
        ),
        (
            ["1", "Kiểm tra", "Sở Nội vụ", "", "Tháng 6/2023"],
            "dòng 3, cột 'STT': STT '1' trùng với dòng 2; mỗi nhiệm vụ cần một STT riêng.",
        ),
    ],
    ids=[
        "unknown lead",
        "unknown coordinator",
        "unknown without suggestion",
        "unparseable deadline",
        "impossible month",
        "no title",
        "no STT",
        "no lead",
        "lead names nobody",
        "duplicate STT",
    ],
)
def test_a_bad_row_is_named_by_row_and_cell_and_nothing_is_written(
    directory_store: Engine, tmp_path: Path, bad: list[str], expected: str
) -> None:
    before = counts(directory_store)
    found = problems(directory_store, one_bad_row(tmp_path, bad))
    assert len(found) == 1
    assert found[0].startswith(expected)
    assert counts(directory_store) == before


def test_a_row_without_stt_that_names_a_product_is_not_taken_for_a_section_title(
    directory_store: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "tiep.csv",
        [
            ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Sản phẩm", "Thời hạn"],
            ["1", "Rà soát thủ tục", "Sở Tư pháp", "Báo cáo", "Tháng 3/2023"],
            ["", "(tiếp) và công bố kết quả", "", "Quyết định công bố", ""],
        ],
    )
    assert problems(directory_store, path) == ["dòng 3, cột 'STT': thiếu STT."]


def test_the_error_lists_every_problem_at_once_under_the_file_name(
    directory_store: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "nhieu-loi.csv",
        [
            HEADER,
            ["1", "", "Sở Tài chánh", "", "Tháng 3/2023"],
            ["2", "Kiểm tra", "Sở Nội vụ", "", "Hôm nào đó"],
        ],
    )
    with pytest.raises(PlanImportError) as caught:
        run_import(directory_store, path)
    message = caught.value.message
    assert message.startswith(f"{path}: 3 lỗi, chưa nhập gì vào cơ sở dữ liệu:\n  • dòng 2, ")
    assert [line.split(":")[0] for line in message.splitlines()[1:]] == [
        "  • dòng 2, cột 'Nhiệm vụ'",
        "  • dòng 2, cột 'Cơ quan chủ trì'",
        "  • dòng 3, cột 'Thời hạn'",
    ]


def test_an_excel_cell_is_named_by_its_column_letter_and_header(
    directory_store: Engine, tmp_path: Path
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Phụ lục"
    sheet.append(["KẾ HOẠCH"])
    sheet.append(HEADER)
    sheet.append([1, "Kiểm tra", "Sở Nội vụ", "Sở Tài chánh", "Tháng 6/2023"])
    path = tmp_path / "kh.xlsx"
    workbook.save(path)
    with pytest.raises(PlanImportError) as caught:
        run_import(directory_store, path)
    assert caught.value.message.startswith(f"{path} [Phụ lục]: 1 lỗi")
    assert caught.value.problems[0].startswith(
        "dòng 3, cột D (Cơ quan phối hợp): không có cơ quan 'Sở Tài chánh' trong danh bạ."
    )


def test_create_agencies_does_not_hide_other_problems(
    directory_store: Engine, tmp_path: Path
) -> None:
    before = counts(directory_store)
    path = one_bad_row(tmp_path, ["2", "Kiểm tra", "Bộ Nội vụ", "", "Hôm nào đó"])
    found = problems(directory_store, path, create_agencies=True)
    assert [p.split(":")[0] for p in found] == ["dòng 3, cột 'Thời hạn'"]
    assert counts(directory_store) == before


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [["STT", "Nhiệm vụ", "Cơ quan phối hợp", "Thời hạn"], ["1", "Kiểm tra", "", "Quý I"]],
            ":1: thiếu cột Cơ quan chủ trì; các cột có trong tệp: 'STT', 'Nhiệm vụ', "
            "'Cơ quan phối hợp', 'Thời hạn'.",
        ),
        (
            [["Nhiệm vụ", "Cơ quan chủ trì", "Thời hạn"], ["Kiểm tra", "Sở Nội vụ", "Quý I/2023"]],
            ":1: thiếu cột STT; các cột có trong tệp: 'Nhiệm vụ', 'Cơ quan chủ trì', 'Thời hạn'.",
        ),
        (
            [["Số", "Việc", "Ai làm", "Khi nào"], ["1", "Kiểm tra", "Sở Nội vụ", "Quý I/2023"]],
            ": không tìm thấy dòng tiêu đề trong 15 dòng đầu; bảng cần có các cột STT, Nhiệm vụ, "
            "Cơ quan chủ trì, Thời gian hoàn thành.",
        ),
        (
            [
                ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Thời hạn trình", "Tiến độ báo cáo"],
                ["1", "Kiểm tra", "Sở Nội vụ", "Quý I/2023", "Hàng quý"],
            ],
            ":1: Hai cột cùng là 'Thời gian hoàn thành': 'Thời hạn trình' và 'Tiến độ báo cáo'. "
            "Hãy đổi tên một cột.",
        ),
    ],
    ids=["no lead column", "no STT column", "no header", "two deadline columns"],
)
def test_a_table_without_the_needed_columns_says_which_and_lists_what_it_found(
    directory_store: Engine, tmp_path: Path, rows: list[list[str]], expected: str
) -> None:
    path = write_csv(tmp_path / "cot.csv", rows)
    assert user_error(directory_store, path) == f"{path}{expected}"


def test_a_table_with_only_a_header_has_no_tasks(directory_store: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "trong.csv", [HEADER, ["I", "PHẦN MỘT", "", "", ""]])
    assert problems(directory_store, path) == ["bảng không có nhiệm vụ nào."]


def test_a_csv_that_is_not_utf8_is_named_with_its_line_and_how_to_fix_it(
    directory_store: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "cp1258.csv"
    # "Kiểm tra" and "Sở Nội vụ" as a Vietnamese Windows code page writes them.
    path.write_bytes(
        b"STT,Nhiem vu,Co quan chu tri,Thoi han\r\n1,Ki\xeam tra,S\xf5 N\xf4i v\xf9,Q\r\n"
    )
    assert user_error(directory_store, path) == (
        f"{path}:2: tệp không phải UTF-8. Hãy lưu lại dưới dạng 'CSV UTF-8' "
        "(Excel: Save As → CSV UTF-8)."
    )


@pytest.mark.parametrize("name", ["ke-hoach.docx", "ke-hoach.pdf", "ke-hoach"])
def test_an_unsupported_file_type_says_what_to_use(
    directory_store: Engine, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4")
    message = user_error(directory_store, path)
    assert message.startswith(f"{path}: định dạng ")
    assert "hãy dùng .csv hoặc .xlsx" in message


def test_a_missing_file_is_named(directory_store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "khong-co.csv"
    assert user_error(directory_store, path) == f"Không tìm thấy tệp {path}."


def test_a_damaged_excel_file_is_named(directory_store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "hong.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    assert user_error(directory_store, path).startswith(f"{path}: không mở được tệp Excel: ")


def test_an_excel_sheet_that_does_not_exist_is_named_with_the_ones_that_do(
    directory_store: Engine, tmp_path: Path
) -> None:
    workbook = Workbook()
    assert workbook.active is not None
    workbook.active.title = "Phụ lục"
    path = tmp_path / "kh.xlsx"
    workbook.save(path)
    assert user_error(directory_store, path, sheet="Phụ lục II") == (
        f"{path}: không có trang tính 'Phụ lục II'; các trang tính: 'Phụ lục'."
    )


@pytest.mark.parametrize("code", ["NQ 131", "nq131/2023", "", "-nq"])
def test_a_plan_code_that_cannot_name_tasks_is_refused(directory_store: Engine, code: str) -> None:
    message = user_error(directory_store, EXAMPLE_PLAN, plan=code or "đặc biệt")
    assert message.startswith("--plan: mã kế hoạch ")


def test_an_unknown_owner_is_named(directory_store: Engine) -> None:
    message = user_error(directory_store, EXAMPLE_PLAN, owner="vp-tinh-uy")
    assert message == "--owner: không có cơ quan mã 'vp-tinh-uy' trong danh bạ."


def test_a_failed_reimport_leaves_the_stored_plan_and_its_statuses_untouched(
    engine: Engine, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    run_import(engine, EXAMPLE_PLAN, plan="nq131")
    with session_scope(engine) as session:
        task_id = get_task(session, "nq131/7")["id"]
        assignment = find_assignment(session, task_id=task_id, agency_code="so-tu-phap")
        set_status(session, assignment=assignment, status="done", actor="test", now=NOW)
    before = counts(engine)

    with EXAMPLE_PLAN.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    rows = [r for r in rows if r[0] != "28"]  # would deactivate task 28 …
    rows[3][5] = "Tháng 12/2022"  # … and change task 2's deadline …
    rows[-1][2] = "Sở Tài chánh"  # … but one name is unknown
    broken = write_csv(tmp_path / "nq131.csv", rows)
    lines = broken.read_text(encoding="utf-8").splitlines()
    line_27 = next(n for n, text in enumerate(lines, start=1) if text.startswith("27,"))
    found = problems(engine, broken, plan="nq131")
    assert found == [
        f"dòng {line_27}, cột 'Cơ quan chủ trì': không có cơ quan 'Sở Tài chánh' trong "
        f"danh bạ. Có phải: Sở Tài chính? {HINT}"
    ]
    assert counts(engine) == before
    with Session(engine) as session:
        assert get_task(session, "nq131/28")["id"] is not None
        assert get_task(session, "nq131/2")["deadline_text"] == "Thường xuyên"
        done = get_task(session, "nq131/7")["assignments"][0]
    assert (done["agency"], done["status"]) == ("so-tu-phap", "done")
