"""Plans typed in the legacy Vietnamese font encodings TCVN3 (ABC) and VNI.

Before, such a file was misread: with a Unicode header, agencies were unknown names,
deadlines unreadable, and with --create-agencies "Së T\xad ph¸p" became a new agency with no
warning. The legacy strings below are what Word stores for text typed in .VnTime and
VNI-Times fonts (each byte as its Windows-1252 character), written out by hand so that the
tests do not derive them from the table under test.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import blind_plans as samples
import pytest
from conftest import Cli
from plan_files import write_docx, write_pdf, write_xlsx

from dondoc.errors import UserError
from dondoc.plan_reader import read_plan_table
from dondoc.planfile.legacy import TCVN3, VNI, decode

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]
TCVN3_HEADER = ["STT", "NhiÖm vô", "C¬ quan chñ tr×", "C¬ quan phèi hîp", "Thêi gian hoµn thµnh"]
TCVN3_ROWS = [
    ["1", "Rµ so¸t v¨n b¶n quy ph¹m ph¸p luËt", "Së T\xad ph¸p", "Së Néi vô", "Th¸ng 12/2022"],
    ["2", "C«ng bè thñ tôc hµnh chÝnh", "V¨n phßng UBND tØnh", "Së T\xad ph¸p", "Quý I/2023"],
]
VNI_ROWS = [
    [
        "1",
        "Raø soaùt vaên baûn quy phaïm phaùp luaät",
        "Sôû Tö phaùp",
        "Sôû Noäi vuï",
        "Thaùng 12/2022",
    ],
    [
        "2",
        "Coâng boá thuû tuïc haønh chính",
        "Vaên phoøng UBND tænh",
        "Sôû Tö phaùp",
        "Quyù I/2023",
    ],
]
READ = [
    ("Rà soát văn bản quy phạm pháp luật", ["Sở Tư pháp"], ["Sở Nội vụ"], "Tháng 12/2022"),
    ("Công bố thủ tục hành chính", ["Văn phòng UBND tỉnh"], ["Sở Tư pháp"], "Quý I/2023"),
]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    home = tmp_path_factory.mktemp("legacy")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update({"DONDOC_DATA_DIR": str(home / "data"), "COLUMNS": "200", "NO_COLOR": "1"})
    cli = Cli(env=env, cwd=home)
    assert cli("init").exit_code == 0
    return cli


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def dry_run(cli: Cli, path: Path, *options: str) -> tuple[dict, str]:  # type: ignore[type-arg]
    result = cli("plan", "import", str(path), "--plan", "kh", "--dry-run", "--json", *options)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def read(report: dict) -> list[tuple[str, list[str], list[str], str]]:  # type: ignore[type-arg]
    return [
        (
            t["title"],
            [a["name"] for a in t["leads"]],
            [a["name"] for a in t["coordinators"]],
            t["deadline_text"],
        )
        for t in report["tasks"]
    ]


@pytest.mark.parametrize(
    ("name", "rows", "encoding"),
    [
        ("tcvn3.docx", [TCVN3_HEADER, *TCVN3_ROWS], "TCVN3 (ABC, phông .VnTime)"),
        ("tcvn3-unicode-header.docx", [HEADER, *TCVN3_ROWS], "TCVN3 (ABC, phông .VnTime)"),
        ("tcvn3.csv", [TCVN3_HEADER, *TCVN3_ROWS], "TCVN3 (ABC, phông .VnTime)"),
        ("vni.docx", [HEADER, *VNI_ROWS], "VNI Windows (phông VNI-Times)"),
        ("vni.csv", [HEADER, *VNI_ROWS], "VNI Windows (phông VNI-Times)"),
    ],
)
def test_a_plan_typed_in_tcvn3_or_vni_is_converted_whole_and_the_import_says_so(
    shared: Cli, tmp_path: Path, name: str, rows: list[list[str]], encoding: str
) -> None:
    path = tmp_path / name
    if name.endswith(".docx"):
        write_docx(path, [rows])  # type: ignore[list-item]
    else:
        write_csv(path, rows)
    report, stderr = dry_run(shared, path)
    assert read(report) == READ
    assert report["warnings"][0].startswith(
        f"tệp được gõ bằng bảng mã {encoding}, không phải Unicode: dondoc đã chuyển "
    )
    assert "Unikey" in report["warnings"][0]
    assert "cảnh báo: tệp được gõ bằng bảng mã" in stderr


def test_strict_refuses_a_converted_file_and_nothing_is_written(
    shared: Cli, tmp_path: Path
) -> None:
    path = write_docx(tmp_path / "tcvn3-strict.docx", [[HEADER, *TCVN3_ROWS]])
    result = shared("plan", "import", str(path), "--plan", "strict", "--strict")
    assert result.exit_code == 2
    assert "bảng mã TCVN3" in result.stderr
    assert "strict" not in shared("plans").stdout


def test_create_agencies_never_creates_an_agency_from_converted_text(
    shared: Cli, tmp_path: Path
) -> None:
    rows = [HEADER, ["1", "Rµ so¸t v¨n b¶n", "Së Míi", "Së T\xad ph¸p", "Quý I/2023"]]
    path = write_docx(tmp_path / "tcvn3-moi.docx", [rows])
    result = shared("plan", "import", str(path), "--plan", "moi", "--create-agencies")
    assert result.exit_code == 2
    assert "dòng 2, cột 'Cơ quan chủ trì': không có cơ quan 'Sở Mới' trong danh bạ." in (
        result.stderr
    )
    assert "Së" not in shared("agencies", "--json").stdout


def test_a_cell_that_mixes_unicode_with_legacy_text_is_refused_with_its_place(
    tmp_path: Path,
) -> None:
    rows = [
        HEADER,
        *TCVN3_ROWS,
        ["3", "Tổng kết thùc hiÖn kÕ ho¹ch", "Sở Nội vụ", "", "Quý I/2023"],
    ]
    path = write_docx(tmp_path / "tron.docx", [rows])
    with pytest.raises(UserError) as caught:
        read_plan_table(path)
    message = caught.value.message
    assert message.startswith(
        f"{path}: tệp được gõ bằng bảng mã TCVN3 (ABC, phông .VnTime), không phải Unicode, "
        "nhưng 1 ô không chuyển được chính xác sang Unicode; chưa nhập gì:\n"
        f"  • {path}, bảng 1, dòng 4, cột thứ 2: 'Tổng kết thùc hiÖn kÕ ho¹ch' trộn chữ "
        "Unicode với chữ TCVN3\n"
    )
    assert "Unikey (Công cụ… → Chuyển mã" in message


def test_a_byte_tcvn3_does_not_define_is_refused_instead_of_guessed(tmp_path: Path) -> None:
    # 0xBF "¿" is no letter in TCVN3 (ABC) fonts: the file cannot be converted exactly.
    rows = [HEADER, *TCVN3_ROWS, ["3", "B¸o c¸o t¿ng kÕt", "Së Néi vô", "", "Quý I/2023"]]
    path = write_csv(tmp_path / "la.csv", rows)
    with pytest.raises(UserError) as caught:
        read_plan_table(path)
    assert (
        f"  • {path}, dòng 4, cột thứ 2: 'B¸o c¸o t¿ng kÕt' có ký tự không thuộc bảng mã TCVN3"
        in caught.value.message
    )


# Every Vietnamese letter as VNI writes it (a base, then its mark), in the order of
# xvnkb's vni.h: plain, sắc, huyền, hỏi, ngã, nặng. The expected letter is composed here
# from its parts, not taken from the table under test.
_VNI_FORMS_TEXT = (
    "A AÙ AØ AÛ AÕ AÏ AÂ AÁ AÀ AÅ AÃ AÄ AÊ AÉ AÈ AÚ AÜ AË E EÙ EØ EÛ EÕ EÏ EÂ EÁ EÀ EÅ EÃ EÄ "
    "O OÙ OØ OÛ OÕ OÏ OÂ OÁ OÀ OÅ OÃ OÄ Ô ÔÙ ÔØ ÔÛ ÔÕ ÔÏ U UÙ UØ UÛ UÕ UÏ Ö ÖÙ ÖØ ÖÛ ÖÕ ÖÏ "
    "I Í Ì Æ Ó Ò Y YÙ YØ YÛ YÕ Î"
)
_VNI_FORMS = _VNI_FORMS_TEXT.split()
_MODIFIERS = ("A", "A\u0302", "A\u0306", "E", "E\u0302", "O", "O\u0302", "O\u031b", "U")
_PARTS = (*_MODIFIERS, "U\u031b", "I", "Y")
_TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")


def test_every_vietnamese_letter_in_vni_converts_exactly_and_back_to_one_form() -> None:
    expected = [unicodedata.normalize("NFC", p + t) for p in _PARTS for t in _TONES]
    forms = [*_VNI_FORMS, *(f.lower() for f in _VNI_FORMS), "Ñ", "ñ"]
    letters = [*expected, *(e.lower() for e in expected), "Đ", "đ"]
    assert [decode(f, VNI) for f in forms] == letters
    assert len(set(letters)) == len(letters) == 146  # 134 letters with tones, 12 plain


@pytest.mark.skipif(shutil.which("iconv") is None, reason="needs glibc's iconv")
def test_every_tcvn3_byte_converts_as_glibc_iconv_reads_tcvn5712() -> None:
    # "ý" (0xFD) is the one letter TCVN3 stores as Windows-1252 does: it maps to itself.
    defined = [b for b in range(0xA1, 0x100) if decode(chr(b), TCVN3) != chr(b) or b == 0xFD]
    assert len(defined) == 74
    raw = b"".join(bytes([0x20, b]) for b in defined)
    done = subprocess.run(
        ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=raw, capture_output=True, check=True
    )
    theirs = unicodedata.normalize("NFC", done.stdout.decode()).split()
    ours = [decode(chr(b), TCVN3) for b in defined]
    assert ours == theirs
    assert len(set(ours)) == 74  # one letter per byte: TCVN3 text converts back exactly


UNICODE_PLANS = {
    "nq131.csv": lambda p: shutil.copy(ROOT / "examples/nq131-phu-luc.csv", p),
    "nq131.docx": lambda p: shutil.copy(ROOT / "examples/nq131-phu-luc.docx", p),
    "lam-dong.docx": lambda p: write_docx(p, [samples.LAM_DONG], samples.LAM_DONG_ABOVE),
    "lam-dong.xlsx": lambda p: write_xlsx(p, samples.LAM_DONG, samples.LAM_DONG_ABOVE),
    "gia-lai.docx": lambda p: write_docx(p, [samples.GIA_LAI]),
    "hue.pdf": lambda p: write_pdf(p, samples.HUE),
    "quang-ninh.docx": lambda p: write_docx(p, [samples.QUANG_NINH], samples.QUANG_NINH_ABOVE),
    "an-giang.docx": lambda p: write_docx(p, [samples.an_giang_rows(12)]),
    "english.csv": lambda p: write_csv(
        p,
        [
            ["No", "Task", "Lead agency", "Coordinating agencies", "Deadline"],
            ["1", "Review with Müller & Söhne GmbH", "Sở Tư pháp", "", "Quý I/2026"],
            ["2", "Café façade naïve rôle résumé über", "Sở Nội vụ", "", "Quý II/2026"],
            ["3", "Zürich, São Paulo, Ångström, Øresund ©", "Sở Y tế", "", "Quý III/2026"],
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(UNICODE_PLANS))
def test_unicode_and_english_plans_are_never_taken_for_legacy_text(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    UNICODE_PLANS[name](path)
    table = read_plan_table(path)
    assert table.encoding_warnings == []
    assert not any(row.repaired for row in table.rows)
    if name == "english.csv":
        assert table.rows[2].cell("title") == "Zürich, São Paulo, Ångström, Øresund ©"
