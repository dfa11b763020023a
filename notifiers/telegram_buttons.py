"""Button presses: verified against the chat, decided once, answered in the chat's language.

A button's data is signed for the chat it was sent to and carries a one-time nonce
(notifiers/telegram.py `CallbackSigner`). Decision buttons ("Đã nhận", "Xác nhận hoàn
thành", "Hủy") spend their nonce in the store with the decision itself: pressed again,
even after `task reopen`, they do nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from telegram import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.ext import ContextTypes

from dondoc import chat_actions, chat_links, chat_prompts
from dondoc.chat_links import ChatOutcome
from notifiers.telegram_context import ChatContext, actor_of, chat_id_of
from notifiers.telegram_parsing import parse_button

Context = ContextTypes.DEFAULT_TYPE
# Buttons that decide something: each press spends the button's nonce.
DECISIONS = {"a": chat_actions.acknowledge, "dc": chat_actions.complete, "x": chat_actions.check}


def answering_user(update: Update) -> int | None:
    """Who answers, when the agency may restrict it: people in groups, not private chats."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type == "private":
        return None
    return user.id


class ButtonHandlers:
    def __init__(self, ctx: ChatContext) -> None:
        self.ctx = ctx

    async def button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        ctx, chat_id = self.ctx, chat_id_of(update)
        message = query.message if isinstance(query.message, Message) else None
        press = ctx.signer.verify_press(chat_id, query.data or "") if message else None
        if message is not None and press is None:
            # Sent before the group became a supergroup: signed for the group's old id.
            for former in await ctx.db(chat_links.former_chat_ids, chat_id=chat_id):
                press = press or ctx.signer.verify_press(former, query.data or "")
        parsed = parse_button(press[0]) if press else None
        actor, now = actor_of(update), ctx.now()
        if message is None or press is None or parsed is None:
            # Each check that refused is named in the audit trail.
            reason = (
                "button_without_message"
                if message is None
                else "button_signature"
                if press is None
                else "button_malformed"
            )
            outcome = await ctx.db(
                chat_links.refuse,
                chat_id=chat_id,
                reason=reason,
                status="refused_button",
                action="button",
                actor=actor,
                now=now,
            )
            await query.answer(ctx.say(outcome), show_alert=True)
            return
        action, assignment_id, occurrence = parsed
        common = {
            "chat_id": chat_id,
            "assignment_id": assignment_id,
            "actor": actor,
            "now": now,
            "user_id": answering_user(update),
        }
        outcome = await self._act(message, action, occurrence, press[1], common)
        # Answered last, so that whatever the press changed is visible when the spinner stops.
        await self._answer(query, outcome)

    async def _decide(
        self, button: str, nonce: str, common: dict[str, Any], **extra: Any
    ) -> ChatOutcome:
        ctx = self.ctx
        try:
            return await ctx.db(
                chat_prompts.press_once,
                nonce=nonce,
                operation=DECISIONS[button],
                button=_ACTION_NAMES[button],
                **common,
                **extra,
            )
        except IntegrityError:  # another daemon spent the nonce a moment ago
            return await ctx.db(
                chat_links.refuse,
                chat_id=common["chat_id"],
                reason="button_used",
                status="button_used",
                action=_ACTION_NAMES[button],
                actor=common["actor"],
                now=common["now"],
            )

    async def _act(
        self,
        message: Message,
        action: str,
        occurrence: date | None,
        nonce: str,
        common: dict[str, Any],
    ) -> ChatOutcome:
        ctx = self.ctx
        if action == "a":
            outcome = await self._decide(action, nonce, common)
            if not outcome.refused:
                await message.reply_text(ctx.say(outcome))
        elif action == "d":
            outcome = await ctx.db(chat_actions.can_complete, **common)
            if outcome.status == "can_complete":
                await self.confirm_done(message, outcome, common["chat_id"], occurrence)
            elif not outcome.refused:
                await message.reply_text(ctx.say(outcome))
        elif action == "dc":
            outcome = await self._decide(action, nonce, common, occurrence=occurrence)
            if not outcome.refused:
                await message.edit_text(ctx.say(outcome), reply_markup=None)
        elif action == "x":
            outcome = await self._decide(action, nonce, common, action="cancel")
            if not outcome.refused:
                await message.edit_text(ctx.say(outcome, "done_cancelled"), reply_markup=None)
        else:  # "e" (extension) or "g" (explanation): ask, then wait for the reply
            kind = "extension" if action == "e" else "explanation"
            outcome = await ctx.db(chat_actions.check, action=kind, **common)
            if not outcome.refused:
                await self._ask(message, outcome, kind, common)
        return outcome

    async def _answer(self, query: CallbackQuery, outcome: ChatOutcome) -> None:
        if outcome.refused:
            await query.answer(self.ctx.say(outcome), show_alert=True)
        else:
            await query.answer(self.ctx.chat("toast_ok", locale=outcome.locale))

    async def confirm_done(
        self, message: Message, outcome: ChatOutcome, chat_id: str, occurrence: date | None
    ) -> None:
        """Ask "are you sure?"; both answers share one nonce: the question is decided once."""
        ctx, task = self.ctx, outcome.task
        assignment_id = task.assignment_id if task else 0
        suffix = f":{occurrence:%Y%m%d}" if occurrence else ""
        question = (
            ctx.chat("confirm_occurrence", locale=outcome.locale, task=task, occurrence=occurrence)
            if occurrence
            else ctx.chat("confirm_done", locale=outcome.locale, task=task)
        )
        nonce = ctx.signer.new_nonce()
        yes = ctx.signer.sign(chat_id, f"dc:{assignment_id}{suffix}", nonce=nonce)
        no = ctx.signer.sign(chat_id, f"x:{assignment_id}", nonce=nonce)
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        ctx.chat("confirm_yes", locale=outcome.locale), callback_data=yes
                    ),
                    InlineKeyboardButton(
                        ctx.chat("confirm_no", locale=outcome.locale), callback_data=no
                    ),
                ]
            ]
        )
        await message.reply_text(question, reply_markup=keyboard)

    async def _ask(
        self, message: Message, outcome: ChatOutcome, kind: str, common: dict[str, Any]
    ) -> None:
        phrase = "extension_prompt" if kind == "extension" else "explanation_prompt"
        prompt = await message.reply_text(
            self.ctx.chat(phrase, locale=outcome.locale, task=outcome.task),
            # Not selective: that would aim the question at the reminder's sender, the bot.
            reply_markup=ForceReply(),
        )
        await self.ctx.db(
            chat_prompts.ask,
            chat_id=common["chat_id"],
            message_id=prompt.message_id,
            kind=kind,
            assignment_id=common["assignment_id"],
            now=common["now"],
        )


_ACTION_NAMES = {"a": "acknowledge", "dc": "complete", "x": "cancel"}
