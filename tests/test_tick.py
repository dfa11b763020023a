"""The tick's bulk path queues exactly what a straightforward evaluation, one assignment
at a time through the ORM, would; a message's copies share one stored context."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from conftest import EXAMPLE_PLAN
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.rules_loader import load_rule_config
from config.settings import BUNDLED_RULES
from dondoc.actions import set_status
from dondoc.directory import BUNDLED_DIRECTORY, default_office, load_directory, read_directory_file
from dondoc.evaluation import AssignmentContext, message_key, recipients_of
from dondoc.message_facts import Facts
from dondoc.models import (
    Agency,
    Assignment,
    Contact,
    Explanation,
    MessageContext,
    OutboxMessage,
    Plan,
    Task,
)
from dondoc.outbox import prune_sent, with_shared_context
from dondoc.plan_import import import_plan
from dondoc.store import session_scope
from rules.deadline import UNDATED_KINDS, Deadline
from rules.evaluate import AssignmentState, effective_kind, evaluate
from scheduler.tick import CHAT_CHANNELS, run_tick

CONFIG = load_rule_config(BUNDLED_RULES)
CALENDAR = CONFIG.calendar()
ZONE = ZoneInfo(CONFIG.timezone)
IMPORTED = datetime(2022, 10, 20, 3, tzinfo=UTC)
CHANNELS = {"email", "telegram"}
LINK = "https://t.me/dondoc_test_bot"
# Before, around and long after the example plan's deadlines: every stage and escalation.
MOMENTS = [
    datetime(2022, 11, 2, 1, tzinfo=UTC),
    datetime(2022, 12, 1, 2, tzinfo=UTC),
    datetime(2022, 12, 19, 1, tzinfo=UTC),
    datetime(2023, 1, 3, 1, tzinfo=UTC),
    datetime(2023, 2, 13, 1, tzinfo=UTC),
    datetime(2023, 4, 3, 1, tzinfo=UTC),
    datetime(2023, 7, 3, 1, tzinfo=UTC),
]


def varied_store(engine: Engine) -> Engine:
    """Two plans (one without an owner), linked chats, answers, an explanation, an
    extension and a finished recurring occurrence: every branch the tick takes."""
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    with session_scope(engine) as session:
        import_plan(session, path=EXAMPLE_PLAN, now=IMPORTED, plan_code="nq131")
        import_plan(session, path=EXAMPLE_PLAN, now=IMPORTED, plan_code="no-owner")
    with session_scope(engine) as session:
        plan = session.exec(select(Plan).where(Plan.code == "no-owner")).one()
        plan.owner_agency_id = None
        session.add(plan)
        for n, agency_id in enumerate(session.exec(select(Agency.id).order_by(col(Agency.id)))):
            if n % 3 == 0:
                active = n % 9 != 0  # an unlinked chat must not count
                session.add(
                    Contact(
                        agency_id=agency_id or 0, channel="telegram", address=str(n), active=active
                    )
                )
        rows = session.exec(select(Assignment).order_by(col(Assignment.id))).all()
        for n, assignment in enumerate(rows):
            if n % 7 == 1:
                set_status(
                    session,
                    assignment=assignment,
                    status="acknowledged",
                    actor="t",
                    now=IMPORTED + timedelta(days=40),
                )
            elif n % 11 == 2:
                set_status(
                    session,
                    assignment=assignment,
                    status="done",
                    actor="t",
                    now=IMPORTED + timedelta(days=50),
                )
            elif n % 13 == 3:
                assignment.due_override = date(2023, 3, 15)
            elif n % 17 == 4:
                session.add(
                    Explanation(
                        assignment_id=assignment.id or 0,
                        text="Lý do",
                        author="t",
                        at=IMPORTED + timedelta(days=60),
                    )
                )
            elif n % 19 == 5:
                assignment.done_through = date(2022, 12, 31)
            assignment.next_due_at = IMPORTED
            session.add(assignment)
    return engine


def reference_rows(session: Session, now: datetime) -> tuple[list[dict[str, Any]], dict[int, Any]]:
    """What the tick must queue at `now`, worked out one assignment at a time."""
    agencies = {a.code: a for a in session.exec(select(Agency)).all()}
    contacts = session.exec(select(Contact).where(Contact.active)).all()
    chats = {(c.agency_id, c.channel) for c in contacts}
    due = session.exec(
        select(Assignment).where(col(Assignment.next_due_at) <= now, col(Assignment.active))
    ).all()
    rows: list[dict[str, Any]] = []
    next_at: dict[int, Any] = {}
    for assignment in due:
        task = session.get(Task, assignment.task_id)
        if task is None or not task.active:
            next_at[assignment.id or 0] = None
            continue
        plan = session.get(Plan, task.plan_id)
        agency = session.get(Agency, assignment.agency_id)
        assert plan is not None and agency is not None
        office = session.get(Agency, plan.owner_agency_id) if plan.owner_agency_id else None
        office = office or default_office(session)
        deadline = Deadline.from_dict(task.deadline) if task.deadline else None
        milestone = (
            CONFIG.milestone_for(deadline.depends_on)
            if deadline and deadline.kind in UNDATED_KINDS and deadline.depends_on
            else None
        )
        kind = effective_kind(deadline, milestone=milestone, due_override=assignment.due_override)
        _, policy = CONFIG.select(
            plan=plan.code,
            number=task.number,
            tags=task.tags or [],
            kind=kind,
            task_policy=task.policy,
        )
        sent = {
            key.split("/", 1)[0]
            for key in session.exec(
                select(OutboxMessage.key).where(
                    OutboxMessage.assignment_id == assignment.id, OutboxMessage.kind == "reminder"
                )
            )
        }
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
            created_at=assignment.created_at or plan.imported_at or IMPORTED,
            sent_keys=frozenset(sent),
        )
        view = {
            "id": task.id,
            "number": task.number,
            "section": task.section_code,
            "section_title": task.section_title,
            "title": task.title,
            "product": task.product,
            "deadline_text": task.deadline_text,
            "deadline": task.deadline,
        }
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
            task=view,
        )
        explanations = session.exec(
            select(Explanation).where(Explanation.assignment_id == assignment.id)
        ).all()
        leads = [
            session.get(Agency, a.agency_id).name  # type: ignore[union-attr]
            for a in session.exec(
                select(Assignment)
                .where(
                    Assignment.task_id == task.id, Assignment.role == "lead", col(Assignment.active)
                )
                .order_by(col(Assignment.id))
            )
        ]
        facts = Facts(tuple(e.at.astimezone(ZONE).date() for e in explanations), tuple(leads))
        evaluation = evaluate(state, policy, now, config=CONFIG)
        next_at[assignment.id or 0] = evaluation.next_at
        for reminder in evaluation.reminders:
            explained = facts.explained(reminder.occurrence, task.deadline)
            office_email = None
            if office is not None:
                emails = sorted(
                    (c for c in contacts if c.agency_id == office.id and c.channel == "email"),
                    key=lambda c: (c.is_head, c.id or 0),
                )
                office_email = emails[0].address if emails else None
            for code, audience in recipients_of(reminder, context):
                recipient = agencies.get(code)
                if recipient is None:
                    continue
                for channel in reminder.channels:
                    linked = audience != "head" and (recipient.id, channel) in chats
                    if channel not in CHANNELS or (channel in CHAT_CHANNELS and not linked):
                        continue
                    rows.append(
                        {
                            "key": message_key(
                                reminder,
                                context,
                                agency_code=code,
                                audience=audience,
                                channel=channel,
                            ),
                            "channel": channel,
                            "agency_id": recipient.id,
                            "assignment_id": assignment.id,
                            "stage": reminder.stage,
                            "template": reminder.template,
                            "due_at": reminder.due_at,
                            "next_attempt_at": CALENDAR.next_working_time(
                                max(reminder.due_at, now)
                            ),
                            "context": {
                                "assignment_id": reminder.assignment_id,
                                "role": assignment.role,
                                "stage": reminder.stage,
                                "template": reminder.template,
                                "repeat": reminder.repeat,
                                "ask_explanation": reminder.ask_explanation and not explained,
                                "explained": explained,
                                "occurrence": reminder.occurrence.isoformat()
                                if reminder.occurrence
                                else None,
                                "audience": audience,
                                "plan": {"code": plan.code, "title": plan.title},
                                "task": {**view, "leads": leads},
                                "agency": {"code": agency.code, "name": agency.name},
                                "recipient": {"code": recipient.code, "name": recipient.name},
                                "office": {"code": office.code, "name": office.name}
                                if office
                                else None,
                                "answer": {"telegram_link": LINK, "reply_email": office_email},
                            },
                        }
                    )
    return rows, next_at


def _queued(session: Session, after: int) -> list[dict[str, Any]]:
    rows = list(
        session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.id) > after)
            .order_by(col(OutboxMessage.id))
        ).all()
    )
    with_shared_context(session, rows)
    names = (
        "key",
        "channel",
        "agency_id",
        "assignment_id",
        "stage",
        "template",
        "due_at",
        "next_attempt_at",
        "context",
    )
    return [{name: getattr(row, name) for name in names} for row in rows]


def _candidates(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    # A task-level reminder is one message for the task: whichever of its assignments
    # comes first queues it, so any of theirs may be the row.
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["key"], []).append(row)
    return found


def test_the_bulk_tick_queues_what_a_per_row_evaluation_would(engine: Engine) -> None:
    store = varied_store(engine)
    queued, stages = 0, set()
    for now in MOMENTS:
        with session_scope(store) as session:
            expected, next_at = reference_rows(session, now)
            last = session.exec(sa.select(sa.func.max(OutboxMessage.id))).one()[0] or 0
        result = run_tick(
            store,
            config=CONFIG,
            calendar=CALENDAR,
            now=now,
            channels=CHANNELS,
            telegram_link=LINK,
            batch=37,
        )  # many batches, some mid-task
        with session_scope(store) as session:
            actual = _queued(session, last)
            stored = dict(
                session.exec(
                    select(Assignment.id, Assignment.next_due_at).where(
                        col(Assignment.id).in_(list(next_at))
                    )
                ).all()
            )
        want = _candidates(expected)
        got = {row["key"]: row for row in actual}
        assert len(got) == len(actual) == result.enqueued
        assert sorted(got) == sorted(want), now
        for key, row in got.items():
            assert row in want[key], (now, key)
        assert stored == next_at, now
        assert result.evaluated == len(next_at)
        queued += len(got)
        stages |= {row["stage"] for row in actual}
    assert queued > 300 and len(stages) >= 4  # the moments queue messages of many kinds


def test_copies_of_a_message_share_one_stored_context_until_pruned(engine: Engine) -> None:
    store = varied_store(engine)
    now = datetime(2023, 1, 3, 1, tzinfo=UTC)
    run_tick(store, config=CONFIG, calendar=CALENDAR, now=now, channels=CHANNELS)
    with session_scope(store) as session:
        rows = session.exec(select(OutboxMessage)).all()
        contexts = session.exec(select(MessageContext)).all()
        assert rows and all(r.context_id is not None for r in rows)
        # Recipients and channels of one reminder share its context.
        assert len(contexts) == len({r.key.split("/", 1)[0] for r in rows}) < len(rows)
        assert all(set(r.context) == {"audience", "recipient"} for r in rows)
        shared = {r.context_id for r in rows if r.key.startswith(rows[0].key.split("/")[0])}
        assert len(shared) == 1
        # Half the rows were sent long ago; the rest only now.
        ids = [r.id for r in rows]
        old, recent = ids[: len(ids) // 2], ids[len(ids) // 2 :]
        table = OutboxMessage.__table__  # type: ignore[attr-defined]
        for chosen, when in ((old, now - timedelta(days=500)), (recent, now)):
            session.execute(
                sa.update(table)
                .where(table.c.id.in_(chosen))
                .values(status="sent", sent_at=when, next_attempt_at=when)
            )
    with session_scope(store) as session:
        while prune_sent(session, before=now - timedelta(days=400)):
            pass
    with session_scope(store) as session:
        rows = session.exec(select(OutboxMessage)).all()
        left = {c.id for c in session.exec(select(MessageContext)).all()}
        used = {r.context_id for r in rows if r.context_id is not None}
        assert used == left  # what no row uses is gone, what a recent row uses stays
        assert all(r.context_id is None and r.context == {} for r in rows if r.status == "pruned")
        kept = [r for r in rows if r.status == "sent"]
        with_shared_context(session, kept)
        assert all(r.context["task"]["title"] and r.context["recipient"] for r in kept)


@pytest.mark.postgres
def test_two_daemons_evaluate_each_due_assignment_once(postgres_url: str) -> None:
    """Two ticks at once on one PostgreSQL, in small batches: every due assignment is
    evaluated by exactly one of them, and the outbox is what one tick alone queues."""
    import threading

    from dondoc.store import make_engine, migrate

    engines = [make_engine(postgres_url) for _ in range(2)]
    migrate(engines[0])
    varied_store(engines[0])
    now = MOMENTS[3]
    with session_scope(engines[0]) as session:
        expected, next_at = reference_rows(session, now)
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def daemon(engine: Engine) -> None:
        try:
            start.wait()
            results.append(
                run_tick(
                    engine,
                    config=CONFIG,
                    calendar=CALENDAR,
                    now=now,
                    channels=CHANNELS,
                    telegram_link=LINK,
                    batch=5,
                )
            )
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=daemon, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors
    with session_scope(engines[0]) as session:
        got = {row["key"]: row for row in _queued(session, 0)}
    assert sum(r.evaluated for r in results) == len(next_at)
    assert all(r.evaluated for r in results)  # both took part
    want = _candidates(expected)
    assert sorted(got) == sorted(want)
    assert all(row in want[key] for key, row in got.items())
    for engine in engines:
        engine.dispose()


@pytest.mark.postgres
def test_a_tick_skips_what_another_daemon_is_evaluating(postgres_url: str) -> None:
    """Rows another daemon's open batch holds are neither waited for nor evaluated."""
    import threading

    from dondoc.store import make_engine, migrate
    from scheduler.tick import claim_due

    engine = make_engine(postgres_url)
    migrate(engine)
    varied_store(engine)
    now = MOMENTS[0]
    with session_scope(engine) as session:
        due = len(claim_due(session, now=now, limit=100_000))
    other = Session(engine)
    try:
        held = claim_due(other, now=now, limit=10)  # the other daemon, mid-batch
        results: list[Any] = []
        thread = threading.Thread(
            target=lambda: results.append(
                run_tick(
                    engine, config=CONFIG, calendar=CALENDAR, now=now, channels=CHANNELS, batch=50
                )
            )
        )
        thread.start()
        thread.join(timeout=120)
        assert not thread.is_alive(), "the tick waited for another daemon's rows"
        assert results[0].evaluated == due - len(held) > 0
        with session_scope(engine) as session:
            waiting = session.exec(
                select(Assignment.id).where(col(Assignment.next_due_at) <= now)
            ).all()
        assert sorted(waiting) == sorted(held)
    finally:
        other.rollback()
        other.close()
    again = run_tick(engine, config=CONFIG, calendar=CALENDAR, now=now, channels=CHANNELS)
    assert again.evaluated == len(held)
    engine.dispose()


@pytest.mark.postgres
def test_the_same_key_queued_by_two_daemons_at_once_is_one_row(postgres_url: str) -> None:
    """The second insert waits for the first to commit, then adds nothing: no error."""
    import threading

    from dondoc.outbox import enqueue_many
    from dondoc.store import make_engine, migrate

    engine = make_engine(postgres_url)
    migrate(engine)
    now = MOMENTS[0]
    shared = {"task": {"title": "Nhiệm vụ"}}

    def rows() -> list[dict[str, Any]]:
        return [
            {
                "key": f"t1:due:-:0/so-{n}/email",
                "channel": "email",
                "agency_id": None,
                "stage": "due",
                "template": "due",
                "shared": shared,
                "context": {"audience": "agency"},
                "send_after": now,
            }
            for n in range(3)
        ]

    first = Session(engine)
    added: list[int] = []
    try:
        assert enqueue_many(first, rows(), now=now) == 3  # not committed yet

        def second() -> None:
            with session_scope(engine) as session:
                added.append(enqueue_many(session, rows(), now=now))

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive()  # waiting on the first daemon's uncommitted keys
        first.commit()
        thread.join(timeout=60)
    finally:
        first.close()
    assert added == [0]
    with session_scope(engine) as session:
        assert len(session.exec(select(OutboxMessage)).all()) == 3
        assert len(session.exec(select(MessageContext)).all()) == 1
    engine.dispose()
