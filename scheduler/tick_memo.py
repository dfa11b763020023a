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

from rules.evaluate import AssignmentState, Evaluation, evaluate, for_assignment, shared_inputs
from rules.policy import Policy, RuleConfig


class Outcomes:
    """`rules.evaluate` at one moment with one config, remembered by its inputs."""

    def __init__(self, *, now: datetime, config: RuleConfig) -> None:
        self.now = now
        self.config = config
        self.hits = 0
        self._found: dict[tuple[str, AssignmentState], Evaluation] = {}

    def evaluate(self, state: AssignmentState, policy_name: str, policy: Policy) -> Evaluation:
        memo_key = (policy_name, shared_inputs(state))
        found = self._found.get(memo_key)
        if found is None:
            found = self._found[memo_key] = evaluate(state, policy, self.now, config=self.config)
            return found
        self.hits += 1
        return Evaluation(
            tuple(for_assignment(r, state.assignment_id) for r in found.reminders),
            found.next_at,
        )
