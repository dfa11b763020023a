"""Hostile and broken plan files, as a user meets them: through `dondoc plan import`.

Each test here failed before the import was bounded and cleaned: a zip bomb ran for
minutes, a NUL byte was stored on SQLite and broke PostgreSQL, a formula without a
saved value became "no deadline", mojibake became agencies.
"""

from __future__ import annotations

import csv
import json
import os
import zipfile
from pathlib import Path

import pytest
from conftest import Cli
from openpyxl import Workbook

HEADER = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    home = tmp_path_factory.mktemp("hostile")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update({"DONDOC_DATA_DIR": str(home / "data"), "COLUMNS": "200", "NO_COLOR": "1"})
    cli = Cli(env=env, cwd=home)
    assert cli("init").exit_code == 0
    return cli


@pytest.fixture
def store_cli(store_url: str, tmp_path: Path) -> Cli:
    """A CLI on each backend (SQLite file, PostgreSQL), with the bundled directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(
        {
            "DONDOC_DATA_DIR": str(tmp_path / "data"),
            "DONDOC_DATABASE_URL": store_url,
            "COLUMNS": "200",
            "NO_COLOR": "1",
        }
    )
    cli = Cli(env=env, cwd=tmp_path)
    result = cli("init")
    assert result.exit_code == 0, result.stderr
    return cli


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_control_characters_are_removed_and_reported_on_every_store(
    store_cli: Cli, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "nul.csv",
        [HEADER, ["1", "Rà soát\x00 thủ tục\x1b", "Sở Tư pháp\x07", "", "Tháng 3/2025"]],
    )
    result = store_cli("plan", "import", str(path), "--plan", "nul")
    assert result.exit_code == 0, result.stderr
    assert "đã sửa: dòng 2, cột 'Nhiệm vụ': đã bỏ 2 ký tự điều khiển" in result.stderr
    assert "đã sửa: dòng 2, cột 'Cơ quan chủ trì': đã bỏ 1 ký tự điều khiển" in result.stderr
    shown = json.loads(store_cli("task", "show", "nul/1", "--json").stdout)
    assert shown["title"] == "Rà soát thủ tục"
    assert [a["agency_name"] for a in shown["assignments"]] == ["Sở Tư pháp"]


def test_a_formula_without_a_saved_value_is_refused_with_its_cell(
    shared: Cli, tmp_path: Path
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append([1, "Rà soát thủ tục", "Sở Tư pháp", "", '=TEXT(DATE(2025,3,31),"mm/yyyy")'])
    path = tmp_path / "cong-thuc.xlsx"
    workbook.save(path)  # openpyxl saves formulas without a computed value, like a script
    result = shared("plan", "import", str(path), "--plan", "cong-thuc")
    assert result.exit_code == 2
    assert f"{path} [Sheet]: ô E2 chứa công thức chưa có giá trị đã lưu" in result.stderr
    assert "Traceback" not in result.stderr
    assert "cong-thuc" not in shared("plans").stdout


def test_an_excel_zip_bomb_is_refused_before_it_is_unpacked(shared: Cli, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    small = tmp_path / "small.xlsx"
    workbook.save(small)
    path = tmp_path / "bom.xlsx"
    with zipfile.ZipFile(small) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename != "xl/worksheets/sheet1.xml":
                out.writestr(item, data)
                continue
            with out.open(item.filename, "w", force_zip64=True) as member:
                member.write(data.replace(b"</sheetData>", b""))
                row = b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>'
                member.write(b"".join(row % (n, n) for n in range(2, 3_000_000)))
                member.write(b"</sheetData></worksheet>")
    assert path.stat().st_size < 20 * 1024 * 1024
    result = shared("plan", "import", str(path), "--plan", "bom", timeout=60)
    assert result.exit_code == 2
    assert f"{path}: tệp Excel khi giải nén chiếm " in result.stderr
    assert "vượt giới hạn 200 MB" in result.stderr


def test_a_table_past_the_row_limit_is_refused(shared: Cli, tmp_path: Path) -> None:
    path = tmp_path / "dai.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(",".join(HEADER) + "\n")
        handle.writelines(f"{n},Việc {n},Sở Tư pháp,,Tháng 3/2025\n" for n in range(1, 100_001))
    result = shared("plan", "import", str(path), "--plan", "dai", "--dry-run")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"Lỗi: {path}: bảng có hơn 100.000 dòng, vượt giới hạn cho một kế hoạch; hãy tách thành "
        "nhiều tệp."
    )


def test_a_cell_past_the_length_limit_is_refused(shared: Cli, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "o-dai.csv",
        [HEADER, ["1", "Rà soát " * 3000, "Sở Tư pháp", "", "Tháng 3/2025"]],
    )
    result = shared("plan", "import", str(path), "--plan", "o-dai", "--dry-run")
    assert result.exit_code == 2
    assert f"{path}:2: ô ở cột thứ 2 dài 24.000 ký tự, vượt giới hạn 20.000 ký tự." in (
        result.stderr
    )


def test_mojibake_is_repaired_and_reported(shared: Cli, tmp_path: Path) -> None:
    garbled = "Sở Tư pháp".encode().decode("cp1252", errors="replace")
    path = write_csv(
        tmp_path / "moji.csv",
        [HEADER, ["1", "Rà soát thủ tục", garbled, "", "Tháng 3/2025"]],
    )
    result = shared("plan", "import", str(path), "--plan", "moji", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [a["name"] for a in report["tasks"][0]["leads"]] == ["Sở Tư pháp"]
    assert report["repairs"] == [
        f"dòng 2, cột 'Cơ quan chủ trì': đã sửa lỗi mã hóa '{garbled}' → 'Sở Tư pháp'"
    ]


def test_create_agencies_never_creates_an_agency_from_repaired_or_garbled_text(
    shared: Cli, tmp_path: Path
) -> None:
    repaired = "Sở Mới".encode().decode("cp1252")  # ftfy mends it, but nobody checked it
    lost = "S\ufffd Tư pháp"  # bytes an earlier program could not decode
    path = write_csv(
        tmp_path / "moji-tao.csv",
        [
            HEADER,
            ["1", "Rà soát thủ tục", repaired, "", "Tháng 3/2025"],
            ["2", "Công bố thủ tục", "Sở Tư pháp", lost, "Tháng 3/2025"],
        ],
    )
    result = shared("plan", "import", str(path), "--plan", "moji-tao", "--create-agencies")
    assert result.exit_code == 2
    assert "dòng 2, cột 'Cơ quan chủ trì': không có cơ quan 'Sở Mới' trong danh bạ." in (
        result.stderr
    )
    assert (
        "dòng 3, cột 'Cơ quan phối hợp': 'S\ufffd Tư pháp' vẫn có chữ lỗi mã hóa sau khi sửa"
        in result.stderr
    )
    agencies = shared("agencies", "--json")
    assert "Sở Mới" not in agencies.stdout


def test_a_word_file_too_large_to_hold_in_memory_is_refused_before_it_is_read(
    shared: Cli, tmp_path: Path
) -> None:
    import docx

    small = tmp_path / "small.docx"
    docx.Document().save(str(small))
    path = tmp_path / "lon.docx"
    with zipfile.ZipFile(small) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                # 30 MB of markup: python-docx would build a tree of about 400 MB from it.
                data = data.replace(b"<w:body>", b"<w:body><!--" + b" " * 30_000_000 + b"-->")
            out.writestr(item, data)
    result = shared("plan", "import", str(path), "--plan", "lon", "--dry-run")
    assert result.exit_code == 2
    assert f"{path}: nội dung tệp Word chiếm 29 MB, vượt giới hạn 25 MB" in result.stderr
