"""The daemon may evaluate only at `next_at`: that must send exactly what polling would.

Moments in the rules fall on whole hours (local midnights in a whole-hour zone, and the
generated acknowledgements), so evaluating every hour sees every change as it happens.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.deadline import Deadline, Recurrence
from rules.evaluate import AssignmentState, evaluate
from rules.policy import Policy, RuleConfig

WINDOW = timedelta(days=35)
START = datetime(2023, 3, 1, tzinfo=UTC)
KINDS = ("once", "recurring", "ongoing", "external", "none")


@st.composite
def dated_stage(draw: st.DrawFn, index: int) -> dict[str, Any]:
    stage: dict[str, Any] = {
        "name": f"s{index}",
        "at": f"{draw(st.integers(-20, 30)):+d}d",
        "anchor": draw(st.sampled_from(["due", "due", "target", "start"])),
        "to": draw(st.sampled_from([["lead"], ["coordinators"], ["lead", "coordinators"]])),
        "template": "upcoming",
    }
    if draw(st.integers(0, 9)) < 7:
        stage["repeat"] = {"every": f"{draw(st.integers(1, 6))}d", "max": draw(st.integers(1, 5))}
    return stage


@st.composite
def periodic_stage(draw: st.DrawFn, index: int) -> dict[str, Any]:
    if draw(st.booleans()):
        every, day = f"{draw(st.integers(1, 2))} month", draw(st.integers(1, 31))
    else:
        every, day = f"{draw(st.integers(1, 3))} weeks", draw(st.integers(1, 7))
    return {"name": f"p{index}", "every": every, "day": day, "to": ["lead"], "template": "checkin"}


@st.composite
def policies(draw: st.DrawFn) -> RuleConfig:
    count = draw(st.integers(1, 5))
    stages = [draw(dated_stage(i)) for i in range(count)]
    stages += [draw(periodic_stage(i)) for i in range(draw(st.integers(0, 2)))]
    hours = draw(st.integers(1, 8)) * 24 + draw(st.integers(0, 23))
    return RuleConfig.model_validate(
        {
            "ack_timeout": f"{hours}h",
            "policies": {"p": stages},
            "policy_for": {"kind": dict.fromkeys(KINDS, "p")},
        }
    )


@st.composite
def deadlines(draw: st.DrawFn) -> Deadline | None:
    kind = draw(
        st.sampled_from(["once", "once", "recurring", "recurring", "ongoing", "external", None])
    )
    base = START.date() + timedelta(days=draw(st.integers(-15, 35)))
    if kind == "once":
        target = base - timedelta(days=draw(st.integers(0, 40)))
        start = target - timedelta(days=draw(st.integers(0, 40)))
        return Deadline(phrase="x", kind="once", start=start, target=target, due=base)
    if kind == "recurring":
        every = draw(st.sampled_from([1, 1, 2, 3, 12]))
        day = draw(st.one_of(st.none(), st.integers(1, 31)))
        return Deadline(phrase="x", kind="recurring", recurrence=Recurrence(every, day))
    if kind == "ongoing":
        return Deadline(phrase="x", kind="ongoing")
    if kind == "external":
        return Deadline(phrase="x", kind="external", depends_on="Đề án 06")
    return None


def hour(offset_hours: int) -> datetime:
    return START + timedelta(hours=offset_hours)


@st.composite
def states(draw: st.DrawFn) -> AssignmentState:
    deadline = draw(deadlines())
    status = draw(st.sampled_from(["open", "acknowledged", "acknowledged", "done"]))
    acknowledged = hour(draw(st.integers(-24 * 4, 24 * 20))) if status == "acknowledged" else None
    override = draw(st.one_of(st.none(), st.integers(0, 40)))
    done_through = draw(st.one_of(st.none(), st.integers(-60, 40)))
    milestone = draw(st.one_of(st.none(), st.integers(0, 40)))
    return AssignmentState(
        assignment_id=1,
        role=draw(st.sampled_from(["lead", "coordinator"])),
        status=status,
        status_at=acknowledged,
        acknowledged_at=acknowledged,
        deadline=deadline,
        due_override=None if override is None else START.date() + timedelta(days=override),
        milestone=None if milestone is None else START.date() + timedelta(days=milestone),
        done_through=None if done_through is None else START.date() + timedelta(days=done_through),
        created_at=hour(draw(st.integers(-24 * 40, 24 * 10))),
        sent_keys=frozenset(),
    )


def polled(s: AssignmentState, policy: Policy, config: RuleConfig) -> list[tuple[str, datetime]]:
    sent: list[tuple[str, datetime]] = []
    now = START
    while now < START + WINDOW:
        keys = frozenset(k for k, _ in sent)
        result = evaluate(replace(s, sent_keys=keys), policy, now, config=config)
        sent.extend((r.key, now) for r in result.reminders)
        now += timedelta(hours=1)
    return sent


def scheduled(s: AssignmentState, policy: Policy, config: RuleConfig) -> list[tuple[str, datetime]]:
    sent: list[tuple[str, datetime]] = []
    now: datetime | None = START
    while now is not None and now < START + WINDOW:
        keys = frozenset(k for k, _ in sent)
        result = evaluate(replace(s, sent_keys=keys), policy, now, config=config)
        sent.extend((r.key, now) for r in result.reminders)
        assert result.next_at is None or result.next_at > now
        now = result.next_at
    return sent


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=policies(), s=states())
def test_evaluating_only_at_next_at_sends_what_hourly_polling_sends(
    config: RuleConfig, s: AssignmentState
) -> None:
    policy = config.policies["p"]
    assert scheduled(s, policy, config) == polled(s, policy, config)


def test_the_property_sees_reminders_at_all() -> None:
    # Guards the generators: a property over states that never send would prove nothing.
    config = RuleConfig.model_validate(
        {
            "ack_timeout": "7d",
            "policies": {"p": [{"name": "a", "at": "0d", "to": "lead", "template": "x"}]},
            "policy_for": {"kind": dict.fromkeys(KINDS, "p")},
        }
    )
    s = AssignmentState(
        1, "lead", "open", None, None,
        Deadline(phrase="x", kind="once", due=date(2023, 3, 10)),
        None, None, None, START, frozenset(),
    )  # fmt: skip
    assert [k for k, _ in polled(s, config.policies["p"], config)] == ["a1:a:2023-03-10:0"]
