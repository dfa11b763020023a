"""The rule config's own logic: which policy a task gets, milestones, the calendar, units."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from rules.policy import RuleConfig, Stage
from rules.policy_units import Period, parse_duration, parse_offset, parse_period

DATED = [{"name": "due", "at": "0d", "to": "lead", "template": "due_today"}]
PERIODIC = [{"name": "check", "every": "1 month", "to": "lead", "template": "checkin"}]
KINDS = ("once", "recurring", "ongoing", "external", "none")


def config(**changes: Any) -> RuleConfig:
    data: dict[str, Any] = {
        "ack_timeout": "7d",
        "policies": {
            "standard": DATED,
            "strict": DATED,
            "by_tag": DATED,
            "by_plan": DATED,
            "by_task": DATED,
            "ongoing": PERIODIC,
            "unscheduled": PERIODIC,
        },
        "policy_for": {
            "kind": {
                "once": "standard",
                "recurring": "standard",
                "external": "standard",
                "ongoing": "ongoing",
                "none": "unscheduled",
            },
            "plan": {"nq131": "by_plan"},
            "tag": {"khan": "by_tag", "other": "strict"},
            "task": {"nq131/13": "by_task"},
        },
    }
    data.update(changes)
    return RuleConfig.model_validate(data)


def chosen(cfg: RuleConfig, **task: Any) -> str:
    values: dict[str, Any] = {
        "plan": "nq131",
        "number": "1",
        "tags": [],
        "kind": "once",
        "task_policy": None,
    }
    values.update(task)
    return cfg.select(**values)[0]


def test_the_most_specific_rule_wins_task_then_task_column_then_tag_then_plan_then_kind() -> None:
    cfg = config()
    assert chosen(cfg, number="13", task_policy="strict", tags=["khan"]) == "by_task"
    assert chosen(cfg, task_policy="strict", tags=["khan"]) == "strict"
    assert chosen(cfg, tags=["khan"]) == "by_tag"
    assert chosen(cfg) == "by_plan"
    assert chosen(cfg, plan="nq200") == "standard"
    assert chosen(cfg, plan="nq200", kind="ongoing") == "ongoing"


def test_tag_rules_apply_in_the_order_the_config_lists_them() -> None:
    assert chosen(config(), tags=["other", "khan"]) == "by_tag"


def test_an_override_without_stages_for_the_kind_is_passed_over_and_cannot_silence() -> None:
    cfg = config()
    # by_plan has only dated stages: an ongoing task of that plan keeps its check-ins.
    assert chosen(cfg, kind="ongoing") == "ongoing"
    assert chosen(cfg, kind="ongoing", task_policy="strict") == "ongoing"


def test_a_task_without_a_date_always_gets_the_none_policy() -> None:
    cfg = config()
    assert chosen(cfg, number="13", kind=None, task_policy="ongoing") == "unscheduled"


def test_a_policy_name_the_store_holds_but_the_config_lacks_is_passed_over() -> None:
    assert chosen(config(), plan="nq200", task_policy="renamed-long-ago") == "standard"


def test_milestones_match_ignoring_case_diacritics_and_punctuation_as_whole_words() -> None:
    cfg = config(milestones={"Đề án 06": date(2023, 12, 31), "Quyết định 422": date(2024, 6, 30)})
    assert cfg.milestone_for("Theo tiến độ của ĐỀ ÁN 06.") == date(2023, 12, 31)
    assert cfg.milestone_for("theo tien do de an 06") == date(2023, 12, 31)
    assert cfg.milestone_for("Theo tiến độ Đề án 061") is None
    assert cfg.milestone_for("Nghị định 107/2021") is None


def test_a_reference_to_two_milestones_is_due_at_the_later() -> None:
    cfg = config(milestones={"Đề án 06": date(2023, 12, 31), "Quyết định 422": date(2024, 6, 30)})
    assert cfg.milestone_for("Theo tiến độ Đề án 06 và Quyết định 422 của Thủ tướng") == date(
        2024, 6, 30
    )


def test_the_calendar_carries_office_hours_and_the_configured_days() -> None:
    cfg = config(
        calendar={
            "office_hours": "08:00-16:30",
            "extra_days_off": [date(2023, 5, 2)],
            "working_days": [date(2023, 5, 6)],
        }
    )
    calendar = cfg.calendar()
    assert (calendar.office_hours.start, calendar.office_hours.end) == (time(8), time(16, 30))
    assert not calendar.is_working_day(date(2023, 5, 2))
    assert calendar.is_working_day(date(2023, 5, 6))  # a Saturday
    assert not calendar.is_working_day(date(2023, 1, 23))  # Tết
    friday_evening = datetime(2023, 5, 5, 17, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert calendar.next_working_time(friday_evening).date() == date(2023, 5, 6)


def test_a_day_both_off_and_working_is_refused() -> None:
    with pytest.raises(ValidationError, match="ngày vừa nghỉ vừa làm việc: 2023-05-02"):
        config(calendar={"extra_days_off": ["2023-05-02"], "working_days": ["2023-05-02"]})


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="múi giờ không tồn tại"):
        config(timezone="Asia/Hanoi_City")


@pytest.mark.parametrize(
    ("text", "days"),
    [("-14d", -14), ("-3d", -3), ("0d", 0), ("+1d", 1), ("30d", 30), ("-2w", -14), (" +1 d ", 1)],
)
def test_offsets_are_days_before_or_after_the_anchor(text: str, days: int) -> None:
    assert parse_offset(text) == days


@pytest.mark.parametrize("text", ["-14", "14 days", "-1m", "", "d", 3])
def test_anything_else_is_not_an_offset(text: object) -> None:
    with pytest.raises(ValueError, match="khoảng lệch không hợp lệ"):
        parse_offset(text)


def test_durations_and_periods_read_as_admins_write_them() -> None:
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("2w") == timedelta(weeks=2)
    assert parse_period("1 month") == Period("month", 1)
    assert parse_period("3 months") == parse_period("1 quarter") == parse_period("1 quý")
    assert parse_period("2 tuần") == Period("week", 2)
    assert parse_period("month") == Period("month", 1)
    for bad in ("0d", "7", "7 days"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    with pytest.raises(ValueError, match="chu kỳ không hợp lệ"):
        parse_period("fortnightly")


def stage(**fields: Any) -> Stage:
    return Stage.model_validate({"name": "s", "template": "upcoming", **fields})


def test_lead_recipients_become_self_and_coordinators_hear_only_their_own_stages() -> None:
    both = stage(at="0d", to=["lead", "coordinators", "head", "office", "so-noi-vu"])
    assert both.recipients("lead") == ("self", "head", "office", "so-noi-vu")
    assert both.recipients("coordinator") == ("self",)
    only_coordinators = stage(at="-3d", to="coordinators")
    assert not only_coordinators.concerns("lead")
    assert only_coordinators.concerns("coordinator")
    assert not stage(at="0d", to=["head"]).concerns("coordinator")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"to": "lead"}, "đúng một trong hai"),
        ({"at": "0d", "every": "1 month", "to": "lead"}, "đúng một trong hai"),
        ({"every": "1 month", "to": "lead", "repeat": {"every": "7d", "max": 2}}, "repeat"),
        ({"every": "1 week", "day": 8, "to": "lead"}, "thứ trong tuần 1-7"),
        ({"at": "0d", "day": 3, "to": "lead"}, "'day' chỉ dùng với 'every'"),
        ({"at": "0d", "to": []}, "at least 1 item"),
        ({"at": "0d", "to": "lead", "repeat": {"every": "12h", "max": 2}}, "theo số ngày"),
        ({"at": "0d", "to": "lead", "name": "Bước 1"}, "tên bước"),
    ],
)
def test_a_stage_that_cannot_work_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        stage(**fields)


def test_stage_names_are_unique_within_a_policy() -> None:
    with pytest.raises(ValidationError, match="tên bước bị lặp lại: due"):
        config(policies={"standard": DATED + DATED})


def test_every_kind_is_known_to_the_config_model() -> None:
    cfg = config()
    assert set(cfg.policy_for.kind) == set(KINDS)
