"""Recording a reorganisation: `dondoc agencies merge|rename`, undo before the day it
takes effect, and reports that name each item's agency as it was on the report's day."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import EXAMPLE_PLAN, Cli
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dondoc.agency_changes import merge_agency, rename_agency, undo_change
from dondoc.directory import (
    BUNDLED_DIRECTORY,
    build_name_index,
    group_members,
    load_directory,
    read_directory_file,
)
from dondoc.errors import UserError
from dondoc.models import Agency, AuditEntry, Contact
from dondoc.plan_import import import_plan
from dondoc.reports.data import gather
from dondoc.reports.late import build_late_report
from dondoc.reports.periods import Period
from dondoc.reports.tables import late_markdown
from dondoc.store import session_scope
from dondoc.tasks import get_task

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
ON = date(2026, 7, 1)


@pytest.fixture
def store(sqlite_engine: Engine) -> Engine:
    with session_scope(sqlite_engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    with session_scope(sqlite_engine) as session:
        import_plan(session, path=EXAMPLE_PLAN, now=NOW, plan_code="nq131")
    return sqlite_engine


def roles(engine: Engine, number: str) -> dict[str, str]:
    with Session(engine) as session:
        view = get_task(session, f"nq131/{number}")
    return {a["agency"]: a["role"] for a in view["assignments"]}


def agency_id(session: Session, code: str) -> int:
    return session.exec(select(Agency).where(Agency.code == code)).one().id or 0


def test_a_merger_moves_open_assignments_chats_and_memberships_and_is_audited(
    store: Engine,
) -> None:
    with session_scope(store) as session:
        session.add(
            Contact(agency_id=agency_id(session, "so-tu-phap"), channel="telegram", address="-1")
        )
    before = roles(store, "7")
    assert before == {"so-tu-phap": "lead", "vp-ubnd": "coordinator"}
    with session_scope(store) as session:
        report = merge_agency(
            session, old="so-tu-phap", into="so-noi-vu", on=ON, now=NOW, actor="test"
        )
    # Task 1 gave both agencies a lead's part: the old one is closed, not duplicated.
    assert (report.moved, report.merged_into_existing, report.chats) == (1, 22, 1)
    assert report.note == "Sở Tư pháp → Sở Nội vụ từ 01/07/2026"
    assert roles(store, "7") == {"so-noi-vu": "lead", "vp-ubnd": "coordinator"}
    with Session(store) as session:
        chat = session.exec(select(Contact).where(Contact.channel == "telegram")).one()
        assert chat.agency_id == agency_id(session, "so-noi-vu")
        members = group_members(session)
        index = build_name_index(session)
        audit = session.exec(
            select(AuditEntry).where(col(AuditEntry.action).startswith("agency."))
        ).all()
    assert "so-tu-phap" not in members["so-ban-nganh"]
    assert members["so-ban-nganh"].count("so-noi-vu") == 1
    reading = index.read_cell("Sở Tư pháp")
    assert [t.code for t in reading.targets] == ["so-noi-vu"]
    assert reading.successions == ["Sở Tư pháp → Sở Nội vụ từ 01/07/2026"]
    assert [(a.action, a.detail["old"], a.detail["new"]) for a in audit] == [
        ("agency.merge", "Sở Tư pháp", "Sở Nội vụ")
    ]


def test_a_merger_is_undone_before_it_takes_effect_and_not_after(store: Engine) -> None:
    with session_scope(store) as session:
        merge_agency(session, old="so-tu-phap", into="so-noi-vu", on=ON, now=NOW, actor="test")
    with session_scope(store) as session:
        undo_change(
            session, kind="merge", code="so-tu-phap", today=date(2026, 6, 30), now=NOW, actor="t"
        )
    assert roles(store, "7") == {"so-tu-phap": "lead", "vp-ubnd": "coordinator"}
    assert roles(store, "1")["so-tu-phap"] == "lead"
    with Session(store) as session:
        assert len(group_members(session)["so-ban-nganh"]) == 13
        assert [t.code for t in build_name_index(session).read_cell("Sở Tư pháp").targets] == [
            "so-tu-phap"
        ]
    with session_scope(store) as session:
        merge_agency(session, old="so-tu-phap", into="so-noi-vu", on=ON, now=NOW, actor="test")
    with pytest.raises(UserError) as caught, session_scope(store) as session:
        undo_change(session, kind="merge", code="so-tu-phap", today=ON, now=NOW, actor="test")
    assert caught.value.message == (
        "Việc sáp nhập 'so-tu-phap' đã có hiệu lực từ 01/07/2026, không hoàn tác được nữa; "
        "nếu cần, hãy ghi một thay đổi mới."
    )


def test_reports_name_the_agency_of_the_reports_day_with_the_former_name_after(
    store: Engine,
) -> None:
    def names(as_of: date) -> set[str]:
        with Session(store) as session:
            data = gather(
                session,
                period_start=date(2022, 11, 1),
                period_end=as_of,
                now=datetime(2027, 1, 1, tzinfo=UTC),
                tz=TZ,
            )
        return {i.agency_label for i in data.items if i.task_number == "13" and i.role == "lead"}

    # The plan of 2022 named Sở Thông tin và Truyền thông, merged on 01/03/2025.
    assert names(date(2023, 3, 31)) == {"Sở Thông tin và Truyền thông"}
    assert names(date(2025, 3, 31)) == {"Sở Khoa học và Công nghệ (Sở Thông tin và Truyền thông)"}
    with session_scope(store) as session:
        rename_agency(session, code="so-y-te", name="Sở Y tế tỉnh", on=ON, now=NOW, actor="test")
    with Session(store) as session:
        data = gather(
            session,
            period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30),
            now=datetime(2027, 1, 1, tzinfo=UTC),
            tz=TZ,
        )
    renamed = {i.agency_label for i in data.items if i.agency_code == "so-y-te"}
    assert renamed == {"Sở Y tế tỉnh (Sở Y tế)"}


def test_the_cli_merges_renames_and_undoes_with_clear_messages(cli: Cli, tmp_path: Path) -> None:
    assert cli("init").exit_code == 0
    assert cli("plan", "import", str(EXAMPLE_PLAN), "--plan", "nq131").exit_code == 0
    merged = cli(
        "--now", "2026-06-01", "agencies", "merge", "so-tu-phap", "--into", "so-noi-vu",
        "--on", "01/07/2026",
    )  # fmt: skip
    assert merged.exit_code == 0, merged.stderr
    assert merged.stdout.splitlines() == [
        "Đã ghi nhận: Sở Tư pháp → Sở Nội vụ từ 01/07/2026.",
        "  1 phân công chưa xong chuyển sang Sở Nội vụ; 22 trùng với phần việc Sở Nội vụ đã "
        "có; 0 cuộc trò chuyện Telegram chuyển theo.",
        "  Hoàn tác được trước ngày 01/07/2026 bằng --undo.",
    ]
    tasks = json.loads(cli("tasks", "--plan", "nq131", "--agency", "so-noi-vu", "--json").stdout)
    assert "7" in [t["number"] for t in tasks]
    undone = cli("--now", "2026-06-02", "agencies", "merge", "so-tu-phap", "--undo")
    assert undone.exit_code == 0, undone.stderr
    assert undone.stdout.startswith("Đã hoàn tác: Sở Tư pháp → Sở Nội vụ từ 01/07/2026;")
    again = cli("--now", "2026-06-02", "agencies", "merge", "so-tu-phap", "--undo")
    assert (again.exit_code, again.stderr.strip()) == (
        2,
        "Lỗi: Không có việc sáp nhập nào của 'so-tu-phap' để hoàn tác.",
    )
    bad = cli("agencies", "merge", "so-tu-phap", "--into", "so-khong-co", "--on", "2026-07-01")
    assert (bad.exit_code, bad.stderr.strip()) == (2, "Lỗi: Không tìm thấy cơ quan 'so-khong-co'.")
    bad_day = cli("agencies", "rename", "so-y-te", "--name", "Sở Y tế tỉnh", "--on", "1/13/2026")
    assert bad_day.exit_code == 2
    assert "--on: '1/13/2026' không phải ngày hợp lệ" in bad_day.stderr
    renamed = cli(
        "--now", "2026-06-01", "agencies", "rename", "so-y-te", "--name", "Sở Y tế tỉnh",
        "--on", "2026-07-01",
    )  # fmt: skip
    assert renamed.exit_code == 0, renamed.stderr
    assert renamed.stdout.splitlines()[0] == "Đã ghi nhận: Sở Y tế → Sở Y tế tỉnh từ 01/07/2026."
    listed = json.loads(cli("agencies", "--json").stdout)
    health = next(a for a in listed if a["code"] == "so-y-te")
    assert health["name"] == "Sở Y tế tỉnh"
    assert {"name": "Sở Y tế", "until": "2026-07-01"} in health["former"]


def test_the_late_list_after_a_merger_groups_items_under_the_successor_with_the_old_name(
    store: Engine,
) -> None:
    def late_list(year: int, month: int) -> str:
        with Session(store) as session:
            report = build_late_report(
                session,
                period=Period("month", year, month),
                now=datetime(2027, 1, 1, tzinfo=UTC),
                tz=TZ,
            )
        return late_markdown(report, tz=TZ)

    before = late_list(2023, 4)
    assert "Sở Thông tin và Truyền thông — " in before
    assert "(Sở Thông tin và Truyền thông)" not in before
    after = late_list(2025, 4)
    section = after.split("Sở Khoa học và Công nghệ — ", 1)[1].split("\n## ", 1)[0]
    row_13 = next(line for line in section.splitlines() if line.startswith("| 13 |"))
    assert "| chủ trì (Sở Thông tin và Truyền thông) |" in row_13
