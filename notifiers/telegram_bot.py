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
    filters,
)

from config.settings import Settings
from dondoc.clock import Clock
from notifiers.base import ChannelError
from notifiers.render import Renderer
from notifiers.telegram import CallbackSigner, TelegramChannel, make_bot
from notifiers.telegram_handlers import ChatHandlers

log = logging.getLogger("dondoc.telegram")

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
                allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
            )
        except TelegramError as exc:
            await self.stop()
            reason = exc.message.replace(self.bot.token, "***")
            raise ChannelError(
                f"Không khởi động được bot Telegram: {reason}",
                permanent=isinstance(exc, InvalidToken),
            ) from None
        await self._publish_commands()

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
    handlers = ChatHandlers(
        engine=engine,
        clock=clock,
        renderer=renderer or Renderer(templates_dir=settings.templates_dir),
        signer=signer,
        tz=settings.tz,
    )
    bot = make_bot(settings.telegram, rate_limiter=rate_limiter)
    application = ApplicationBuilder().bot(bot).build()
    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler("tasks", handlers.tasks))
    application.add_handler(CommandHandler("help", handlers.help))
    application.add_handler(CallbackQueryHandler(handlers.button))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.text))
    application.add_error_handler(handlers.on_error)
    return BotRunner(application, signer=signer, poll_timeout=poll_timeout)
