"""Reading agency cells against the bundled directory, the way plans write them."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dondoc.directory import (
    BUNDLED_DIRECTORY,
    build_name_index,
    load_directory,
    read_directory_file,
)
from dondoc.names import NameIndex, Target
from dondoc.store import make_engine, migrate, session_scope
from rules.text import fold


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NameIndex]:
    path: Path = tmp_path_factory.mktemp("names") / "dondoc.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
        yield build_name_index(session)
    engine.dispose()


def codes(index: NameIndex, cell: str) -> list[str]:
    reading = index.read_cell(cell)
    assert reading.unknown == [], reading.unknown
    return [target.code for target in reading.targets]


@pytest.mark.parametrize(
    "cell",
    [
        "Văn phòng UBND tỉnh",
        "VP UBND tỉnh",
        "Văn phòng Ủy ban nhân dân tỉnh",
        "Văn phòng Uỷ ban nhân dân tỉnh",
        "VĂN PHÒNG UBND TỈNH",
        "van phong ubnd tinh",
        "Văn  phòng\u00a0UBND   tỉnh.",
        "Văn phòng\u200b UBND tỉnh",
        unicodedata.normalize("NFD", "Văn phòng Ủy ban nhân dân tỉnh"),
        "- Văn phòng UBND tỉnh;",
    ],
)
def test_the_office_is_found_however_its_name_is_typed(index: NameIndex, cell: str) -> None:
    assert codes(index, cell) == ["vp-ubnd"]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Sở KH&ĐT", "so-tai-chinh"),
        ("Sở KH và ĐT", "so-tai-chinh"),
        ("Sở Kế hoạch - Đầu tư", "so-tai-chinh"),
        ("Sở Kế hoạch", None),
        ("Sở KHĐT", "so-tai-chinh"),
        ("Sở Thông tin & Truyền thông", "so-khcn"),
        ("Sở TT&TT", "so-khcn"),
        ("Sở TNMT", "so-nnmt"),
        ("Sở LĐTB&XH", "so-noi-vu"),
        ("Sở LĐ-TB và XH", "so-noi-vu"),
        ("Sở Văn hoá, Thể thao và Du lịch", "so-vhttdl"),
        ("Sở Văn hóa - Thể thao và Du lịch", "so-vhttdl"),
        ("BQL KKT tỉnh", "ban-qlkkt"),
        ("TT PVHCC tỉnh", "tt-hcc"),
        ("xã Đông Sơn", "x-dong-son"),
        ("Ủy ban nhân dân xã Tây Hoà", "x-tay-hoa"),
    ],
)
def test_abbreviated_and_variant_spellings_of_an_agency_are_recognised(
    index: NameIndex, cell: str, expected: str | None
) -> None:
    reading = index.read_cell(cell)
    if expected is None:
        assert reading.targets == []
        assert reading.unknown == [cell]
    else:
        assert [t.code for t in reading.targets] == [expected]


@pytest.mark.parametrize(
    ("cell", "group"),
    [
        ("Các sở, ban, ngành", "so-ban-nganh"),
        ("Các sở, ban ngành", "so-ban-nganh"),
        ("Các Sở ban ngành tỉnh", "so-ban-nganh"),
        ("UBND các xã, phường, đặc khu", "ubnd-cap-xa"),
        ("UBND xã, phường, đặc khu", "ubnd-cap-xa"),
        ("UBND cấp xã", "ubnd-cap-xa"),
        ("Ủy ban nhân dân cấp xã", "ubnd-cap-xa"),
        ("Uỷ ban nhân dân các xã, phường, đặc khu", "ubnd-cap-xa"),
        ("UBND các huyện, thị xã, thành phố", "ubnd-cap-xa"),
        ("UBND cấp huyện", "ubnd-cap-xa"),
        ("sở, ban, ngành", "so-ban-nganh"),
        ("Các sở, ban, ngành, địa phương", "so-ban-nganh-dia-phuong"),
    ],
)
def test_a_group_name_is_read_as_the_group(index: NameIndex, cell: str, group: str) -> None:
    reading = index.read_cell(cell)
    assert [(t.kind, t.code) for t in reading.targets] == [("group", group)]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (
            "- Các sở, ban, ngành;\n- UBND các huyện, thị xã, thành phố.",
            ["so-ban-nganh", "ubnd-cap-xa"],
        ),
        ("Sở Tư pháp; Sở Tài chính", ["so-tu-phap", "so-tai-chinh"]),
        ("Sở Tư pháp, Sở Tài chính", ["so-tu-phap", "so-tai-chinh"]),
        ("Sở Nội vụ và Sở Tài chính", ["so-noi-vu", "so-tai-chinh"]),
        ("1. Sở Nội vụ\n2. Sở Tài chính", ["so-noi-vu", "so-tai-chinh"]),
        ("a) Sở Nội vụ; b) Sở Tài chính", ["so-noi-vu", "so-tai-chinh"]),
        (
            "Các Sở: Nội vụ, Khoa học và Công nghệ, Tài chính",
            ["so-noi-vu", "so-khcn", "so-tai-chinh"],
        ),
        ("Các sở Tư pháp, Tài chính", ["so-tu-phap", "so-tai-chinh"]),
        ("Các sở: Tư pháp;\nTài chính", ["so-tu-phap", "so-tai-chinh"]),
        ("UBND các xã: Đông Sơn, Tây Hòa", ["x-dong-son", "x-tay-hoa"]),
        (
            "UBND các xã Đông Sơn, Tây Hòa và phường Phú Thịnh",
            ["x-dong-son", "x-tay-hoa", "p-phu-thinh"],
        ),
        (
            "- Các Sở: Kế hoạch và Đầu tư, Thông tin và Truyền thông;\n- Cục Thống kê tỉnh.",
            ["so-tai-chinh", "so-khcn", "thong-ke"],
        ),
        (
            "Các sở, ban, ngành, UBND các xã, phường, đặc khu",
            ["so-ban-nganh", "ubnd-cap-xa"],
        ),
        ("Sở Kế hoạch và Đầu tư", ["so-tai-chinh"]),
        ("Sở Y tế Sở Giáo dục và Đào tạo", ["so-y-te", "so-gddt"]),
        ("Sở Tài chính / Sở Xây dựng", ["so-tai-chinh", "so-xay-dung"]),
        ("Sở Văn hóa, Thể thao và Du lịch", ["so-vhttdl"]),
        ("Sở Tài chính; Sở Tài chính", ["so-tai-chinh"]),
    ],
)
def test_a_cell_naming_several_agencies_is_split_into_each_of_them(
    index: NameIndex, cell: str, expected: list[str]
) -> None:
    assert codes(index, cell) == expected


@pytest.mark.parametrize(
    ("cell", "expected_codes", "expected_notes"),
    [
        (
            "Văn phòng UBND tỉnh và các cơ quan, đơn vị liên quan",
            ["vp-ubnd"],
            ["các cơ quan, đơn vị liên quan"],
        ),
        ("Các cơ quan, đơn vị liên quan", [], ["Các cơ quan, đơn vị liên quan"]),
        ("Các cơ quan, tổ chức, cá nhân có liên quan", [], None),
        ("Các sở, ngành liên quan", [], ["Các sở, ngành liên quan"]),
        (
            "Sở Tài chính và các sở, ngành có liên quan",
            ["so-tai-chinh"],
            ["các sở, ngành có liên quan"],
        ),
        (
            "Các sở, ban, ngành; UBND các huyện, thị xã, thành phố và các cơ quan, đơn vị "
            "liên quan",
            ["so-ban-nganh", "ubnd-cap-xa"],
            ["các cơ quan, đơn vị liên quan"],
        ),
        ("Văn phòng UBND tỉnh (Phòng Tổng hợp)", ["vp-ubnd"], ["Phòng Tổng hợp"]),
    ],
)
def test_unspecific_phrases_are_kept_as_notes_and_never_become_recipients(
    index: NameIndex, cell: str, expected_codes: list[str], expected_notes: list[str] | None
) -> None:
    reading = index.read_cell(cell)
    assert [t.code for t in reading.targets] == expected_codes
    assert reading.unknown == []
    assert reading.notes == (expected_notes if expected_notes is not None else [cell])


def test_a_proper_name_between_generic_words_is_not_taken_for_an_unspecific_phrase(
    index: NameIndex,
) -> None:
    reading = index.read_cell("Cơ quan Công an tỉnh và các đơn vị liên quan")
    assert reading.notes == ["các đơn vị liên quan"]
    assert reading.unknown == ["Cơ quan Công an tỉnh"]


def test_an_unknown_name_is_reported_with_the_closest_directory_names(index: NameIndex) -> None:
    reading = index.read_cell("Sở Tài chánh; Sở Nội vụ")
    assert [t.code for t in reading.targets] == ["so-noi-vu"]
    assert reading.unknown == ["Sở Tài chánh"]
    assert index.suggestions("Sở Tài chánh")[0] == "Sở Tài chính"
    assert index.suggestions("UBND tinh")[0] == "Văn phòng UBND tỉnh"


def test_a_name_unlike_any_in_the_directory_gets_no_suggestion(index: NameIndex) -> None:
    assert index.suggestions("Tổng công ty Điện lực miền Bắc") == []


def test_another_place_of_the_same_kind_is_never_suggested(index: NameIndex) -> None:
    # Close as text, but another commune's committee: the office must not be led there.
    assert index.suggestions("UBND đặc khu Vân Đồn") == []
    assert index.suggestions("UBND xã Đông Hải") == []
    # A misspelt place is still the place meant.
    assert index.suggestions("UBND xã Đông Sơnn")[0] == "UBND xã Đông Sơn"
    assert index.suggestions("UBND xa Tay Hoa")[0] == "UBND xã Tây Hòa"


@pytest.mark.parametrize("cell", ["", "   ", "\n", None, "-", "- ;\n- ."])
def test_an_empty_cell_names_nobody(index: NameIndex, cell: str | None) -> None:
    reading = index.read_cell(cell)
    assert (reading.targets, reading.notes, reading.unknown) == ([], [], [])


def test_a_shortened_form_two_agencies_share_matches_neither() -> None:
    index = NameIndex()
    finance = Target("agency", "so-tai-chinh", "Sở Tài chính")
    index.add(finance, [finance.name])
    assert index.lookup("Sở TC") == finance
    index.add(Target("agency", "so-tong-cuc", "Sở Tổng cục"), ["Sở Tổng cục"])
    assert index.lookup("Sở TC") is None
    assert index.lookup("Sở Tài chính") == finance


# --- Properties over the whole bundled directory ----------------------------------------

DIRECTORY = read_directory_file(BUNDLED_DIRECTORY)
SPELLINGS = [(a.code, name) for a in DIRECTORY.agencies for name in [a.name, *a.aliases]]
AGENCY_NAMES = [a.name for a in DIRECTORY.agencies]


def retyped(name: str, data: st.DataObject) -> str:
    """The same name as someone else types it: case, accents, Unicode form, spacing."""
    text = data.draw(st.sampled_from([name, name.upper(), name.lower(), name.title()]))
    if data.draw(st.booleans()):
        text = fold(text)  # typed without diacritics
    if data.draw(st.booleans()):
        text = unicodedata.normalize("NFD", text)  # copied out of Word or a PDF
    space = data.draw(st.sampled_from([" ", "  ", "\u00a0"]))
    return data.draw(st.sampled_from(["", " ", "- "])) + text.replace(" ", space)


@settings(max_examples=200, deadline=None)
@given(spelling=st.sampled_from(SPELLINGS), data=st.data())
def test_every_directory_spelling_resolves_however_it_is_typed(
    index: NameIndex, spelling: tuple[str, str], data: st.DataObject
) -> None:
    code, name = spelling
    assert codes(index, retyped(name, data)) == [code]


@settings(max_examples=200, deadline=None)
@given(
    names=st.lists(st.sampled_from(AGENCY_NAMES), min_size=2, max_size=5, unique=True),
    separator=st.sampled_from(["; ", ";\n", "\n- ", ";\n- ", "\n"]),
    unspecific=st.booleans(),
)
def test_a_list_of_agencies_gives_exactly_those_agencies_in_order(
    index: NameIndex, names: list[str], separator: str, unspecific: bool
) -> None:
    cell = separator.join(names) + (" và các cơ quan, đơn vị liên quan" if unspecific else ".")
    reading = index.read_cell(cell)
    assert [t.name for t in reading.targets] == names
    assert reading.unknown == []
    assert reading.notes == (["các cơ quan, đơn vị liên quan"] if unspecific else [])
