"""What every chat handler needs: the store, the clock, the phrases, the signer, limits.

The store is synchronous, so each store call runs in a worker thread in its own
transaction (`db`). The handlers (telegram_handlers.py, telegram_buttons.py,
telegram_guard.py) only read updates and answer; decisions are dondoc.chat_* functions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from telegram import Update

from dondoc import chat_links
from dondoc.chat_links import ChatOutcome
from dondoc.clock import Clock
from dondoc.store import session_scope
from notifiers.render import BUTTON_LABELS, DEFAULT_LOCALE, Renderer
from notifiers.telegram import CallbackSigner
from notifiers.telegram_phrases import outcome_text
from notifiers.telegram_updates import Limit, Throttle

T = TypeVar("T")

# A person types a few messages a minute; a script sends hundreds.
MESSAGE_LIMIT = Limit(30, timedelta(minutes=1))
# Codes are 10 characters of a 31-letter alphabet: 5 guesses per 15 minutes is nothing.
WRONG_CODE_LIMIT = Limit(5, timedelta(minutes=15))


@dataclass
class ChatContext:
    engine: Engine
    clock: Clock
    renderer: Renderer
    signer: CallbackSigner
    tz: tzinfo
    messages: Throttle = field(default_factory=lambda: Throttle(MESSAGE_LIMIT))
    wrong_codes: Throttle = field(default_factory=lambda: Throttle(WRONG_CODE_LIMIT))
    # The rule config's ack_timeout (notifiers/chat_rules.py); None shows
    # statuses as stored.
    ack_timeout: Callable[[], timedelta | None] = field(default=lambda: None)

    async def db(self, operation: Callable[..., T], /, **kwargs: Any) -> T:
        def run() -> T:
            with session_scope(self.engine) as session:
                return operation(session, **kwargs)

        return await asyncio.to_thread(run)

    def say(self, outcome: ChatOutcome, phrase: str | None = None) -> str:
        return outcome_text(self.renderer, outcome, phrase)

    def chat(self, phrase: str, *, locale: str, **values: Any) -> str:
        return self.renderer.chat(phrase, locale=locale, **values)

    async def locale(self, chat_id: str) -> str:
        agency = await self.db(chat_links.chat_agency, chat_id=chat_id)
        return agency.locale if agency else DEFAULT_LOCALE

    def now(self) -> datetime:
        return self.clock.now()


def labels(locale: str) -> dict[str, str]:
    """The buttons' words, so that what the bot says names the buttons people see."""
    return BUTTON_LABELS.get(locale, BUTTON_LABELS[DEFAULT_LOCALE])


def actor_of(update: Update) -> str:
    user, chat = update.effective_user, update.effective_chat
    if user is None:
        return f"Telegram chat {chat.id if chat else '?'}"
    return f"{user.full_name} (Telegram {user.id})"[:200]


def chat_id_of(update: Update) -> str:
    chat = update.effective_chat
    return str(chat.id) if chat is not None else ""
