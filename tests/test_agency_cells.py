"""Agency cells read by grammar first: every name in a cell is one recipient or one
report, groups stay groups, and whatever removes recipients is a warning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dondoc.agency_cells import AgencyCellReader
from dondoc.directory import (
    BUNDLED_DIRECTORY,
    build_name_index,
    group_members,
    load_directory,
    read_directory_file,
)
from dondoc.models import Agency, AgencyGroup
from dondoc.name_grammar import fragments, is_group_phrase, opens_name
from dondoc.names import NameIndex
from dondoc.plan_import import import_plan
from dondoc.store import make_engine, migrate, session_scope
from dondoc.tasks import get_task

DIRECTORY = read_directory_file(BUNDLED_DIRECTORY)
COMMUNES = [a.code for a in DIRECTORY.agencies if a.kind == "commune"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("cells") / "dondoc.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def index(store: Engine) -> NameIndex:
    with Session(store) as session:
        return build_name_index(session)


@pytest.fixture
def session(store: Engine) -> Iterator[Session]:
    """A session whose writes (new groups) are thrown away after each test."""
    with Session(store) as session:
        yield session
        session.rollback()


# --- Grammar: where one name ends and the next begins -----------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("Sở Y tế Sở Giáo dục và Đào tạo", ["Sở Y tế", "Sở Giáo dục", "Đào tạo"]),
        ("Văn phòng UBND tỉnh", ["Văn phòng UBND tỉnh"]),
        ("Văn phòng Ủy ban nhân dân tỉnh", ["Văn phòng Ủy ban nhân dân tỉnh"]),
        ("Sở Tài chính / Công an tỉnh", ["Sở Tài chính", "Công an tỉnh"]),
        # Cut here; the lexicon joins it again (see below).
        ("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", ["Ủy ban", "Mặt trận Tổ quốc Việt Nam tỉnh"]),
        ("Văn phòng của Sở Tư pháp", ["Văn phòng của Sở Tư pháp"]),
    ],
)
def test_an_item_is_cut_before_a_head_word_that_opens_a_second_name(
    item: str, expected: list[str]
) -> None:
    assert [f.text for f in fragments(item)] == expected


@pytest.mark.parametrize(
    ("text", "group"),
    [
        ("các hợp tác xã", True),
        ("sở, ban, ngành", True),
        ("UBND các xã, phường", True),
        ("UBND xã, phường, đặc khu", True),
        ("Ủy ban nhân dân cấp xã", True),
        ("UBND tỉnh", False),
        ("Sở Tư pháp", False),
        ("Ban Quản lý các khu công nghiệp", False),
        ("Hội Nông dân tỉnh", False),
    ],
)
def test_a_group_phrase_is_told_from_the_name_of_one_body(text: str, group: bool) -> None:
    assert is_group_phrase(text) is group


@pytest.mark.parametrize(
    ("cell", "targets", "unknown", "notes"),
    [
        (
            "Ban Quản lý các khu công nghiệp, Sở Xây dựng, các hợp tác xã",
            ["so-xay-dung"],
            ["Ban Quản lý các khu công nghiệp", "các hợp tác xã"],
            [],
        ),
        ("Ủy ban nhân dân cấp tỉnh, cấp xã", ["ubnd-cap-xa"], ["Ủy ban nhân dân cấp tỉnh"], []),
        (
            "các sở, ngành, UBND xã, phường, đặc khu và các đơn vị liên quan",
            ["so-ban-nganh", "ubnd-cap-xa"],
            [],
            ["các đơn vị liên quan"],
        ),
        (
            "Các sở, ngành, địa phương và các đơn vị có liên quan",
            ["so-ban-nganh-dia-phuong"],
            [],
            ["các đơn vị có liên quan"],
        ),
        # One plural phrase, one qualifier at its end: only the relevant ones are meant,
        # which the plan does not say (a note and a warning, never every sở).
        (
            "Các sở, ngành, địa phương và đơn vị có liên quan",
            [],
            [],
            ["Các sở, ngành, địa phương và đơn vị có liên quan"],
        ),
        ("Các sở, ngành, địa phương liên quan", [], [], ["Các sở, ngành, địa phương liên quan"]),
        (
            "UBND các xã, phường, đặc khu có liên quan",
            [],
            [],
            ["UBND các xã, phường, đặc khu có liên quan"],
        ),
        (
            "Sở Y tế, Sở Ngoại thương và Sở Du lịch",
            ["so-y-te"],
            ["Sở Ngoại thương", "Sở Du lịch"],
            [],
        ),
        (
            "Bộ Chỉ huy Quân sự tỉnh, Công an tỉnh và Liên đoàn Lao động tỉnh",
            ["cong-an"],
            ["Bộ Chỉ huy Quân sự tỉnh", "Liên đoàn Lao động tỉnh"],
            [],
        ),
        (
            "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Sở Nội vụ",
            ["so-noi-vu"],
            ["Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh"],
            [],
        ),
        (
            "Các sở, ban, ngành Văn phòng UBND tỉnh",
            ["so-ban-nganh", "vp-ubnd"],
            [],
            [],
        ),
        (
            "các doanh nghiệp và các cơ quan liên quan",
            [],
            ["các doanh nghiệp"],
            ["các cơ quan liên quan"],
        ),
        (
            "Đài Phát thanh và Truyền hình tỉnh, Sở Văn hóa, Thể thao và Du lịch",
            ["so-vhttdl"],
            ["Đài Phát thanh và Truyền hình tỉnh"],
            [],
        ),
    ],
)
def test_a_cell_mixing_known_unknown_groups_and_a_tail_yields_each_of_them(
    index: NameIndex, cell: str, targets: list[str], unknown: list[str], notes: list[str]
) -> None:
    reading = index.read_cell(cell)
    assert [t.code for t in reading.targets] == targets
    assert reading.unknown == unknown
    assert reading.notes == notes


# --- Today's administration and its history ---------------------------------------------


@pytest.mark.parametrize(
    ("cell", "code", "note"),
    [
        (
            "Sở Thông tin và Truyền thông",
            "so-khcn",
            "Sở Thông tin và Truyền thông → Sở Khoa học và Công nghệ từ 01/03/2025",
        ),
        ("Sở KH&ĐT", "so-tai-chinh", "Sở Kế hoạch và Đầu tư → Sở Tài chính từ 01/03/2025"),
        (
            "Sở Tài nguyên và Môi trường",
            "so-nnmt",
            "Sở Tài nguyên và Môi trường → Sở Nông nghiệp và Môi trường từ 01/03/2025",
        ),
        (
            "Sở Lao động - Thương binh và Xã hội",
            "so-noi-vu",
            "Sở Lao động - Thương binh và Xã hội → Sở Nội vụ từ 01/03/2025",
        ),
        ("Sở GTVT", "so-xay-dung", "Sở Giao thông vận tải → Sở Xây dựng từ 01/03/2025"),
        ("Ban Dân tộc", "so-dttg", "Ban Dân tộc tỉnh → Sở Dân tộc và Tôn giáo từ 01/03/2025"),
        (
            "UBND cấp huyện",
            "ubnd-cap-xa",
            "UBND các huyện, thị xã, thành phố → UBND các xã, phường, đặc khu từ 01/07/2025",
        ),
    ],
)
def test_a_former_name_resolves_to_todays_agency_with_a_note(
    index: NameIndex, cell: str, code: str, note: str
) -> None:
    reading = index.read_cell(cell)
    assert [t.code for t in reading.targets] == [code]
    assert reading.successions == [note]


def test_a_current_name_carries_no_succession_note(index: NameIndex) -> None:
    reading = index.read_cell("Sở Khoa học và Công nghệ; Sở Tài chính")
    assert [t.code for t in reading.targets] == ["so-khcn", "so-tai-chinh"]
    assert reading.successions == []


def test_suggestions_never_propose_a_district_or_a_former_name(index: NameIndex) -> None:
    for typo in ("UBND huyện Đông Sơn", "UBND huyện Tây Hòa", "Sở Thông tin Truyền thôngg"):
        for name in index.suggestions(typo):
            assert "huyện" not in name and "Thông tin" not in name, (typo, name)
    assert index.suggestions("UBND huyện Đông Sơn")[0] == "UBND xã Đông Sơn"


# --- What the import is told: codes, groups, warnings, creations ------------------------


def test_a_coordinator_cell_of_groups_and_a_tail_keeps_every_member(session: Session) -> None:
    reader = AgencyCellReader(session, create_agencies=False)
    cell = reader.read(
        "Các sở, ngành, UBND xã, phường, đặc khu và các đơn vị liên quan", role="coordinators"
    )
    members = group_members(session)
    assert cell.codes == members["so-ban-nganh"] + members["ubnd-cap-xa"]
    assert [(g.code, g.members) for g in cell.groups] == [("so-ban-nganh", 13), ("ubnd-cap-xa", 7)]
    assert cell.notes == ["các đơn vị liên quan"]
    assert (cell.problems, cell.warnings) == ([], [])


def test_a_cell_read_wholly_as_a_note_is_a_warning(session: Session) -> None:
    reader = AgencyCellReader(session, create_agencies=False)
    cell = reader.read("Các cơ quan, đơn vị liên quan", role="coordinators")
    assert cell.codes == []
    assert cell.warnings == [
        "cả ô 'Các cơ quan, đơn vị liên quan' được hiểu là ghi chú: không cơ quan nào được "
        "nhắc theo ô này."
    ]


def test_create_agencies_makes_one_agency_per_name_and_a_group_per_group_phrase(
    session: Session,
) -> None:
    reader = AgencyCellReader(session, create_agencies=True)
    cell = reader.read(
        "Ban Quản lý các khu công nghiệp, Sở Xây dựng, các hợp tác xã", role="coordinators"
    )
    assert [(a.code, a.name) for a in reader.created.values()] == [
        ("ban-quan-ly-cac-khu-cong-nghiep", "Ban Quản lý các khu công nghiệp")
    ]
    assert [(g.code, g.name) for g in reader.created_groups.values()] == [
        ("cac-hop-tac-xa", "các hợp tác xã")
    ]
    assert cell.codes == ["so-xay-dung", "ban-quan-ly-cac-khu-cong-nghiep"]
    assert [(g.code, g.members, g.created) for g in cell.groups] == [("cac-hop-tac-xa", 0, True)]
    assert cell.warnings == [
        "nhóm 'các hợp tác xã' (cac-hop-tac-xa) chưa có cơ quan thành viên nào: không ai được "
        "nhắc cho nhóm này cho đến khi thêm thành viên (sửa nhóm trong tệp danh bạ rồi chạy "
        "`dondoc agencies load`)."
    ]
    group = session.exec(select(AgencyGroup).where(AgencyGroup.code == "cac-hop-tac-xa")).one()
    assert group.name == "các hợp tác xã"
    # The same phrase in a later cell is the same group, not a second one.
    again = reader.read("Các hợp tác xã", role="coordinators")
    assert [g.code for g in again.groups] == ["cac-hop-tac-xa"]
    assert len(reader.created_groups) == 1


def test_a_new_code_never_takes_an_existing_agencys_or_groups_code(session: Session) -> None:
    session.add(AgencyGroup(code="so-a", name="Nhóm A", aliases=[]))
    session.add(Agency(code="so-a-2", name="Cơ quan A hai"))
    session.flush()
    reader = AgencyCellReader(session, create_agencies=True)
    reader.read("Sở A", role="lead")
    assert [a.code for a in reader.created.values()] == ["so-a-3"]


def test_a_group_phrase_without_create_agencies_is_a_problem_naming_the_group(
    session: Session,
) -> None:
    reader = AgencyCellReader(session, create_agencies=False)
    cell = reader.read("Sở Tư pháp, các hợp tác xã", role="coordinators")
    assert cell.codes == ["so-tu-phap"]
    assert cell.problems == [
        "không có nhóm 'các hợp tác xã' trong danh bạ. (Thêm nhóm và thành viên vào danh bạ "
        "bằng `dondoc agencies load`, hoặc nhập với --create-agencies để tạo nhóm chưa có "
        "thành viên.)"
    ]


def test_garbled_text_never_becomes_an_agency(session: Session) -> None:
    reader = AgencyCellReader(session, create_agencies=True)
    cell = reader.read("Sá» TÆ° phÃ¡p", role="lead")
    assert reader.created == {}
    assert cell.codes == []
    assert cell.problems[0].startswith("tên 'Sá» TÆ° phÃ¡p' có vẻ bị lỗi mã chữ")


def test_a_former_name_is_a_succession_in_the_cell_result(session: Session) -> None:
    reader = AgencyCellReader(session, create_agencies=False)
    cell = reader.read("- Công an tỉnh;\n- Sở Thông tin và Truyền thông.", role="lead")
    assert cell.codes == ["cong-an", "so-khcn"]
    assert cell.successions == [
        "Sở Thông tin và Truyền thông → Sở Khoa học và Công nghệ từ 01/03/2025"
    ]


# --- Property: recipients are exactly the names put in ----------------------------------

AGENCY_NAMES = [(a.code, a.name) for a in DIRECTORY.agencies]
GROUP_NAMES = [(g.code, g.name) for g in DIRECTORY.groups if g.code != "so-ban-nganh-dia-phuong"]
UNKNOWN_NAMES = [
    "Sở Ngoại thương",
    "Bộ Chỉ huy Quân sự tỉnh",
    "Liên đoàn Lao động tỉnh",
    "Đài Phát thanh và Truyền hình tỉnh",
    "Kho bạc Nhà nước tỉnh",
    "Bảo hiểm xã hội tỉnh",
    "Trường Chính trị tỉnh",
    "Hội Nông dân tỉnh",
]
UNKNOWN_GROUPS = ["các hợp tác xã", "các doanh nghiệp", "các trường học"]
SEPARATORS = [", ", "; ", ";\n", "\n- ", " và ", " / ", " "]
TAILS = [
    "",
    " và các cơ quan, đơn vị liên quan",
    ", các đơn vị có liên quan",
    " và các đơn vị liên quan",
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    parts=st.lists(
        st.one_of(
            st.sampled_from(AGENCY_NAMES).map(lambda p: ("agency", *p)),
            st.sampled_from(GROUP_NAMES).map(lambda p: ("group", *p)),
            st.sampled_from(UNKNOWN_NAMES).map(lambda n: ("new", "", n)),
            st.sampled_from(UNKNOWN_GROUPS).map(lambda n: ("new-group", "", n)),
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda p: p[2],
    ),
    separators=st.lists(st.sampled_from(SEPARATORS), min_size=5, max_size=5),
    tail=st.sampled_from(TAILS),
)
def test_a_cell_built_from_names_gives_exactly_those_recipients(
    store: Engine,
    parts: list[tuple[str, str, str]],
    separators: list[str],
    tail: str,
) -> None:
    # A blank joins two names only where a head word opens the second ("Sở Y tế Sở …").
    seps = [
        sep if sep != " " or (part[0] in ("agency", "new") and opens_name(part[2])) else ", "
        for sep, part in zip(separators, parts[1:], strict=False)
    ]
    cell = parts[0][2] + "".join(sep + part[2] for sep, part in zip(seps, parts[1:], strict=True))
    cell += tail
    with Session(store) as session:
        members = group_members(session)
        reader = AgencyCellReader(session, create_agencies=True)
        result = reader.read(cell, role="coordinators")
        session.rollback()
    expected: list[str] = []
    for kind, code, _ in parts:
        for each in members[code] if kind == "group" else [code] if kind == "agency" else []:
            if each not in expected:
                expected.append(each)
    new_names = {name for kind, _, name in parts if kind == "new"}
    new_groups = {name for kind, _, name in parts if kind == "new-group"}
    assert result.problems == []
    assert [c for c in result.codes if c in {a for a, _ in AGENCY_NAMES}] == expected
    assert {a.name for a in reader.created.values()} == new_names, cell
    assert {g.name for g in reader.created_groups.values()} == new_groups, cell
    assert result.notes == ([tail.lstrip(" ,").removeprefix("và ")] if tail else [])
    for agency in reader.created.values():
        assert not any(f.hard for f in fragments(agency.name)), agency.name


# --- Through the import ------------------------------------------------------------------


def test_an_import_with_create_agencies_never_makes_a_phantom_agency(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "kh-2025.csv"
    rows = [
        "STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Thời gian hoàn thành",
        "1,Phát triển kinh tế tập thể,Sở Tài chính,"
        '"Ban Quản lý các khu công nghiệp, Sở Xây dựng, các hợp tác xã",Tháng 12/2025',
        "2,Chuyển đổi số,Sở Khoa học và Công nghệ,"
        '"Các sở, ngành, địa phương và các đơn vị có liên quan",Quý IV/2025',
        '3,Cải cách hành chính,Sở Nội vụ,"Các sở, ngành, địa phương liên quan",Quý IV/2025',
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with session_scope(sqlite_engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    with session_scope(sqlite_engine) as session:
        report = import_plan(
            session,
            path=path,
            now=datetime(2025, 10, 1, tzinfo=UTC),
            plan_code="kh2025",
            create_agencies=True,
        )
    assert report.new_agencies == [
        "ban-quan-ly-cac-khu-cong-nghiep (Ban Quản lý các khu công nghiệp)"
    ]
    empty_group = "nhóm 'các hợp tác xã' (cac-hop-tac-xa) chưa có cơ quan"
    assert any(empty_group in n for n in report.warnings)
    with Session(sqlite_engine) as session:
        group = session.exec(select(AgencyGroup).where(AgencyGroup.code == "cac-hop-tac-xa")).one()
        assert group_members(session).get("cac-hop-tac-xa") is None
        first = get_task(session, "kh2025/1")
        second = get_task(session, "kh2025/2")
        third = get_task(session, "kh2025/3")
        names = set(session.exec(select(Agency.name)).all())
    assert group.name == "các hợp tác xã"
    assert "các hợp tác xã" not in names
    assert [a["agency"] for a in first["assignments"] if a["role"] == "coordinator"] == [
        "so-xay-dung",
        "ban-quan-ly-cac-khu-cong-nghiep",
    ]
    # The coordinators of the second task are 13 departments and 7 communes, not a note.
    assert sum(a["role"] == "coordinator" for a in second["assignments"]) == 19
    assert second["notes"] == "Phối hợp: các đơn vị có liên quan"
    # The third names only "the relevant" ones: nobody is chased on a guess, and the
    # office is told.
    assert [a["role"] for a in third["assignments"]] == ["lead"]
    assert third["notes"] == "Phối hợp: Các sở, ngành, địa phương liên quan"
    assert any("Các sở, ngành, địa phương liên quan" in w for w in report.warnings)
