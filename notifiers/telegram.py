"""Telegram reminders (python-telegram-bot): the bot, its flood limits, signed buttons.

One `ExtBot` serves both directions: the inbound bot (notifiers/telegram_bot.py) and
this outbound channel share it, so a single rate limiter sees every request.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import secrets
from collections import deque
from collections.abc import Callable, Coroutine
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


class _Gate:
    """At most `count` sends in any `period` seconds, counted on actual send times.

    Recording when a send really leaves (not when it was planned) keeps the window
    honest when the event loop runs late and would otherwise release a bunch at once.
    """

    def __init__(self, count: int, period: float, *, even: bool = False) -> None:
        self.count, self.period = count, period
        # Evenly spaced sends: a burst leaves the client over some milliseconds and would
        # reach Telegram smeared into the next window.
        self.spacing = period / count if even else 0.0
        self.lock = asyncio.Lock()
        self.starts: deque[float] = deque(maxlen=max(count, 1))
        # The spacing follows a planned grid: a late wake-up must not slow every later send.
        self.next_at = 0.0

    async def room(self, loop: asyncio.AbstractEventLoop) -> None:
        if len(self.starts) == self.count:
            await _sleep_until(loop, self.starts[0] + self.period)
        if self.spacing:
            planned = max(loop.time(), self.next_at)
            await _sleep_until(loop, planned)
            self.next_at = planned + self.spacing

    def idle(self, now: float) -> bool:
        return not self.lock.locked() and (not self.starts or self.starts[-1] + self.period < now)


class TelegramRateLimiter(BaseRateLimiter[int]):
    """Telegram's flood limits for every request that names a chat.

    PTB's AIORateLimiter covers the overall and per-group rates only; private chats also
    get ≤ 1 message per second each. Windows are strict sliding windows (a token bucket
    would allow a double burst across a window edge), with a small margin for jitter.
    After a 429 every request waits out its retry_after: the flood ban is bot-wide.
    """

    def __init__(
        self,
        *,
        overall: tuple[int, float] = (30, 1.0),
        per_chat: float = 1.0,
        group: tuple[int, float] = (20, 60.0),
        margin: float = 0.02,
    ) -> None:
        self._overall = _Gate(overall[0], overall[1] + margin, even=True)
        self._per_chat = per_chat + margin
        self._group = (group[0], group[1] + margin)
        self._chats: dict[str, _Gate] = {}
        self._groups: dict[str, _Gate] = {}
        self._resume_at = 0.0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = data.get("chat_id")
        if chat is None:  # getUpdates, answerCallbackQuery…: not messages to a chat
            return await callback(*args, **kwargs)
        loop = asyncio.get_running_loop()
        while loop.time() < self._resume_at:
            await asyncio.sleep(self._resume_at - loop.time())
        await self._pass(loop, self._gates(str(chat), loop.time()))
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            self._resume_at = max(self._resume_at, loop.time() + _seconds(exc))
            raise

    def _gates(self, chat: str, now: float) -> list[_Gate]:
        if len(self._chats) > 4096:
            self._chats = {k: g for k, g in self._chats.items() if not g.idle(now)}
            self._groups = {k: g for k, g in self._groups.items() if not g.idle(now)}
        # The chat's own gate first, the bot-wide one last: a message waiting for its chat
        # must not hold up messages to other chats.
        gates = [self._chats.setdefault(chat, _Gate(1, self._per_chat))]
        if _is_group(chat):
            gates.append(self._groups.setdefault(chat, _Gate(*self._group)))
        gates.append(self._overall)
        return gates

    @staticmethod
    async def _pass(loop: asyncio.AbstractEventLoop, gates: list[_Gate]) -> None:
        """Hold each gate in turn until it has room, then record one send in all of them."""
        async with contextlib.AsyncExitStack() as held:
            for gate in gates:
                await held.enter_async_context(gate.lock)
                await gate.room(loop)
            now = loop.time()
            for gate in gates:
                gate.starts.append(now)


async def _sleep_until(loop: asyncio.AbstractEventLoop, moment: float) -> None:
    delay = moment - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)


def _is_group(chat: str) -> bool:
    return chat.startswith(("-", "@"))


def _seconds(exc: RetryAfter) -> float:
    value = exc._retry_after  # a timedelta in PTB 22, whatever PTB_TIMEDELTA says
    return float(value.total_seconds())


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
            seconds = _seconds(exc)
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
