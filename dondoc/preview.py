"""What the plans would send if nobody answered: the daemon's evaluation on a virtual clock.

Each assignment is evaluated at the start, then only at the moments `evaluate` names
(`next_at`), each reminder being counted as sent, exactly as the daemon does. Sending
times go through the office calendar. Statuses, acknowledgements, extensions and the
reminders already in the outbox are taken from the store as they are now; nobody answers
afterwards. An assignment created after the start is previewed as if it existed then.
Assignments whose state differs only by their id (most agencies of a task) share one
simulation (`SharedSchedules`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from dondoc.errors import NotFoundError, UserError
from dondoc.evaluation import AssignmentContext, load_states, message_key, recipients_of
from dondoc.models import Agency, Assignment, Contact, Plan, Task
from rules.calendar import WorkCalendar
from rules.evaluate import AssignmentState, Reminder, evaluate, for_assignment, shared_inputs
from rules.policy import Policy, RuleConfig

# What one assignment sends, and when (after the office calendar).
Schedule = list[tuple[Reminder, datetime]]
# A schedule that keeps asking to be evaluated without sending is a bug, not a plan.
_MAX_STEPS = 10_000


@dataclass(frozen=True)
class PreviewRow:
    """One message to one recipient on one channel."""

    send_at: datetime  # after the office calendar, in the config's time zone
    agency: str  # the recipient agency's code
    audience: str  # "agency" | "head" (the agency head's contact) | "office"
    role: str  # the role of the assignment the reminder is about
    channel: str
    stage: str
    template: str
    plan: str
    number: str
    title: str
    assigned_agency: str  # the agency whose assignment it is
    key: str
    due_at: datetime
    occurrence: date | None
    repeat: int
    ask_explanation: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "send_at": self.send_at.isoformat(),
            "agency": self.agency,
            "audience": self.audience,
            "role": self.role,
            "channel": self.channel,
            "stage": self.stage,
            "template": self.template,
            "task": {"plan": self.plan, "number": self.number, "title": self.title},
            "assigned_agency": self.assigned_agency,
            "key": self.key,
            "due_at": self.due_at.isoformat(),
            "occurrence": self.occurrence.isoformat() if self.occurrence else None,
            "repeat": self.repeat,
            "ask_explanation": self.ask_explanation,
        }


@dataclass(frozen=True)
class Preview:
    start: datetime
    end: datetime
    rows: tuple[PreviewRow, ...]
    assignments: int
    # Telegram messages left out: the recipient has no linked chat, or is a head
    # (reached by the head's own email address).
    telegram_skipped: int = 0

    def per_agency(self) -> list[tuple[str, int]]:
        counts = Counter(row.agency for row in self.rows)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def per_week(self) -> list[tuple[date, int]]:
        """Messages per week, keyed by the week's Monday (local time)."""
        counts = Counter(
            row.send_at.date() - timedelta(days=row.send_at.weekday()) for row in self.rows
        )
        return sorted(counts.items())


def build_preview(
    session: Session,
    *,
    config: RuleConfig,
    start: date,
    end: date,
    plan: str | None = None,
    agency: str | None = None,
    scheduled_only: bool = False,
    calendar: WorkCalendar | None = None,
) -> Preview:
    """Every message from `start` 00:00 to `end` 24:00 (local); `agency` filters recipients.

    `scheduled_only`: simulate only the assignments the daemon will evaluate before the
    end (`next_due_at`); exact for the config in force, and cheap on a large store.
    `calendar`: the config's, already built (with holidays it knows); by default built here.
    """
    if end < start:
        raise UserError(f"--to ({end}) phải sau --from ({start}) (the end is before the start).")
    zone = ZoneInfo(config.timezone)
    start_at = datetime.combine(start, time(0), tzinfo=zone)
    end_at = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone)
    ids = _assignment_ids(
        session, plan=plan, agency=agency, due_before=end_at if scheduled_only else None
    )
    schedules = SharedSchedules(
        config=config, calendar=calendar or config.calendar(), start_at=start_at, end_at=end_at
    )
    found: list[_Address] = []
    for context, state, _name, policy in load_states(session, assignment_ids=ids, config=config):
        state = replace(state, created_at=min(state.created_at, start_at))
        for reminder, send_at in schedules.of(state, policy):
            found.extend(_addresses(reminder, context, send_at.astimezone(zone)))
    # A task-level message (one key for the whole task) is sent once, as the daemon does.
    found = list({message.key: message for message in reversed(found)}.values())[::-1]
    if agency is not None:
        found = [message for message in found if message.agency == agency]
    chats = _agencies_with_chat(session)
    # Rows are made only for what is kept: without linked chats, most messages are not.
    kept = [
        _row(message)
        for message in found
        if message.channel not in ("telegram", "zalo") or _reachable_by_chat(message, chats)
    ]
    kept.sort(key=lambda r: (r.send_at, r.agency, r.plan, _number_key(r.number), r.channel))
    return Preview(
        start=start_at,
        end=end_at,
        rows=tuple(kept),
        assignments=len(ids),
        telegram_skipped=sum(1 for message in found if message.channel == "telegram")
        - sum(1 for row in kept if row.channel == "telegram"),
    )


def _agencies_with_chat(session: Session) -> set[tuple[str, str]]:
    query = (
        select(Agency.code, Contact.channel)
        .join(Contact, col(Contact.agency_id) == Agency.id)
        .where(col(Contact.channel).in_(["telegram", "zalo"]), col(Contact.active))
    )
    return {(code, channel) for code, channel in session.exec(query).all()}


def _reachable_by_chat(message: _Address, chats: set[tuple[str, str]]) -> bool:
    # As the daemon sends: a chat belongs to the agency; the head is reached by email.
    return message.audience != "head" and (message.agency, message.channel) in chats


def _assignment_ids(
    session: Session, *, plan: str | None, agency: str | None, due_before: datetime | None = None
) -> list[int]:
    query = (
        select(Assignment.id)
        .join(Task, col(Task.id) == Assignment.task_id)
        .join(Plan, col(Plan.id) == Task.plan_id)
        .where(col(Assignment.active), col(Task.active))
        .order_by(col(Plan.code), col(Task.position), col(Assignment.id))
    )
    if due_before is not None:
        query = query.where(col(Assignment.next_due_at) < due_before)
    if plan is not None:
        if session.exec(select(Plan.id).where(Plan.code == plan)).first() is None:
            raise NotFoundError("kế hoạch", plan)
        query = query.where(Plan.code == plan)
    if agency is not None and (
        session.exec(select(Agency.id).where(Agency.code == agency)).first() is None
    ):
        raise NotFoundError("cơ quan", agency)
    return [i for i in session.exec(query).all() if i is not None]


def schedule(
    state: AssignmentState,
    policy: Policy,
    *,
    config: RuleConfig,
    calendar: WorkCalendar,
    start_at: datetime,
    end_at: datetime,
) -> Schedule:
    """What one assignment sends in [start_at, end_at) if nobody answers, and when."""
    timeline = [
        (reminder, at, calendar.next_working_time(max(reminder.due_at, at)))
        for reminder, at in _simulate(state, policy, config, start_at, end_at)
    ]
    return _not_superseded(timeline)


class SharedSchedules:
    """`schedule`, worked out once for assignments that differ only by their id.

    The agencies sharing a task mostly share its whole schedule: same deadline, policy,
    role and status, nothing sent yet. The id appears only in reminder keys
    (`a{id}:…`), and only keys with the assignment's own prefix can match what
    `evaluate` emits, so a schedule found for one assignment is another's with the
    prefix swapped. Everything else in the state is part of the key.
    """

    def __init__(
        self, *, config: RuleConfig, calendar: WorkCalendar, start_at: datetime, end_at: datetime
    ) -> None:
        self.config = config
        self.calendar = calendar
        self.start_at = start_at
        self.end_at = end_at
        self._found: dict[tuple[int, AssignmentState], tuple[int, Schedule]] = {}

    @property
    def computed(self) -> int:
        """How many schedules were worked out (the rest were shared)."""
        return len(self._found)

    def of(self, state: AssignmentState, policy: Policy) -> Schedule:
        # Policies are the config's own objects, alive as long as it is: id() is exact.
        key = (id(policy), shared_inputs(state))
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = (
                state.assignment_id,
                schedule(
                    state,
                    policy,
                    config=self.config,
                    calendar=self.calendar,
                    start_at=self.start_at,
                    end_at=self.end_at,
                ),
            )
        first, timeline = found
        if first == state.assignment_id:
            return timeline
        return [(for_assignment(r, state.assignment_id), at) for r, at in timeline]


def _simulate(
    state: AssignmentState,
    policy: Policy,
    config: RuleConfig,
    start_at: datetime,
    end_at: datetime,
) -> list[tuple[Reminder, datetime]]:
    """(reminder, moment it was emitted) for every evaluation in [start_at, end_at)."""
    found: list[tuple[Reminder, datetime]] = []
    sent = set(state.sent_keys)
    now: datetime | None = start_at
    for _ in range(_MAX_STEPS):
        if now is None or now >= end_at:
            return found
        result = evaluate(replace(state, sent_keys=frozenset(sent)), policy, now, config=config)
        for reminder in result.reminders:
            found.append((reminder, now))
            sent.add(reminder.key)
        if result.next_at is not None and result.next_at <= now:
            raise RuntimeError(f"next_at {result.next_at} does not move past {now}")
        now = result.next_at
    raise RuntimeError(f"assignment {state.assignment_id}: over {_MAX_STEPS} evaluations")


def _not_superseded(
    timeline: list[tuple[Reminder, datetime, datetime]],
) -> list[tuple[Reminder, datetime]]:
    """As the daemon's tick does: a reminder still waiting for office hours when a newer
    one of the same assignment comes due is dropped, so only the latest stage is sent."""
    kept = []
    for index, (reminder, emitted, send_at) in enumerate(timeline):
        later = [at for _, at, _ in timeline[index + 1 :] if at > emitted]
        if later and min(later) <= send_at:
            continue
        kept.append((reminder, send_at))
    return kept


class _Address(NamedTuple):
    """One reminder to one recipient on one channel, before it becomes a `PreviewRow`."""

    key: str
    agency: str
    audience: str
    channel: str
    reminder: Reminder
    context: AssignmentContext
    send_at: datetime


def _addresses(reminder: Reminder, context: AssignmentContext, send_at: datetime) -> list[_Address]:
    """One per recipient and channel, as the daemon addresses them."""
    return [
        _Address(
            message_key(reminder, context, agency_code=code, audience=audience, channel=channel),
            code,
            audience,
            channel,
            reminder,
            context,
            send_at,
        )
        for code, audience in recipients_of(reminder, context)
        for channel in reminder.channels
    ]


def _row(message: _Address) -> PreviewRow:
    reminder, context = message.reminder, message.context
    return PreviewRow(
        send_at=message.send_at,
        agency=message.agency,
        audience=message.audience,
        role=context.role,
        channel=message.channel,
        stage=reminder.stage,
        template=reminder.template,
        plan=context.plan_code,
        number=str(context.task["number"]),
        title=str(context.task["title"]),
        assigned_agency=context.agency_code,
        key=message.key,
        due_at=reminder.due_at,
        occurrence=reminder.occurrence,
        repeat=reminder.repeat,
        ask_explanation=reminder.ask_explanation,
    )


def _number_key(number: str) -> tuple[int, str]:
    head = number.split(".", 1)[0]
    return (int(head) if head.isdigit() else 10**9, number)
