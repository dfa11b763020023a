"""Telegram reminders (python-telegram-bot): the bot and its signed buttons.

One `ExtBot` serves both directions: the inbound bot (notifiers/telegram_bot.py) and
this outbound channel share it, so a single rate limiter (notifiers/telegram_limits.py)
sees every request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, LinkPreviewOptions
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.request import HTTPXRequest

from config.settings import TelegramSettings
from notifiers.base import ChannelError, OutgoingMessage
from notifiers.telegram_limits import TelegramRateLimiter, retry_after_seconds

log = logging.getLogger("dondoc.telegram")

DEFAULT_API_URL = "https://api.telegram.org"
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
_SIGNATURE_CHARS = 12  # 72 bits of HMAC: unguessable, and short enough for 64-byte data
_NONCE_BYTES = 6  # 8 characters: one-time, not secret (the signature covers it)


class CallbackSigner:
    """Binds button data to one chat with an HMAC keyed from the bot token.

    A button copied into another chat, or data typed by hand, fails verification; the
    handlers still check that the chat's agency owns the assignment.
    """

    def __init__(self, token: str) -> None:
        self._key = hmac.new(token.encode(), b"dondoc callback data v1", hashlib.sha256).digest()

    def _signature(self, chat_id: str, data: str) -> str:
        digest = hmac.new(self._key, f"{chat_id}|{data}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]

    def sign(self, chat_id: str | int, data: str, *, nonce: str | None = None) -> str:
        """`data`, a one-time nonce and the signature: "a:12:<nonce>:<signature>".

        The nonce makes each button unique, so the store can refuse a second press;
        buttons that decide one question together share one (`new_nonce`)."""
        once = f"{data}:{nonce or self.new_nonce()}"
        signed = f"{once}:{self._signature(str(chat_id), once)}"
        if len(signed.encode()) > MAX_CALLBACK_DATA:
            raise ValueError(f"callback data too long for Telegram: {data!r}")
        return signed

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(_NONCE_BYTES)

    def verify(self, chat_id: str | int, signed: str) -> str | None:
        """The data when the signature matches this chat, else None."""
        press = self.verify_press(chat_id, signed)
        return press[0] if press else None

    def verify_press(self, chat_id: str | int, signed: str) -> tuple[str, str] | None:
        """(data, nonce) when the signature matches this chat, else None."""
        once, _, signature = signed.rpartition(":")
        if not once or not hmac.compare_digest(signature, self._signature(str(chat_id), once)):
            return None
        data, _, nonce = once.rpartition(":")
        return (data, nonce) if data and nonce else None


def chat_link(settings: TelegramSettings) -> str | None:
    """The bot's t.me address, for the "how to answer" part of emails; None without a bot."""
    if settings.token is None or not settings.bot_username:
        return None
    return f"https://t.me/{settings.bot_username.lstrip('@')}"


def make_bot(
    settings: TelegramSettings,
    *,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    bot_class: type[ExtBot[Any]] = ExtBot,
) -> ExtBot[Any]:
    """The one bot of a process: Bot API URL from settings, flood limits applied."""
    if settings.token is None:
        raise ValueError("make_bot needs settings.telegram.token")
    # httpx logs each request URL at INFO, and the URL carries the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    api_url = settings.api_url or DEFAULT_API_URL
    return bot_class(
        settings.token.get_secret_value(),
        base_url=f"{api_url}/bot",
        base_file_url=f"{api_url}/file/bot",
        # Sends run concurrently across chats: one connection would serialise them.
        request=HTTPXRequest(connection_pool_size=64, read_timeout=15, write_timeout=15),
        get_updates_request=HTTPXRequest(connection_pool_size=2),
        rate_limiter=rate_limiter or TelegramRateLimiter(),
    )


class TelegramChannel:
    """Sends reminders to chats; returns "chat_id:message_id" of the message with buttons."""

    name = "telegram"
    # Enough sends in flight to keep 30 a second going; the limiter paces them.
    concurrency = 32

    def __init__(self, bot: ExtBot[Any], *, signer: CallbackSigner, owns_bot: bool = True) -> None:
        self.bot = bot
        self._signer = signer
        self._owns_bot = owns_bot
        self._token = bot.token

    async def open(self) -> None:
        if not self._owns_bot:
            return  # the bot runner initialised it
        try:
            await self.bot.initialize()
        except TelegramError as exc:
            # Sends will fail and be retried with a precise reason; the batch goes on.
            log.warning("Telegram is not reachable: %s", self._redact(str(exc)))

    async def close(self) -> None:
        """The bot stays up between batches; `shutdown` ends it."""

    async def shutdown(self) -> None:
        if self._owns_bot:
            await self.bot.shutdown()

    def wait_for(self, address: str) -> float:
        limiter = self.bot.rate_limiter
        return limiter.wait_for(address) if isinstance(limiter, TelegramRateLimiter) else 0.0

    async def send(self, message: OutgoingMessage) -> str:
        chat_id = _chat_id(message.address)
        markup = self._markup(message)
        chunks = split_text(message.text)
        try:
            await self.bot.initialize()  # a no-op once done; retried after a failed start
            sent = None
            for index, chunk in enumerate(chunks):
                last = index == len(chunks) - 1
                sent = await self.bot.send_message(
                    chat_id=chat_id,
                    text=chunk,
                    reply_markup=markup if last else None,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            for attachment in message.attachments:
                await self.bot.send_document(
                    chat_id=chat_id,
                    document=InputFile(attachment.content, filename=attachment.filename),
                )
        except TelegramError as exc:
            raise self._classify(exc, message.address) from None
        if sent is None:
            raise ChannelError("Tin nhắn Telegram rỗng, không có gì để gửi.", permanent=True)
        return f"{sent.chat_id}:{sent.message_id}"

    def _markup(self, message: OutgoingMessage) -> InlineKeyboardMarkup | None:
        if not message.buttons:
            return None
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        button.text, callback_data=self._signer.sign(message.address, button.data)
                    )
                    for button in row
                ]
                for row in message.buttons
            ]
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def _classify(self, exc: TelegramError, chat: str) -> ChannelError:
        reason = self._redact(exc.message)
        if isinstance(exc, RetryAfter):
            seconds = retry_after_seconds(exc)
            return ChannelError(
                f"Telegram yêu cầu tạm dừng {seconds:g} giây (giới hạn tốc độ gửi).",
                permanent=False,
                retry_after=seconds,
            )
        if isinstance(exc, Forbidden):
            return ChannelError(
                f"Telegram không cho gửi tới cuộc trò chuyện {chat}: bot đã bị chặn hoặc "
                f"bị xóa khỏi nhóm ({reason}).",
                permanent=True,
            )
        if isinstance(exc, ChatMigrated):
            return ChannelError(
                f"Nhóm Telegram {chat} đã chuyển thành siêu nhóm {exc.new_chat_id}; "
                "cần liên kết lại nhóm bằng mã mới (dondoc agency invite).",
                permanent=True,
            )
        if isinstance(exc, BadRequest):
            if "chat not found" in reason.lower():
                return ChannelError(
                    f"Không tìm thấy cuộc trò chuyện Telegram {chat} ({reason}).", permanent=True
                )
            return ChannelError(f"Telegram không nhận tin nhắn: {reason}.", permanent=True)
        if isinstance(exc, InvalidToken):
            return ChannelError(
                "Telegram không chấp nhận mã bot (DONDOC_TELEGRAM__TOKEN) hoặc địa chỉ API.",
                permanent=False,
            )
        return ChannelError(f"Không gửi được tới Telegram: {reason}.", permanent=False)


def _chat_id(address: str) -> int | str:
    try:
        return int(address)
    except ValueError:
        return address


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut between paragraphs (a digest's items are
    paragraphs) where possible, else at line ends, else anywhere."""
    text = text.strip() or " "
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n\n", 0, limit)
        if cut <= 0:
            cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n")
    pieces.append(text)
    return pieces
