"""Appendices as offices receive them: Word, text PDF, Excel and CSV, built in code.

One plan with what Word tables hold (title lines, two levels of sections whose
numbering restarts, a header repeated on a new page, a task whose STT, coordinator
and deadline cells are merged over a second row with its own sub-task and lead) is
read from every format and must give the same tasks.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from plan_files import Row, Span, write_docx, write_pdf, write_scanned_pdf, write_xlsx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.errors import UserError
from dondoc.models import Task
from dondoc.plan_import import ImportReport, import_plan
from dondoc.store import make_engine, migrate, session_scope
from dondoc.tasks import get_task

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
HEADER = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]
ABOVE = ("PHỤ LỤC", "(Kèm theo Kế hoạch số 12/KH-UBND ngày 01/3/2025 của UBND tỉnh)")
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
    HEADER,  # Word repeats the header on a new page
    ["B", Span("CHUYỂN ĐỔI SỐ", columns=4)],
    ["I", Span("Số hóa", columns=4)],
    ["1", "Số hóa hồ sơ", "Sở Tài chính", "", "Tháng 12/2025"],
]
# (number, short number, section, deadline text, leads, coordinators)
EXPECTED = [
    ("A.I.1", "1", "A.I", "Tháng 3/2025", ["Sở Tư pháp"], ["Văn phòng UBND tỉnh"]),
    ("A.I.2", "2", "A.I", "Quý II/2025", ["Sở Nội vụ"], ["Sở Tư pháp"]),
    ("A.I.2b", "2b", "A.I", "Quý II/2025", ["Sở Y tế"], ["Sở Tư pháp"]),
    ("B.I.1", "1", "B.I", "Tháng 12/2025", ["Sở Tài chính"], []),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('formats') / 'dondoc.db'}")
    migrate(engine)
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    yield engine
    engine.dispose()


def run_import(engine: Engine, path: Path, plan: str, **options: Any) -> ImportReport:
    with session_scope(engine) as session:
        return import_plan(session, path=path, now=NOW, plan_code=plan, **options)


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def as_csv(rows: list[Row]) -> list[list[str]]:
    """The plan as a CSV export shows it: a merged cell's text in its first row only."""
    out: list[list[str]] = []
    pending: dict[int, int] = {}  # column → rows still covered by a vertical merge
    for row in rows:
        cells: list[str] = []
        items = iter(row)
        column = 0
        while column < len(HEADER):
            if pending.get(column, 0) > 0:
                pending[column] -= 1
                cells.append("")
                column += 1
                continue
            cell = next(items, "")
            span = cell if isinstance(cell, Span) else Span(cell)
            cells.append(span.text)
            cells.extend([""] * (span.columns - 1))
            if span.rows > 1:
                pending[column] = span.rows - 1
            column += span.columns
        out.append(cells)
    return out


WRITERS = {
    "docx": lambda path, rows: write_docx(path, [rows], ABOVE),
    "pdf": lambda path, rows: write_pdf(path, rows, ABOVE),
    "xlsx": lambda path, rows: write_xlsx(path, rows, ABOVE),
    "csv": lambda path, rows: write_csv(path, [[line] for line in ABOVE] + as_csv(rows)),
}


def summary(report: ImportReport) -> list[tuple[Any, ...]]:
    return [
        (
            t.number,
            t.short_number,
            t.section,
            t.deadline_text,
            [name for _, name in t.leads],
            [name for _, name in t.coordinators],
        )
        for t in report.tasks
    ]


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_every_format_reads_sections_merged_cells_and_repeated_headers_alike(
    store: Engine, tmp_path: Path, kind: str
) -> None:
    path = WRITERS[kind](tmp_path / f"ke-hoach.{kind}", PLAN)
    report = run_import(store, path, plan=f"kh-{kind}", dry_run=True)
    assert summary(report) == [tuple(e) for e in EXPECTED]
    assert report.repeated_headers == 1
    assert report.warnings == []
    continuation = report.tasks[2]
    assert continuation.notes is not None
    assert continuation.notes.startswith("Tiếp nối nhiệm vụ 2 (dòng không có STT)")
    if kind == "csv":
        # A CSV cannot say the cells were merged: the note says what was taken from above.
        assert "lấy cột 'Cơ quan phối hợp', cột 'Thời gian hoàn thành' từ dòng trên" in (
            continuation.notes
        )
    assert report.tasks[0].deadline == "Hạn chót ngày 31/03/2025."


def test_the_short_and_the_full_number_find_a_task_and_an_ambiguous_one_says_so(
    store: Engine, tmp_path: Path
) -> None:
    path = write_docx(tmp_path / "kh.docx", [PLAN], ABOVE)
    run_import(store, path, plan="so-muc")
    with Session(store) as session:
        assert get_task(session, "so-muc/A.I.1")["title"] == "Rà soát thủ tục"
        assert get_task(session, "so-muc/2b")["title"] == "Công bố thủ tục cấp xã"
        assert get_task(session, "so-muc/B.I.1")["short_number"] == "1"
        with pytest.raises(UserError) as caught:
            get_task(session, "so-muc/1")
        assert caught.value.message == (
            "STT '1' có ở nhiều mục của kế hoạch so-muc: A.I.1, B.I.1. Hãy ghi đủ số kèm mục, "
            "ví dụ so-muc/A.I.1."
        )
        stored = session.exec(select(Task.number, Task.section_code)).all()
        assert ("A.I.2b", "A.I") in stored


def test_a_word_file_with_several_tables_finds_the_appendix_by_its_headers(
    store: Engine, tmp_path: Path
) -> None:
    signature = [["Nơi nhận:", "KT. CHỦ TỊCH"], ["- Như trên;", "PHÓ CHỦ TỊCH"]]
    second: list[Row] = [HEADER, ["1", "Kiểm tra", "Sở Nội vụ", "", "Quý IV/2025"]]
    path = write_docx(tmp_path / "nhieu-bang.docx", [signature, PLAN, "PHỤ LỤC II", second], ABOVE)
    report = run_import(store, path, plan="nhieu-bang", dry_run=True)
    assert [t.number for t in report.tasks] == [e[0] for e in EXPECTED]
    assert (
        "bảng 3 cũng có bảng nhiệm vụ nhưng chưa được nhập (nhập riêng với --table 3 và một "
        "mã --plan khác)" in report.notes
    )
    picked = run_import(store, path, plan="bang-3", dry_run=True, table=3)
    assert [(t.number, t.title) for t in picked.tasks] == [("1", "Kiểm tra")]
    with pytest.raises(UserError) as caught:
        run_import(store, path, plan="bang-9", dry_run=True, table=9)
    assert caught.value.message == (
        f"{path}: --table 9: tệp chỉ có 3 bảng (đánh số từ 1 theo thứ tự trong tệp)."
    )


def test_a_word_table_split_in_two_without_a_second_header_is_one_table(
    store: Engine, tmp_path: Path
) -> None:
    first, rest = PLAN[:6], PLAN[7:]
    path = write_docx(tmp_path / "tach.docx", [first, rest], ABOVE)
    report = run_import(store, path, plan="tach", dry_run=True)
    assert [t.number for t in report.tasks] == [e[0] for e in EXPECTED]


def test_a_scanned_pdf_is_refused_with_the_reason(store: Engine, tmp_path: Path) -> None:
    path = write_scanned_pdf(tmp_path / "ban-scan.pdf")
    with pytest.raises(UserError) as caught:
        run_import(store, path, plan="scan", dry_run=True)
    assert caught.value.message.startswith(
        f"{path}: tệp PDF không có lớp chữ (có lẽ là bản scan/ảnh chụp)"
    )


def test_a_pdf_table_running_over_pages_is_one_table(store: Engine, tmp_path: Path) -> None:
    rows: list[Row] = [HEADER] + [
        [str(n), f"Nhiệm vụ số {n}", "Sở Tư pháp", "", "Tháng 12/2025"] for n in range(1, 61)
    ]
    path = write_pdf(tmp_path / "dai.pdf", rows, ABOVE)
    report = run_import(store, path, plan="dai", dry_run=True)
    assert [t.number for t in report.tasks] == [str(n) for n in range(1, 61)]
    assert report.tasks[-1].where.startswith("trang 2, ")


def test_the_example_plan_as_word_reads_like_the_csv(store: Engine) -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    from_csv = run_import(store, examples / "nq131-phu-luc.csv", plan="vd-csv", dry_run=True)
    from_docx = run_import(store, examples / "nq131-phu-luc.docx", plan="vd-docx", dry_run=True)
    assert len(from_docx.tasks) == 28
    assert summary(from_docx) == summary(from_csv)
    assert [t.title for t in from_docx.tasks] == [t.title for t in from_csv.tasks]


def test_the_committed_example_docx_is_what_its_script_builds(tmp_path: Path) -> None:
    import importlib.util

    examples = Path(__file__).resolve().parent.parent / "examples"
    spec = importlib.util.spec_from_file_location("make_docx", examples / "make_docx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    header, rows = module.read_rows(examples / "nq131-phu-luc.csv")
    built = tmp_path / "built.docx"
    module.save_reproducibly(module.build_document(header, rows), built)
    assert built.read_bytes() == (examples / "nq131-phu-luc.docx").read_bytes()


def test_lines_a_pdf_wrapped_to_fit_a_column_are_one_name_again(
    store: Engine, tmp_path: Path
) -> None:
    coordinators = "Văn phòng UBND tỉnh; Sở Nội vụ; Sở Y tế; Sở Tài chính; Công an tỉnh"
    rows: list[Row] = [
        HEADER,
        ["1", "Rà soát thủ tục", "Sở Tư pháp", coordinators, "Tháng 12/2025"],
        ["2", "Công bố thủ tục", "- Sở Tư pháp;\n- Sở Nội vụ", "", "Quý II/2025"],
    ]
    path = write_pdf(tmp_path / "hep.pdf", rows, ABOVE)
    report = run_import(store, path, plan="hep", dry_run=True)
    assert [n for _, n in report.tasks[0].coordinators] == [
        "Văn phòng UBND tỉnh",
        "Sở Nội vụ",
        "Sở Y tế",
        "Sở Tài chính",
        "Công an tỉnh",
    ]
    assert [n for _, n in report.tasks[1].leads] == ["Sở Tư pháp", "Sở Nội vụ"]


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pdf"])
def test_a_task_whose_lead_cell_is_split_over_rows_keeps_every_lead(
    store: Engine, tmp_path: Path, kind: str
) -> None:
    rows: list[Row] = [
        HEADER,
        [
            Span("1", rows=3),
            Span("Kiểm tra thủ tục", rows=3),
            "Sở Tư pháp",
            Span("Văn phòng UBND tỉnh", rows=3),
            Span("Quý IV/2025", rows=3),
        ],
        ["Sở Y tế"],
        ["Sở Nội vụ"],
        ["2", "Công bố", "Sở Tài chính", "", "Tháng 12/2025"],
    ]
    path = WRITERS[kind](tmp_path / f"tach-o.{kind}", rows)
    report = run_import(store, path, plan=f"tach-o-{kind}", dry_run=True)
    assert summary(report) == [
        (
            "1",
            "1",
            None,
            "Quý IV/2025",
            ["Sở Tư pháp", "Sở Y tế", "Sở Nội vụ"],
            ["Văn phòng UBND tỉnh"],
        ),
        ("2", "2", None, "Tháng 12/2025", ["Sở Tài chính"], []),
    ]
