"""What the bot does with what people send: commands, button presses, replies.

Every decision about the store is made by dondoc.chat_actions / dondoc.chat_links (run
in a worker thread, the store being synchronous); this module only reads Telegram
updates and answers in the chat's language. Button data is verified against the chat
it was sent to before anything else happens.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.ext import ContextTypes

from dondoc import chat_actions, chat_links
from dondoc.chat_links import ChatOutcome
from dondoc.clock import Clock
from dondoc.store import session_scope
from notifiers.render import Renderer
from notifiers.telegram import CallbackSigner
from notifiers.telegram_parsing import (
    Prompt,
    answered_prompt,
    intent_of,
    parse_button,
    parse_extension,
)
from notifiers.telegram_phrases import outcome_text

log = logging.getLogger("dondoc.telegram")
T = TypeVar("T")
Context = ContextTypes.DEFAULT_TYPE

PROMPT_LIFETIME = timedelta(hours=24)
MAX_LISTED_TASKS = 30


class ChatHandlers:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        renderer: Renderer,
        signer: CallbackSigner,
        tz: tzinfo,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._renderer = renderer
        self._signer = signer
        self._tz = tz

    # --- plumbing ----------------------------------------------------------------------

    async def _db(self, operation: Callable[..., T], /, **kwargs: Any) -> T:
        def run() -> T:
            with session_scope(self._engine) as session:
                return operation(session, **kwargs)

        return await asyncio.to_thread(run)

    def say(self, outcome: ChatOutcome, phrase: str | None = None) -> str:
        return outcome_text(self._renderer, outcome, phrase)

    @staticmethod
    def _actor(update: Update) -> str:
        user, chat = update.effective_user, update.effective_chat
        if user is None:
            return f"Telegram chat {chat.id if chat else '?'}"
        return f"{user.full_name} (Telegram {user.id})"[:200]

    @staticmethod
    def _chat_id(update: Update) -> str:
        chat = update.effective_chat
        return str(chat.id) if chat is not None else ""

    def _now(self) -> datetime:
        return self._clock.now()

    # --- commands ----------------------------------------------------------------------

    async def start(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        if not context.args:
            agency = await self._db(chat_links.chat_agency, chat_id=self._chat_id(update))
            if agency is not None:
                outcome = ChatOutcome("already_linked", locale=agency.locale, agency=agency.name)
                await message.reply_text(self.say(outcome))
            else:
                await message.reply_text(self.say(ChatOutcome("start_without_code")))
            return
        chat = update.effective_chat
        title = (chat.title or chat.full_name or "") if chat else ""
        outcome = await self._db(
            chat_links.link_chat,
            code=context.args[0],
            chat_id=self._chat_id(update),
            chat_title=title,
            actor=self._actor(update),
            now=self._now(),
        )
        await message.reply_text(self.say(outcome))

    async def help(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        agency = await self._db(chat_links.chat_agency, chat_id=self._chat_id(update))
        locale = agency.locale if agency else "vi"
        name = agency.name if agency else None
        await message.reply_text(self._renderer.chat("help", locale=locale, agency=name))

    async def tasks(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        outcome, refs = await self._db(chat_links.open_tasks, chat_id=self._chat_id(update))
        if outcome.refused:
            text = self.say(outcome)
        elif not refs:
            text = self._renderer.chat("tasks_none", locale=outcome.locale, agency=outcome.agency)
        else:
            text = self._renderer.chat(
                "tasks_list",
                locale=outcome.locale,
                agency=outcome.agency,
                tasks=refs[:MAX_LISTED_TASKS],
                more=max(0, len(refs) - MAX_LISTED_TASKS),
            )
        await message.reply_text(text)

    # --- buttons -----------------------------------------------------------------------

    async def button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        chat_id = self._chat_id(update)
        message = query.message if isinstance(query.message, Message) else None
        data = self._signer.verify(chat_id, query.data or "") if message else None
        parsed = parse_button(data) if data else None
        actor, now = self._actor(update), self._now()
        if message is None or parsed is None:
            outcome = await self._db(
                chat_links.refuse,
                chat_id=chat_id,
                reason="refused_button",
                action="button",
                actor=actor,
                now=now,
            )
            await query.answer(self.say(outcome, "refused_button"), show_alert=True)
            return
        action, assignment_id, occurrence = parsed
        common = {"chat_id": chat_id, "assignment_id": assignment_id, "actor": actor, "now": now}
        outcome = await self._act(context, message, action, occurrence, common)
        # Answered last, so that whatever the press changed is visible when the spinner stops.
        await self._answer(query, outcome)

    async def _act(
        self,
        context: Context,
        message: Message,
        action: str,
        occurrence: date | None,
        common: dict[str, Any],
    ) -> ChatOutcome:
        if action == "a":
            outcome = await self._db(chat_actions.acknowledge, **common)
            if not outcome.refused:
                await message.reply_text(self.say(outcome))
        elif action == "d":
            outcome = await self._db(chat_actions.can_complete, **common)
            if outcome.status == "can_complete":
                await self._confirm_done(
                    message, outcome, common["chat_id"], common["assignment_id"], occurrence
                )
            elif not outcome.refused:
                await message.reply_text(self.say(outcome))
        elif action == "dc":
            outcome = await self._db(chat_actions.complete, occurrence=occurrence, **common)
            if not outcome.refused:
                await message.edit_text(self.say(outcome), reply_markup=None)
        elif action == "x":
            outcome = await self._db(chat_actions.check, action="cancel", **common)
            if not outcome.refused:
                await message.edit_text(self.say(outcome, "done_cancelled"), reply_markup=None)
        else:  # "e" (extension) or "g" (explanation): ask, then wait for the reply
            kind = "extension" if action == "e" else "explanation"
            outcome = await self._db(chat_actions.check, action=kind, **common)
            if not outcome.refused:
                await self._ask(context, message, outcome, kind, common["assignment_id"])
        return outcome

    async def _answer(self, query: Any, outcome: ChatOutcome) -> None:
        if outcome.refused:
            await query.answer(self.say(outcome), show_alert=True)
        else:
            await query.answer(self._renderer.chat("toast_ok", locale=outcome.locale))

    async def _confirm_done(
        self,
        message: Message,
        outcome: ChatOutcome,
        chat_id: str,
        assignment_id: int,
        occurrence: date | None,
    ) -> None:
        suffix = f":{occurrence:%Y%m%d}" if occurrence else ""
        chat = self._renderer.chat
        question = (
            chat(
                "confirm_occurrence",
                locale=outcome.locale,
                task=outcome.task,
                occurrence=occurrence,
            )
            if occurrence
            else chat("confirm_done", locale=outcome.locale, task=outcome.task)
        )
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        chat("confirm_yes", locale=outcome.locale),
                        callback_data=self._signer.sign(chat_id, f"dc:{assignment_id}{suffix}"),
                    ),
                    InlineKeyboardButton(
                        chat("confirm_no", locale=outcome.locale),
                        callback_data=self._signer.sign(chat_id, f"x:{assignment_id}"),
                    ),
                ]
            ]
        )
        await message.reply_text(question, reply_markup=keyboard)

    async def _ask(
        self, context: Context, message: Message, outcome: ChatOutcome, kind: str, assignment: int
    ) -> None:
        phrase = "extension_prompt" if kind == "extension" else "explanation_prompt"
        prompt = await message.reply_text(
            self._renderer.chat(phrase, locale=outcome.locale, task=outcome.task),
            # Not selective: that would aim the question at the reminder's sender, the bot.
            reply_markup=ForceReply(),
        )
        prompts = _prompts(context)
        prompts[prompt.message_id] = Prompt(kind, assignment, self._now() + PROMPT_LIFETIME)

    # --- text ----------------------------------------------------------------------------

    async def text(self, update: Update, context: Context) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not message.text:
            return
        private = chat.type == "private"
        replied = message.reply_to_message
        if replied is not None and replied.from_user and replied.from_user.id != context.bot.id:
            return  # people talking to each other in a group
        prompt_id = self._prompt_for(context, replied, private and intent_of(message.text) is None)
        if prompt_id is not None:
            await self._answer_prompt(update, context, message, prompt_id)
            return
        chat_id, intent = self._chat_id(update), intent_of(message.text)
        if replied is not None:
            sent = await self._db(
                chat_links.sent_message, chat_id=chat_id, message_id=str(replied.message_id)
            )
        elif private and intent is not None:
            sent = await self._db(chat_links.latest_sent_message, chat_id=chat_id)
        else:
            sent = None
        if sent is None or not sent.assignment_ids:
            if private or replied is not None:
                await message.reply_text(await self._hint(chat_id))
            return
        await self._answer_reminder(
            update, message, sent.assignment_ids, intent, sent.asks_explanation
        )

    async def _answer_reminder(
        self,
        update: Update,
        message: Message,
        assignment_ids: list[int],
        intent: str | None,
        asks_explanation: bool,
    ) -> None:
        chat_id, actor, now = self._chat_id(update), self._actor(update), self._now()
        common = {"chat_id": chat_id, "actor": actor, "now": now}
        if intent == "done":
            if len(assignment_ids) != 1:
                agency = await self._db(chat_links.chat_agency, chat_id=chat_id)
                locale = agency.locale if agency else "vi"
                await message.reply_text(self._renderer.chat("several_tasks", locale=locale))
                return
            outcome = await self._db(
                chat_actions.can_complete, assignment_id=assignment_ids[0], **common
            )
            if outcome.status == "can_complete":
                await self._confirm_done(message, outcome, chat_id, assignment_ids[0], None)
            else:
                await message.reply_text(self.say(outcome))
            return
        outcomes = []
        for assignment_id in assignment_ids:
            if intent == "ack":
                operation: Callable[..., ChatOutcome] = chat_actions.acknowledge
                extra: dict[str, Any] = {}
            else:
                operation = (
                    chat_actions.submit_explanation if asks_explanation else chat_actions.add_note
                )
                extra = {"text": message.text or ""}
            outcomes.append(
                await self._db(operation, assignment_id=assignment_id, **common, **extra)
            )
        lines = dict.fromkeys(self.say(o) for o in outcomes)  # one refusal said once
        await message.reply_text("\n".join(lines))

    def _prompt_for(
        self, context: Context, replied: Message | None, accept_unreplied: bool
    ) -> int | None:
        return answered_prompt(
            _prompts(context),
            now=self._now(),
            replied_id=replied.message_id if replied is not None else None,
            accept_unreplied=accept_unreplied,
        )

    async def _answer_prompt(
        self, update: Update, context: Context, message: Message, prompt_id: int
    ) -> None:
        prompt = _prompts(context)[prompt_id]
        text = message.text or ""
        common: dict[str, Any] = {
            "chat_id": self._chat_id(update),
            "assignment_id": prompt.assignment_id,
            "actor": self._actor(update),
            "now": self._now(),
        }
        if prompt.kind == "explanation":
            outcome = await self._db(chat_actions.submit_explanation, text=text, **common)
            if outcome.status == "explanation_invalid":
                await message.reply_text(self.say(outcome))
                return
        else:
            proposed, has_reason = parse_extension(text)
            locale = await self._locale(common["chat_id"])
            if proposed is None:
                await message.reply_text(self._renderer.chat("extension_need_date", locale=locale))
                return
            if not has_reason:
                await message.reply_text(
                    self._renderer.chat("extension_need_reason", locale=locale)
                )
                return
            today = self._now().astimezone(self._tz).date()
            outcome = await self._db(
                chat_actions.request_extension,
                reason=text,
                proposed_due=proposed,
                today=today,
                **common,
            )
            if outcome.status == "extension_date_not_future":
                await message.reply_text(self.say(outcome))
                return
        del _prompts(context)[prompt_id]
        await message.reply_text(self.say(outcome))

    async def _locale(self, chat_id: str) -> str:
        agency = await self._db(chat_links.chat_agency, chat_id=chat_id)
        return agency.locale if agency else "vi"

    async def _hint(self, chat_id: str) -> str:
        return self._renderer.chat("hint", locale=await self._locale(chat_id))

    async def on_error(self, update: object, context: Context) -> None:
        log.error("a Telegram update could not be handled", exc_info=context.error)


def _prompts(context: Context) -> dict[int, Prompt]:
    chat_data = context.chat_data if context.chat_data is not None else {}
    prompts: dict[int, Prompt] = chat_data.setdefault("prompts", {})
    return prompts
