"""The channels of this deployment: an explicit dict, built from settings by the caller."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config.settings import Settings
from dondoc.clock import Clock
from notifiers.base import Channel
from notifiers.email import EmailChannel
from notifiers.zalo import ZaloChannel, ZaloClient

if TYPE_CHECKING:
    from telegram.ext import ExtBot


def build_channels(
    settings: Settings,
    *,
    telegram_bot: ExtBot[Any] | None = None,
    clock: Clock | None = None,
    zalo_client: ZaloClient | None = None,
) -> dict[str, Channel]:
    """ "email" when an SMTP host is set, "telegram" / "zalo" when their bot token is set.

    Pass the inbound bot's `BotRunner.bot` as `telegram_bot` (and the Zalo poller's client
    as `zalo_client`) so that reminders and chat answers share one connection pool and
    one flood-limit budget.
    """
    channels: dict[str, Channel] = {}
    if settings.smtp.host:
        channels["email"] = EmailChannel(settings.smtp, clock=clock, tz=settings.tz)
    if settings.telegram.token is not None:
        # Only with a bot: python-telegram-bot takes a part of a second to import.
        from notifiers.telegram import CallbackSigner, TelegramChannel, make_bot

        token = settings.telegram.token.get_secret_value()
        bot = telegram_bot or make_bot(settings.telegram)
        channels["telegram"] = TelegramChannel(
            bot, signer=CallbackSigner(token), owns_bot=telegram_bot is None
        )
    if settings.zalo.token is not None:
        # The inbound poller's client, when given: one pace for every send of the bot.
        channels["zalo"] = ZaloChannel(
            zalo_client or ZaloClient(settings.zalo), owns_client=zalo_client is None
        )
    return channels
