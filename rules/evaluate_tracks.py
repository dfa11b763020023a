"""When each stage of a policy could send: the schedules behind `rules.evaluate`.

A track answers two questions for one assignment: what would it send at `t` (before the
sent keys are consulted), and at which moments after `t` could that answer change. Dated
stages form cycles around due dates; periodic check-ins are calendar-aligned series.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cached_property

from rules.deadline import Deadline
from rules.policy import Stage
from rules.policy_units import Period

# Recurring deadlines repeat at least yearly, so the current cycle began within this.
_LOOKBACK = timedelta(days=400)
_EPOCH_MONDAY = date(1970, 1, 5)


@dataclass(frozen=True)
class TaskDates:
    """What the schedule counts from: the deadline and the assignment's own dates."""

    deadline: Deadline | None
    due_override: date | None
    milestone: date | None
    done_through: date | None
    created_at: datetime

    def complete(self, occurrence: date) -> bool:
        return self.done_through is not None and occurrence <= self.done_through


@dataclass(frozen=True)
class Slot:
    """What one track would send at some moment, before the sent keys are consulted."""

    stage: Stage
    occurrence: date | None
    marker: str
    repeat: int
    due_at: datetime


def midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


# --- Dated stages: cycles around due dates ---------------------------------------------


@dataclass(frozen=True)
class Cycle:
    """The stages of one due date, as moments sorted by (moment, position in policy)."""

    occurrence: date
    complete: bool
    moments: tuple[tuple[datetime, int, Stage], ...]

    @property
    def first(self) -> datetime:
        return self.moments[0][0]

    def slot_at(self, t: datetime, acknowledged: bool) -> Slot | None:
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
        return Slot(stage, self.occurrence, self.occurrence.isoformat(), repeat, due_at)

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


class DatedTrack:
    """Stages counted from due dates: a one-off date, or each occurrence of a recurrence."""

    def __init__(
        self,
        *,
        dates: TaskDates,
        stages: Sequence[tuple[int, Stage]],
        zone: tzinfo,
        ack_until: datetime | None,
    ) -> None:
        self.dates = dates
        self.zone = zone
        self.ack_until = ack_until
        deadline = dates.deadline
        # A recurring deadline, or one of several dates, has only its due dates to count from.
        self.recurring = deadline is not None and deadline.series
        self.stages = [(i, s) for i, s in stages if not self.recurring or s.anchor == "due"]
        offsets = [s.at or 0 for _, s in self.stages]
        self.min_offset = min(offsets, default=0)
        span = max(offsets, default=0) + max(
            ((s.repeat.every * s.repeat.max).days for _, s in self.stages if s.repeat), default=0
        )
        self.lookback = _LOOKBACK + timedelta(days=max(span, 0))
        # One evaluation asks about the same few cycles many times.
        self._memo: dict[tuple[date, date | None, date | None, bool], Cycle | None] = {}

    def _cycle(
        self, occurrence: date, anchors: dict[str, date | None], complete: bool
    ) -> Cycle | None:
        memo_key = (occurrence, anchors.get("target"), anchors.get("start"), complete)
        if memo_key not in self._memo:
            self._memo[memo_key] = self._build_cycle(occurrence, anchors, complete)
        return self._memo[memo_key]

    def _build_cycle(
        self, occurrence: date, anchors: dict[str, date | None], complete: bool
    ) -> Cycle | None:
        moments = []
        for index, stage in self.stages:
            anchor = anchors.get(stage.anchor)
            if anchor is not None:
                day = anchor + timedelta(days=stage.at or 0)
                moments.append((midnight(day, self.zone), index, stage))
        if not moments:
            return None
        moments.sort(key=lambda m: (m[0], m[1]))
        return Cycle(occurrence, complete, tuple(moments))

    def _cycles(self, t: datetime) -> Iterator[Cycle]:
        """The cycle current at `t` (if any), then every later one, in order."""
        dates, deadline = self.dates, self.dates.deadline
        if not self.stages:
            return
        if not self.recurring or deadline is None:
            due = dates.due_override or (deadline.due if deadline else None) or dates.milestone
            if due is None:
                return
            anchors = {"due": due, "target": None, "start": None}
            if deadline is not None and deadline.kind == "once":
                anchors.update(target=deadline.target, start=deadline.start)
            cycle = self._cycle(due, anchors, dates.complete(due))
            if cycle is not None:
                yield cycle
            return
        # Occurrences whose first stage may already have come, and all after them; those
        # of a recurrence due before the assignment existed were never owed.
        limit = t.astimezone(self.zone).date() - timedelta(days=self.min_offset)
        lower = limit - self.lookback
        if not deadline.owed_before_assignment:
            lower = max(lower, dates.created_at.astimezone(self.zone).date())
        occurrences = deadline.occurrences(lower)
        extended = self._extended_occurrence(deadline)
        pending: list[date] = []
        for occurrence in occurrences:
            if occurrence > limit:
                pending.append(occurrence)
                break
            pending = [occurrence]
        for occurrence in _chain(pending, occurrences):
            due = (
                dates.due_override if extended == occurrence and dates.due_override else occurrence
            )
            # Completion is about the plan's occurrence, not the extended date.
            cycle = self._cycle(due, {"due": due}, dates.complete(occurrence))
            if cycle is not None:
                yield cycle

    def _extended_occurrence(self, deadline: Deadline) -> date | None:
        # An extension on a recurring task moves the open occurrence it was granted for:
        # the latest one on or before the new date that is not yet complete.
        override = self.dates.due_override
        if override is None:
            return None
        done = self.dates.done_through
        candidate = None
        for occurrence in deadline.occurrences(override - self.lookback):
            if occurrence > override:
                break
            if done is None or occurrence > done:
                candidate = occurrence
        return candidate

    def slot_at(self, t: datetime) -> Slot | None:
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


def _chain(first: list[date], rest: Iterator[date]) -> Iterator[date]:
    yield from first
    yield from rest


# --- Periodic check-ins: tasks with no date to count from -------------------------------


class PeriodicTrack:
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
            moment = midnight(day, self.zone)
            if moment >= self.start:
                yield moment

    def slot_at(self, t: datetime) -> Slot | None:
        latest = None
        for moment in self._moments_from(t.astimezone(self.zone).date() - self.lookback):
            if moment > t:
                break
            latest = moment
        if latest is None:
            return None
        return Slot(self.stage, None, latest.date().isoformat(), 0, latest)

    def changes_after(self, t: datetime) -> Iterator[datetime]:
        for moment in self._moments_from(t.astimezone(self.zone).date()):
            if moment > t:
                yield moment


def _day_in_month(year: int, month: int, day: int) -> date:
    # Day 31 of a 30-day month is its last day: "the 31st" means "at the month's end".
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day, last))


Track = DatedTrack | PeriodicTrack
