"""What the bot does with what people write: commands, replies, answers to its questions.

Every decision about the store is made by dondoc.chat_actions / dondoc.chat_links (run
in a worker thread, the store being synchronous); this module only reads Telegram
updates and answers in the chat's language. Button presses are in telegram_buttons.py;
floods, errors and odd updates in telegram_guard.py. The questions the bot waits an
answer for are kept in the store (dondoc.chat_prompts), so a restart loses none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram import Message, Update
from telegram.ext import ContextTypes

from dondoc import chat_actions, chat_links, chat_prompts
from dondoc.chat_links import ChatOutcome
from dondoc.models_chat import ChatPrompt
from notifiers.telegram_buttons import ButtonHandlers, answering_user
from notifiers.telegram_context import ChatContext, actor_of, chat_id_of, labels
from notifiers.telegram_parsing import intent_of, parse_extension

Context = ContextTypes.DEFAULT_TYPE

MAX_LISTED_TASKS = 30
CODE_REFUSALS = ("code_invalid", "code_used", "code_expired")


class ChatHandlers:
    def __init__(self, ctx: ChatContext, buttons: ButtonHandlers) -> None:
        self.ctx = ctx
        self._buttons = buttons

    # --- commands ----------------------------------------------------------------------

    async def start(self, update: Update, context: Context) -> None:
        message, ctx = update.effective_message, self.ctx
        if message is None:
            return
        chat_id = chat_id_of(update)
        if not context.args:
            agency = await ctx.db(chat_links.chat_agency, chat_id=chat_id)
            if agency is not None:
                outcome = ChatOutcome("already_linked", locale=agency.locale, agency=agency.name)
                await message.reply_text(ctx.say(outcome))
            else:
                await message.reply_text(ctx.say(ChatOutcome("start_without_code")))
            return
        now = ctx.now()
        if ctx.wrong_codes.blocked(chat_id, now):
            # Too many wrong codes: not even checked (guessing stays slow), said once.
            if ctx.wrong_codes.start_burst(chat_id):
                outcome = await ctx.db(
                    chat_links.refuse,
                    chat_id=chat_id,
                    reason="too_many_wrong_codes",
                    status="codes_throttled",
                    action="link",
                    actor=actor_of(update),
                    now=now,
                )
                await message.reply_text(ctx.say(outcome))
            return
        chat = update.effective_chat
        title = (chat.title or chat.full_name or "") if chat else ""
        outcome = await ctx.db(
            chat_links.link_chat,
            code=context.args[0],
            chat_id=chat_id,
            chat_title=title,
            actor=actor_of(update),
            now=now,
        )
        if outcome.status in CODE_REFUSALS:
            ctx.wrong_codes.record(chat_id, now)
        await message.reply_text(ctx.say(outcome))

    async def help(self, update: Update, context: Context) -> None:
        message, ctx = update.effective_message, self.ctx
        if message is None:
            return
        agency = await ctx.db(chat_links.chat_agency, chat_id=chat_id_of(update))
        locale = agency.locale if agency else "vi"
        name = agency.name if agency else None
        await message.reply_text(
            ctx.chat("help", locale=locale, agency=name, labels=labels(locale))
        )

    async def tasks(self, update: Update, context: Context) -> None:
        message, ctx = update.effective_message, self.ctx
        if message is None:
            return
        outcome, refs = await ctx.db(
            chat_links.open_tasks,
            chat_id=chat_id_of(update),
            now=ctx.now(),
            ack_timeout=ctx.ack_timeout(),
        )
        if outcome.refused:
            text = ctx.say(outcome)
        elif not refs:
            text = ctx.chat("tasks_none", locale=outcome.locale, agency=outcome.agency)
        else:
            text = ctx.chat(
                "tasks_list",
                locale=outcome.locale,
                agency=outcome.agency,
                tasks=refs[:MAX_LISTED_TASKS],
                more=max(0, len(refs) - MAX_LISTED_TASKS),
            )
        await message.reply_text(text)

    # --- text ----------------------------------------------------------------------------

    async def text(self, update: Update, context: Context) -> None:
        message, chat, ctx = update.effective_message, update.effective_chat, self.ctx
        # A photo or a document with a caption answers like a text.
        words = (message.text or message.caption) if message is not None else None
        if message is None or chat is None or not words:
            return
        private = chat.type == "private"
        replied = message.reply_to_message
        if replied is not None and replied.from_user and replied.from_user.id != context.bot.id:
            return  # people talking to each other in a group
        chat_id, intent = chat_id_of(update), intent_of(words)
        prompt = await ctx.db(
            chat_prompts.open_prompt,
            chat_id=chat_id,
            replied_id=replied.message_id if replied is not None else None,
            # In a private chat people often answer without pressing "reply"; "ok" or
            # "xong" are answers to the reminder, not the explanation that was asked for.
            accept_unreplied=private and intent is None,
            now=ctx.now(),
        )
        if prompt is not None:
            await self._answer_prompt(update, message, words, prompt)
            return
        if replied is not None:
            sent = await ctx.db(
                chat_links.sent_message, chat_id=chat_id, message_id=str(replied.message_id)
            )
        elif private and intent is not None:
            sent = await ctx.db(chat_links.latest_sent_message, chat_id=chat_id)
        else:
            sent = None
        if sent is None or not sent.assignment_ids:
            if private or replied is not None:
                await message.reply_text(ctx.chat("hint", locale=await ctx.locale(chat_id)))
            return
        await self._answer_reminder(
            update, message, words, sent.assignment_ids, intent, sent.asks_explanation
        )

    async def _answer_reminder(
        self,
        update: Update,
        message: Message,
        words: str,
        assignment_ids: list[int],
        intent: str | None,
        asks_explanation: bool,
    ) -> None:
        ctx, chat_id = self.ctx, chat_id_of(update)
        common = {
            "chat_id": chat_id,
            "actor": actor_of(update),
            "now": ctx.now(),
            "user_id": answering_user(update),
        }
        if intent == "done":
            if len(assignment_ids) != 1:
                locale = await ctx.locale(chat_id)
                refs = [await ctx.db(chat_links.task_ref, assignment_id=a) for a in assignment_ids]
                numbers = [ref.number for ref in refs if ref is not None]
                await message.reply_text(
                    ctx.chat("several_tasks", locale=locale, labels=labels(locale), numbers=numbers)
                )
                return
            outcome = await ctx.db(
                chat_actions.can_complete, assignment_id=assignment_ids[0], **common
            )
            if outcome.status == "can_complete":
                await self._buttons.confirm_done(message, outcome, chat_id, None)
            else:
                await message.reply_text(ctx.say(outcome))
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
                extra = {"text": words}
            outcomes.append(await ctx.db(operation, assignment_id=assignment_id, **common, **extra))
        lines = dict.fromkeys(ctx.say(o) for o in outcomes)  # one refusal said once
        await message.reply_text("\n".join(lines))

    async def _answer_prompt(
        self, update: Update, message: Message, words: str, prompt: ChatPrompt
    ) -> None:
        ctx = self.ctx
        common: dict[str, Any] = {
            "chat_id": chat_id_of(update),
            "assignment_id": prompt.assignment_id,
            "actor": actor_of(update),
            "user_id": answering_user(update),
        }
        now = ctx.now()
        if prompt.kind == "explanation":
            operation: Callable[..., ChatOutcome] = chat_actions.submit_explanation
            extra: dict[str, Any] = {"text": words}
        else:
            proposed, has_reason = parse_extension(words)
            if proposed is None or not has_reason:
                phrase = "extension_need_date" if proposed is None else "extension_need_reason"
                locale = await ctx.locale(common["chat_id"])
                await message.reply_text(ctx.chat(phrase, locale=locale))
                return
            operation = chat_actions.request_extension
            extra = {
                "reason": words,
                "proposed_due": proposed,
                "today": now.astimezone(ctx.tz).date(),
            }
        outcome = await ctx.db(
            chat_prompts.answer_prompt,
            prompt_id=prompt.id or 0,
            operation=operation,
            now=now,
            **common,
            **extra,
        )
        if outcome is None:  # answered meanwhile (another daemon, a double send)
            outcome = ChatOutcome("hint", locale=await ctx.locale(common["chat_id"]))
        await message.reply_text(ctx.say(outcome))
