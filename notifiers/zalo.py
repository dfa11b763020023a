"""Zalo reminders through the Zalo Bot Platform: a small httpx client and the channel.

What the platform documents (read before this was written):

- Source: the Zalo Bot Platform documentation (bot.zaloplatforms.com/docs, "Zalo Bot API
  Documentation", last updated 10/12/2025, as mirrored in public repositories), cross-read
  with two clients that call it in production (OpenClaw's Zalo extension, `api.ts`, and
  the PyPI package python-zalo-bot 0.1.9).
- Base URL `https://bot-api.zaloplatforms.com/bot<TOKEN>/<method>`; every method is a
  POST with a JSON body; the token is `<bot_id>:<secret>`. Answers are
  `{"ok": true, "result": …}` or `{"ok": false, "error_code": N, "description": "…"}`.
- `getMe` → `{id, account_name, account_type, can_join_groups}`.
- `getUpdates {"timeout": "30"}` is long polling and returns ONE update per call, not a
  list, and has no offset: `{"event_name": "message.text.received", "message": {…}}`.
  When nothing arrives in time it answers error_code 408 ("Request timeout"). It does
  not work while a webhook is set (`deleteWebhook` first).
- `setWebhook {"url", "secret_token"}`: HTTPS only; the secret is 8–256 characters and
  comes back in the `X-Bot-Api-Secret-Token` header of every push.
- A message: `message_id` (a hex string), `date` (ms), `from {id, display_name,
  is_bot}`, `chat {id, chat_type: "PRIVATE" | "GROUP"}`, `text`. Events:
  message.text.received, message.image.received, message.sticker.received,
  message.unsupported.received. Nothing says which message a reply quotes, so an answer
  is matched to the latest reminder in its chat (notifiers/zalo_answers.py).
- `sendMessage {"chat_id", "text"}`: plain text of 1 to 2000 characters → `{message_id,
  date}`. No parse mode, no buttons, no reply markup: a reminder ends with numbered
  instructions instead. `sendPhoto {"chat_id", "photo": URL, "caption"}` (caption ≤ 2000);
  `sendChatAction`, `sendSticker` are not used here.
- Rate limits: the documentation publishes none. We keep our own budget
  (`DONDOC_ZALO__MAX_PER_SECOND`, default 5 messages a second for the bot, one message a
  second per chat, as for Telegram groups) and treat error_code 429 as "wait and retry",
  honouring a `retry_after` (or the HTTP Retry-After header) when one is given.
- Error codes seen from the platform and its clients: 400 (bad request: empty or too long
  text, unknown chat), 401 (token refused), 403 (the bot may not write to that chat: not
  a member of the group, or blocked), 404 (unknown method or chat), 408 (no update within
  the poll), 429 (too many requests), 5xx.

Why our own client: python-zalo-bot is a partial copy of python-telegram-bot with
placeholder package metadata, an outdated default host and Telegram leftovers, and its
getUpdates wrapper is typed for Telegram's offsets; the API is five JSON POSTs, so a
~100-line httpx client (httpx is already installed by python-telegram-bot) is easier to
keep strict and correct than that dependency.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

import httpx

from config.settings import ZaloSettings
from notifiers.base import ChannelError, OutgoingMessage

log = logging.getLogger("dondoc.zalo")

DEFAULT_API_URL = "https://bot-api.zaloplatforms.com"
MAX_TEXT = 2000
DEFAULT_RETRY_AFTER = 5.0  # a 429 without a retry_after: wait this long
PER_CHAT_SECONDS = 1.0


class ZaloApiError(Exception):
    """The platform said no: `code` is its error_code (an HTTP-like number)."""

    def __init__(self, method: str, code: int, description: str, retry_after: float | None):
        super().__init__(f"Zalo {method}: {code} {description}")
        self.method = method
        self.code = code
        self.description = description
        self.retry_after = retry_after


class _Pace:
    """At most `rate` requests a second for the bot and one a second per chat.

    The platform counts requests when they arrive, which we cannot see: a request counts
    here from when it leaves until one second after its answer came back, so however late
    the network delivers them, no second at the platform holds more than `rate`. Sends are
    also spaced evenly; the per-chat gate comes first so one busy chat holds up no other."""

    PERIOD = 1.02

    def __init__(self, rate: float) -> None:
        self.slots = max(int(rate), 1)
        self.spacing = 1.0 / rate
        self.lock = asyncio.Lock()
        self.next_at = 0.0
        self.in_flight = 0
        self.done: deque[float] = deque()
        self.chats: dict[str, float] = {}
        self.resume_at = 0.0

    async def acquire(self, chat_id: str) -> None:
        loop = asyncio.get_running_loop()
        while True:
            wait = max(self.chats.get(chat_id, 0.0), self.resume_at) - loop.time()
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        async with self.lock:
            while True:
                now = loop.time()
                while self.done and self.done[0] <= now - self.PERIOD:
                    self.done.popleft()
                if len(self.done) + self.in_flight < self.slots:
                    break
                await asyncio.sleep(self.done[0] + self.PERIOD - now if self.done else 0.005)
            planned = max(loop.time(), self.next_at)
            if planned > loop.time():
                await asyncio.sleep(planned - loop.time())
            self.next_at = planned + self.spacing
            self.in_flight += 1
            self.chats[chat_id] = loop.time() + PER_CHAT_SECONDS
        if len(self.chats) > 4096:
            now = loop.time()
            self.chats = {k: t for k, t in self.chats.items() if t > now}

    def release(self) -> None:
        self.in_flight -= 1
        self.done.append(asyncio.get_running_loop().time())

    def pause(self, seconds: float) -> None:
        self.resume_at = max(self.resume_at, asyncio.get_running_loop().time() + seconds)

    def wait_for(self, chat_id: str) -> float:
        """Seconds before `chat_id` may be sent to: its own gap, or a retry-after pause."""
        now = asyncio.get_running_loop().time()
        return max(0.0, max(self.chats.get(chat_id, 0.0), self.resume_at) - now)


class ZaloClient:
    """The Bot API over one httpx pool; the token never reaches a log line."""

    def __init__(self, settings: ZaloSettings, *, poll_timeout: float = 30.0) -> None:
        if settings.token is None:
            raise ValueError("ZaloClient needs settings.zalo.token")
        self._token = settings.token.get_secret_value()
        self._base = f"{settings.api_url or DEFAULT_API_URL}/bot{self._token}"
        self.poll_timeout = poll_timeout
        self.pace = _Pace(settings.max_per_second)
        # httpx logs each request URL at INFO, and the URL carries the bot token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None or self._http.is_closed:
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(15.0), limits=limits)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def redact(self, text: str) -> str:
        return text.replace(self._token, "***")

    async def call(
        self, method: str, payload: dict[str, Any] | None = None, *, timeout: float = 15.0
    ) -> Any:
        """The `result` of one method, or ZaloApiError; network trouble is httpx.HTTPError."""
        response = await self._client().post(
            f"{self._base}/{method}", json=payload or {}, timeout=timeout
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("ok") is True:
            return body.get("result")
        body = body if isinstance(body, dict) else {}
        code = int(body.get("error_code") or response.status_code)
        description = str(body.get("description") or response.reason_phrase or "error")
        raise ZaloApiError(method, code, self.redact(description), _retry_after(body, response))

    async def get_me(self) -> dict[str, Any]:
        result = await self.call("getMe")
        return result if isinstance(result, dict) else {}

    async def get_update(self) -> dict[str, Any] | None:
        """One update, or None when the long poll ended empty (error_code 408)."""
        try:
            result = await self.call(
                "getUpdates",
                {"timeout": str(int(self.poll_timeout))},
                timeout=self.poll_timeout + 10,
            )
        except ZaloApiError as exc:
            if exc.code == 408:
                return None
            raise
        return result if isinstance(result, dict) and result else None

    async def send_message(self, chat_id: str, text: str) -> str:
        """Paced to our budget; a 429 pauses every send for its retry_after."""
        await self.pace.acquire(chat_id)
        try:
            result = await self.call("sendMessage", {"chat_id": chat_id, "text": text})
        except ZaloApiError as exc:
            if exc.code == 429:
                self.pace.pause(exc.retry_after or DEFAULT_RETRY_AFTER)
            raise
        finally:
            self.pace.release()
        return str((result or {}).get("message_id", ""))


def _retry_after(body: dict[str, Any], response: httpx.Response) -> float | None:
    parameters = body.get("parameters")
    for value in (
        parameters.get("retry_after") if isinstance(parameters, dict) else None,
        response.headers.get("Retry-After"),
    ):
        try:
            if value is not None:
                return max(float(value), 0.0)
        except (TypeError, ValueError):
            continue
    return None


def split_items(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters made of whole paragraphs: a digest's items and
    the closing instructions are paragraphs, so no item is ever cut. Only a paragraph that
    alone exceeds the limit is cut, at line ends (else anywhere)."""
    pieces: list[str] = []
    current = ""
    for block in [b.strip() for b in (text.strip() or " ").split("\n\n") if b.strip()]:
        for part in _cut(block, limit):
            joined = f"{current}\n\n{part}" if current else part
            if len(joined) <= limit:
                current = joined
            else:
                pieces.append(current)
                current = part
    pieces.append(current or " ")
    return pieces


def _cut(block: str, limit: int) -> list[str]:
    parts: list[str] = []
    while len(block) > limit:
        cut = block.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        parts.append(block[:cut].rstrip())
        block = block[cut:].lstrip("\n")
    parts.append(block)
    return parts


class ZaloChannel:
    """Sends reminders to linked Zalo chats; returns "chat_id:message_id" of the last piece
    (the one with the numbered instructions, which answers are matched to)."""

    name = "zalo"
    # Sends in flight at once; the pace still holds them to the bot's rate.
    concurrency = 8

    def __init__(self, client: ZaloClient, *, owns_client: bool = True) -> None:
        self.client = client
        self._owns_client = owns_client

    async def open(self) -> None:
        """Connections open lazily; nothing to prepare."""

    async def close(self) -> None:
        """The pool stays up between batches; `shutdown` ends it."""

    async def shutdown(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    def wait_for(self, address: str) -> float:
        return self.client.pace.wait_for(address)

    async def send(self, message: OutgoingMessage) -> str:
        chat_id = message.address
        message_id = ""
        try:
            for chunk in split_items(message.text):
                message_id = await self.client.send_message(chat_id, chunk)
        except ZaloApiError as exc:
            raise classify(exc, chat_id) from None
        except httpx.HTTPError as exc:
            reason = self.client.redact(str(exc)) or type(exc).__name__
            raise ChannelError(f"Không kết nối được tới Zalo: {reason}.", permanent=False) from None
        if message.attachments:
            # The Bot API sends photos by URL only, no files: reports stay on email.
            log.info("zalo: %d attachment(s) not sent to %s", len(message.attachments), chat_id)
        return f"{chat_id}:{message_id}"


def classify(exc: ZaloApiError, chat: str) -> ChannelError:
    """The platform's answer as a ChannelError the office can read."""
    reason = exc.description
    if exc.code == 429:
        seconds = exc.retry_after or DEFAULT_RETRY_AFTER
        return ChannelError(
            f"Zalo yêu cầu tạm dừng {seconds:g} giây (giới hạn tốc độ gửi).",
            permanent=False,
            retry_after=seconds,
        )
    if exc.code == 401:
        return ChannelError(
            "Zalo không chấp nhận mã bot (DONDOC_ZALO__TOKEN) hoặc địa chỉ API.", permanent=False
        )
    if exc.code == 403:
        return ChannelError(
            f"Zalo không cho gửi tới cuộc trò chuyện {chat}: bot đã bị chặn hoặc không còn "
            f"trong nhóm ({reason}).",
            permanent=True,
        )
    if exc.code in (400, 404):
        return ChannelError(f"Zalo không nhận tin nhắn tới {chat}: {reason}.", permanent=True)
    return ChannelError(f"Không gửi được tới Zalo: {exc.code} {reason}.", permanent=False)
