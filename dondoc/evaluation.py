"""From the store to what `rules.evaluate` needs: each assignment's state and policy.

Shared by the daemon (a batch of due assignment ids every tick) and `dondoc preview`
(all of a plan's): a fixed number of queries per batch, never one per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

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
    out: nothing is sent about them. Order follows `assignment_ids`. Plain rows from two
    fixed statements per chunk, and what a task decides (its deadline, its policy) is
    worked out once per task, however many agencies share it.
    """
    ids = list(dict.fromkeys(assignment_ids))
    rows: dict[int, StateRow] = {}
    builder = _Builder(session, config)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        sent = _sent_keys(session, chunk)
        for row in session.execute(_ROWS, {"ids": chunk}).all():
            rows[row.id] = builder.build(row, sent.get(row.id, frozenset()))
    return [rows[i] for i in ids if i in rows]


_A = Assignment.__table__  # type: ignore[attr-defined]
_T = Task.__table__  # type: ignore[attr-defined]
_P = Plan.__table__  # type: ignore[attr-defined]
_AG = Agency.__table__  # type: ignore[attr-defined]
_OWNER = _AG.alias("owner")
# A fixed statement (an expanding IN): compiled once per process, not once per batch.
_ROWS = (
    sa.select(
        _A.c.id,
        _A.c.task_id,
        _A.c.role,
        _A.c.status,
        _A.c.status_at,
        _A.c.acknowledged_at,
        _A.c.due_override,
        _A.c.done_through,
        _A.c.created_at,
        _T.c.plan_id,
        _T.c.number,
        _T.c.section_code,
        _T.c.section_title,
        _T.c.title,
        _T.c.product,
        _T.c.deadline_text,
        _T.c.deadline,
        _T.c.tags,
        _T.c.policy,
        _P.c.code.label("plan_code"),
        _P.c.title.label("plan_title"),
        _P.c.imported_at,
        _AG.c.id.label("agency_id"),
        _AG.c.code.label("agency_code"),
        _AG.c.name.label("agency_name"),
        _AG.c.locale.label("agency_locale"),
        _OWNER.c.id.label("owner_id"),
        _OWNER.c.code.label("owner_code"),
    )
    .join(_T, _T.c.id == _A.c.task_id)
    .join(_P, _P.c.id == _T.c.plan_id)
    .join(_AG, _AG.c.id == _A.c.agency_id)
    .outerjoin(_OWNER, _OWNER.c.id == _P.c.owner_agency_id)
    .where(_A.c.id.in_(sa.bindparam("ids", expanding=True)), _A.c.active, _T.c.active)
)


@dataclass
class _Task:
    deadline: Deadline | None
    milestone: date | None
    view: dict[str, Any]  # the task part of a message's context, shared by its assignments
    policies: dict[str | None, tuple[str, Policy]] = field(default_factory=dict)


class _Builder:
    """Builds each row's state and context, deciding per task only once."""

    def __init__(self, session: Session, config: RuleConfig) -> None:
        self.session = session
        self.config = config
        self.tasks: dict[int, _Task] = {}
        self._fallback: list[tuple[int | None, str | None]] = []  # the default office

    def _task(self, row: Any) -> _Task:
        task = self.tasks.get(row.task_id)
        if task is not None:
            return task
        deadline = Deadline.from_dict(row.deadline) if row.deadline else None
        milestone = (
            self.config.milestone_for(deadline.depends_on)
            if deadline is not None and deadline.kind in UNDATED_KINDS and deadline.depends_on
            else None
        )
        view = {
            "id": row.task_id,
            "number": row.number,
            "section": row.section_code,
            "section_title": row.section_title,
            "title": row.title,
            "product": row.product,
            "deadline_text": row.deadline_text,
            "deadline": row.deadline,
        }
        task = self.tasks[row.task_id] = _Task(deadline, milestone, view)
        return task

    def _office(self, row: Any) -> tuple[int | None, str | None]:
        if row.owner_id is not None:
            return row.owner_id, row.owner_code
        if not self._fallback:
            office = default_office(self.session)
            self._fallback.append((office.id, office.code) if office else (None, None))
        return self._fallback[0]

    def build(self, row: Any, sent: frozenset[str]) -> StateRow:
        task = self._task(row)
        owner_id, owner_code = self._office(row)
        kind = effective_kind(
            task.deadline, milestone=task.milestone, due_override=row.due_override
        )
        if kind not in task.policies:
            task.policies[kind] = self.config.select(
                plan=row.plan_code,
                number=row.number,
                tags=row.tags or [],
                kind=kind,
                task_policy=row.policy,
            )
        name, policy = task.policies[kind]
        state = AssignmentState(
            assignment_id=row.id,
            role=row.role,
            status=row.status,
            status_at=row.status_at,
            acknowledged_at=row.acknowledged_at,
            deadline=task.deadline,
            due_override=row.due_override,
            milestone=task.milestone,
            done_through=row.done_through,
            created_at=row.created_at or row.imported_at or _LONG_AGO,
            sent_keys=sent,
        )
        context = AssignmentContext(
            assignment_id=row.id,
            role=row.role,
            agency_id=row.agency_id,
            agency_code=row.agency_code,
            agency_name=row.agency_name,
            agency_locale=row.agency_locale,
            plan_id=row.plan_id,
            plan_code=row.plan_code,
            plan_title=row.plan_title,
            owner_id=owner_id,
            owner_code=owner_code,
            task=task.view,
        )
        return context, state, name, policy


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
        .where(
            table.c.assignment_id.in_(sa.bindparam("ids", expanding=True)),
            table.c.kind == "reminder",
        )
        .distinct()
    )
    found: dict[int, set[str]] = {}
    for assignment_id, reminder_key in session.execute(statement, {"ids": ids}):
        found.setdefault(assignment_id, set()).add(reminder_key)
    return {a: frozenset(keys) for a, keys in found.items()}
