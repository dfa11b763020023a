"""Plans of other provinces, read as a careful official reads them (tests/blind_plans.py).

Each sample is built as the file an office receives (Word, text PDF, Excel, CSV) and
imported against the office's own directory; every task's lead and coordinating
agencies, deadline phrase and section must be what the plan says, with no warning.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import blind_plans as samples
import pytest
from conftest import Cli
from plan_files import (
    Row,
    write_docx,
    write_pdf,
    write_pdf_broken_row,
    write_pdf_pages,
    write_xlsx,
)
from sqlalchemy.engine import Engine

from dondoc.directory import load_directory, read_directory_file
from dondoc.plan_import import ImportReport, import_plan
from dondoc.plan_report import PlanImportError, PlanWarningsError
from dondoc.store import make_engine, migrate, session_scope

NOW = datetime(2026, 1, 20, 2, 0, tzinfo=UTC)
ALL_DEPARTMENTS = [
    "so-noi-vu", "so-tu-phap", "so-tai-chinh", "so-cong-thuong", "so-nnmt", "so-xay-dung",
    "so-khcn", "so-vhttdl", "so-gddt", "so-y-te", "so-dttg", "thanh-tra",
]  # fmt: skip
ALL_LOCAL = ["p-xuan-huong", "x-lac-duong", "dk-van-don", "dk-co-to", "p-ha-long"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    folder = tmp_path_factory.mktemp("blind")
    engine = make_engine(f"sqlite:///{folder / 'dondoc.db'}")
    migrate(engine)
    with session_scope(engine) as session:
        directory = samples.write_directory(folder / "danh-ba.yaml")
        load_directory(session, read_directory_file(directory))
    yield engine
    engine.dispose()


def run_import(engine: Engine, path: Path, **options: Any) -> ImportReport:
    with session_scope(engine) as session:
        return import_plan(
            session, path=path, now=NOW, plan_code=path.stem, dry_run=True, **options
        )


def read(report: ImportReport) -> list[tuple[str, str | None, list[str], list[str]]]:
    """(STT, deadline phrase, lead codes, coordinator codes) per task."""
    return [
        (t.number, t.deadline_text, [c for c, _ in t.leads], [c for c, _ in t.coordinators])
        for t in report.tasks
    ]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


Writer = Callable[[Path, list[Row]], Path]
WORD_AND_PDF: dict[str, Writer] = {
    "docx": lambda path, rows: write_docx(path, [rows]),
    "pdf": lambda path, rows: write_pdf(path, rows),
}


def not_lead(*codes: str) -> list[str]:
    return [c for c in ALL_DEPARTMENTS if c not in codes]


@pytest.mark.parametrize("kind", sorted(WORD_AND_PDF))
def test_one_implementing_column_with_chu_tri_and_phoi_hop_labels_gives_each_its_role(
    store: Engine, tmp_path: Path, kind: str
) -> None:
    path = WORD_AND_PDF[kind](tmp_path / f"gia-lai.{kind}", samples.GIA_LAI)
    report = run_import(store, path)
    assert read(report) == [
        ("1", "Quý III năm 2026", ["vp-ubnd"], ["so-tu-phap", "so-noi-vu"]),
        ("2", "6 tháng đầu năm 2026", ALL_LOCAL, ["tt-hcc"]),
        ("3", "Trước ngày 20/12 hằng năm", ["so-noi-vu"], not_lead("so-noi-vu")),
    ]
    assert report.warnings == []
    assert [t.deadline for t in report.tasks] == [
        "Hạn chót ngày 30/09/2026.",
        "Hạn chót ngày 30/06/2026.",
        "Định kỳ hằng năm, hạn là ngày 19/12.",
    ]


@pytest.mark.parametrize(
    ("cell", "leads", "coordinators"),
    [
        ("Sở Nội vụ (chủ trì), Sở Tài chính, Sở Tư pháp", ["so-noi-vu"],
         ["so-tai-chinh", "so-tu-phap"]),
        ("Sở Tài chính chủ trì, phối hợp với Sở Nội vụ và Công an tỉnh", ["so-tai-chinh"],
         ["so-noi-vu", "cong-an"]),
        ("Sở Y tế (chủ trì); Sở Tài chính, Thuế tỉnh (phối hợp)", ["so-y-te"],
         ["so-tai-chinh", "thue"]),
        ("Sở Nội vụ, Sở Tư pháp (đồng chủ trì)", ["so-noi-vu", "so-tu-phap"], []),
        ("- Cơ quan chủ trì: Sở Xây dựng;\n- Cơ quan phối hợp: Sở Công Thương.", ["so-xay-dung"],
         ["so-cong-thuong"]),
    ],
)  # fmt: skip
def test_roles_written_inside_one_cell_are_read_as_written(
    store: Engine, tmp_path: Path, cell: str, leads: list[str], coordinators: list[str]
) -> None:
    rows: list[Row] = [
        ["STT", "Nhiệm vụ", "Cơ quan thực hiện", "Thời hạn"],
        ["1", "Tổ chức thực hiện", cell, "Năm 2026"],
    ]
    report = run_import(store, write_docx(tmp_path / "vai-tro.docx", [rows]))
    assert read(report) == [("1", "Năm 2026", leads, coordinators)]


def test_names_after_a_lead_mark_coordinate_and_the_task_says_so(
    store: Engine, tmp_path: Path
) -> None:
    rows: list[Row] = [
        ["STT", "Nhiệm vụ", "Cơ quan thực hiện", "Thời hạn"],
        ["1", "Tổ chức thực hiện", "Sở Nội vụ (chủ trì), Sở Tài chính", "Năm 2026"],
    ]
    report = run_import(store, write_docx(tmp_path / "dau-chu-tri.docx", [rows]))
    assert report.tasks[0].notes == (
        "cột 'Cơ quan thực hiện': các cơ quan không ghi '(chủ trì)' được hiểu là phối hợp"
    )


def _lam_dong() -> list[tuple[str, str, list[str], list[str]]]:
    return [
        ("A.1", "Quý I/2026", ALL_DEPARTMENTS, []),
        ("A.2", "Định kỳ 6 tháng", ALL_LOCAL, ["so-khcn", "vp-ubnd"]),
        ("B.I.1", "Trước ngày 30/6/2026", ["so-khcn"], ["so-xay-dung"]),
        ("B.I.2", "Năm 2026", ["so-khcn"], ["so-tai-chinh"]),
        ("B.II.1", "Giai đoạn 2026 - 2030", ["so-nnmt"], ["p-xuan-huong", "x-lac-duong"]),
        ("B.II.2", "Hằng năm", ["cong-an"], ["bchqs"]),
    ]


def _an_giang() -> list[tuple[str, str, list[str], list[str]]]:
    codes = {
        "Sở Y tế": "so-y-te",
        "Sở Giáo dục và Đào tạo": "so-gddt",
        "Sở Văn hóa, Thể thao và Du lịch": "so-vhttdl",
        "Sở Dân tộc và Tôn giáo": "so-dttg",
        "Sở Công Thương": "so-cong-thuong",
    }
    return [
        (str(row[0]), str(row[4]), [codes[str(row[2])]], ["so-tai-chinh", *ALL_LOCAL])
        for row in samples.an_giang_rows()[1:]
    ]


SAMPLES: dict[str, tuple[Callable[[Path], Path], Callable[[], list[Any]]]] = {
    "lam-dong.docx": (
        lambda p: write_docx(p, [samples.LAM_DONG], samples.LAM_DONG_ABOVE),
        _lam_dong,
    ),
    "lam-dong.pdf": (lambda p: write_pdf(p, samples.LAM_DONG, samples.LAM_DONG_ABOVE), _lam_dong),
    "lam-dong.xlsx": (lambda p: write_xlsx(p, samples.LAM_DONG, samples.LAM_DONG_ABOVE), _lam_dong),
    "an-giang.pdf": (lambda p: write_pdf_pages(p, samples.an_giang_rows()), _an_giang),
    "hue.docx": (lambda p: write_docx(p, [samples.HUE]), lambda: samples.HUE_READ),
    "hue.pdf": (lambda p: write_pdf(p, samples.HUE), lambda: samples.HUE_READ),
    "hue.xlsx": (lambda p: write_xlsx(p, samples.HUE), lambda: samples.HUE_READ),
    "quang-ninh.docx": (
        lambda p: write_docx(p, [samples.QUANG_NINH], samples.QUANG_NINH_ABOVE),
        lambda: samples.QUANG_NINH_READ,
    ),
    "quang-ninh.pdf": (
        lambda p: write_pdf(p, samples.QUANG_NINH, samples.QUANG_NINH_ABOVE),
        lambda: samples.QUANG_NINH_READ,
    ),
    "lanh-dao.xlsx": (lambda p: write_xlsx(p, samples.EXCEL), lambda: samples.EXCEL_READ),
    "tham-muu.csv": (lambda p: write_csv(p, samples.CSV_PLAN), lambda: samples.CSV_READ),
    "hai-phu-luc.docx": (
        lambda p: write_docx(p, samples.TWO_APPENDICES),
        lambda: samples.TWO_APPENDICES_READ,
    ),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_plan_of_another_province_is_read_as_a_person_reads_it(
    store: Engine, tmp_path: Path, name: str
) -> None:
    write, expected = SAMPLES[name]
    report = run_import(store, write(tmp_path / name))
    assert read(report) == [tuple(e) for e in expected()]
    assert report.warnings == []


def one_task(tmp_path: Path, lead: str, coordinators: str) -> Path:
    rows: list[Row] = [
        ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn"],
        ["1", "Tổ chức thực hiện", lead, coordinators, "Năm 2026"],
    ]
    return write_docx(tmp_path / "mot-nhiem-vu.docx", [rows])


def test_a_known_name_followed_by_tinh_is_that_agency_never_two_new_ones(
    store: Engine, tmp_path: Path
) -> None:
    path = one_task(tmp_path, "Sở Y tế tỉnh", "Sở Nông nghiệp và Môi trường tỉnh, Sở Tư pháp")
    report = run_import(store, path, create_agencies=True)
    assert read(report) == [("1", "Năm 2026", ["so-y-te"], ["so-nnmt", "so-tu-phap"])]
    assert report.new_agencies == []


def test_a_list_of_kinds_in_another_order_is_the_same_group(store: Engine, tmp_path: Path) -> None:
    path = one_task(tmp_path, "Sở Công Thương", "UBND các phường, xã, đặc khu")
    assert read(run_import(store, path)) == [("1", "Năm 2026", ["so-cong-thuong"], ALL_LOCAL)]


def test_an_unknown_name_that_extends_a_known_one_is_refused_with_that_name_suggested(
    store: Engine, tmp_path: Path
) -> None:
    path = one_task(tmp_path, "Công an tỉnh Quảng Ninh", "")
    with pytest.raises(PlanImportError) as caught:
        run_import(store, path)
    assert caught.value.problems == [
        "dòng 2, cột 'Cơ quan chủ trì': không có cơ quan 'Công an tỉnh Quảng Ninh' trong danh "
        "bạ. Có phải: Công an tỉnh? (Thêm vào danh bạ bằng `dondoc agencies load`, hoặc nhập "
        "với --create-agencies.)"
    ]


def test_a_row_word_broke_across_pdf_pages_is_joined_again_and_flagged(
    store: Engine, tmp_path: Path
) -> None:
    path = write_pdf_broken_row(tmp_path / "ngat-trang.pdf", samples.BROKEN_ROW_PAGES)
    report = run_import(store, path)
    assert read(report) == [
        ("1", "Quý I/2026", ["so-tai-chinh"], ["so-noi-vu"]),
        ("2", "Năm 2026", ["so-khcn"], ["so-noi-vu", "so-y-te"]),
        ("3", "Hằng năm", ["so-noi-vu"], []),
    ]
    assert report.tasks[1].title == "Triển khai hệ thống quản lý văn bản và điều hành liên thông"
    # The rest of the row is not a section: task 3 stays in section I.
    assert [t.section for t in report.tasks] == ["I", "I", "I"]
    assert report.warnings == [
        "trang 2, dòng 6: dòng đầu trang không có STT được hiểu là phần còn lại của dòng 4 "
        "(trang 1), bị ngắt qua trang khi xuất PDF, và được ghép vào dòng đó; hãy kiểm tra "
        "lại nhiệm vụ này."
    ]
    with pytest.raises(PlanWarningsError):
        run_import(store, path, strict=True)


@pytest.mark.parametrize("kind", sorted(WORD_AND_PDF))
def test_section_rows_merged_across_the_table_head_the_tasks_below_them(
    store: Engine, tmp_path: Path, kind: str
) -> None:
    path = WORD_AND_PDF[kind](tmp_path / f"muc-rong.{kind}", samples.WIDE_SECTIONS)
    report = run_import(store, path)
    assert [(t.number, t.section, t.section_title, t.notes) for t in report.tasks] == [
        ("1", None, "NHIỆM VỤ CHUNG", None),
        ("1.1", None, "NHIỆM VỤ CỤ THỂ", "Thuộc nhóm nhiệm vụ 1: Lĩnh vực y tế"),
        ("2", "II", "TỔ CHỨC THỰC HIỆN", None),
    ]
    # A footnote merged across the table is no section: it is skipped and said so.
    assert any("bỏ qua dòng chỉ có chữ 'Ghi chú: nhiệm vụ in nghiêng" in n for n in report.notes)


def test_the_cli_preview_shows_the_roles_of_one_implementing_column_and_says_how_it_read_it(
    cli: Cli, tmp_path: Path
) -> None:
    directory = samples.write_directory(tmp_path / "danh-ba.yaml")
    assert cli("init", "--agencies", str(directory)).exit_code == 0
    path = write_docx(tmp_path / "gia-lai.docx", [samples.GIA_LAI])
    result = cli("plan", "import", str(path), "--plan", "gia-lai", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    preview = json.loads(result.stdout)
    first = preview["tasks"][0]
    assert [a["name"] for a in first["leads"]] == ["Văn phòng UBND tỉnh"]
    assert [a["name"] for a in first["coordinators"]] == ["Sở Tư pháp", "Sở Nội vụ"]
    assert (
        "cột 'Cơ quan, đơn vị thực hiện' được hiểu là cột Cơ quan chủ trì: mọi cơ quan ghi ở "
        "đó là chủ trì, trừ khi ô ghi rõ 'Phối hợp:' hoặc '(phối hợp)'" in preview["notes"]
    )
