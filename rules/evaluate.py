"""Which reminders one assignment is due at `now`, and when anything new can come due.

Pure: the state, its policy, `now` and the config in; reminders and the next moment out.
The daemon evaluates an assignment at `next_at` (an indexed column) and `dondoc preview`
runs the same function over a virtual clock, so both always agree.

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
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cached_property
from itertools import islice
from zoneinfo import ZoneInfo

from rules.deadline import Deadline
from rules.policy import DATED_KINDS, Period, Policy, RuleConfig, Stage

# A search for the next moment gives up after this many candidate moments; a schedule
# that sends nothing for that long sends nothing at all.
_MAX_CANDIDATES = 5_000
# Recurring deadlines repeat at least yearly, so the current cycle began within this.
_LOOKBACK = timedelta(days=400)
_EPOCH_MONDAY = date(1970, 1, 5)


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


@dataclass(frozen=True)
class _Slot:
    """What one track would send at some moment, before the sent keys are consulted."""

    stage: Stage
    occurrence: date | None
    marker: str
    repeat: int
    due_at: datetime


def reminder_key(assignment_id: int, stage: str, marker: str, repeat: int) -> str:
    return f"a{assignment_id}:{stage}:{marker}:{repeat}"


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


# --- Dated stages: cycles around due dates ---------------------------------------------


@dataclass(frozen=True)
class _Cycle:
    """The stages of one due date, as moments sorted by (moment, position in policy)."""

    occurrence: date
    complete: bool
    moments: tuple[tuple[datetime, int, Stage], ...]

    @property
    def first(self) -> datetime:
        return self.moments[0][0]

    def slot_at(self, t: datetime, acknowledged: bool) -> _Slot | None:
        latest = None
        for entry in self.moments:
            if entry[0] > t:
                break
            latest = entry
        if latest is None or self.complete:
            return None
        moment, _, stage = latest
        repeat = 0
        if stage.repeat is not None and not acknowledged:
            step = stage.repeat.every
            while repeat < stage.repeat.max and moment + (repeat + 1) * step <= t:
                repeat += 1
        due_at = moment + stage.repeat.every * repeat if stage.repeat else moment
        return _Slot(stage, self.occurrence, self.occurrence.isoformat(), repeat, due_at)

    @cached_property
    def changes(self) -> tuple[datetime, ...]:
        """Every moment this cycle's output can change: stages and their repeats."""
        found = set()
        for moment, _, stage in self.moments:
            found.add(moment)
            if stage.repeat is not None:
                step = stage.repeat.every
                found.update(moment + step * k for k in range(1, stage.repeat.max + 1))
        return tuple(sorted(found))


class _DatedTrack:
    """Stages counted from due dates: a one-off date, or each occurrence of a recurrence."""

    def __init__(
        self,
        *,
        state: AssignmentState,
        stages: list[tuple[int, Stage]],
        zone: tzinfo,
        ack_until: datetime | None,
    ) -> None:
        self.state = state
        self.zone = zone
        self.ack_until = ack_until
        deadline = state.deadline
        self.recurring = deadline is not None and deadline.kind == "recurring"
        # A recurring deadline has only its occurrences to count from.
        self.stages = [(i, s) for i, s in stages if not self.recurring or s.anchor == "due"]
        offsets = [s.at or 0 for _, s in self.stages]
        self.min_offset = min(offsets, default=0)
        span = max(offsets, default=0) + max(
            ((s.repeat.every * s.repeat.max).days for _, s in self.stages if s.repeat), default=0
        )
        self.lookback = _LOOKBACK + timedelta(days=max(span, 0))
        # One evaluation asks about the same few cycles many times.
        self._memo: dict[tuple[date, date | None, date | None, bool], _Cycle | None] = {}

    def _cycle(
        self, occurrence: date, anchors: dict[str, date | None], complete: bool
    ) -> _Cycle | None:
        memo_key = (occurrence, anchors.get("target"), anchors.get("start"), complete)
        if memo_key not in self._memo:
            self._memo[memo_key] = self._build_cycle(occurrence, anchors, complete)
        return self._memo[memo_key]

    def _build_cycle(
        self, occurrence: date, anchors: dict[str, date | None], complete: bool
    ) -> _Cycle | None:
        moments = []
        for index, stage in self.stages:
            anchor = anchors.get(stage.anchor)
            if anchor is not None:
                day = anchor + timedelta(days=stage.at or 0)
                moments.append((_midnight(day, self.zone), index, stage))
        if not moments:
            return None
        moments.sort(key=lambda m: (m[0], m[1]))
        return _Cycle(occurrence, complete, tuple(moments))

    def _cycles(self, t: datetime) -> Iterator[_Cycle]:
        """The cycle current at `t` (if any), then every later one, in order."""
        state, deadline = self.state, self.state.deadline
        if not self.stages:
            return
        if not self.recurring or deadline is None:
            due = state.due_override or (deadline.due if deadline else None) or state.milestone
            if due is None:
                return
            anchors = {"due": due, "target": None, "start": None}
            if deadline is not None and deadline.kind == "once":
                anchors.update(target=deadline.target, start=deadline.start)
            cycle = self._cycle(due, anchors, _done(state, due))
            if cycle is not None:
                yield cycle
            return
        # Occurrences whose first stage may already have come, and all after them; those
        # due before the assignment existed were never owed.
        limit = t.astimezone(self.zone).date() - timedelta(days=self.min_offset)
        created = state.created_at.astimezone(self.zone).date()
        occurrences = deadline.occurrences(max(limit - self.lookback, created))
        extended = self._extended_occurrence(deadline)
        pending: list[date] = []
        for occurrence in occurrences:
            if occurrence > limit:
                pending.append(occurrence)
                break
            pending = [occurrence]
        for occurrence in _chain(pending, occurrences):
            due = (
                self.state.due_override
                if extended == occurrence and self.state.due_override
                else occurrence
            )
            # Completion is about the plan's occurrence, not the extended date.
            cycle = self._cycle(due, {"due": due}, _done(state, occurrence))
            if cycle is not None:
                yield cycle

    def _extended_occurrence(self, deadline: Deadline) -> date | None:
        # An extension on a recurring task moves the open occurrence it was granted for:
        # the latest one on or before the new date that is not yet complete.
        override = self.state.due_override
        if override is None:
            return None
        done = self.state.done_through
        candidate = None
        for occurrence in deadline.occurrences(override - self.lookback):
            if occurrence > override:
                break
            if done is None or occurrence > done:
                candidate = occurrence
        return candidate

    def slot_at(self, t: datetime) -> _Slot | None:
        current = None
        for cycle in self._cycles(t):
            if cycle.first > t:
                break
            current = cycle
        if current is None:
            return None
        acknowledged = self.ack_until is not None and t < self.ack_until
        return current.slot_at(t, acknowledged)

    def changes_after(self, t: datetime) -> Iterator[datetime]:
        cycles = self._cycles(t)
        cycle = next(cycles, None)
        while cycle is not None:
            following = next(cycles, None)
            # A cycle's moments stop mattering once the next cycle has begun.
            end = following.first if following is not None else None
            for moment in cycle.changes:
                if moment > t and (end is None or moment < end):
                    yield moment
            cycle = following


def _done(state: AssignmentState, occurrence: date) -> bool:
    return state.done_through is not None and occurrence <= state.done_through


def _chain(first: list[date], rest: Iterator[date]) -> Iterator[date]:
    yield from first
    yield from rest


# --- Periodic check-ins: tasks with no date to count from -------------------------------


class _PeriodicTrack:
    """One periodic stage: a check-in at 00:00 local on each period's day."""

    def __init__(self, *, stage: Stage, period: Period, start: datetime, zone: tzinfo) -> None:
        self.stage = stage
        self.period = period
        self.start = start
        self.zone = zone
        # Far enough back to hold the latest check-in, however long the period.
        self.lookback = timedelta(days=(31 if period.unit == "month" else 7) * (period.count + 1))

    def _days_from(self, first: date) -> Iterator[date]:
        period = self.period
        if period.unit == "month":
            index = (first.year * 12 + first.month - 1) // period.count * period.count
            while True:
                year, month = divmod(index, 12)
                day = _day_in_month(year, month + 1, self.stage.day or 1)
                if day >= first:
                    yield day
                index += period.count
        else:
            weeks = (first - _EPOCH_MONDAY).days // 7 // period.count * period.count
            while True:
                day = _EPOCH_MONDAY + timedelta(weeks=weeks, days=(self.stage.day or 1) - 1)
                if day >= first:
                    yield day
                weeks += period.count

    def _moments_from(self, first: date) -> Iterator[datetime]:
        for day in self._days_from(first):
            moment = _midnight(day, self.zone)
            if moment >= self.start:
                yield moment

    def slot_at(self, t: datetime) -> _Slot | None:
        latest = None
        for moment in self._moments_from(t.astimezone(self.zone).date() - self.lookback):
            if moment > t:
                break
            latest = moment
        if latest is None:
            return None
        return _Slot(self.stage, None, latest.date().isoformat(), 0, latest)

    def changes_after(self, t: datetime) -> Iterator[datetime]:
        for moment in self._moments_from(t.astimezone(self.zone).date()):
            if moment > t:
                yield moment


def _day_in_month(year: int, month: int, day: int) -> date:
    # Day 31 of a 30-day month is its last day: "the 31st" means "at the month's end".
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day, last))


# --- Evaluation -------------------------------------------------------------------------

_Track = _DatedTrack | _PeriodicTrack


def effective_kind(
    deadline: Deadline | None, *, milestone: date | None, due_override: date | None
) -> str | None:
    """The deadline kind that picks a policy: None while there is no date to count from.

    An external reference counts as dated once the office set its milestone (or an
    extension gave it a date); until then it is like a task with no deadline.
    """
    if deadline is None:
        return None
    if deadline.kind == "external" and milestone is None and due_override is None:
        return None
    return deadline.kind


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


def _tracks(state: AssignmentState, policy: Policy, config: RuleConfig) -> list[_Track]:
    zone = ZoneInfo(config.timezone)
    stages = policy.stages_for(state.role)
    if _has_date(state):
        dated = [(i, s) for i, s in stages if not s.periodic]
        if not dated:
            return []
        ack_until = _ack_until(state, config)
        return [_DatedTrack(state=state, stages=dated, zone=zone, ack_until=ack_until)]
    return [
        _PeriodicTrack(stage=s, period=s.every, start=state.created_at, zone=zone)
        for _, s in stages
        if s.every is not None
    ]


def _emit(
    state: AssignmentState, tracks: Iterable[_Track], t: datetime, sent: set[str]
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


def _candidates(
    tracks: list[_Track], after: datetime, extra: datetime | None
) -> Iterator[datetime]:
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
