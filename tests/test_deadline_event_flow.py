"""An event-driven task ("Khi có yêu cầu") goes where an external reference goes: counted
apart in the reports, the office asked to set a date, and chased once it has one."""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import Cli

from rules.deadline import parse_deadline
from rules.evaluate import effective_kind
from rules.status import APART, Category, assess, category_label

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PLAN = """STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Sản phẩm công việc,Thời gian hoàn thành
1,Tham mưu khi có yêu cầu,Sở Nội vụ,,Báo cáo,Khi có yêu cầu
2,Theo dõi Đề án 06,Sở Nội vụ,,Báo cáo,Theo tiến độ của Đề án 06
3,Báo cáo công tác,Sở Nội vụ,,Báo cáo,Thường xuyên; định kỳ 6 tháng báo cáo về Sở Nội vụ
4,Xây dựng kế hoạch,Sở Nội vụ,,Kế hoạch,Thời gian thực hiện: Quý III/2026
"""


def _assess(phrase: str, milestone: date | None = None) -> Category:
    [obligation] = assess(
        deadline=parse_deadline(phrase),
        due_override=None,
        milestone=milestone,
        status="open",
        done_at=None,
        done_through=None,
        as_of=date(2026, 10, 1),
        tz=TZ,
    )
    return obligation.category


def test_an_event_task_is_counted_apart_until_it_has_a_date() -> None:
    assert _assess("Khi có yêu cầu") is Category.EVENT
    assert Category.EVENT in APART
    assert _assess("Khi có yêu cầu", milestone=date(2026, 9, 15)) is Category.OVERDUE
    assert _assess("Theo tiến độ Đề án 06") is Category.EXTERNAL


def test_the_event_category_has_a_label_in_both_languages() -> None:
    assert category_label(Category.EVENT) == "Khi có yêu cầu, chưa có thời hạn"
    assert category_label(Category.EVENT, "en") == "On request, no date set yet"


@pytest.mark.parametrize(
    ("milestone", "due_override", "kind"),
    [
        (None, None, None),
        (date(2026, 9, 15), None, "external"),
        (None, date(2026, 9, 15), "external"),
    ],
)
def test_an_event_task_is_chased_like_an_external_one_once_dated(
    milestone: date | None, due_override: date | None, kind: str | None
) -> None:
    deadline = parse_deadline("Theo yêu cầu của UBND tỉnh")
    assert effective_kind(deadline, milestone=milestone, due_override=due_override) == kind


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    home = tmp_path_factory.mktemp("events")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update({"DONDOC_DATA_DIR": str(home / "data"), "COLUMNS": "200", "NO_COLOR": "1"})
    cli = Cli(env=env, cwd=home)
    plan = home / "kh-2026.csv"
    plan.write_text(PLAN, encoding="utf-8")
    assert cli("init").exit_code == 0
    imported = cli("plan", "import", str(plan), "--plan", "kh1")
    assert imported.exit_code == 0, imported.stderr
    return cli


def test_the_office_is_asked_to_set_a_date_for_an_event_task_as_for_an_external_one(
    planned: Cli,
) -> None:
    result = planned("preview", "--from", "2027-01-01", "--to", "2027-03-31", "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    sent = Counter((r["task"]["number"], r["template"], r["audience"]) for r in rows)
    event = {(t, a): n for (num, t, a), n in sent.items() if num == "1"}
    external = {(t, a): n for (num, t, a), n in sent.items() if num == "2"}
    assert event == external
    assert set(event) == {("set_deadline", "office")}


def test_the_quarter_report_lists_an_event_task_under_its_own_status(planned: Cli) -> None:
    now = datetime(2026, 9, 30, 3, 0, tzinfo=UTC).isoformat()
    result = planned("--now", now, "report", "quarter", "--quarter", "2026Q3", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = {row["STT"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert (rows["1"]["Mã tình trạng"], rows["1"]["Tình trạng"]) == (
        "event",
        "Khi có yêu cầu, chưa có thời hạn",
    )
    assert rows["2"]["Mã tình trạng"] == "external"
    assert rows["4"]["Hạn hoàn thành"] == "2026-09-30"
