"""What a linked chat may do, invite codes, and the office deciding extension requests."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Cli
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from dondoc.chat_actions import acknowledge, complete, request_extension
from dondoc.chat_links import chat_agency, create_invite, link_chat
from dondoc.extensions import ExtensionDecidedError, decide_extension, list_extensions
from dondoc.models import Agency, Assignment, AuditEntry, InviteCode, OutboxMessage, Task
from dondoc.store import make_engine, session_scope

pytest_plugins = ["fakes.fixtures"]

NOW = datetime(2022, 11, 25, 2, 0, tzinfo=UTC)
TODAY = date(2022, 11, 25)
CHAT = "1001"


def assignment_id(engine: Engine, number: str, agency: str, role: str = "lead") -> int:
    with session_scope(engine) as session:
        row = session.exec(
            select(Assignment)
            .join(Task, col(Task.id) == Assignment.task_id)
            .join(Agency, col(Agency.id) == Assignment.agency_id)
            .where(Task.number == number, Agency.code == agency, Assignment.role == role)
        ).one()
        return row.id or 0


def linked(engine: Engine, chat: str, agency: str) -> None:
    with session_scope(engine) as session:
        code = create_invite(session, agency_code=agency, hours=1, actor="cli", now=NOW).code
        outcome = link_chat(session, code=code, chat_id=chat, chat_title="", actor="t", now=NOW)
    assert outcome.status == "linked"


def actions(engine: Engine, prefix: str) -> list[AuditEntry]:
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(AuditEntry)
                .where(col(AuditEntry.action).startswith(prefix))
                .order_by(col(AuditEntry.id))
            ).all()
        )


def test_an_invite_code_is_kept_only_as_a_hash(plan_store: Engine) -> None:
    with session_scope(plan_store) as session:
        invite = create_invite(session, agency_code="so-noi-vu", hours=72, actor="cli", now=NOW)
    assert len(invite.code) == 11 and invite.code[5] == "-"
    assert invite.expires_at == NOW + timedelta(hours=72)
    with session_scope(plan_store) as session:
        (stored,) = session.exec(select(InviteCode)).all()
    assert invite.code not in stored.code_hash
    assert invite.code.replace("-", "") not in stored.code_hash


def test_a_code_links_one_chat_and_only_once(plan_store: Engine) -> None:
    with session_scope(plan_store) as session:
        code = create_invite(session, agency_code="so-noi-vu", hours=72, actor="cli", now=NOW).code
    with session_scope(plan_store) as session:
        first = link_chat(
            session, code=code, chat_id=CHAT, chat_title="Văn thư", actor="a", now=NOW
        )
        second = link_chat(session, code=code, chat_id="-5", chat_title="", actor="b", now=NOW)
    assert (first.status, first.agency) == ("linked", "Sở Nội vụ")
    assert second.status == "code_used"
    with session_scope(plan_store) as session:
        agency = chat_agency(session, chat_id=CHAT)
        assert agency is not None and agency.code == "so-noi-vu"
        assert chat_agency(session, chat_id="-5") is None


def test_a_chat_works_for_one_agency_and_a_second_code_stays_unused(plan_store: Engine) -> None:
    linked(plan_store, CHAT, "so-noi-vu")
    with session_scope(plan_store) as session:
        code = create_invite(session, agency_code="so-tu-phap", hours=1, actor="cli", now=NOW).code
        elsewhere = link_chat(session, code=code, chat_id=CHAT, chat_title="", actor="a", now=NOW)
        other_chat = link_chat(session, code=code, chat_id="-7", chat_title="", actor="b", now=NOW)
    assert (elsewhere.status, elsewhere.agency) == ("linked_elsewhere", "Sở Nội vụ")
    assert (other_chat.status, other_chat.agency) == ("linked", "Sở Tư pháp")


def test_acknowledging_again_renews_the_acknowledgement(plan_store: Engine) -> None:
    linked(plan_store, CHAT, "so-noi-vu")
    task_1 = assignment_id(plan_store, "1", "so-noi-vu")
    later = NOW + timedelta(days=10)
    with session_scope(plan_store) as session:
        acknowledge(session, chat_id=CHAT, assignment_id=task_1, actor="An", now=NOW)
    with session_scope(plan_store) as session:
        outcome = acknowledge(session, chat_id=CHAT, assignment_id=task_1, actor="An", now=later)
        row = session.get(Assignment, task_1)
    assert outcome.status == "acknowledged"
    assert row is not None and row.acknowledged_at == later and row.next_due_at == later
    entries = actions(plan_store, "assignment.acknowledged")
    assert [e.detail.get("renewed", False) for e in entries] == [False, True]


def test_a_finished_task_is_not_acknowledged_again(plan_store: Engine) -> None:
    linked(plan_store, CHAT, "so-noi-vu")
    task_1 = assignment_id(plan_store, "1", "so-noi-vu")
    with session_scope(plan_store) as session:
        done = complete(
            session, chat_id=CHAT, assignment_id=task_1, occurrence=None, actor="An", now=NOW
        )
        again = acknowledge(session, chat_id=CHAT, assignment_id=task_1, actor="An", now=NOW)
    assert (done.status, again.status) == ("done", "already_done")


def test_done_on_a_recurring_task_without_a_date_closes_the_oldest_open_quarter(
    plan_store: Engine,
) -> None:
    linked(plan_store, CHAT, "so-noi-vu")
    task_3 = assignment_id(plan_store, "3", "so-noi-vu")  # "Hàng quý"
    with session_scope(plan_store) as session:
        first = complete(
            session, chat_id=CHAT, assignment_id=task_3, occurrence=None, actor="An", now=NOW
        )
        second = complete(
            session, chat_id=CHAT, assignment_id=task_3, occurrence=None, actor="An", now=NOW
        )
        row = session.get(Assignment, task_3)
    assert first.status == second.status == "occurrence_done"
    assert first.detail["occurrence"] == date(2022, 12, 31)
    assert second.detail["occurrence"] == date(2023, 3, 31)
    assert row is not None and row.status == "open" and row.done_through == date(2023, 3, 31)


def test_each_refusal_is_audited_with_the_check_that_refused(plan_store: Engine) -> None:
    linked(plan_store, CHAT, "so-noi-vu")
    own = assignment_id(plan_store, "1", "so-noi-vu")
    other = assignment_id(plan_store, "1", "so-tu-phap")
    with session_scope(plan_store) as session:
        task = session.get(Task, session.get(Assignment, own).task_id)  # type: ignore[union-attr]
        assert task is not None
        task.active = False  # the plan was re-imported without this task
        session.add(task)
    attempts = [("999", own), (CHAT, 987654), (CHAT, other), (CHAT, own)]
    statuses = []
    for chat, target in attempts:
        with session_scope(plan_store) as session:
            outcome = acknowledge(session, chat_id=chat, assignment_id=target, actor="t", now=NOW)
            statuses.append(outcome.status)
    assert statuses == ["not_linked", "refused", "refused", "task_gone"]
    reasons = [e.detail["reason"] for e in actions(plan_store, "chat.refused")]
    assert reasons == ["not_linked", "unknown_assignment", "not_assigned", "task_removed"]


def test_a_proposed_date_that_is_not_in_the_future_is_refused(plan_store: Engine) -> None:
    linked(plan_store, CHAT, "so-noi-vu")
    task_1 = assignment_id(plan_store, "1", "so-noi-vu")
    with session_scope(plan_store) as session:
        outcome = request_extension(
            session,
            chat_id=CHAT,
            assignment_id=task_1,
            reason="x",
            proposed_due=TODAY,
            today=TODAY,
            actor="An",
            now=NOW,
        )
    assert outcome.status == "extension_date_not_future"
    with session_scope(plan_store) as session:
        assert list_extensions(session, status=None) == []


def _request(engine: Engine, assignment: int, proposed: date) -> str:
    with session_scope(engine) as session:
        return request_extension(
            session,
            chat_id=CHAT,
            assignment_id=assignment,
            reason="Chờ ý kiến của Bộ",
            proposed_due=proposed,
            today=TODAY,
            actor="An (Telegram 1001)",
            now=NOW,
        ).status


def test_an_approved_extension_moves_only_that_agencys_deadline(plan_store: Engine) -> None:
    linked(plan_store, CHAT, "so-noi-vu")
    task_1 = assignment_id(plan_store, "1", "so-noi-vu")
    other = assignment_id(plan_store, "1", "so-tu-phap")
    assert _request(plan_store, task_1, date(2023, 1, 31)) == "extension_sent"
    assert _request(plan_store, task_1, date(2023, 2, 28)) == "extension_pending"

    decided_at = NOW + timedelta(days=1)
    with session_scope(plan_store) as session:
        (pending,) = list_extensions(session)
        view = decide_extension(
            session,
            request_id=pending["id"],
            approve=True,
            note="Đồng ý",
            actor="cli",
            now=decided_at,
        )
    assert pending["current_due"] == "2022-12-31"
    assert (view["status"], view["current_due"]) == ("approved", "2023-01-31")
    with session_scope(plan_store) as session:
        row, untouched = session.get(Assignment, task_1), session.get(Assignment, other)
        notices = session.exec(
            select(OutboxMessage).where(OutboxMessage.template == "extension_decision")
        ).all()
    assert row is not None and row.due_override == date(2023, 1, 31)
    assert row.next_due_at == decided_at
    assert untouched is not None and untouched.due_override is None
    # The agency hears it where it reads: its email and its linked chat.
    assert [(n.channel, n.context["extension"]["note"]) for n in notices] == [
        ("email", "Đồng ý"),
        ("telegram", "Đồng ý"),
    ]
    (entry,) = actions(plan_store, "extension.approved")
    assert entry.detail["from"] == "2022-12-31" and entry.detail["to"] == "2023-01-31"
    with session_scope(plan_store) as session, pytest.raises(ExtensionDecidedError) as caught:
        decide_extension(
            session, request_id=pending["id"], approve=False, note=None, actor="cli", now=decided_at
        )
    assert caught.value.message == f"Đề nghị gia hạn #{pending['id']} đã được duyệt trước đó."


def test_a_denied_extension_keeps_the_deadline_and_tells_the_agency(plan_store: Engine) -> None:
    linked(plan_store, CHAT, "so-noi-vu")
    task_1 = assignment_id(plan_store, "1", "so-noi-vu")
    _request(plan_store, task_1, date(2023, 1, 31))
    with session_scope(plan_store) as session:
        (pending,) = list_extensions(session)
        decide_extension(
            session,
            request_id=pending["id"],
            approve=False,
            note="Nhiệm vụ trọng tâm, không gia hạn",
            actor="cli",
            now=NOW,
        )
        row = session.get(Assignment, task_1)
        assert list_extensions(session) == []
        (denied,) = list_extensions(session, status="denied")
    assert row is not None and row.due_override is None
    assert denied["note"] == "Nhiệm vụ trọng tâm, không gia hạn"
    assert len(actions(plan_store, "extension.denied")) == 1


def test_the_office_invites_and_decides_from_the_command_line(
    initialized_cli: Cli, tmp_path: Path
) -> None:
    cli = initialized_cli
    cli.env["DONDOC_TELEGRAM__BOT_USERNAME"] = "dondoc_tinh_bot"
    shown = cli("agency", "invite", "so-noi-vu", "--hours", "48")
    assert shown.exit_code == 0, shown.stderr
    code = shown.stdout.splitlines()[0].rsplit(" ", 1)[1]
    assert shown.stdout.splitlines()[0] == f"Mã liên kết Telegram của Sở Nội vụ (so-noi-vu): {code}"
    assert f"https://t.me/dondoc_tinh_bot?start={code}" in shown.stdout
    assert f"https://t.me/dondoc_tinh_bot?startgroup={code}" in shown.stdout

    missing = cli("agency", "invite", "so-khong-co")
    assert (missing.exit_code, missing.stderr.strip()) == (
        2,
        "Lỗi: Không tìm thấy cơ quan 'so-khong-co'.",
    )

    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'dondoc.db'}")
    with session_scope(engine) as session:
        now = datetime.now(UTC)
        outcome = link_chat(session, code=code, chat_id=CHAT, chat_title="", actor="a", now=now)
        assert outcome.status == "linked"
        request_extension(
            session,
            chat_id=CHAT,
            assignment_id=assignment_id(engine, "1", "so-noi-vu"),
            reason="Chờ ý kiến của Bộ",
            proposed_due=now.date() + timedelta(days=30),
            today=now.date(),
            actor="An",
            now=now,
        )
    engine.dispose()

    listing = cli("extension", "list")
    assert listing.exit_code == 0, listing.stderr
    assert "nq131/1" in listing.stdout and "Chờ ý kiến của Bộ" in listing.stdout
    approved = cli("extension", "approve", "1", "--note", "Đồng ý")
    assert approved.exit_code == 0, approved.stderr
    assert approved.stdout.startswith("Đã đồng ý gia hạn #1: Sở Nội vụ, nhiệm vụ nq131/1, hạn mới")
    again = cli("extension", "deny", "1")
    assert (again.exit_code, again.stderr.strip()) == (
        2,
        "Lỗi: Đề nghị gia hạn #1 đã được duyệt trước đó.",
    )
    with sqlite3.connect(tmp_path / "data" / "dondoc.db") as conn:
        (override,) = conn.execute(
            "SELECT due_override FROM assignment WHERE due_override IS NOT NULL"
        ).fetchone()
    assert override == (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
