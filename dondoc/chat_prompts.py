"""What the bot waits for in a chat, and which buttons were already pressed.

Both live in the store: an answer typed after a restart, or read by another daemon of
the same store, still finds its question, and a replayed button is refused everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from dondoc.chat_links import ChatOutcome, refuse
from dondoc.models_chat import ChatButtonUse, ChatPrompt

PROMPT_LIFETIME = timedelta(hours=24)


def ask(
    session: Session,
    *,
    chat_id: str,
    message_id: int,
    kind: str,
    assignment_id: int,
    now: datetime,
    lifetime: timedelta = PROMPT_LIFETIME,
) -> None:
    """Remember that the bot's message `message_id` asks `kind` about an assignment."""
    # Questions of this chat that nobody answered in time are of no use any more.
    for stale in session.exec(
        select(ChatPrompt).where(ChatPrompt.chat_id == chat_id, ChatPrompt.expires_at <= now)
    ):
        session.delete(stale)
    session.add(
        ChatPrompt(
            chat_id=chat_id,
            message_id=message_id,
            kind=kind,
            assignment_id=assignment_id,
            asked_at=now,
            expires_at=now + lifetime,
        )
    )


def open_prompt(
    session: Session,
    *,
    chat_id: str,
    replied_id: int | None,
    accept_unreplied: bool,
    now: datetime,
) -> ChatPrompt | None:
    """The open question a message answers: the one it replies to or, in a private chat
    (`accept_unreplied`), the latest one still open."""
    query = select(ChatPrompt).where(
        ChatPrompt.chat_id == chat_id,
        col(ChatPrompt.answered_at).is_(None),
        ChatPrompt.expires_at > now,
    )
    if replied_id is not None:
        return session.exec(query.where(ChatPrompt.message_id == replied_id)).first()
    if not accept_unreplied:
        return None
    latest = query.order_by(col(ChatPrompt.asked_at).desc(), col(ChatPrompt.id).desc())
    return session.exec(latest).first()


# Outcomes after which the question stays open: the person is asked to answer again.
RETRY = ("explanation_invalid", "extension_date_not_future")


def answer_prompt(
    session: Session,
    *,
    prompt_id: int,
    operation: Callable[..., ChatOutcome],
    now: datetime,
    **kwargs: Any,
) -> ChatOutcome | None:
    """Claim the question (a conditional UPDATE: one answer wins, whichever daemon reads
    it) and run `operation` on the answer; None when it was answered already. A refused
    or invalid answer leaves the question open."""
    claimed = session.execute(
        update(ChatPrompt)
        .where(col(ChatPrompt.id) == prompt_id, col(ChatPrompt.answered_at).is_(None))
        .values(answered_at=now)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    outcome = operation(session, now=now, **kwargs)
    if outcome.refused or outcome.status in RETRY:
        session.execute(
            update(ChatPrompt).where(col(ChatPrompt.id) == prompt_id).values(answered_at=None)
        )
    return outcome


def press_once(
    session: Session,
    *,
    nonce: str,
    operation: Callable[..., ChatOutcome],
    chat_id: str,
    button: str,
    assignment_id: int,
    actor: str,
    now: datetime,
    **kwargs: Any,
) -> ChatOutcome:
    """Run a decision button's `operation` once per nonce. A second press is refused and
    audited; a press that was itself refused does not spend the button. Two daemons
    pressing at once: the nonce is unique, so the slower commit fails (IntegrityError)."""
    used = session.exec(select(ChatButtonUse).where(ChatButtonUse.nonce == nonce)).first()
    if used is not None:
        return refuse(
            session,
            chat_id=chat_id,
            reason="button_used",
            status="button_used",
            action=button,
            actor=actor,
            now=now,
            used_at=used.used_at.isoformat(),
        )
    spent = ChatButtonUse(
        nonce=nonce, chat_id=chat_id, action=button, assignment_id=assignment_id, used_at=now
    )
    session.add(spent)
    session.flush()
    outcome = operation(
        session, chat_id=chat_id, assignment_id=assignment_id, actor=actor, now=now, **kwargs
    )
    if outcome.refused:
        session.delete(spent)
    return outcome
