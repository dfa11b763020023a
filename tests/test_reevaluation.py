"""Start-up evaluates only what is due; changed rules are applied again batch by batch."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from daemon_support import VN, arrivals, at, make_app, simulate
from fakes.smtp import SmtpSink
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from dondoc.models import Assignment
from dondoc.store import session_scope
from scheduler import reevaluation

pytest_plugins = ["fakes.fixtures"]

SENTINEL = datetime(2031, 1, 1, tzinfo=VN)


def park_every_assignment(engine: Engine) -> None:
    """A next moment no evaluation would ever compute: it stays only if nobody evaluates."""
    with session_scope(engine) as session:
        for assignment in session.exec(select(Assignment)).all():
            assignment.next_due_at = SENTINEL
            session.add(assignment)


def next_moments(engine: Engine) -> list[datetime | None]:
    with session_scope(engine) as session:
        query = select(Assignment.next_due_at).order_by(col(Assignment.id))
        return list(session.exec(query).all())


def test_a_restart_under_the_same_rules_evaluates_nothing_that_is_not_due(
    tmp_path: Path, smtp_sink: SmtpSink, store_url: str
) -> None:
    app = make_app(tmp_path, smtp_sink, store_url=store_url)
    simulate(app, at("2022-11-02"))
    park_every_assignment(app.engine)
    simulate(app, at("2022-11-03"))  # a new daemon: a restart
    assert set(next_moments(app.engine)) == {SENTINEL}


def test_edited_rules_reach_every_assignment_even_one_that_is_not_due(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    rules = tmp_path / "rules.yaml"
    shutil.copy(Path(__file__).parent.parent / "config" / "rules.yaml", rules)
    app = make_app(tmp_path, smtp_sink, rules_file=rules)
    simulate(app, at("2022-12-01"))
    park_every_assignment(app.engine)
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("at: -14d", "at: -10d", 1), encoding="utf-8")
    simulate(app, at("2022-12-23"))  # a restart with edited rules
    assert SENTINEL not in next_moments(app.engine)
    assert arrivals(app)[("upcoming", "so-tu-phap")] == {at("2022-12-21", 7, 30)}


def test_a_pass_goes_batch_by_batch_and_survives_a_restart(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    app = make_app(tmp_path, smtp_sink)
    park_every_assignment(app.engine)
    now = at("2022-11-05", 9)
    assert reevaluation.require(app.engine, version="v2", now=now)
    assert not reevaluation.require(app.engine, version="v2", now=now)  # already under way
    assert reevaluation.advance(app.engine, now=now, batch=1) == 1
    assert next_moments(app.engine) == [now, SENTINEL]
    # The cursor is in the store: another process carries on from it.
    assert reevaluation.pending(app.engine)
    assert reevaluation.advance(app.engine, now=now, batch=1) == 1
    assert next_moments(app.engine) == [now, now]
    assert reevaluation.advance(app.engine, now=now, batch=1) == 0
    assert not reevaluation.pending(app.engine)
