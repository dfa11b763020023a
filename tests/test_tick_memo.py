"""The tick's remembered outcomes answer exactly what the rules would, input by input.

Each case starts from one assignment, evaluates it through `Outcomes`, then asks about
a second assignment that differs in one input only. The second answer must be the rules'
own answer for it, and (so the case means something) that answer must differ from the
first: an input the memo's key left out would hand the first answer back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from config.rules_loader import load_rule_config
from config.settings import BUNDLED_RULES
from rules.deadline import parse_deadline
from rules.evaluate import AssignmentState, Evaluation, evaluate
from scheduler.tick_memo import Outcomes

CONFIG = load_rule_config(BUNDLED_RULES)
NOW = datetime(2023, 1, 9, 2, tzinfo=UTC)  # nine days after "Tháng 12/2022"
CREATED = datetime(2022, 9, 1, 1, tzinfo=UTC)
ONCE = parse_deadline("Tháng 12/2022")
LATER = datetime(2023, 1, 5, tzinfo=UTC)  # after the January check-in


def state(assignment_id: int, **changes: Any) -> AssignmentState:
    base = AssignmentState(
        assignment_id=assignment_id,
        role="lead",
        status="open",
        status_at=None,
        acknowledged_at=None,
        deadline=ONCE,
        due_override=None,
        milestone=None,
        done_through=None,
        created_at=CREATED,
        sent_keys=frozenset(),
    )
    return replace(base, **changes)


def policy_for(s: AssignmentState) -> tuple[str, Any]:
    kind = None if s.deadline is None else s.deadline.kind
    if kind in ("external", "event"):
        kind = "external" if s.milestone or s.due_override else None
    return CONFIG.select(plan="p", number="1", tags=[], kind=kind, task_policy=None)


def shape(evaluation: Evaluation, assignment_id: int) -> tuple[Any, ...]:
    """An evaluation with its assignment's id taken out, to compare two assignments."""
    prefix = f"a{assignment_id}:"
    reminders = tuple(
        (r.key.removeprefix(prefix), r.stage, r.repeat, r.due_at, r.to, r.occurrence)
        for r in evaluation.reminders
    )
    return reminders, evaluation.next_at


RECURRING = parse_deadline("Hằng tháng")
EXTERNAL = parse_deadline("Theo tiến độ của Đề án 06")
# (what differs, first assignment's inputs, second's): one input apart each.
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("role", {}, {"role": "coordinator"}),
    ("status", {}, {"status": "done"}),
    (
        "status time (an acknowledgement without its own time)",
        {"status": "acknowledged", "status_at": NOW - timedelta(days=2)},
        {"status": "acknowledged", "status_at": NOW - timedelta(days=60)},
    ),
    (
        "acknowledgement time",
        {"status": "acknowledged", "acknowledged_at": NOW - timedelta(days=2)},
        {"status": "acknowledged", "acknowledged_at": NOW - timedelta(days=60)},
    ),
    ("deadline", {}, {"deadline": parse_deadline("Tháng 11/2022")}),
    ("extension", {}, {"due_override": date(2023, 3, 15)}),
    (
        "milestone",
        {"deadline": EXTERNAL, "milestone": date(2022, 12, 31)},
        {"deadline": EXTERNAL, "milestone": date(2023, 2, 28)},
    ),
    (
        "finished occurrences",
        {"deadline": RECURRING},
        {"deadline": RECURRING, "done_through": date(2022, 12, 31)},
    ),
    ("start", {"deadline": None}, {"deadline": None, "created_at": LATER}),
    ("sent reminders", {}, {"sent_keys": frozenset({"{id}:overdue:2022-12-31:1"})}),
]


@pytest.mark.parametrize(("differs", "first", "second"), CASES, ids=[c[0] for c in CASES])
def test_an_input_the_memo_sees_changes_its_answer(
    differs: str, first: dict[str, Any], second: dict[str, Any]
) -> None:
    outcomes = Outcomes(now=NOW, config=CONFIG)
    one = state(7, **first)
    other = state(8, **_keys_of(second, 8))
    name, policy = policy_for(one)
    other_name, other_policy = policy_for(other)
    expected = evaluate(other, other_policy, NOW, config=CONFIG)
    first_answer = outcomes.evaluate(one, name, policy)
    assert shape(first_answer, 7) != shape(expected, 8), f"{differs}: the case tests nothing"
    assert outcomes.evaluate(other, other_name, other_policy) == expected, differs
    assert outcomes.hits == 0


def test_assignments_that_differ_only_in_id_share_one_evaluation() -> None:
    """The reminders come back with each assignment's own id and keys, sent keys too."""
    outcomes = Outcomes(now=NOW, config=CONFIG)
    name, policy = policy_for(state(1))
    sent = {n: frozenset({f"a{n}:overdue:2022-12-31:0", "t5:set_deadline:-:0"}) for n in (1, 2)}
    answers = {n: outcomes.evaluate(state(n, sent_keys=sent[n]), name, policy) for n in (1, 2)}
    assert outcomes.hits == 1
    for n, answer in answers.items():
        assert answer == evaluate(state(n, sent_keys=sent[n]), policy, NOW, config=CONFIG)
        assert answer.reminders and all(r.assignment_id == n for r in answer.reminders)
        assert all(r.key.startswith(f"a{n}:") for r in answer.reminders)


def test_a_policy_by_another_name_is_another_input() -> None:
    outcomes = Outcomes(now=NOW, config=CONFIG)
    one = state(1)
    name, policy = policy_for(one)
    outcomes.evaluate(one, name, policy)
    other = CONFIG.policies["recurring"]
    assert outcomes.evaluate(state(2), "recurring", other) == evaluate(
        state(2), other, NOW, config=CONFIG
    )
    assert outcomes.hits == 0


def _keys_of(changes: dict[str, Any], assignment_id: int) -> dict[str, Any]:
    """Sent keys written with "{id}" for the assignment they belong to."""
    if "sent_keys" not in changes:
        return changes
    keys = frozenset(k.replace("{id}", f"a{assignment_id}") for k in changes["sent_keys"])
    return {**changes, "sent_keys": keys}
