"""The chat's state in the store on every backend: open questions and one-time buttons.

Two sessions stand for two daemons of one store: a question is answered once, a button
is spent once, whichever reads it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from dondoc import chat_actions, chat_prompts
from dondoc.chat_links import create_invite, link_chat
from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.models import Assignment, AuditEntry
from dondoc.models_chat import ChatButtonUse
from dondoc.plan_import import import_plan
from dondoc.store import session_scope

NOW = datetime(2022, 12, 1, 2, 0, tzinfo=UTC)
CHAT = "-4004"
PLAN = """STT,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Sản phẩm,Thời gian hoàn thành
1,Xây dựng kế hoạch số hóa hồ sơ,Sở Tư pháp,,Kế hoạch,Tháng 12/2022
"""


@pytest.fixture
def linked(engine: Engine, tmp_path: Path) -> int:
    """A store with one task of Sở Tư pháp and its group chat linked; the assignment id."""
    plan = tmp_path / "plan.csv"
    plan.write_text(PLAN, encoding="utf-8")
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
    with session_scope(engine) as session:
        import_plan(session, path=plan, now=NOW, plan_code="t")
        code = create_invite(session, agency_code="so-tu-phap", hours=1, actor="t", now=NOW).code
        link_chat(session, code=code, chat_id=CHAT, chat_title="", actor="t", now=NOW)
    with session_scope(engine) as session:
        return session.exec(select(Assignment.id)).one() or 0


def test_a_question_is_answered_once_and_a_refused_answer_leaves_it_open(
    engine: Engine, linked: int
) -> None:
    with session_scope(engine) as session:
        chat_prompts.ask(session, chat_id=CHAT, message_id=7, kind="explanation",
                         assignment_id=linked, now=NOW)  # fmt: skip
    with session_scope(engine) as session:
        prompt = chat_prompts.open_prompt(
            session, chat_id=CHAT, replied_id=7, accept_unreplied=False, now=NOW
        )
        assert prompt is not None and prompt.assignment_id == linked
        prompt_id = prompt.id or 0

    def answer(text: str, chat: str = CHAT) -> str | None:
        with session_scope(engine) as session:
            outcome = chat_prompts.answer_prompt(
                session, prompt_id=prompt_id, operation=chat_actions.submit_explanation,
                now=NOW, chat_id=chat, assignment_id=linked, actor="t", text=text,
            )  # fmt: skip
            return outcome.status if outcome else None

    assert answer("x", chat="-999") == "not_linked"  # refused: the question stays open
    assert answer("Chờ hướng dẫn của Bộ.") == "explanation_saved"
    assert answer("Lần hai") is None  # the other daemon's copy of the same answer
    with session_scope(engine) as session:
        late = chat_prompts.open_prompt(
            session, chat_id=CHAT, replied_id=7, accept_unreplied=False, now=NOW
        )
        expired = chat_prompts.open_prompt(
            session, chat_id=CHAT, replied_id=None, accept_unreplied=True,
            now=NOW + timedelta(hours=25),
        )  # fmt: skip
    assert late is None and expired is None


def test_a_button_nonce_is_spent_once_even_by_two_daemons_at_once(
    engine: Engine, linked: int
) -> None:
    def press() -> str:
        with session_scope(engine) as session:
            return chat_prompts.press_once(
                session, nonce="n0nce-1", operation=chat_actions.acknowledge, chat_id=CHAT,
                button="acknowledge", assignment_id=linked, actor="t", now=NOW,
            ).status  # fmt: skip

    assert press() == "acknowledged"
    assert press() == "button_used"
    # Two daemons that both saw the nonce unspent: the store's unique key stops the second.
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(ChatButtonUse(nonce="n0nce-1", chat_id=CHAT, action="a", used_at=NOW))
    with session_scope(engine) as session:
        reasons = [
            e.detail["reason"]
            for e in session.exec(select(AuditEntry).where(AuditEntry.action == "chat.refused"))
        ]
    assert reasons == ["button_used"]
