"""From the store to evaluation: what the daemon and the preview load, and how cheaply."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import EXAMPLE_PLAN
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.rules_loader import load_rule_config
from config.settings import BUNDLED_RULES
from dondoc.actions import set_status
from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.errors import UserError
from dondoc.evaluation import load_states
from dondoc.models import Agency, Assignment, Contact, Plan, Task
from dondoc.outbox import enqueue
from dondoc.plan_import import import_plan
from dondoc.preview import build_preview
from dondoc.store import session_scope
from rules.policy import RuleConfig

IMPORTED = datetime(2022, 10, 20, 3, tzinfo=UTC)
CONFIG = load_rule_config(BUNDLED_RULES)


def fill(engine: Engine) -> Engine:
    """The example directory and plan, imported before the preview year begins."""
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    with session_scope(engine) as session:
        import_plan(session, path=EXAMPLE_PLAN, now=IMPORTED, plan_code="nq131")
    return engine


@pytest.fixture
def store(sqlite_engine: Engine) -> Engine:
    return fill(sqlite_engine)


@pytest.fixture
def any_store(engine: Engine) -> Engine:
    """The same on every backend, for the queries that differ by dialect."""
    return fill(engine)


def assignment(session: Session, number: str, agency: str, role: str = "lead") -> Assignment:
    row = session.exec(
        select(Assignment)
        .join(Task, col(Task.id) == Assignment.task_id)
        .join(Agency, col(Agency.id) == Assignment.agency_id)
        .where(Task.number == number, Agency.code == agency, Assignment.role == role)
    ).one()
    return row


def all_ids(session: Session) -> list[int]:
    return [i for i in session.exec(select(Assignment.id).order_by(col(Assignment.id))) if i]


@pytest.fixture
def statements(any_store: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    sa.event.listen(any_store, "before_cursor_execute", count)
    yield seen
    sa.event.remove(any_store, "before_cursor_execute", count)


def test_a_batch_costs_the_same_few_queries_whatever_its_size(
    any_store: Engine, statements: list[str]
) -> None:
    counts = []
    for size in (5, 400):
        with session_scope(any_store) as session:
            ids = all_ids(session)[:size]
            statements.clear()
            states = load_states(session, assignment_ids=ids, config=CONFIG)
            counts.append(len(statements))
            assert len(states) == size
    assert counts[0] == counts[1] <= 3


def test_the_context_names_task_agency_and_the_plans_office(store: Engine) -> None:
    with session_scope(store) as session:
        target = assignment(session, "13", "so-khcn")
        ((context, state, name, _),) = load_states(
            session, assignment_ids=[target.id or 0], config=CONFIG
        )
    assert (context.agency_code, context.role, context.plan_code) == ("so-khcn", "lead", "nq131")
    assert context.owner_code == "vp-ubnd"
    assert context.task["number"] == "13"
    assert context.task["deadline_text"] == "Tháng 11/2022, chậm nhất tháng 3/2023"
    assert name == "standard"
    assert state.deadline is not None and state.deadline.target == date(2022, 11, 30)
    assert state.created_at == IMPORTED


def test_sent_keys_are_the_reminder_part_of_the_outbox_keys(any_store: Engine) -> None:
    with session_scope(any_store) as session:
        target = assignment(session, "13", "so-khcn")
        for suffix in ("so-khcn/email", "so-khcn#head/email", "vp-ubnd/telegram"):
            enqueue(
                session,
                key=f"a{target.id}:overdue:2023-03-31:0/{suffix}",
                channel=suffix.rsplit("/", 1)[1],
                agency_id=target.agency_id,
                assignment_id=target.id,
                stage="overdue",
                template="overdue",
                context={},
                send_after=IMPORTED,
                now=IMPORTED,
            )
        ((_, state, _, _),) = load_states(session, assignment_ids=[target.id or 0], config=CONFIG)
    assert state.sent_keys == frozenset({f"a{target.id}:overdue:2023-03-31:0"})


def test_external_references_wait_for_a_milestone_then_count_down_to_it(store: Engine) -> None:
    with session_scope(store) as session:
        target = assignment(session, "15", "so-khcn")  # "Theo tiến độ của Đề án 06"
        ids = [target.id or 0]
        ((_, before, name_before, _),) = load_states(session, assignment_ids=ids, config=CONFIG)
        data = CONFIG.model_dump(by_alias=True)
        data["milestones"] = {"Đề án 06": date(2023, 12, 31)}
        with_milestone = RuleConfig.model_validate(data)
        ((_, after, name_after, _),) = load_states(
            session, assignment_ids=ids, config=with_milestone
        )
    assert (name_before, before.milestone) == ("unscheduled", None)
    assert (name_after, after.milestone) == ("standard", date(2023, 12, 31))


def test_inactive_assignments_are_left_out_and_the_order_follows_the_ids(store: Engine) -> None:
    with session_scope(store) as session:
        ids = all_ids(session)[:4]
        dropped = session.get(Assignment, ids[1])
        assert dropped is not None
        dropped.active = False
        session.add(dropped)
        session.flush()
        states = load_states(session, assignment_ids=list(reversed(ids)), config=CONFIG)
    assert [s.assignment_id for _, s, _, _ in states] == [ids[3], ids[2], ids[0]]


def preview(engine: Engine, **kwargs: Any) -> Any:
    with session_scope(engine) as session:
        return build_preview(session, config=CONFIG, **kwargs)


def test_a_done_assignment_and_keys_already_sent_are_not_previewed(store: Engine) -> None:
    window = {"start": date(2023, 3, 1), "end": date(2023, 4, 30), "plan": "nq131"}
    first = preview(store, **window)
    with session_scope(store) as session:
        target = assignment(session, "13", "so-khcn")
        set_status(session, assignment=target, status="done", actor="test", now=IMPORTED, via="cli")
        other = assignment(session, "14", "so-khcn")
        enqueue(
            session,
            key=f"a{other.id}:upcoming:2023-03-31:0/so-khcn/email",
            channel="email",
            agency_id=other.agency_id,
            assignment_id=other.id,
            stage="upcoming",
            template="upcoming",
            context={},
            send_after=IMPORTED,
            now=IMPORTED,
        )
    second = preview(store, **window)
    gone = {r.key for r in first.rows} - {r.key for r in second.rows}
    # Preview keys are message keys: reminder key / recipient / channel, as in the outbox.
    assert f"a{other.id}:upcoming:2023-03-31:0/so-khcn/email" in gone
    assert {k for k in gone if k.startswith(f"a{target.id}:")}
    assert not [r for r in second.rows if r.key.startswith(f"a{target.id}:")]


def test_telegram_rows_need_a_linked_chat_and_heads_are_reached_by_email(store: Engine) -> None:
    with session_scope(store) as session:
        agency = session.exec(select(Agency).where(Agency.code == "so-khcn")).one()
        session.add(Contact(agency_id=agency.id or 0, channel="telegram", address="-100123"))
    result = preview(store, start=date(2022, 11, 20), end=date(2022, 12, 2), agency="so-khcn")
    telegram = [r for r in result.rows if r.channel == "telegram"]
    assert telegram
    assert {r.audience for r in telegram} == {"agency"}
    assert {r.audience for r in result.rows if r.stage == "target_missed"} == {"agency", "head"}
    assert result.telegram_skipped > 0


def test_an_end_before_the_start_is_refused(store: Engine) -> None:
    with pytest.raises(UserError, match="phải sau --from"):
        preview(store, start=date(2023, 3, 1), end=date(2023, 2, 1))


def test_the_plan_is_owned_by_the_office(store: Engine) -> None:
    # Guards the fixture the tests above rely on: "office" resolves to the plan's owner.
    with session_scope(store) as session:
        plan = session.exec(select(Plan).where(Plan.code == "nq131")).one()
        owner = session.get(Agency, plan.owner_agency_id)
    assert owner is not None and owner.code == "vp-ubnd"


def test_the_bundled_rules_are_the_ones_settings_point_to() -> None:
    assert Path(BUNDLED_RULES).is_file()
