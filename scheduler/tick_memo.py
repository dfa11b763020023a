"""What one tick evaluates once and reuses: the rules' outcome for assignments that differ
only in their id.

Many assignments come due with the same inputs: the agencies of one task, and tasks of
one plan (or of plans imported from one template) with the same deadline phrase. The
rules read an assignment's id only to write it into the reminders' keys, so one
evaluation answers every assignment whose other inputs are equal: the policy (by name,
within one config), role, status and its times, the deadline, extension, milestone,
completed occurrences, start, and the reminders already sent (their keys with the
assignment's own prefix taken off).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rules.evaluate import AssignmentState, Evaluation, Reminder, evaluate
from rules.policy import Policy, RuleConfig


class Outcomes:
    """`rules.evaluate` at one moment with one config, remembered by its inputs."""

    def __init__(self, *, now: datetime, config: RuleConfig) -> None:
        self.now = now
        self.config = config
        self.hits = 0
        # inputs → (next moment, [(key after the assignment's prefix, reminder)])
        self._found: dict[tuple[Any, ...], tuple[Any, list[tuple[str, Any]]]] = {}

    def evaluate(self, state: AssignmentState, policy_name: str, policy: Policy) -> Evaluation:
        prefix = f"a{state.assignment_id}:"
        memo_key = (
            policy_name,
            state.role,
            state.status,
            state.status_at,
            state.acknowledged_at,
            state.deadline,
            state.due_override,
            state.milestone,
            state.done_through,
            state.created_at,
            _own(state.sent_keys, prefix),
        )
        found = self._found.get(memo_key)
        if found is None:
            evaluation = evaluate(state, policy, self.now, config=self.config)
            size = len(prefix) - 1  # the ":" stays, so no other key can look the same
            self._found[memo_key] = (
                evaluation.next_at,
                [(r.key[size:], r) for r in evaluation.reminders],
            )
            return evaluation
        self.hits += 1
        next_at, reminders = found
        own = prefix[:-1]
        return Evaluation(
            tuple(_as(reminder, own + rest, state.assignment_id) for rest, reminder in reminders),
            next_at,
        )


def _as(reminder: Reminder, key: str, assignment_id: int) -> Reminder:
    """`reminder` for another assignment (`dataclasses.replace`, without its lookups)."""
    return Reminder(
        key=key,
        assignment_id=assignment_id,
        stage=reminder.stage,
        template=reminder.template,
        occurrence=reminder.occurrence,
        repeat=reminder.repeat,
        due_at=reminder.due_at,
        to=reminder.to,
        channels=reminder.channels,
        ask_explanation=reminder.ask_explanation,
    )


def _own(sent: frozenset[str], prefix: str) -> frozenset[str]:
    """Sent keys with this assignment's prefix reduced to its ":"; other keys (a task's
    shared ones, "t12:…") stay whole, and cannot look like a reduced one."""
    if not sent:
        return sent
    size = len(prefix) - 1
    return frozenset(key[size:] if key.startswith(prefix) else key for key in sent)

