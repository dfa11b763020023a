"""From the store to what `rules.evaluate` needs: each assignment's state and policy.

Shared by the daemon (a batch of due assignment ids every tick) and `dondoc preview`
(all of a plan's): a fixed number of queries per batch, never one per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from dondoc.columns import UTCDateTime
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
    session: Session,
    *,
    assignment_ids: Sequence[int],
    config: RuleConfig,
    loader: StateLoader | None = None,
) -> list[StateRow]:
    """Context, state, policy name and policy of each active assignment among the ids.

    Assignments or tasks no longer active (dropped from a re-imported plan) are left
    out: nothing is sent about them. Order follows `assignment_ids`. Plain rows from two
    fixed statements per chunk; what a deadline or a task decides (the parsed deadline,
    the policy) is worked out once per distinct value. Pass one `loader` for all the
    batches of a tick, so that holds across them.
    """
    loader = loader or StateLoader(config)
    ids = list(dict.fromkeys(assignment_ids))
    rows: dict[int, StateRow] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        sent = _sent_keys(session, chunk)
        for row in session.execute(_ROWS, {"ids": chunk}).all():
            rows[row[0]] = loader.build(session, row, sent.get(row[0], frozenset()))
    return [rows[i] for i in ids if i in rows]


_A = Assignment.__table__  # type: ignore[attr-defined]
_T = Task.__table__  # type: ignore[attr-defined]
_P = Plan.__table__  # type: ignore[attr-defined]
_AG = Agency.__table__  # type: ignore[attr-defined]
_OWNER = _AG.alias("owner")


def _raw(column: Any) -> Any:
    """A column read as the driver gives it: SQLite's text, parsed by `StateLoader`
    once per distinct value (thousands of rows share a few timestamps and deadlines)."""
    return sa.type_coerce(column, sa.String).label(column.name)


# A fixed statement (an expanding IN): compiled once per process, not once per batch.
_ROWS = (
    sa.select(
        _A.c.id,
        _A.c.task_id,
        _A.c.role,
        _A.c.status,
        _raw(_A.c.status_at),
        _raw(_A.c.acknowledged_at),
        _A.c.due_override,
        _A.c.done_through,
        _raw(_A.c.created_at),
        _T.c.plan_id,
        _T.c.number,
        _T.c.section_code,
        _T.c.section_title,
        _T.c.title,
        _T.c.product,
        _T.c.deadline_text,
        _raw(_T.c.deadline),
        _raw(_T.c.tags),
        _T.c.policy,
        _P.c.code.label("plan_code"),
        _P.c.title.label("plan_title"),
        _raw(_P.c.imported_at),
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


@dataclass(frozen=True)
class _Deadline:
    """One stored deadline, parsed: many tasks share a phrase ("Tháng 12/2022")."""

    stored: dict[str, Any]  # as stored: part of every message's context
    parsed: Deadline
    milestone: date | None


class StateLoader:
    """Builds each row's state and context; parses each distinct stored value once.

    What it remembers is keyed by the stored value itself (a deadline's text, a
    timestamp's text, what picks a policy), so it cannot go stale between the batches it
    serves; only the default office (for plans without an owner) is read once, as the
    tick reads the directory once.
    """

    def __init__(self, config: RuleConfig) -> None:
        self.config = config
        self._deadlines: dict[Any, _Deadline | None] = {}
        self._policies: dict[tuple[Any, ...], tuple[str, Policy]] = {}
        self._moments: dict[Any, datetime | None] = {None: None}
        self._moment: Any = None  # the timestamp column's result processor, per dialect
        self._fallback: list[tuple[int | None, str | None]] = []  # the default office

    def _at(self, session: Session, raw: Any) -> datetime | None:
        found = self._moments.get(raw, _MISSING)
        if found is _MISSING:
            if self._moment is None:
                dialect = session.get_bind().dialect
                self._moment = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
            found = self._moments[raw] = self._moment(raw) if self._moment else raw
        return found  # type: ignore[return-value]

    def _deadline(self, raw: Any) -> _Deadline | None:
        # SQLite gives the stored JSON text; PostgreSQL's driver gives it parsed.
        memo_key = raw if raw is None or isinstance(raw, str) else json.dumps(raw, sort_keys=True)
        if memo_key not in self._deadlines:
            stored = json.loads(raw) if isinstance(raw, str) else raw
            found = None
            if stored:
                parsed = Deadline.from_dict(stored)
                milestone = (
                    self.config.milestone_for(parsed.depends_on)
                    if parsed.kind in UNDATED_KINDS and parsed.depends_on
                    else None
                )
                found = _Deadline(stored, parsed, milestone)
            self._deadlines[memo_key] = found
        return self._deadlines[memo_key]

    def _policy(
        self, plan: str, number: str, tags: Any, kind: str | None, task_policy: str | None
    ) -> tuple[str, Policy]:
        memo_key = (plan, number, tags, kind, task_policy)
        found = self._policies.get(memo_key)
        if found is None:
            # SQLite gives the stored JSON text; PostgreSQL's driver gives the list.
            listed = json.loads(tags) if isinstance(tags, str) else tags
            found = self._policies[memo_key] = self.config.select(
                plan=plan, number=number, tags=listed or [], kind=kind, task_policy=task_policy
            )
        return found

    def _office(self, session: Session) -> tuple[int | None, str | None]:
        if not self._fallback:
            office = default_office(session)
            self._fallback.append((office.id, office.code) if office else (None, None))
        return self._fallback[0]

    def build(self, session: Session, row: Any, sent: frozenset[str]) -> StateRow:
        """`row` is a row of `_ROWS`, read by position: a row's attributes by name cost
        a microsecond each, and there are 28 of them."""
        (
            assignment_id,
            task_id,
            role,
            status,
            status_at,
            acknowledged_at,
            due_override,
            done_through,
            created_at,
            plan_id,
            number,
            section_code,
            section_title,
            title,
            product,
            deadline_text,
            stored_deadline,
            tags,
            task_policy,
            plan_code,
            plan_title,
            imported_at,
            agency_id,
            agency_code,
            agency_name,
            agency_locale,
            owner_id,
            owner_code,
        ) = row
        deadline = self._deadline(stored_deadline)
        parsed = deadline.parsed if deadline else None
        milestone = deadline.milestone if deadline else None
        if owner_id is None:
            owner_id, owner_code = self._office(session)
        kind = effective_kind(parsed, milestone=milestone, due_override=due_override)
        listed = tags if tags is None or isinstance(tags, str) else tuple(tags)
        name, policy = self._policy(plan_code, number, listed, kind, task_policy)
        started = self._at(session, created_at) or self._at(session, imported_at)
        state = AssignmentState(
            assignment_id=assignment_id,
            role=role,
            status=status,
            status_at=self._at(session, status_at),
            acknowledged_at=self._at(session, acknowledged_at),
            deadline=parsed,
            due_override=due_override,
            milestone=milestone,
            done_through=done_through,
            created_at=started or _LONG_AGO,
            sent_keys=sent,
        )
        view = {
            "id": task_id,
            "number": number,
            "section": section_code,
            "section_title": section_title,
            "title": title,
            "product": product,
            "deadline_text": deadline_text,
            "deadline": deadline.stored if deadline else None,
        }
        context = AssignmentContext(
            assignment_id=assignment_id,
            role=role,
            agency_id=agency_id,
            agency_code=agency_code,
            agency_name=agency_name,
            agency_locale=agency_locale,
            plan_id=plan_id,
            plan_code=plan_code,
            plan_title=plan_title,
            owner_id=owner_id,
            owner_code=owner_code,
            task=view,
        )
        return context, state, name, policy


_MISSING = object()


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
