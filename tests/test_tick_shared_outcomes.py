"""Assignments of one task share a deadline and a policy, and the tick evaluates the rules
once for those whose other inputs are equal. Those that differ in an acknowledgement, an
extension or what was already sent must still get their own reminders, and the whole
tick must queue what a per-row evaluation would."""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime, timedelta

from conftest import EXAMPLE_PLAN
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from test_tick import (
    CALENDAR,
    CHANNELS,
    CONFIG,
    IMPORTED,
    LINK,
    _candidates,
    _queued,
    reference_rows,
)

from dondoc.actions import set_status
from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.models import Agency, Assignment, Task
from dondoc.plan_import import import_plan
from dondoc.store import session_scope
from rules.deadline import Deadline
from scheduler.tick import run_tick

EARLIER = datetime(2023, 1, 16, 1, tzinfo=UTC)  # the day after the third overdue notice
NOW = datetime(2023, 1, 17, 1, tzinfo=UTC)
LATER = datetime(2100, 1, 1, tzinfo=UTC)
OVER = date(2023, 3, 15)  # an extension


def one_task_store(engine: Engine) -> dict[str, int]:
    """Six lead agencies on one task due at the end of 2022 (nothing else due): two
    alike, one to acknowledge, one extended, one that is sent reminders first, one to
    finish."""
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
        import_plan(session, path=EXAMPLE_PLAN, now=IMPORTED, plan_code="nq131")
    with session_scope(engine) as session:
        for assignment in session.exec(select(Assignment)).all():
            assignment.next_due_at = LATER
            session.add(assignment)
        tasks = [
            t
            for t in session.exec(select(Task).order_by(col(Task.id))).all()
            if t.deadline
            and (d := Deadline.from_dict(t.deadline)).kind == "once"
            and d.due is not None
            and d.due <= date(2022, 12, 31)
        ]
        on_task = {
            t.id: set(session.exec(select(Assignment.agency_id).where(Assignment.task_id == t.id)))
            for t in tasks
        }
        task = min(tasks, key=lambda t: len(on_task[t.id]))
        taken = on_task[task.id]
        agencies = session.exec(select(Agency.id).order_by(col(Agency.id))).all()
        free = [a or 0 for a in agencies if a not in taken][:6]
        names = ("plain", "alike", "acknowledged", "extended", "sent before", "done")
        ids: dict[str, int] = {}
        for name, agency_id in zip(names, free, strict=True):
            row = Assignment(
                task_id=task.id or 0,
                agency_id=agency_id,
                role="lead",
                status="open",
                created_at=IMPORTED,
                next_due_at=NOW,
            )
            session.add(row)
            session.flush()
            ids[name] = row.id or 0
        changes = {"sent before": ("next_due_at", EARLIER), "extended": ("due_override", OVER)}
        for name, (field, value) in changes.items():
            changed = session.get(Assignment, ids[name])
            setattr(changed, field, value)
            session.add(changed)
    return ids


def answer_and_finish(engine: Engine, ids: dict[str, int]) -> None:
    """After the first tick: one acknowledges, one is done, and all six are due now (as
    after a rules edit)."""
    with session_scope(engine) as session:
        for name, status in (("acknowledged", "acknowledged"), ("done", "done")):
            set_status(
                session,
                assignment=session.get(Assignment, ids[name]),  # type: ignore[arg-type]
                status=status,
                actor="t",
                now=NOW - timedelta(hours=12),
            )
    with session_scope(engine) as session:
        for assignment_id in ids.values():
            row = session.get(Assignment, assignment_id)
            assert row is not None
            row.next_due_at = NOW
            session.add(row)


def test_assignments_of_one_task_get_their_own_reminders(engine: Engine) -> None:
    ids = one_task_store(engine)
    first = run_tick(engine, config=CONFIG, calendar=CALENDAR, now=EARLIER, channels=CHANNELS)
    assert first.evaluated == 1 and first.enqueued  # "sent before" now has sent keys
    answer_and_finish(engine, ids)
    with session_scope(engine) as session:
        expected, next_at = reference_rows(session, NOW)
        seen = len(_queued(session, 0))
    result = run_tick(
        engine, config=CONFIG, calendar=CALENDAR, now=NOW, channels=CHANNELS, telegram_link=LINK
    )
    with session_scope(engine) as session:
        actual = _queued(session, 0)[seen:]
        stored = {
            a.id: a.next_due_at
            for a in session.exec(select(Assignment).where(col(Assignment.id).in_(list(next_at))))
        }
    want = _candidates(expected)
    got = {row["key"]: row for row in actual}
    assert sorted(got) == sorted(want)
    assert all(row in want[key] for key, row in got.items())
    assert stored == next_at
    assert result.evaluated == len(next_at)
    assert result.reused >= 1  # "alike" took "plain"'s evaluation
    assert gc.isenabled()  # paused for each batch only

    outcomes = {
        name: (
            tuple(
                sorted(
                    str(r["key"]).split("/")[0].split(":", 1)[1]
                    for r in actual
                    if r["assignment_id"] == ids[name]
                )
            ),
            next_at.get(ids[name]),
        )
        for name in ids
        if name != "done"
    }
    assert outcomes["plain"] == outcomes["alike"]
    different = ("plain", "acknowledged", "extended", "sent before")
    assert len({outcomes[name] for name in different}) == len(different), outcomes
