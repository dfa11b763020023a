"""The escalation semantics, one rule per test: what is sent when, and what never is."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rules.deadline import Deadline, Recurrence, parse_deadline
from rules.evaluate import AssignmentState, Evaluation, effective_kind, evaluate
from rules.policy import Policy, RuleConfig

VN = ZoneInfo("Asia/Ho_Chi_Minh")

STAGES: list[dict[str, Any]] = [
    {"name": "target_upcoming", "at": "-7d", "anchor": "target", "to": "lead",
     "template": "upcoming"},
    {"name": "upcoming", "at": "-14d", "to": ["lead"], "template": "upcoming"},
    {"name": "coordinators", "at": "-3d", "to": ["coordinators"], "template": "upcoming"},
    {"name": "due_today", "at": "0d", "to": ["lead", "head"], "template": "due_today"},
    {"name": "overdue", "at": "+1d", "to": ["lead", "head", "office"], "template": "overdue",
     "ask_explanation": True, "repeat": {"every": "7d", "max": 3}},
    {"name": "escalation", "at": "+30d", "to": ["office", "so-noi-vu"],
     "template": "escalation", "ask_explanation": True},
    {"name": "checkin", "every": "1 month", "day": 25, "to": ["lead"], "template": "checkin"},
]  # fmt: skip


def make_config(ack_timeout: str = "7d", stages: list[dict[str, Any]] | None = None) -> RuleConfig:
    return RuleConfig.model_validate(
        {
            "ack_timeout": ack_timeout,
            "policies": {"p": stages or STAGES},
            "policy_for": {"kind": dict.fromkeys(
                ("once", "recurring", "ongoing", "external", "none"), "p"
            )},
        }
    )  # fmt: skip


CONFIG = make_config()
POLICY: Policy = CONFIG.policies["p"]


def at(day: str, hour: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=VN).replace(
        hour=hour
    )


def state(deadline: Deadline | str | None = "ngày 31/03/2023", **changes: Any) -> AssignmentState:
    parsed = parse_deadline(deadline) if isinstance(deadline, str) else deadline
    base = AssignmentState(
        assignment_id=7,
        role="lead",
        status="open",
        status_at=None,
        acknowledged_at=None,
        deadline=parsed,
        due_override=None,
        milestone=None,
        done_through=None,
        created_at=at("2022-11-01"),
        sent_keys=frozenset(),
    )
    return replace(base, **changes)


def keys(result: Evaluation) -> list[str]:
    return [r.key for r in result.reminders]


def run(
    s: AssignmentState, start: datetime, end: datetime, config: RuleConfig = CONFIG
) -> list[str]:
    """Every key sent from `start` to `end`, evaluating only at the reported moments."""
    sent = sorted(s.sent_keys)
    now: datetime | None = start
    while now is not None and now < end:
        result = evaluate(replace(s, sent_keys=frozenset(sent)), POLICY, now, config=config)
        sent.extend(keys(result))
        now = result.next_at
    return sent[len(s.sent_keys) :]


def test_nothing_is_due_before_the_first_stage_and_next_at_names_its_local_midnight() -> None:
    result = evaluate(state(), POLICY, at("2023-03-01", 9), config=CONFIG)
    assert result.reminders == ()
    assert result.next_at == at("2023-03-17")


def test_the_first_stage_goes_to_the_lead_agency_two_weeks_ahead_with_a_stable_key() -> None:
    (reminder,) = evaluate(state(), POLICY, at("2023-03-17", 8), config=CONFIG).reminders
    assert reminder.key == "a7:upcoming:2023-03-31:0"
    assert (reminder.stage, reminder.template, reminder.to) == ("upcoming", "upcoming", ("self",))
    assert reminder.occurrence == date(2023, 3, 31)
    assert reminder.due_at == at("2023-03-17")
    assert reminder.channels == ("email", "telegram", "zalo")
    assert not reminder.ask_explanation


def test_evaluating_again_sends_nothing_once_the_key_is_recorded() -> None:
    now = at("2023-03-17", 8)
    first = evaluate(state(), POLICY, now, config=CONFIG)
    again = evaluate(state(sent_keys=frozenset(keys(first))), POLICY, now, config=CONFIG)
    assert again.reminders == ()
    assert again.next_at == at("2023-03-31")


def test_a_stage_never_sent_is_superseded_by_a_later_one_and_never_sent_late() -> None:
    result = evaluate(state(), POLICY, at("2023-04-02", 10), config=CONFIG)
    assert keys(result) == ["a7:overdue:2023-03-31:0"]
    later = run(state(sent_keys=frozenset(keys(result))), at("2023-04-02", 10), at("2023-06-01"))
    assert not any(":upcoming:" in k or ":due_today:" in k for k in later)


def test_missed_repeats_coalesce_into_the_latest_one() -> None:
    # overdue at +1d, repeats at +8d, +15d, +22d: on day +21 only repeat 2 is owed.
    result = evaluate(state(), POLICY, at("2023-04-21", 9), config=CONFIG)
    assert keys(result) == ["a7:overdue:2023-03-31:2"]
    assert result.reminders[0].due_at == at("2023-04-15")
    assert result.next_at == at("2023-04-22")


def test_late_stages_ask_for_an_explanation_and_reach_head_and_office() -> None:
    (reminder,) = evaluate(state(), POLICY, at("2023-04-01", 9), config=CONFIG).reminders
    assert reminder.ask_explanation
    assert reminder.to == ("self", "head", "office")


def test_named_agencies_are_addressed_by_code() -> None:
    (reminder,) = evaluate(state(), POLICY, at("2023-04-30", 9), config=CONFIG).reminders
    assert (reminder.stage, reminder.to) == ("escalation", ("office", "so-noi-vu"))


def test_without_answers_the_whole_escalation_goes_out_in_order() -> None:
    assert run(state(), at("2023-03-01"), at("2023-06-01")) == [
        "a7:upcoming:2023-03-31:0",
        "a7:due_today:2023-03-31:0",
        "a7:overdue:2023-03-31:0",
        "a7:overdue:2023-03-31:1",
        "a7:overdue:2023-03-31:2",
        "a7:overdue:2023-03-31:3",
        "a7:escalation:2023-03-31:0",
    ]


def test_coordinators_hear_only_the_stage_that_names_them() -> None:
    coordinator = state(role="coordinator")
    assert run(coordinator, at("2023-03-01"), at("2023-06-01")) == ["a7:coordinators:2023-03-31:0"]
    (reminder,) = evaluate(coordinator, POLICY, at("2023-03-28", 9), config=CONFIG).reminders
    assert reminder.to == ("self",)


def test_an_acknowledgement_stops_the_repeats_but_not_the_later_stages() -> None:
    config = make_config(ack_timeout="60d")
    acknowledged = state(
        status="acknowledged",
        acknowledged_at=at("2023-04-01", 10),
        sent_keys=frozenset({"a7:overdue:2023-03-31:0"}),
    )
    assert evaluate(acknowledged, POLICY, at("2023-04-09", 9), config=config).reminders == ()
    assert run(acknowledged, at("2023-04-01", 11), at("2023-05-15"), config) == [
        "a7:escalation:2023-03-31:0"
    ]


def test_an_acknowledgement_lapses_after_the_timeout_and_the_repeats_resume() -> None:
    acknowledged = state(
        status="acknowledged",
        acknowledged_at=at("2023-04-01", 10),
        sent_keys=frozenset({"a7:overdue:2023-03-31:0"}),
    )
    result = evaluate(acknowledged, POLICY, at("2023-04-03", 9), config=CONFIG)
    assert result.reminders == ()
    assert result.next_at == at("2023-04-08", 10)  # 7 days after the acknowledgement
    resumed = evaluate(acknowledged, POLICY, at("2023-04-08", 10), config=CONFIG)
    assert keys(resumed) == ["a7:overdue:2023-03-31:1"]


def test_done_stops_everything() -> None:
    result = evaluate(state(status="done"), POLICY, at("2023-04-21", 9), config=CONFIG)
    assert result == Evaluation((), None)


def test_a_reopened_task_resumes_with_the_stage_due_now() -> None:
    sent = frozenset({"a7:upcoming:2023-03-31:0", "a7:due_today:2023-03-31:0"})
    reopened = state(status="open", status_at=at("2023-04-10", 9), sent_keys=sent)
    assert keys(evaluate(reopened, POLICY, at("2023-04-10", 9), config=CONFIG)) == [
        "a7:overdue:2023-03-31:1"
    ]


def test_an_approved_extension_replaces_the_due_date_and_restarts_the_countdown() -> None:
    sent = frozenset({"a7:overdue:2023-03-31:0"})
    extended = state(due_override=date(2023, 5, 31), sent_keys=sent)
    result = evaluate(extended, POLICY, at("2023-04-03", 9), config=CONFIG)
    assert result.reminders == ()
    assert result.next_at == at("2023-05-17")
    assert run(extended, at("2023-05-17"), at("2023-06-02"))[:2] == [
        "a7:upcoming:2023-05-31:0",
        "a7:due_today:2023-05-31:0",
    ]


def test_target_stages_apply_only_to_deadlines_with_a_target() -> None:
    both = state("Tháng 11/2022, chậm nhất tháng 3/2023")
    (reminder,) = evaluate(both, POLICY, at("2022-11-23", 9), config=CONFIG).reminders
    assert reminder.key == "a7:target_upcoming:2023-03-31:0"
    assert evaluate(state(), POLICY, at("2022-11-23", 9), config=CONFIG).next_at == at("2023-03-17")


def test_a_recurring_deadline_runs_one_cycle_at_a_time() -> None:
    quarterly = run(state("Hàng quý"), at("2022-11-01"), at("2023-07-01"))
    assert {k.split(":")[2] for k in quarterly} == {"2022-12-31", "2023-03-31", "2023-06-30"}
    monthly = run(state("Hàng tháng"), at("2023-01-01"), at("2023-04-01"))
    occurrences = [k.split(":")[2] for k in monthly]
    assert occurrences == sorted(occurrences)  # never back to an earlier cycle
    # January's escalation (+30d, 2 March) would come after February's cycle began.
    assert "a7:escalation:2023-01-31:0" not in monthly
    assert "a7:upcoming:2023-02-28:0" in monthly


def test_a_repeat_just_before_the_next_cycle_begins_is_still_sent() -> None:
    stages: list[dict[str, Any]] = [
        {"name": "soon", "at": "-3d", "to": "lead", "template": "upcoming"},
        {"name": "late", "at": "+23d", "to": "lead", "template": "overdue",
         "repeat": {"every": "1d", "max": 3}},
    ]  # fmt: skip
    config = make_config(stages=stages)
    monthly = state("Hàng tháng", sent_keys=frozenset({"a7:soon:2023-01-31:0"}))
    # January's cycle: late on 23 and 24 February; February's begins on the 25th.
    sent: list[str] = []
    now: datetime | None = at("2023-02-01")
    while now is not None and now < at("2023-03-01"):
        s = replace(monthly, sent_keys=monthly.sent_keys | frozenset(sent))
        result = evaluate(s, config.policies["p"], now, config=config)
        sent.extend(keys(result))
        now = result.next_at
    assert sent == ["a7:late:2023-01-31:0", "a7:late:2023-01-31:1", "a7:soon:2023-02-28:0"]


def test_occurrences_done_through_are_complete_and_the_next_cycle_is_awaited() -> None:
    quarterly = state("Hàng quý", done_through=date(2023, 3, 31))
    result = evaluate(quarterly, POLICY, at("2023-04-05", 9), config=CONFIG)
    assert result.reminders == ()
    assert result.next_at == at("2023-06-16")


def test_occurrences_due_before_the_assignment_existed_are_not_owed() -> None:
    quarterly = state("Hàng quý", created_at=at("2023-01-10", 15))
    result = evaluate(quarterly, POLICY, at("2023-01-10", 15), config=CONFIG)
    assert result.reminders == ()
    assert result.next_at == at("2023-03-17")


def test_an_extension_of_a_recurring_task_moves_its_open_occurrence() -> None:
    quarterly = state("Hàng quý", due_override=date(2023, 4, 20))
    result = evaluate(quarterly, POLICY, at("2023-04-03", 9), config=CONFIG)
    assert result.reminders == ()
    assert result.next_at == at("2023-04-06")  # 14 days before the new date
    assert run(quarterly, at("2023-04-06"), at("2023-04-22")) == [
        "a7:upcoming:2023-04-20:0",
        "a7:due_today:2023-04-20:0",
        "a7:overdue:2023-04-20:0",
    ]


def test_ongoing_tasks_get_a_monthly_check_in_from_the_day_they_were_assigned() -> None:
    ongoing = state("Thường xuyên", created_at=at("2022-11-26", 10))
    sent = run(ongoing, at("2022-11-26", 10), at("2023-03-01"))
    assert sent == [
        "a7:checkin:2022-12-25:0",
        "a7:checkin:2023-01-25:0",
        "a7:checkin:2023-02-25:0",
    ]
    (reminder,) = evaluate(ongoing, POLICY, at("2022-12-25", 1), config=CONFIG).reminders
    assert reminder.occurrence is None
    assert reminder.due_at == at("2022-12-25")


def test_a_check_in_on_day_31_falls_on_the_last_day_of_shorter_months() -> None:
    stages = [{"name": "c", "every": "1 month", "day": 31, "to": "lead", "template": "checkin"}]
    config = make_config(stages=stages)
    policy = config.policies["p"]
    result = evaluate(state("Thường xuyên"), policy, at("2023-02-01"), config=config)
    assert result.next_at == at("2023-02-28")


def test_weekly_check_ins_fall_on_the_named_weekday() -> None:
    stages = [{"name": "c", "every": "2 weeks", "day": 3, "to": "lead", "template": "checkin"}]
    config = make_config(stages=stages)
    policy = config.policies["p"]
    moment: datetime | None = at("2023-01-01")
    seen: list[datetime] = []
    for _ in range(3):
        assert moment is not None
        moment = evaluate(state("Thường xuyên"), policy, moment, config=config).next_at
        assert moment is not None
        seen.append(moment)
    assert [m.weekday() for m in seen] == [2, 2, 2]
    assert [b - a for a, b in pairwise(seen)] == [timedelta(weeks=2)] * 2


def test_an_external_reference_with_a_milestone_is_due_on_it() -> None:
    external = state("Theo tiến độ của Đề án 06", milestone=date(2023, 12, 31))
    assert effective_kind(external.deadline, milestone=date(2023, 12, 31), due_override=None) == (
        "external"
    )
    (reminder,) = evaluate(external, POLICY, at("2023-12-17", 9), config=CONFIG).reminders
    assert reminder.key == "a7:upcoming:2023-12-31:0"


def test_tasks_without_a_date_count_as_kind_none_and_get_only_periodic_stages() -> None:
    external = parse_deadline("Theo tiến độ của Đề án 06")
    assert effective_kind(external, milestone=None, due_override=None) is None
    assert effective_kind(None, milestone=None, due_override=None) is None
    # The check-in of 25 December is the latest one due on 1 January: it goes out then.
    assert run(state(None), at("2023-01-01"), at("2023-03-01")) == [
        "a7:checkin:2022-12-25:0",
        "a7:checkin:2023-01-25:0",
        "a7:checkin:2023-02-25:0",
    ]


def test_a_recurrence_with_a_last_occurrence_ends_there() -> None:
    monthly = Deadline(
        phrase="Hàng tháng đến hết 3/2023",
        kind="recurring",
        due=date(2023, 3, 31),
        recurrence=Recurrence(every_months=1),
    )
    sent = run(state(monthly), at("2023-02-01"), at("2023-12-31"))
    assert {k.split(":")[2] for k in sent} == {"2023-01-31", "2023-02-28", "2023-03-31"}
    result = evaluate(
        state(monthly, sent_keys=frozenset(sent)), POLICY, at("2023-12-31"), config=CONFIG
    )
    assert result.next_at is None


def test_now_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="time-zone-aware"):
        evaluate(state(), POLICY, datetime(2023, 3, 17, 9), config=CONFIG)


def test_moments_are_the_same_instant_whatever_zone_now_is_given_in() -> None:
    local = evaluate(state(), POLICY, at("2023-03-17", 8), config=CONFIG)
    utc = evaluate(state(), POLICY, at("2023-03-17", 8).astimezone(UTC), config=CONFIG)
    assert keys(local) == keys(utc)
    assert local.next_at == utc.next_at
