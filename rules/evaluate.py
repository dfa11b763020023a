"""Which reminders one assignment is due at `now`, and when anything new can come due.

Pure: the state, its policy, `now` and the config in; reminders and the next moment out.
The daemon evaluates an assignment at `next_at` (an indexed column) and `dondoc preview`
runs the same function over a virtual clock, so both always agree. When each stage could
send is worked out in `rules.evaluate_tracks`; what is sent, given what already was, here.

The rules, per cycle (one due date, or one occurrence of a recurring deadline):
- a stage's moment is 00:00 local on its anchor + `at`; the daemon moves the sending
  into office hours;
- only the latest stage whose moment has come may send: an earlier stage that never went
  out is superseded, never sent late; of its repeats only the latest is sent;
- an acknowledgement that has not lapsed stops repeats, not later stages; done stops
  everything; a recurring deadline runs one cycle at a time;
- tasks with no date (ongoing, no deadline, external reference without a milestone) get
  the policy's periodic check-ins instead, one per period from the assignment's start.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from zoneinfo import ZoneInfo

from rules.deadline import UNDATED_KINDS, Deadline
from rules.evaluate_tracks import DatedTrack, PeriodicTrack, TaskDates, Track, midnight
from rules.policy import DATED_KINDS, Policy, RuleConfig

# A search for the next moment gives up after this many candidate moments; a schedule
# that sends nothing for that long sends nothing at all.
_MAX_CANDIDATES = 5_000


@dataclass(frozen=True)
class AssignmentState:
    assignment_id: int
    role: str  # "lead" | "coordinator"
    status: str  # "open" | "acknowledged" | "done"
    status_at: datetime | None
    acknowledged_at: datetime | None
    deadline: Deadline | None  # None: no deadline set
    due_override: date | None  # approved extension
    milestone: date | None  # office-set date for an external reference
    done_through: date | None  # recurring: occurrences up to here are complete
    created_at: datetime
    sent_keys: frozenset[str]  # reminder keys already recorded (outbox)


@dataclass(frozen=True)
class Reminder:
    key: str  # f"a{assignment_id}:{stage}:{occurrence or check-in date or '-'}:{repeat}"
    assignment_id: int
    stage: str
    template: str
    occurrence: date | None  # the due date this reminder is about; None for check-ins
    repeat: int  # 0 for the first send of the stage
    due_at: datetime  # the nominal moment it became due (aware, config timezone)
    to: tuple[str, ...]  # "self", "head", "office" or agency codes
    channels: tuple[str, ...]
    ask_explanation: bool


@dataclass(frozen=True)
class Evaluation:
    reminders: tuple[Reminder, ...]
    next_at: datetime | None  # the earliest moment > now with something new; None: never


def reminder_key(assignment_id: int, stage: str, marker: str, repeat: int) -> str:
    return f"a{assignment_id}:{stage}:{marker}:{repeat}"


# --- Sharing one evaluation between assignments -----------------------------------------
# The rules read an assignment's id only to write it into its reminders' keys, and look up
# only keys with its own prefix among those sent. So assignments whose states are equal once
# the id and that prefix are taken out get the same reminders, each keyed its own: the tick
# and the preview evaluate such a group once.


def shared_inputs(state: AssignmentState) -> AssignmentState:
    """`state` without what is the assignment's own: the id, and the prefix of its sent
    keys (keys of other assignments can never match, so they are left out)."""
    own = f"a{state.assignment_id}:"
    size = len(own)
    return AssignmentState(
        assignment_id=0,
        role=state.role,
        status=state.status,
        status_at=state.status_at,
        acknowledged_at=state.acknowledged_at,
        deadline=state.deadline,
        due_override=state.due_override,
        milestone=state.milestone,
        done_through=state.done_through,
        created_at=state.created_at,
        sent_keys=frozenset(key[size:] for key in state.sent_keys if key.startswith(own)),
    )


def for_assignment(reminder: Reminder, assignment_id: int) -> Reminder:
    """`reminder`, found for an assignment with the same shared inputs, for this one."""
    own = f"a{reminder.assignment_id}:"
    if not reminder.key.startswith(own):
        raise ValueError(f"reminder key {reminder.key!r} does not start with {own!r}")
    # Built directly rather than with dataclasses.replace: a busy tick does this per row.
    return Reminder(
        key=f"a{assignment_id}:{reminder.key[len(own) :]}",
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


# --- Evaluation -------------------------------------------------------------------------


def effective_kind(
    deadline: Deadline | None, *, milestone: date | None, due_override: date | None
) -> str | None:
    """The deadline kind that picks a policy: None while there is no date to count from.

    An external reference or an event-driven task ("Khi có yêu cầu") counts as dated
    once the office set its milestone (or an extension gave it a date); until then it is
    like a task with no deadline. A dated event is then chased as an external one is.
    """
    if deadline is None:
        return None
    if deadline.kind in UNDATED_KINDS and milestone is None and due_override is None:
        return None
    return "external" if deadline.kind == "event" else deadline.kind


def _has_date(state: AssignmentState) -> bool:
    kind = effective_kind(
        state.deadline, milestone=state.milestone, due_override=state.due_override
    )
    return kind in DATED_KINDS


def _ack_until(state: AssignmentState, config: RuleConfig) -> datetime | None:
    if state.status != "acknowledged":
        return None
    since = state.acknowledged_at or state.status_at
    return None if since is None else since + config.ack_timeout


def _tracks(state: AssignmentState, policy: Policy, config: RuleConfig) -> list[Track]:
    zone = ZoneInfo(config.timezone)
    stages = policy.stages_for(state.role)
    if _has_date(state):
        dated = [(i, s) for i, s in stages if not s.periodic]
        if not dated:
            return []
        ack_until = _ack_until(state, config)
        dates = TaskDates(
            deadline=state.deadline,
            due_override=state.due_override,
            milestone=state.milestone,
            done_through=state.done_through,
            created_at=state.created_at,
        )
        return [DatedTrack(dates=dates, stages=dated, zone=zone, ack_until=ack_until)]
    start = state.created_at
    deadline = state.deadline
    if deadline is not None and deadline.kind == "ongoing" and deadline.start is not None:
        # "Từ năm 2026": nothing is owed before the start, so no check-in either.
        start = max(start, midnight(deadline.start, zone))
    return [
        PeriodicTrack(stage=s, period=s.every, start=start, zone=zone)
        for _, s in stages
        if s.every is not None
    ]


def _emit(
    state: AssignmentState, tracks: Iterable[Track], t: datetime, sent: set[str]
) -> list[Reminder]:
    found = []
    for track in tracks:
        slot = track.slot_at(t)
        if slot is None:
            continue
        key = reminder_key(state.assignment_id, slot.stage.name, slot.marker, slot.repeat)
        if key in sent:
            continue
        stage = slot.stage
        found.append(
            Reminder(
                key=key,
                assignment_id=state.assignment_id,
                stage=stage.name,
                template=stage.template,
                occurrence=slot.occurrence,
                repeat=slot.repeat,
                due_at=slot.due_at,
                to=stage.recipients(state.role),
                channels=stage.channels,
                ask_explanation=stage.ask_explanation,
            )
        )
    return found


def _candidates(tracks: list[Track], after: datetime, extra: datetime | None) -> Iterator[datetime]:
    streams = [track.changes_after(after) for track in tracks]
    if extra is not None and extra > after:
        streams.append(iter([extra]))
    previous = None
    for moment in heapq.merge(*streams):
        if moment != previous:
            yield moment
        previous = moment


def evaluate(
    state: AssignmentState, policy: Policy, now: datetime, *, config: RuleConfig
) -> Evaluation:
    """The reminders due at `now` that were not sent yet, and when to look again."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"evaluate needs a time-zone-aware now, got {now!r}")
    if state.status == "done":
        return Evaluation((), None)
    tracks = _tracks(state, policy, config)
    sent = set(state.sent_keys)
    reminders = _emit(state, tracks, now, sent)
    sent.update(r.key for r in reminders)
    next_at = None
    ack_lapse = _ack_until(state, config)
    for moment in islice(_candidates(tracks, now, ack_lapse), _MAX_CANDIDATES):
        if _emit(state, tracks, moment, sent):
            next_at = moment
            break
    return Evaluation(tuple(reminders), next_at)
