"""`dondoc preview` with the default rules and the example plan, as an admin would run it.

The year 2022-11-01 → 2023-12-31 is previewed once per module (it takes a few seconds)
and each test reads what a person would check in it.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_PLAN, Cli

Row = dict[str, Any]
TARGET_THEN_LATEST = ("13", "14")  # "Tháng 11/2022, chậm nhất tháng 3/2023"
QUARTERLY = "3"  # "Hàng quý"


@pytest.fixture(scope="module")
def year_cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    home = tmp_path_factory.mktemp("preview")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update({"DONDOC_DATA_DIR": str(home / "data"), "COLUMNS": "200", "NO_COLOR": "1"})
    cli = Cli(env=env, cwd=home)
    assert cli("init").exit_code == 0
    imported = cli("plan", "import", str(EXAMPLE_PLAN), "--plan", "nq131")
    assert imported.exit_code == 0, imported.stderr
    return cli


@pytest.fixture(scope="module")
def year(year_cli: Cli) -> list[Row]:
    result = year_cli("preview", "--from", "2022-11-01", "--to", "2023-12-31", "--json")
    assert result.exit_code == 0, result.stderr
    rows: list[Row] = json.loads(result.stdout)
    return rows


def sent_at(row: Row) -> datetime:
    return datetime.fromisoformat(row["send_at"])


def of_task(rows: list[Row], *numbers: str) -> list[Row]:
    return [r for r in rows if r["task"]["plan"] == "nq131" and r["task"]["number"] in numbers]


def test_every_row_says_when_to_whom_how_what_and_its_key(year: list[Row]) -> None:
    assert len(year) > 1000
    row = year[0]
    assert {"send_at", "agency", "role", "channel", "stage", "task", "key"} <= row.keys()
    assert sent_at(row).utcoffset() is not None
    assert row["role"] in ("lead", "coordinator")
    assert row["channel"] in ("email", "telegram")
    assert set(row["task"]) >= {"plan", "number"}
    assert [sent_at(r) for r in year] == sorted(sent_at(r) for r in year)


def test_the_target_then_latest_tasks_are_reminded_before_30_november_2022(
    year: list[Row],
) -> None:
    rows = of_task(year, *TARGET_THEN_LATEST)
    before = [r for r in rows if sent_at(r).date() < date(2022, 11, 30)]
    assert {r["task"]["number"] for r in before} == set(TARGET_THEN_LATEST)
    assert {(r["stage"], r["agency"], r["role"]) for r in before} == {
        ("target_upcoming", "so-khcn", "lead")
    }
    assert not any(r["ask_explanation"] for r in before)


def test_they_escalate_to_the_agency_head_after_30_november(year: list[Row]) -> None:
    rows = of_task(year, *TARGET_THEN_LATEST)
    after = [r for r in rows if date(2022, 11, 30) < sent_at(r).date() <= date(2023, 3, 31)]
    escalations = [r for r in after if r["stage"] == "target_missed"]
    assert escalations
    assert {r["audience"] for r in escalations} == {"agency", "head"}
    assert min(sent_at(r).date() for r in escalations) == date(2022, 12, 1)


def test_they_ask_for_an_explanation_only_after_31_march_2023(year: list[Row]) -> None:
    rows = of_task(year, *TARGET_THEN_LATEST)
    asking = [r for r in rows if r["ask_explanation"]]
    assert asking
    assert min(sent_at(r).date() for r in asking) == date(2023, 4, 3)  # 1 April is a Saturday
    assert {r["stage"] for r in asking} == {"overdue", "escalation"}
    assert "vp-ubnd" in {r["agency"] for r in asking}  # the office hears of it
    assert not [r for r in rows if r["ask_explanation"] and sent_at(r).date() <= date(2023, 3, 31)]


def test_the_quarterly_task_runs_one_cycle_per_quarter(year: list[Row]) -> None:
    by_agency: dict[str, list[Row]] = defaultdict(list)
    for row in of_task(year, QUARTERLY):
        if row["role"] == "lead" and row["audience"] == "agency":
            by_agency[row["assigned_agency"]].append(row)
    assert len(by_agency) == 20  # "Các sở, ban, ngành" and the communes: 13 + 7
    quarters = ["2022-12-31", "2023-03-31", "2023-06-30", "2023-09-30", "2023-12-31"]
    for rows in by_agency.values():
        cycles = [r["occurrence"] for r in rows]
        assert cycles == sorted(cycles)  # a cycle is over before the next begins
        assert sorted(set(cycles)) == quarters
        for quarter in quarters:
            stages = [r["stage"] for r in rows if r["occurrence"] == quarter]
            # A quarter ending on a weekend (31/12/2022, 30/09/2023): "due today" would
            # wait for Monday, when "overdue" is due too; only that goes out. (The year
            # previewed ends on Sunday 31/12/2023, before its "overdue" comes due.)
            weekend = date.fromisoformat(quarter).weekday() >= 5 and quarter < "2023-12-31"
            second = "overdue" if weekend else "due_today"
            assert stages[:2] == ["upcoming", second]


def test_nothing_goes_out_on_a_weekend_outside_office_hours_or_during_tet_2023(
    year: list[Row],
) -> None:
    moments = [sent_at(r) for r in year]
    assert all(m.weekday() < 5 for m in moments)
    assert all(time(7, 30) <= m.time() < time(17, 0) for m in moments)
    assert not [m for m in moments if date(2023, 1, 20) <= m.date() <= date(2023, 1, 26)]
    # What fell due during Tết waits for the first working day after it.
    assert any(m.date() == date(2023, 1, 27) for m in moments)


def test_tasks_without_a_date_ask_the_office_to_set_one(year: list[Row]) -> None:
    asking = [r for r in year if r["stage"] == "set_deadline"]
    # The plan's "Theo tiến độ/lộ trình …" tasks; the default config sets no milestone.
    assert {r["task"]["number"] for r in asking} == {"11", "15", "21", "27"}
    assert {r["agency"] for r in asking} == {"vp-ubnd"}


def test_the_text_listing_shows_each_message_then_counts_per_agency_and_week(
    year_cli: Cli,
) -> None:
    result = year_cli(
        "preview", "--from", "2022-11-20", "--to", "2022-11-30", "--agency", "so-khcn"
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Xem trước lời nhắc 2022-11-20 → 2022-11-30:")
    assert any(
        line.startswith("2022-11-23 T4 07:30")
        and "so-khcn" in line
        and "target_upcoming" in line
        and "nq131/13" in line
        for line in lines
    )
    assert sum("checkin" in line for line in lines) == 8  # its eight ongoing tasks
    per_agency = lines.index("Số tin theo cơ quan nhận (per agency):")
    assert lines[per_agency + 1].split() == ["so-khcn", "10"]
    per_week = lines.index("Số tin theo tuần (per week, from Monday):")
    assert lines[per_week + 1].split() == ["2022-11-21", "(tuần", "47)", "10"]


def test_an_unknown_plan_or_a_bad_date_is_a_clear_error(year_cli: Cli) -> None:
    unknown = year_cli("preview", "--plan", "nq999")
    assert (unknown.exit_code, unknown.stdout) == (2, "")
    assert "Không tìm thấy kế hoạch 'nq999'" in unknown.stderr
    bad = year_cli("preview", "--from", "31/03/2023")
    assert bad.exit_code == 2
    assert "--from '31/03/2023' không phải ngày dạng YYYY-MM-DD" in bad.stderr
    assert "Traceback" not in unknown.stderr + bad.stderr


def test_a_broken_rules_file_stops_the_preview_with_its_position(
    year_cli: Cli, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("ack_timeout: 7d\npolicies: {}\n", encoding="utf-8")
    cli = Cli(env={**year_cli.env, "DONDOC_RULES_FILE": str(rules)}, cwd=year_cli.cwd)
    result = cli("preview", "--from", "2023-01-01")
    assert result.exit_code == 2
    assert f"{rules}:2:1: policies: cần ít nhất một chính sách" in result.stderr
    assert result.stdout == ""


def test_a_deadline_on_a_weekend_before_a_holiday_sends_only_the_overdue_stage(
    year: list[Row],
) -> None:
    # Due Saturday 31/12/2022; 01 and 02/01/2023 are the New Year holiday. "Due today"
    # would wait for Tuesday 03/01, when "overdue" is due too: only the latest is sent.
    tuesday = [r for r in year if sent_at(r).date() == date(2023, 1, 3)]
    stages: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for row in tuesday:
        stages[(row["agency"], row["channel"], row["task"]["number"])].add(row["stage"])
    assert stages, "the example plan has tasks due at the end of 2022"
    assert {n for (_, _, n), s in stages.items() if "overdue" in s} >= {"3", "8"}
    assert all("due_today" not in s for s in stages.values())
