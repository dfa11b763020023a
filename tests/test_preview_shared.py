"""The preview works out one schedule for assignments that differ only by their id, and
hands it to each of them under its own keys: exactly what each would get on its own."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import EXAMPLE_PLAN
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from config.rules_loader import load_rule_config
from config.settings import BUNDLED_RULES
from dondoc.actions import set_status
from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.evaluation import load_states, message_key, recipients_of
from dondoc.models import Agency, Assignment
from dondoc.outbox import enqueue
from dondoc.plan_import import import_plan
from dondoc.preview import SharedSchedules, schedule
from dondoc.store import session_scope
from rules.evaluate import evaluate
from rules.policy import RuleConfig

IMPORTED = datetime(2022, 10, 20, 3, tzinfo=UTC)
# Moments whose reminders some assignments already have in the outbox.
SENT_AT = (datetime(2022, 12, 1, 2, tzinfo=UTC), datetime(2023, 2, 13, 2, tzinfo=UTC))
START, END = date(2022, 11, 1), date(2023, 12, 31)
# Several policies, per-task overrides, a milestone and a calendar of its own.
POLICIES = """
timezone: Asia/Ho_Chi_Minh
ack_timeout: 40d
calendar: {office_hours: "08:00-16:30", extra_days_off: [2023-05-02], working_days: []}
milestones: {"Đề án 06": 2023-10-31}
policies:
  standard:
    - {name: target_upcoming, at: -7d, anchor: target, to: [lead], template: upcoming}
    - {name: target_missed, at: +1d, anchor: target, to: [lead, head], template: escalation,
       repeat: {every: 30d, max: 3}}
    - {name: upcoming, at: -14d, to: [lead], template: upcoming}
    - {name: coordinators, at: -3d, to: [coordinators], template: upcoming}
    - {name: due_today, at: 0d, to: [lead, head], template: due_today}
    - {name: overdue, at: +1d, to: [lead, head, office], template: overdue,
       ask_explanation: true, repeat: {every: 7d, max: 3}}
  strict:
    - {name: early, at: -30d, to: [lead, coordinators], template: upcoming, channels: [email]}
    - {name: overdue, at: +1d, to: [lead, head, office], template: overdue,
       ask_explanation: true, repeat: {every: 3d, max: 5}}
  recurring:
    - {name: due_today, at: 0d, to: [lead], template: due_today}
    - {name: overdue, at: +1d, to: [lead, head, office], template: overdue,
       repeat: {every: 7d, max: 2}}
  weekly:
    - {name: checkin, every: 1 week, day: 3, to: [lead, coordinators], template: checkin}
  ongoing:
    - {name: checkin, every: 1 month, day: 25, to: [lead], template: checkin}
  unscheduled:
    - {name: set_deadline, every: 1 month, day: 1, to: [office], channels: [email],
       template: set_deadline}
policy_for:
  kind: {once: standard, recurring: recurring, ongoing: ongoing, external: standard,
         none: unscheduled}
  task: {"nq131/13": strict, "nq131/3": strict, "nq131/2": weekly}
"""


@pytest.fixture(params=["bundled", "several policies"])
def config(request: pytest.FixtureRequest, tmp_path: Path) -> RuleConfig:
    if request.param == "bundled":
        return load_rule_config(BUNDLED_RULES)
    path = tmp_path / "rules.yaml"
    path.write_text(POLICIES, encoding="utf-8")
    return load_rule_config(path)


def varied(engine: Engine, config: RuleConfig) -> Engine:
    """Assignments of one task that differ in one thing each: status and when it was
    set, an extension, a finished occurrence, or reminders already sent."""
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    with session_scope(engine) as session:
        import_plan(session, path=EXAMPLE_PLAN, now=IMPORTED, plan_code="nq131")
    with session_scope(engine) as session:
        rows = session.exec(select(Assignment).order_by(col(Assignment.id))).all()
        for n, row in enumerate(rows):
            if n % 5 == 1:
                set_status(session, assignment=row, status="acknowledged", actor="t", now=IMPORTED)
            elif n % 5 == 2:  # acknowledged later: the acknowledgement lapses later
                at = IMPORTED + timedelta(days=n % 60)
                set_status(session, assignment=row, status="acknowledged", actor="t", now=at)
            elif n % 7 == 3:
                set_status(session, assignment=row, status="done", actor="t", now=IMPORTED)
            elif n % 11 == 4:
                row.due_override = date(2023, 3, 15)
            elif n % 13 == 6:
                row.done_through = date(2022, 12, 31)
            session.add(row)
    with session_scope(engine) as session:
        ids = [i for i in session.exec(select(Assignment.id).order_by(col(Assignment.id))) if i]
        agencies = {a.code: a.id for a in session.exec(select(Agency)).all()}
        states = load_states(session, assignment_ids=ids, config=config)
        for n, (context, state, _name, policy) in enumerate(states):
            if n % 4 == 0:
                sent_at = SENT_AT[0]
            elif n % 6 == 1:
                sent_at = SENT_AT[1]
            else:
                continue  # the siblings of the others have nothing sent yet
            for reminder in evaluate(state, policy, sent_at, config=config).reminders:
                for code, audience in recipients_of(reminder, context):
                    enqueue(
                        session,
                        key=message_key(
                            reminder, context, agency_code=code, audience=audience, channel="email"
                        ),
                        channel="email",
                        agency_id=agencies[code],
                        stage=reminder.stage,
                        template=reminder.template,
                        context={},
                        send_after=sent_at,
                        now=sent_at,
                        assignment_id=state.assignment_id,
                    )
    return engine


def test_each_assignment_gets_what_its_own_schedule_would_send(
    engine: Engine, config: RuleConfig
) -> None:
    store = varied(engine, config)
    zone = ZoneInfo(config.timezone)
    start_at = datetime.combine(START, time(0), tzinfo=zone)
    end_at = datetime.combine(END + timedelta(days=1), time(0), tzinfo=zone)
    calendar = config.calendar()
    shared = SharedSchedules(config=config, calendar=calendar, start_at=start_at, end_at=end_at)
    with session_scope(store) as session:
        ids = [i for i in session.exec(select(Assignment.id).order_by(col(Assignment.id))) if i]
        states = load_states(session, assignment_ids=ids, config=config)
    assert len(states) > 400
    assert sum(1 for _, state, _, _ in states if state.sent_keys) > 40
    reminders = 0
    for _context, state, _name, policy in states:
        state = replace(state, created_at=min(state.created_at, start_at))
        own = schedule(
            state, policy, config=config, calendar=calendar, start_at=start_at, end_at=end_at
        )
        assert shared.of(state, policy) == own, state
        reminders += len(own)
    # It did share (otherwise this compares the straightforward path with itself), and
    # the variations above gave it many different schedules to keep apart.
    assert 40 < shared.computed < len(states) / 2
    assert reminders > 2000
