"""The channels of this deployment: an explicit dict, built from settings by the caller."""

from __future__ import annotations

from typing import Any

from telegram.ext import ExtBot

from config.settings import Settings
from dondoc.clock import Clock
from notifiers.base import Channel
from notifiers.email import EmailChannel
from notifiers.telegram import CallbackSigner, TelegramChannel, make_bot


def build_channels(
    settings: Settings,
    *,
    telegram_bot: ExtBot[Any] | None = None,
    clock: Clock | None = None,
) -> dict[str, Channel]:
    """ "email" when an SMTP host is set, "telegram" when a bot token is set.

    Pass the inbound bot's `BotRunner.bot` as `telegram_bot` so that reminders and chat
    answers share one connection pool and one flood-limit budget.
    """
    channels: dict[str, Channel] = {}
    if settings.smtp.host:
        channels["email"] = EmailChannel(settings.smtp, clock=clock, tz=settings.tz)
    if settings.telegram.token is not None:
        token = settings.telegram.token.get_secret_value()
        bot = telegram_bot or make_bot(settings.telegram)
        channels["telegram"] = TelegramChannel(
            bot, signer=CallbackSigner(token), owns_bot=telegram_bot is None
        )
    return channels
