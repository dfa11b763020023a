"""The inbound side of Telegram: a PTB Application polling inside the daemon's event loop.

`build_bot` wires the handlers (notifiers/telegram_handlers.py) to a bot built like the
outbound one. Send reminders through `runner.channel` (or pass `runner.bot` to
`build_channels(..., telegram_bot=...)`): both directions then share one connection pool
and one flood-limit budget.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import Engine
from telegram import BotCommand, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ExtBot,
    MessageHandler,
    TypeHandler,
    filters,
)

from config.settings import Settings
from dondoc.clock import Clock
from notifiers.base import ChannelError
from notifiers.chat_rules import ack_timeout_of
from notifiers.render import Renderer
from notifiers.telegram import CallbackSigner, TelegramChannel, make_bot
from notifiers.telegram_buttons import ButtonHandlers
from notifiers.telegram_context import ChatContext
from notifiers.telegram_guard import GuardHandlers
from notifiers.telegram_handlers import ChatHandlers
from notifiers.telegram_updates import ChatBot, PerChatProcessor

log = logging.getLogger("dondoc.telegram")

# What the bot acts on or answers; anything else Telegram keeps to itself.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CHANNEL_POST,
    Update.CALLBACK_QUERY,
]

COMMANDS = {
    "vi": [("tasks", "Nhiệm vụ chưa hoàn thành"), ("help", "Hướng dẫn")],
    "en": [("tasks", "Tasks not yet done"), ("help", "How to use the bot")],
}


class BotRunner:
    """Starts and stops polling; `bot` is the shared ExtBot, `channel` sends through it."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        *,
        signer: CallbackSigner,
        poll_timeout: int,
    ) -> None:
        self.application = application
        self._poll_timeout = poll_timeout
        # Reminders go out through the polling bot: one pool, one flood-limit budget.
        self.channel = TelegramChannel(self.bot, signer=signer, owns_bot=False)

    @property
    def bot(self) -> ExtBot[Any]:
        bot: ExtBot[Any] = self.application.bot
        return bot

    async def start(self) -> None:
        """Initialise, start and poll in the running event loop; returns once polling."""
        app = self.application
        try:
            await app.initialize()
            await app.start()
            if app.updater is None:
                raise RuntimeError("the Telegram application was built without an updater")
            await app.updater.start_polling(
                timeout=self._poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
            )
        except TelegramError as exc:
            await self.stop()
            reason = exc.message.replace(self.bot.token, "***")
            raise ChannelError(
                f"Không khởi động được bot Telegram: {reason}",
                permanent=isinstance(exc, InvalidToken),
            ) from None
        await self._publish_commands()

    def problem(self) -> str | None:
        return None  # once polling, python-telegram-bot retries network errors itself

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def _publish_commands(self) -> None:
        # The command menu is a convenience: a failure must not stop the bot.
        try:
            for language, commands in COMMANDS.items():
                await self.bot.set_my_commands(
                    [BotCommand(name, text) for name, text in commands],
                    language_code=None if language == "vi" else language,
                )
        except TelegramError as exc:
            log.warning("could not publish the bot's command menu: %s", exc.message)


def build_bot(
    *,
    settings: Settings,
    engine: Engine,
    clock: Clock,
    renderer: Renderer | None = None,
    poll_timeout: int = 10,
    rate_limiter: BaseRateLimiter[Any] | None = None,
) -> BotRunner:
    """The bot of a deployment; `rate_limiter` replaces Telegram's limits (tests, benches)."""
    if settings.telegram.token is None:
        raise ValueError("build_bot needs settings.telegram.token")
    signer = CallbackSigner(settings.telegram.token.get_secret_value())
    ctx = ChatContext(
        engine=engine,
        clock=clock,
        renderer=renderer or Renderer(templates_dir=settings.templates_dir),
        signer=signer,
        tz=settings.tz,
        ack_timeout=ack_timeout_of(settings),
    )
    guard, buttons = GuardHandlers(ctx), ButtonHandlers(ctx)
    handlers = ChatHandlers(ctx, buttons)
    bot = make_bot(settings.telegram, rate_limiter=rate_limiter, bot_class=ChatBot)
    # Chats are answered side by side, each in its own order: one chat's flood or slow
    # store call never holds up another chat.
    application = ApplicationBuilder().bot(bot).concurrent_updates(PerChatProcessor()).build()
    # One handler runs per group: unreadable updates (no chat) first, then the flood gate.
    application.add_handler(TypeHandler(Update, guard.unreadable), group=-2)
    application.add_handler(TypeHandler(Update, guard.gate), group=-1)
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, guard.migrated))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, guard.edited))
    application.add_handler(MessageHandler(filters.UpdateType.CHANNEL_POSTS, guard.channel_post))
    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler("tasks", handlers.tasks))
    application.add_handler(CommandHandler("help", handlers.help))
    application.add_handler(CallbackQueryHandler(buttons.button))
    application.add_handler(
        MessageHandler((filters.TEXT | filters.CAPTION) & ~filters.COMMAND, handlers.text)
    )
    application.add_error_handler(guard.on_error)
    return BotRunner(application, signer=signer, poll_timeout=poll_timeout)
