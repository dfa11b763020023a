"""From the store to what `rules.evaluate` needs: each assignment's state and policy.

Shared by the daemon (a batch of due assignment ids every tick) and `dondoc preview`
(all of a plan's): a fixed number of queries per batch, never one per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from dondoc.directory import default_office
from dondoc.models import Agency, Assignment, OutboxMessage, Plan, Task
from rules.deadline import UNDATED_KINDS, Deadline
from rules.evaluate import AssignmentState, Reminder, effective_kind
from rules.policy import Policy, RuleConfig

# SQLite before 3.32 allows 999 bound parameters per statement.
_CHUNK = 900
# Assignments written before `created_at` existed count from here.
_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class AssignmentContext:
    """What the daemon needs to address and render a reminder about one assignment."""

    assignment_id: int
    role: str
    agency_id: int
    agency_code: str
    agency_name: str
    agency_locale: str
    plan_id: int
    plan_code: str
    plan_title: str
    owner_id: int | None  # the plan's owner (the office that tracks it)
    owner_code: str | None
    # id, number, section, section_title, title, product, deadline_text, deadline
    task: dict[str, Any] = field(hash=False)

    @property
    def task_id(self) -> int:
        return int(self.task["id"])


StateRow = tuple[AssignmentContext, AssignmentState, str, Policy]


# Setting a date is one decision per task, however many agencies share it.
TASK_LEVEL_TEMPLATES = frozenset({"set_deadline"})


def message_key(
    reminder: Reminder,
    context: AssignmentContext,
    *,
    agency_code: str,
    audience: str,
    channel: str,
) -> str:
    """The outbox key of one message: unique per reminder, recipient and channel.

    Task-level reminders share one key across the task's assignments, so the outbox
    keeps a single message for them (and the preview shows that single message).
    """
    key = reminder.key
    if reminder.template in TASK_LEVEL_TEMPLATES:
        key = f"t{context.task_id}:" + key.split(":", 1)[1]
    suffix = f"{agency_code}#head" if audience == "head" else agency_code
    return f"{key}/{suffix}/{channel}"


def recipients_of(reminder: Reminder, context: AssignmentContext) -> list[tuple[str, str]]:
    """(agency code, audience) pairs a reminder's symbolic `to` list stands for.

    The daemon and the preview both address reminders through this, so what the preview
    shows is what the daemon sends. The office leading a task itself hears it once.
    """
    recipients: dict[tuple[str, str], None] = {}
    for target in reminder.to:
        if target == "self":
            recipients[(context.agency_code, "agency")] = None
        elif target == "head":
            recipients[(context.agency_code, "head")] = None
        elif target == "office":
            if context.owner_code is not None:
                own = context.owner_code == context.agency_code
                recipients.setdefault((context.owner_code, "agency" if own else "office"), None)
        else:
            recipients[(target, "agency")] = None
    return list(recipients)


def load_states(
    session: Session, *, assignment_ids: Sequence[int], config: RuleConfig
) -> list[StateRow]:
    """Context, state, policy name and policy of each active assignment among the ids.

    Assignments or tasks no longer active (dropped from a re-imported plan) are left
    out: nothing is sent about them. Order follows `assignment_ids`.
    """
    ids = list(dict.fromkeys(assignment_ids))
    rows: dict[int, StateRow] = {}
    fallback_office: list[Agency | None] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        sent = _sent_keys(session, chunk)
        for row in _rows(session, chunk):
            if not fallback_office and row[4] is None:
                fallback_office.append(default_office(session))
            office = row[4] if row[4] is not None else (fallback_office or [None])[0]
            built = _build(row, office, sent.get(row[0].id or 0, frozenset()), config)
            rows[built[1].assignment_id] = built
    return [rows[i] for i in ids if i in rows]


def _rows(
    session: Session, ids: list[int]
) -> Iterator[tuple[Assignment, Task, Plan, Agency, Agency | None]]:
    owner = aliased(Agency)
    statement = (
        sa.select(Assignment, Task, Plan, Agency, owner)
        .join(Task, col(Task.id) == Assignment.task_id)
        .join(Plan, col(Plan.id) == Task.plan_id)
        .join(Agency, col(Agency.id) == Assignment.agency_id)
        .outerjoin(owner, col(owner.id) == Plan.owner_agency_id)
        .where(col(Assignment.id).in_(ids), col(Assignment.active), col(Task.active))
    )
    for row in session.execute(statement):
        yield row._tuple()


def _sent_keys(session: Session, ids: list[int]) -> dict[int, frozenset[str]]:
    """Reminder keys already in the outbox, per assignment.

    Outbox rows are keyed f"{reminder key}/{recipient}/{channel}": the reminder key is
    the part before the first "/", shared by all recipients and channels.
    """
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    key = table.c.key
    if session.get_bind().dialect.name == "postgresql":
        prefix: Any = sa.func.split_part(key, "/", 1)
    else:
        slash = sa.func.instr(key, "/")
        prefix = sa.case((slash == 0, key), else_=sa.func.substr(key, 1, slash - 1))
    statement = (
        sa.select(table.c.assignment_id, prefix)
        .where(table.c.assignment_id.in_(ids), table.c.kind == "reminder")
        .distinct()
    )
    found: dict[int, set[str]] = {}
    for assignment_id, reminder_key in session.execute(statement):
        found.setdefault(assignment_id, set()).add(reminder_key)
    return {a: frozenset(keys) for a, keys in found.items()}


def _build(
    row: tuple[Assignment, Task, Plan, Agency, Agency | None],
    office: Agency | None,
    sent: frozenset[str],
    config: RuleConfig,
) -> StateRow:
    assignment, task, plan, agency, _ = row
    deadline = Deadline.from_dict(task.deadline) if task.deadline else None
    milestone = (
        config.milestone_for(deadline.depends_on)
        if deadline is not None and deadline.kind in UNDATED_KINDS and deadline.depends_on
        else None
    )
    kind = effective_kind(deadline, milestone=milestone, due_override=assignment.due_override)
    name, policy = config.select(
        plan=plan.code,
        number=task.number,
        tags=task.tags or [],
        kind=kind,
        task_policy=task.policy,
    )
    state = AssignmentState(
        assignment_id=assignment.id or 0,
        role=assignment.role,
        status=assignment.status,
        status_at=assignment.status_at,
        acknowledged_at=assignment.acknowledged_at,
        deadline=deadline,
        due_override=assignment.due_override,
        milestone=milestone,
        done_through=assignment.done_through,
        created_at=assignment.created_at or plan.imported_at or _LONG_AGO,
        sent_keys=sent,
    )
    context = AssignmentContext(
        assignment_id=assignment.id or 0,
        role=assignment.role,
        agency_id=agency.id or 0,
        agency_code=agency.code,
        agency_name=agency.name,
        agency_locale=agency.locale,
        plan_id=plan.id or 0,
        plan_code=plan.code,
        plan_title=plan.title,
        owner_id=office.id if office else None,
        owner_code=office.code if office else None,
        task={
            "id": task.id,
            "number": task.number,
            "section": task.section_code,
            "section_title": task.section_title,
            "title": task.title,
            "product": task.product,
            "deadline_text": task.deadline_text,
            "deadline": task.deadline,
        },
    )
    return context, state, name, policy
