"""Status categories as the Government Office counts them (QĐ 42/2014/QĐ-TTg)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.deadline import Deadline, Recurrence, parse_deadline
from rules.status import (
    Category,
    Counts,
    assess,
    categorize,
    category_label,
    combine,
    roll_up,
    roll_up_tasks,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MARCH = Deadline(phrase="Tháng 3/2023", kind="once", due=date(2023, 3, 31))
QUARTERLY = Deadline(phrase="Hàng quý", kind="recurring", recurrence=Recurrence(every_months=3))
ONGOING = Deadline(phrase="Thường xuyên", kind="ongoing")
EXTERNAL = Deadline(phrase="Theo tiến độ Đề án 06", kind="external", depends_on="Đề án 06")


def local(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=TZ)


def judge(deadline: Deadline | None, *, as_of: date, **state: object) -> list[tuple]:
    values: dict[str, object] = {
        "due_override": None,
        "milestone": None,
        "status": "open",
        "done_at": None,
        "done_through": None,
        "since": date(2022, 11, 1),
        "period_start": None,
    }
    values.update(state)
    obligations = assess(deadline=deadline, as_of=as_of, tz=TZ, **values)  # type: ignore[arg-type]
    return [(o.category, o.due, o.days_late) for o in obligations]


def test_a_task_done_before_its_due_date_is_done_on_time() -> None:
    result = judge(MARCH, as_of=date(2023, 4, 30), status="done", done_at=local(2023, 3, 20, 9))
    assert result == [(Category.DONE_ON_TIME, date(2023, 3, 31), 0)]


def test_a_task_done_on_its_due_day_in_the_office_time_zone_is_on_time() -> None:
    # 16:30 UTC on 31 March is 23:30 in Hà Nội: still the due day there.
    done = datetime(2023, 3, 31, 16, 30, tzinfo=UTC)
    result = judge(MARCH, as_of=date(2023, 4, 30), status="done", done_at=done)
    assert result == [(Category.DONE_ON_TIME, date(2023, 3, 31), 0)]


def test_a_task_done_after_midnight_local_time_is_one_day_late() -> None:
    done = datetime(2023, 3, 31, 17, 30, tzinfo=UTC)  # 00:30 on 1 April in Hà Nội
    result = judge(MARCH, as_of=date(2023, 4, 30), status="done", done_at=done)
    assert result == [(Category.DONE_LATE, date(2023, 3, 31), 1)]


def test_an_open_task_is_within_its_deadline_on_the_due_day_and_overdue_the_day_after() -> None:
    assert judge(MARCH, as_of=date(2023, 3, 31)) == [(Category.IN_TIME, date(2023, 3, 31), 0)]
    assert judge(MARCH, as_of=date(2023, 4, 1)) == [(Category.OVERDUE, date(2023, 3, 31), 1)]
    assert judge(MARCH, as_of=date(2023, 4, 30))[0][2] == 30


def test_an_acknowledged_task_is_not_done() -> None:
    result = judge(MARCH, as_of=date(2023, 4, 10), status="acknowledged")
    assert result == [(Category.OVERDUE, date(2023, 3, 31), 10)]


def test_a_completion_after_the_report_date_does_not_count_on_that_date() -> None:
    state = {"status": "done", "done_at": local(2023, 4, 5, 10)}
    assert judge(MARCH, as_of=date(2023, 4, 1), **state)[0][0] is Category.OVERDUE
    assert judge(MARCH, as_of=date(2023, 4, 30), **state) == [
        (Category.DONE_LATE, date(2023, 3, 31), 5)
    ]


def test_an_approved_extension_replaces_the_plan_due_date() -> None:
    result = judge(MARCH, as_of=date(2023, 4, 20), due_override=date(2023, 4, 30))
    assert result == [(Category.IN_TIME, date(2023, 4, 30), 0)]


def test_the_target_date_is_not_the_deadline_only_the_latest_date_is() -> None:
    deadline = Deadline(
        phrase="Tháng 11/2022, chậm nhất tháng 3/2023",
        kind="once",
        target=date(2022, 11, 30),
        due=date(2023, 3, 31),
    )
    assert judge(deadline, as_of=date(2023, 1, 31))[0][0] is Category.IN_TIME


def test_ongoing_external_and_undated_tasks_are_counted_apart() -> None:
    as_of = date(2023, 3, 31)
    assert judge(ONGOING, as_of=as_of)[0][0] is Category.ONGOING
    assert judge(EXTERNAL, as_of=as_of)[0][0] is Category.EXTERNAL
    assert judge(None, as_of=as_of)[0][0] is Category.UNDATED


def test_an_external_task_is_judged_by_the_milestone_the_office_set() -> None:
    result = judge(EXTERNAL, as_of=date(2023, 3, 31), milestone=date(2023, 2, 28))
    assert result == [(Category.OVERDUE, date(2023, 2, 28), 31)]


def test_a_recurring_task_owes_each_occurrence_and_carries_unfinished_ones_over() -> None:
    result = judge(QUARTERLY, as_of=date(2023, 3, 31), period_start=date(2023, 1, 1))
    assert result == [
        (Category.OVERDUE, date(2022, 12, 31), 90),
        (Category.IN_TIME, date(2023, 3, 31), 0),
    ]


def test_occurrences_before_the_agency_was_tasked_are_not_owed() -> None:
    result = judge(
        QUARTERLY, as_of=date(2023, 3, 31), period_start=date(2023, 1, 1), since=date(2023, 1, 15)
    )
    assert result == [(Category.IN_TIME, date(2023, 3, 31), 0)]


def test_done_through_completes_occurrences_and_done_at_times_the_latest() -> None:
    result = judge(
        QUARTERLY,
        as_of=date(2023, 3, 31),
        period_start=date(2023, 1, 1),
        done_through=date(2022, 12, 31),
        done_at=local(2023, 1, 5, 10),
    )
    # The December report came in on 5 January: late, and finished in this period.
    assert result == [
        (Category.DONE_LATE, date(2022, 12, 31), 5),
        (Category.IN_TIME, date(2023, 3, 31), 0),
    ]


def test_done_status_on_a_recurring_task_completes_the_cycle_being_worked_on() -> None:
    state = {"since": date(2023, 1, 1), "status": "done", "done_at": local(2023, 3, 28, 15)}
    first_quarter = judge(
        QUARTERLY, as_of=date(2023, 3, 31), period_start=date(2023, 1, 1), **state
    )
    assert first_quarter == [(Category.DONE_ON_TIME, date(2023, 3, 31), 0)]
    # The next cycle is owed afresh.
    second = judge(QUARTERLY, as_of=date(2023, 7, 1), period_start=date(2023, 4, 1), **state)
    assert second == [(Category.OVERDUE, date(2023, 6, 30), 1)]


def test_a_period_without_an_occurrence_shows_the_coming_one() -> None:
    yearly = Deadline(phrase="Hàng năm", kind="recurring", recurrence=Recurrence(every_months=12))
    result = judge(
        yearly, as_of=date(2023, 3, 31), period_start=date(2023, 1, 1), since=date(2023, 1, 1)
    )
    assert result == [(Category.IN_TIME, date(2023, 12, 31), 0)]


def test_an_assignment_is_as_far_behind_as_its_worst_obligation() -> None:
    category = categorize(
        deadline=QUARTERLY,
        due_override=None,
        milestone=None,
        status="open",
        done_at=None,
        done_through=None,
        as_of=date(2023, 3, 31),
        tz=TZ,
        since=date(2022, 11, 1),
        period_start=date(2023, 1, 1),
    )
    assert category is Category.OVERDUE


def test_combining_puts_anything_unfinished_before_anything_finished() -> None:
    assert combine([Category.DONE_ON_TIME, Category.OVERDUE]) is Category.OVERDUE
    assert combine([Category.DONE_LATE, Category.IN_TIME]) is Category.IN_TIME
    assert combine([Category.DONE_LATE, Category.DONE_ON_TIME]) is Category.DONE_LATE
    assert combine([Category.ONGOING, Category.DONE_ON_TIME]) is Category.DONE_ON_TIME
    with pytest.raises(ValueError):
        combine([])


def test_roll_ups_count_per_key_and_per_task() -> None:
    pairs = [
        ("so-khcn", Category.OVERDUE),
        ("so-khcn", Category.DONE_ON_TIME),
        ("cong-an", Category.DONE_LATE),
    ]
    counts = roll_up(pairs)
    assert counts["so-khcn"][Category.OVERDUE] == 1
    assert counts["so-khcn"].total == 2
    assert counts["so-khcn"].late == 1
    assert counts["cong-an"].late == 1
    assert counts["cong-an"].to_dict()["done_late"] == 1
    tasks = roll_up_tasks(
        [(13, Category.DONE_ON_TIME), (13, Category.OVERDUE), (5, Category.IN_TIME)]
    )
    assert tasks == {13: Category.OVERDUE, 5: Category.IN_TIME}


def test_every_category_has_a_vietnamese_and_an_english_label() -> None:
    assert category_label(Category.DONE_ON_TIME) == "Đã hoàn thành đúng hạn"
    assert category_label(Category.OVERDUE, "en") == "Not done, overdue"
    assert all(category_label(c) and category_label(c, "en") for c in Category)


def test_counts_start_at_zero_for_every_category() -> None:
    counts = Counts()
    assert counts.total == 0
    assert set(counts.to_dict()) >= {str(c) for c in Category}


days = st.integers(min_value=0, max_value=800)


@given(due_days=days, as_of_days=days, done_days=st.none() | days)
def test_a_one_off_task_is_late_exactly_when_finished_or_still_open_after_its_due_day(
    due_days: int, as_of_days: int, done_days: int | None
) -> None:
    origin = date(2022, 1, 1)
    due, as_of = origin + timedelta(days=due_days), origin + timedelta(days=as_of_days)
    done = origin + timedelta(days=done_days) if done_days is not None else None
    deadline = Deadline(phrase="x", kind="once", due=due)
    done_at = datetime.combine(done, datetime.min.time(), tzinfo=TZ) if done else None
    [obligation] = assess(
        deadline=deadline,
        due_override=None,
        milestone=None,
        status="done" if done else "open",
        done_at=done_at,
        done_through=None,
        as_of=as_of,
        tz=TZ,
    )
    finished = done is not None and done <= as_of
    expected_late = (finished and done > due) or (not finished and as_of > due)  # type: ignore[operator]
    assert obligation.is_late == expected_late
    assert (obligation.days_late > 0) == expected_late
    assert obligation.category in (
        Category.DONE_ON_TIME,
        Category.DONE_LATE,
        Category.IN_TIME,
        Category.OVERDUE,
    )


@given(
    every=st.sampled_from([1, 3, 6, 12]),
    as_of_days=st.integers(min_value=0, max_value=900),
    period_days=st.integers(min_value=0, max_value=120),
)
def test_recurring_obligations_are_overdue_only_for_occurrences_already_past(
    every: int, as_of_days: int, period_days: int
) -> None:
    deadline = Deadline(phrase="x", kind="recurring", recurrence=Recurrence(every_months=every))
    as_of = date(2022, 11, 1) + timedelta(days=as_of_days)
    obligations = assess(
        deadline=deadline,
        due_override=None,
        milestone=None,
        status="open",
        done_at=None,
        done_through=None,
        as_of=as_of,
        tz=TZ,
        since=date(2022, 11, 1),
        period_start=as_of - timedelta(days=period_days),
    )
    assert obligations
    for obligation in obligations:
        assert obligation.due is not None
        if obligation.category is Category.OVERDUE:
            assert obligation.due < as_of
            assert obligation.days_late == (as_of - obligation.due).days
        else:
            assert obligation.category is Category.IN_TIME
            assert obligation.due >= as_of
    # Each unfinished past occurrence is owed exactly once.
    past = [o for o in obligations if o.category is Category.OVERDUE]
    assert len({o.due for o in past}) == len(past)


def test_a_date_of_a_list_that_passed_before_the_assignment_counts_as_overdue() -> None:
    quarters = parse_deadline("Quý I/2023, Quý III/2023")
    result = judge(quarters, as_of=date(2023, 5, 15), since=date(2023, 5, 1))
    assert result == [
        (Category.OVERDUE, date(2023, 3, 31), 45),
        (Category.IN_TIME, date(2023, 9, 30), 0),  # the next date, in progress
    ]
    # A single one-off date, assigned as late, is counted the same way.
    single = judge(parse_deadline("Quý I/2023"), as_of=date(2023, 5, 15), since=date(2023, 5, 1))
    assert single == result[:1]
