"""What the Zalo bot does with what people write: link codes, numbered answers, commands.

Every decision is made by dondoc.chat_links / dondoc.chat_actions / dondoc.chat_prompts,
the same functions Telegram and the web call, with `channel="zalo"`: the same checks,
audit rows and office notifications. This module reads a message and says the outcome.

Zalo tells us nothing about which message a reply quotes, so an answer applies to the
task named by its code ("2 #12") or else to the latest reminder sent to that chat; the
bot's reply names the task it applied to.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from dondoc import chat_actions, chat_links, chat_prompts
from dondoc.chat_links import ChatOutcome
from dondoc.clock import Clock
from dondoc.models_chat import ChatPrompt
from dondoc.store import session_scope
from notifiers.render import DEFAULT_LOCALE, Renderer
from notifiers.telegram_parsing import parse_extension
from notifiers.telegram_phrases import outcome_text
from notifiers.telegram_updates import Limit, Throttle
from notifiers.zalo_parsing import Answer, confirmation, parse_answer, parse_start

T = TypeVar("T")
CHANNEL = "zalo"
CODE_REFUSALS = ("code_invalid", "code_used", "code_expired")
MAX_LISTED_TASKS = 30
# Codes are 10 characters of a 31-letter alphabet: 5 guesses per 15 minutes is nothing.
WRONG_CODE_LIMIT = Limit(5, timedelta(minutes=15))
# A person types a few messages a minute; a script sends hundreds.
MESSAGE_LIMIT = Limit(30, timedelta(minutes=1))


@dataclass(frozen=True)
class Incoming:
    """A text message as the platform delivers it."""

    chat_id: str
    chat_type: str  # "PRIVATE" | "GROUP"
    user_id: str
    user_name: str
    text: str
    message_id: str

    @property
    def actor(self) -> str:
        return f"{self.user_name or 'Người dùng'} (Zalo {self.user_id})"[:200]

    @property
    def private(self) -> bool:
        return self.chat_type.upper() != "GROUP"


@dataclass
class ZaloAnswers:
    engine: Engine
    clock: Clock
    renderer: Renderer
    tz: tzinfo
    wrong_codes: Throttle = field(default_factory=lambda: Throttle(WRONG_CODE_LIMIT))
    messages: Throttle = field(default_factory=lambda: Throttle(MESSAGE_LIMIT))
    # The rule config's ack_timeout, read when needed (the file may be edited meanwhile);
    # None shows statuses as stored.
    ack_timeout: Callable[[], timedelta | None] = field(default=lambda: None)

    async def db(self, operation: Callable[..., T], /, **kwargs: Any) -> T:
        def run() -> T:
            with session_scope(self.engine) as session:
                return operation(session, **kwargs)

        return await asyncio.to_thread(run)

    def say(self, outcome: ChatOutcome, phrase: str | None = None) -> str:
        return outcome_text(self.renderer, outcome, phrase)

    def phrase(self, name: str, *, locale: str = DEFAULT_LOCALE, **values: Any) -> str:
        return self.renderer.chat(name, locale=locale, **values)

    async def handle(self, message: Incoming) -> str | None:
        """The bot's answer to `message`, or None to stay silent (group chatter)."""
        now = self.clock.now()
        if not self.messages.allow(message.chat_id, now):
            if not self.messages.start_burst(message.chat_id):
                return None  # said once per flood
            outcome = await self.db(
                chat_links.refuse,
                chat_id=message.chat_id,
                reason="too_many_messages",
                status="throttled",
                action="text",
                actor=message.actor,
                now=now,
                channel=CHANNEL,
            )
            return self.say(outcome)
        text = message.text.strip()
        is_start, code = parse_start(text)
        if is_start:
            return await self._link(message, code)
        agency = await self.db(chat_links.chat_agency, chat_id=message.chat_id, channel=CHANNEL)
        locale = agency.locale if agency else DEFAULT_LOCALE
        command = text.split()[0].lower() if text.startswith("/") else None
        if command == "/help":
            return self.phrase("zalo_help", locale=locale, agency=agency.name if agency else None)
        answer = parse_answer(text)
        if agency is None:
            if answer is None and command is None and not message.private:
                return None  # people talking in a group the bot was added to
            outcome = await self.db(
                chat_links.refuse,
                chat_id=message.chat_id,
                reason="not_linked",
                action=answer.kind if answer else (command or "text"),
                actor=message.actor,
                now=self.clock.now(),
                channel=CHANNEL,
            )
            return self.say(outcome)
        if command == "/tasks":
            return await self._tasks(message)
        prompt = await self.db(
            chat_prompts.open_prompt,
            chat_id=message.chat_id,
            replied_id=None,
            accept_unreplied=True,
            now=self.clock.now(),
        )
        if prompt is not None and prompt.kind == "done":
            decided = confirmation(text)
            if decided is not None:
                return await self._confirm(message, prompt, decided)
        if answer is None:
            return self.phrase("zalo_hint", locale=locale) if message.private else None
        return await self._answer(message, answer, locale)

    # --- linking -------------------------------------------------------------------------

    async def _link(self, message: Incoming, code: str | None) -> str:
        chat_id, now = message.chat_id, self.clock.now()
        if code is None:
            agency = await self.db(chat_links.chat_agency, chat_id=chat_id, channel=CHANNEL)
            if agency is not None:
                return self.say(
                    ChatOutcome("already_linked", locale=agency.locale, agency=agency.name)
                )
            return self.phrase("zalo_start_without_code")
        if self.wrong_codes.blocked(chat_id, now):
            outcome = await self.db(
                chat_links.refuse,
                chat_id=chat_id,
                reason="too_many_wrong_codes",
                status="codes_throttled",
                action="link",
                actor=message.actor,
                now=now,
                channel=CHANNEL,
            )
            return self.say(outcome)
        kind = "nhóm" if not message.private else "trò chuyện riêng"
        outcome = await self.db(
            chat_links.link_chat,
            code=code,
            chat_id=chat_id,
            chat_title=f"Zalo ({kind}) {message.user_name}",
            actor=message.actor,
            now=now,
            channel=CHANNEL,
        )
        if outcome.status in CODE_REFUSALS:
            self.wrong_codes.record(chat_id, now)
        return self.say(outcome)

    async def _tasks(self, message: Incoming) -> str:
        outcome, refs = await self.db(
            chat_links.open_tasks,
            chat_id=message.chat_id,
            channel=CHANNEL,
            now=self.clock.now(),
            ack_timeout=self.ack_timeout(),
        )
        if not refs:
            return self.phrase("tasks_none", locale=outcome.locale, agency=outcome.agency)
        return self.phrase(
            "tasks_list",
            locale=outcome.locale,
            agency=outcome.agency,
            tasks=refs[:MAX_LISTED_TASKS],
            more=max(0, len(refs) - MAX_LISTED_TASKS),
        )

    # --- answers -------------------------------------------------------------------------

    async def _answer(self, message: Incoming, answer: Answer, locale: str) -> str:
        if answer.code is not None:
            targets = [answer.code]
        else:
            sent = await self.db(
                chat_links.latest_sent_message, chat_id=message.chat_id, channel=CHANNEL
            )
            # A digest may hold several stages of one task: one target per assignment.
            targets = list(dict.fromkeys(sent.assignment_ids)) if sent is not None else []
        if not targets:
            return self.phrase("zalo_no_reminder", locale=locale)
        common: dict[str, Any] = {
            "chat_id": message.chat_id,
            "actor": message.actor,
            "now": self.clock.now(),
            "channel": CHANNEL,
        }
        if answer.kind == "ack":
            outcomes = [
                await self.db(chat_actions.acknowledge, assignment_id=target, **common)
                for target in targets
            ]
            return "\n".join(dict.fromkeys(self.say(o) for o in outcomes))
        if len(targets) > 1:
            refs = [await self.db(chat_links.task_ref, assignment_id=t) for t in targets]
            codes = [(ref.assignment_id, ref.number) for ref in refs if ref is not None]
            return self.phrase("zalo_several", locale=locale, codes=codes)
        target = targets[0]
        if answer.kind == "done":
            return await self._ask_done(message, target, common)
        if answer.kind == "explanation":
            if not answer.rest:
                return self.phrase("zalo_need_text", locale=locale)
            outcome = await self.db(
                chat_actions.submit_explanation, assignment_id=target, text=answer.rest, **common
            )
            return self.say(outcome)
        proposed, has_reason = parse_extension(answer.rest)
        if proposed is None or not has_reason:
            name = "extension_need_date" if proposed is None else "extension_need_reason"
            return self.phrase(name, locale=locale)
        outcome = await self.db(
            chat_actions.request_extension,
            assignment_id=target,
            reason=answer.rest,
            proposed_due=proposed,
            today=common["now"].astimezone(self.tz).date(),
            **common,
        )
        return self.say(outcome)

    async def _ask_done(self, message: Incoming, target: int, common: dict[str, Any]) -> str:
        outcome = await self.db(chat_actions.can_complete, assignment_id=target, **common)
        if outcome.status != "can_complete":
            return self.say(outcome)
        await self.db(
            chat_prompts.ask,
            chat_id=message.chat_id,
            message_id=_prompt_id(message.message_id),
            kind="done",
            assignment_id=target,
            now=common["now"],
        )
        return self.phrase("zalo_confirm_done", locale=outcome.locale, task=outcome.task)

    async def _confirm(self, message: Incoming, prompt: ChatPrompt, yes: bool) -> str:
        now = self.clock.now()
        if not yes:
            await self.db(_close_prompt, prompt_id=prompt.id or 0, now=now)
            ref = await self.db(chat_links.task_ref, assignment_id=prompt.assignment_id)
            locale = await self._locale(message.chat_id)
            return self.phrase("done_cancelled", locale=locale, task=ref)
        outcome = await self.db(
            chat_prompts.answer_prompt,
            prompt_id=prompt.id or 0,
            operation=chat_actions.complete,
            now=now,
            chat_id=message.chat_id,
            assignment_id=prompt.assignment_id,
            occurrence=None,
            actor=message.actor,
            channel=CHANNEL,
        )
        if outcome is None:  # answered meanwhile
            return self.phrase("zalo_hint", locale=await self._locale(message.chat_id))
        return self.say(outcome)

    async def _locale(self, chat_id: str) -> str:
        agency = await self.db(chat_links.chat_agency, chat_id=chat_id, channel=CHANNEL)
        return agency.locale if agency else DEFAULT_LOCALE


def _prompt_id(message_id: str) -> int:
    """ChatPrompt keys questions by an integer message id; Zalo's are hex strings."""
    return int(hashlib.sha256(message_id.encode()).hexdigest()[:7], 16)


def _close_prompt(session: Session, *, prompt_id: int, now: datetime) -> None:
    session.execute(
        update(ChatPrompt).where(col(ChatPrompt.id) == prompt_id).values(answered_at=now)
    )
