"""Updates that are not ordinary answers: floods, errors, unreadable or unexpected shapes.

- `gate` runs before every other handler: a chat sending more than people type is told
  once per burst to slow down (audited once per burst), and the rest is dropped.
- `unreadable` answers an update PTB could not read (notifiers/telegram_updates.py).
- `migrated` moves a group's link when Telegram turns it into a supergroup.
- `edited` and `channel_post` answer what the bot does not act on, instead of ignoring it.
- `on_error` logs a handler's failure, audits it against the chat, and apologises;
  polling goes on.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from dondoc import chat_links
from notifiers.telegram_context import ChatContext, actor_of, chat_id_of
from notifiers.telegram_updates import UNREADABLE

log = logging.getLogger("dondoc.telegram")
Context = ContextTypes.DEFAULT_TYPE


class GuardHandlers:
    def __init__(self, ctx: ChatContext) -> None:
        self.ctx = ctx

    async def gate(self, update: Update, context: Context) -> None:
        """Per-chat throttle of everything a chat sends (commands, texts, presses)."""
        chat_id = chat_id_of(update)
        if not chat_id or update.my_chat_member is not None:
            return
        ctx, now = self.ctx, self.ctx.now()
        if ctx.messages.allow(chat_id, now):
            return
        if ctx.messages.start_burst(chat_id):
            outcome = await ctx.db(
                chat_links.refuse,
                chat_id=chat_id,
                reason="too_many_messages",
                status="throttled",
                action=_kind(update),
                actor=actor_of(update),
                now=now,
            )
            await self._tell(update, ctx.say(outcome))
        elif update.callback_query is not None:
            # A press must be answered, or the person's button spins until it times out.
            await update.callback_query.answer()
        raise ApplicationHandlerStop

    async def unreadable(self, update: Update, context: Context) -> None:
        problem = update.api_kwargs.get(UNREADABLE)
        if not isinstance(problem, dict):
            return
        chat = problem.get("chat_id")
        ctx = self.ctx
        outcome = await ctx.db(
            chat_links.refuse,
            chat_id=str(chat) if chat is not None else "",
            reason="unreadable_update",
            status="unreadable",
            event="chat.error",
            action=",".join(problem.get("kinds", [])) or "update",
            actor=f"Telegram chat {chat if chat is not None else '?'}",
            now=ctx.now(),
            error=problem.get("error"),
        )
        if isinstance(chat, int):
            await context.bot.send_message(chat_id=chat, text=ctx.say(outcome))

    async def migrated(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or message.migrate_to_chat_id is None:
            return
        await self.ctx.db(
            chat_links.migrate_chat,
            old_chat_id=str(message.chat.id),
            new_chat_id=str(message.migrate_to_chat_id),
            actor=actor_of(update),
            now=self.ctx.now(),
        )

    async def edited(self, update: Update, context: Context) -> None:
        message = update.edited_message
        if message is None:
            return
        replied = message.reply_to_message
        to_bot = (
            replied is not None
            and replied.from_user is not None
            and (replied.from_user.id == context.bot.id)
        )
        if message.chat.type == "private" or to_bot:
            locale = await self.ctx.locale(str(message.chat.id))
            await message.reply_text(self.ctx.chat("edit_ignored", locale=locale))

    async def channel_post(self, update: Update, context: Context) -> None:
        post = update.channel_post
        if post is None or not (post.text or "").startswith("/start"):
            return  # a channel's ordinary posts are not meant for the bot
        await post.reply_text(self.ctx.chat("channel_not_supported", locale="vi"))

    async def on_error(self, update: object, context: Context) -> None:
        error = context.error
        log.error("a Telegram update could not be handled", exc_info=error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        chat_id, ctx = chat_id_of(update), self.ctx
        try:
            outcome = await ctx.db(
                chat_links.refuse,
                chat_id=chat_id,
                reason="handler_error",
                status="failed",
                event="chat.error",
                action=_kind(update),
                actor=actor_of(update),
                now=ctx.now(),
                error=type(error).__name__,
            )
            await self._tell(update, ctx.say(outcome))
        except Exception:
            log.exception("could not tell chat %s that its update failed", chat_id)

    async def _tell(self, update: Update, text: str) -> None:
        query = update.callback_query
        try:
            if query is not None:
                await query.answer(text, show_alert=True)
            elif update.effective_message is not None:
                await update.effective_message.reply_text(text)
        except TelegramError as exc:
            log.warning("could not answer chat %s: %s", chat_id_of(update), exc.message)


def _kind(update: Update) -> str:
    if update.callback_query is not None:
        return "button"
    message = update.effective_message
    text = (message.text or "") if message else ""
    return text.split()[0][:32] if text.startswith("/") else "message"
