"""`/tasks` in a chat says what each status means now: an acknowledgement older than the
rule config's ack_timeout (45 days in the bundled rules) no longer reads "đã nhận",
because the reminders have started again."""

from __future__ import annotations

from datetime import timedelta

from fakes.zalo_api import FakeZaloApi
from sqlalchemy.engine import Engine
from test_zalo_bot import GROUP, NOW, invite, talk

from dondoc import chat_links
from dondoc.models import Assignment
from dondoc.store import session_scope

pytest_plugins = ["fakes.fixtures"]


def acknowledge(engine: Engine, assignment_id: int, *, days_ago: int) -> None:
    with session_scope(engine) as session:
        row = session.get(Assignment, assignment_id)
        assert row is not None
        row.status = "acknowledged"
        row.status_at = row.acknowledged_at = NOW - timedelta(days=days_ago)
        session.add(row)


def test_tasks_shows_a_lapsed_acknowledgement_as_open(
    plan_store: Engine, fake_zalo_api: FakeZaloApi
) -> None:
    talk(plan_store, fake_zalo_api, (GROUP, invite(plan_store, "so-tu-phap")))
    with session_scope(plan_store) as session:
        _, refs = chat_links.open_tasks(session, chat_id=GROUP, channel="zalo")
    assert len(refs) >= 2
    fresh, lapsed = refs[0], refs[1]
    acknowledge(plan_store, fresh.assignment_id, days_ago=2)
    acknowledge(plan_store, lapsed.assignment_id, days_ago=46)

    (listing,) = talk(plan_store, fake_zalo_api, (GROUP, "/tasks"))

    lines = {line.split(". ", 1)[0]: line for line in listing.splitlines()[1:] if ". " in line}
    assert lines["1"].endswith(" (đã nhận)"), listing  # acknowledged two days ago: holds
    assert "đã nhận" not in lines["2"], listing  # 46 days ago: lapsed, reminders resumed
    # The stored status is unchanged; only what people read follows the rules.
    with session_scope(plan_store) as session:
        stored = session.get(Assignment, lapsed.assignment_id)
        assert stored is not None and stored.status == "acknowledged"
        # Without the rules (now/ack_timeout unknown) the list shows the status as stored.
        _, plain = chat_links.open_tasks(session, chat_id=GROUP, channel="zalo")
        _, timed = chat_links.open_tasks(
            session, chat_id=GROUP, channel="zalo", now=NOW, ack_timeout=timedelta(days=45)
        )
    assert [r.status for r in plain[:2]] == ["acknowledged", "acknowledged"]
    assert [r.status for r in timed[:2]] == ["acknowledged", "open"]
