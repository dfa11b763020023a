"""The agency directory: the bundled example, loading YAML into the store, and its errors."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from conftest import EXAMPLE_PLAN, EXAMPLES, Cli
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from config.errors import ConfigError
from dondoc.directory import (
    BUNDLED_DIRECTORY,
    build_name_index,
    group_members,
    load_directory,
    read_directory_file,
)
from dondoc.models import Agency, AgencyGroup, AgencyGroupMember, Contact
from dondoc.store import session_scope

DEPARTMENTS = 13
COMMUNES = 7


def load_file(engine: Engine, path: Path) -> None:
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(path))


def row_counts(engine: Engine) -> tuple[int, ...]:
    with Session(engine) as session:
        return tuple(
            session.exec(select(func.count()).select_from(table)).one()
            for table in (Agency, AgencyGroup, AgencyGroupMember, Contact)
        )


def write(tmp_path: Path, text: str, name: str = "danh-ba.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_directory_loads_every_agency_group_and_contact(engine: Engine) -> None:
    load_file(engine, BUNDLED_DIRECTORY)
    with Session(engine) as session:
        agencies = {a.code: a for a in session.exec(select(Agency))}
        members = group_members(session)
        office = agencies["vp-ubnd"]
        office_mail = session.exec(select(Contact).where(Contact.agency_id == office.id)).all()
    # the office, the departments, the service centre, police, statistics, the communes
    assert len(agencies) == 1 + DEPARTMENTS + 3 + COMMUNES
    assert not [a for a in agencies.values() if a.kind == "district"]
    assert (office.name, office.kind) == ("Văn phòng UBND tỉnh", "office")
    assert len(members["so-ban-nganh"]) == DEPARTMENTS
    assert len(members["ubnd-cap-xa"]) == COMMUNES
    assert set(members["so-ban-nganh-dia-phuong"]) == set(
        members["so-ban-nganh"] + members["ubnd-cap-xa"]
    )
    assert "vp-ubnd" not in members["so-ban-nganh"]
    assert sorted((c.address, c.is_head) for c in office_mail) == [
        ("lanhdao.vp-ubnd@tinhmau.example", True),
        ("vp-ubnd@tinhmau.example", False),
    ]
    assert row_counts(engine)[3] == 2 * len(agencies)


def test_examples_holds_the_bundled_directory() -> None:
    assert (EXAMPLES / "agencies.yaml").read_bytes() == BUNDLED_DIRECTORY.read_bytes()


def test_the_bundled_directory_names_every_agency_in_the_example_plan(
    sqlite_engine: Engine,
) -> None:
    load_file(sqlite_engine, BUNDLED_DIRECTORY)
    with Session(sqlite_engine) as session:
        index = build_name_index(session)
    with EXAMPLE_PLAN.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    cells = [row[column] for row in rows for column in ("Cơ quan chủ trì", "Cơ quan phối hợp")]
    unknown = [name for cell in cells for name in index.read_cell(cell).unknown]
    assert unknown == []
    assert sum(bool(index.read_cell(cell).targets) for cell in cells) > 50


def test_loading_the_same_file_again_updates_in_place(engine: Engine) -> None:
    load_file(engine, BUNDLED_DIRECTORY)
    before = row_counts(engine)
    with session_scope(engine) as session:
        summary = load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    assert summary.added == []
    assert summary.updated == []  # nothing changed, and `init` says so
    assert row_counts(engine) == before


def test_a_loaded_file_adds_agencies_and_updates_names_contacts_and_group_members(
    engine: Engine, tmp_path: Path
) -> None:
    load_file(engine, BUNDLED_DIRECTORY)
    with session_scope(engine) as session:
        finance = session.exec(select(Agency).where(Agency.code == "so-tai-chinh")).one()
        # A chat linked from Telegram: the file knows nothing about it and must keep it.
        session.add(Contact(agency_id=finance.id or 0, channel="telegram", address="-100123"))
    update = write(
        tmp_path,
        """
agencies:
- code: so-tai-chinh
  name: Sở Tài chính tỉnh
  aliases: [STC]
  contacts:
  - email: taichinh@tinhmau.example
- code: bo-cong-an
  name: Bộ Công an
  kind: other
groups:
- code: ubnd-cap-xa
  name: UBND các xã, phường, đặc khu
  members: [p-an-binh, x-dong-son]
""",
    )
    with session_scope(engine) as session:
        summary = load_directory(session, read_directory_file(update))
    assert (summary.added, summary.updated, summary.groups) == (
        ["bo-cong-an"],
        ["so-tai-chinh"],
        ["ubnd-cap-xa"],
    )
    with Session(engine) as session:
        finance = session.exec(select(Agency).where(Agency.code == "so-tai-chinh")).one()
        contacts = session.exec(select(Contact).where(Contact.agency_id == finance.id)).all()
        members = group_members(session)
        index = build_name_index(session)
    assert finance.name == "Sở Tài chính tỉnh"
    assert sorted((c.channel, c.address) for c in contacts) == [
        ("email", "taichinh@tinhmau.example"),
        ("telegram", "-100123"),
    ]
    assert members["ubnd-cap-xa"] == ["p-an-binh", "x-dong-son"]
    assert len(members["so-ban-nganh"]) == DEPARTMENTS
    assert [t.code for t in index.read_cell("Bộ Công an; STC").targets] == [
        "bo-cong-an",
        "so-tai-chinh",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("agencies:\n- code: a\n  name: [Sở A\n", ":4:1: YAML không hợp lệ"),
        (
            "agencies:\n- code: so-a\n  nam: Sở A\n",
            ":2:3: agencies.0.name: thiếu trường bắt buộc",
        ),
        (
            "agencies:\n- code: so-a\n  name: Sở A\n  contacts:\n  - email: vp-ubnd\n",
            ":5:5: agencies.0.contacts.0.email:",
        ),
        ("agencies:\n- code: Sở A\n  name: Sở A\n", ":2:3: agencies.0.code:"),
        ("agencies:\n- code: so-a\n  name: Sở A\n  kind: bộ\n", ":4:3: agencies.0.kind:"),
        (
            "agencies:\n- code: so-a\n  name: Sở A\n- code: so-a\n  name: Sở B\n",
            ":4:3: mã 'so-a' bị trùng với ",
        ),
        ("groups:\n- code: g\n  name: Nhóm\n  members: []\n", ":4:3: groups.0.members:"),
    ],
)
def test_a_mistake_in_a_directory_file_is_named_by_file_line_and_column(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        read_directory_file(path)
    assert caught.value.problems[0].startswith(f"{path}{expected}")


def test_a_group_member_missing_from_the_directory_is_named_with_a_suggestion(
    engine: Engine, tmp_path: Path
) -> None:
    load_file(engine, BUNDLED_DIRECTORY)
    before = row_counts(engine)
    path = write(
        tmp_path,
        "agencies:\n- code: so-moi\n  name: Sở Mới\n"
        "groups:\n- code: nhom\n  name: Nhóm mới\n  members:\n  - so-moi\n  - so-noi-vuu\n",
    )
    with pytest.raises(ConfigError) as caught, session_scope(engine) as session:
        load_directory(session, read_directory_file(path))
    assert caught.value.problems == [
        f"{path}:9:5: nhóm 'nhom': không có cơ quan mã 'so-noi-vuu' trong danh bạ. "
        "Có phải 'so-noi-vu'?"
    ]
    assert row_counts(engine) == before


def test_a_name_that_would_mean_two_agencies_is_refused_and_nothing_is_written(
    engine: Engine, tmp_path: Path
) -> None:
    load_file(engine, BUNDLED_DIRECTORY)
    before = row_counts(engine)
    path = write(
        tmp_path,
        "agencies:\n- code: so-moi\n  name: Sở Mới\n"
        "- code: vp-tinh-uy\n  name: Văn phòng Tỉnh ủy\n  aliases: [VP UBND tỉnh]\n",
    )
    with pytest.raises(ConfigError) as caught, session_scope(engine) as session:
        load_directory(session, read_directory_file(path))
    assert caught.value.problems == [
        f"{path}:4:3: tên 'VP UBND tỉnh' của 'vp-tinh-uy' trùng với tên 'Văn phòng UBND tỉnh' "
        "của 'vp-ubnd': một tên chỉ được chỉ một cơ quan hoặc nhóm"
    ]
    assert row_counts(engine) == before


@pytest.fixture(scope="module")
def shared_cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """One initialized store for the CLI tests that only add to it (each CLI run costs ~1 s)."""
    home = tmp_path_factory.mktemp("directory-cli")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update({"DONDOC_DATA_DIR": str(home / "data"), "COLUMNS": "200", "NO_COLOR": "1"})
    cli = Cli(env=env, cwd=home)
    result = cli("init")
    assert result.exit_code == 0, result.stderr
    return cli


def test_agencies_lists_the_directory_for_people_and_as_json(shared_cli: Cli) -> None:
    table = shared_cli("agencies")
    assert table.exit_code == 0, table.stderr
    assert "Văn phòng UBND tỉnh" in table.stdout
    assert "lanhdao.vp-ubnd@tinhmau.example (lãnh đạo)" in table.stdout
    assert "so-ban-nganh = Các sở, ban, ngành" in table.stdout
    listed = json.loads(shared_cli("agencies", "--json").stdout)
    office = next(a for a in listed if a["code"] == "vp-ubnd")
    assert office["kind"] == "office"
    assert {"channel": "email", "address": "vp-ubnd@tinhmau.example", "head": False} in office[
        "contacts"
    ]
    assert {"so-noi-vu", "x-bac-ha", "thong-ke"} <= {a["code"] for a in listed}


def test_agencies_load_adds_from_a_file_and_says_how_many(shared_cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "agencies:\n- code: bo-cong-an\n  name: Bộ Công an\n  kind: other\n")
    result = shared_cli("agencies", "load", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"{path}: 1 cơ quan mới, 0 cập nhật, 0 nhóm."
    listed = json.loads(shared_cli("agencies", "--json").stdout)
    assert "bo-cong-an" in [a["code"] for a in listed]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("agencies:\n- code: bo-ca\n  name: Bộ Công an\n  kind: bộ\n", ":4:3: agencies.0.kind:"),
    ],
)
def test_agencies_load_with_a_yaml_mistake_prints_file_line_column_and_exits_2(
    shared_cli: Cli, tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    result = shared_cli("agencies", "load", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"Lỗi: {path}{expected}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_agencies_load_of_a_missing_file_is_one_line_and_exit_2(
    shared_cli: Cli, tmp_path: Path
) -> None:
    result = shared_cli("agencies", "load", str(tmp_path / "khong-co.yaml"))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"Lỗi: {tmp_path / 'khong-co.yaml'}: không tìm thấy tệp (file not found)"
    )


def test_init_with_an_agencies_file_loads_it_and_a_later_init_keeps_it(
    cli: Cli, tmp_path: Path
) -> None:
    path = write(tmp_path, "agencies:\n- code: vp\n  name: Văn phòng UBND tỉnh\n  kind: office\n")
    result = cli("init", "--agencies", str(path))
    assert result.exit_code == 0, result.stderr
    assert "1 cơ quan mới" in result.stdout
    upgrade = cli("init")
    assert upgrade.exit_code == 0, upgrade.stderr
    assert upgrade.stdout.startswith("Đã nâng cấp cơ sở dữ liệu ")
    assert upgrade.stdout.strip().endswith("danh bạ giữ nguyên (1 cơ quan).")
    assert [a["code"] for a in json.loads(cli("agencies", "--json").stdout)] == ["vp"]
