"""How updates reach the handlers: every update read, chats apart, floods held back.

- `ChatBot` never lets one unreadable update stop polling. PTB parses a getUpdates batch
  in one go and, when one update has a shape it does not know, raises without moving the
  offset: the same batch comes back forever and no chat is heard again. The batch is
  checked update by update instead; an unreadable one reaches the handlers as an empty
  update carrying `UNREADABLE` (its chat and the error), so it is answered and audited.
- `PerChatProcessor` handles updates of different chats concurrently while each chat
  keeps its order (PTB's `concurrent_updates` with a processor keyed by chat).
- `Throttle` counts what one chat sends in a sliding window, and says when a burst
  starts, so the bot answers it once and the audit keeps one row per burst.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor, ExtBot

log = logging.getLogger("dondoc.telegram")

UNREADABLE = "dondoc_unreadable"


def _chat_of(raw: dict[str, Any]) -> int | None:
    """The chat an update came from, read from its raw JSON as far as it goes."""
    for key, value in raw.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        message = value.get("message") if key == "callback_query" else value
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"])
    return None


def readable(raw: Any, bot: ExtBot[Any]) -> Any:
    """`raw` when PTB can read it; else a stand-in that keeps the update's id."""
    try:
        Update.de_json(raw, bot)
        return raw
    except Exception as exc:
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if not isinstance(update_id, int):
            raise  # without an id the offset cannot move past it: let PTB report it
        kinds = [k for k in raw if k != "update_id"]
        log.error(
            "Telegram update %s (%s) could not be read: %s: %s",
            update_id,
            ", ".join(kinds) or "empty",
            type(exc).__name__,
            exc,
        )
        problem = {"chat_id": _chat_of(raw), "kinds": kinds, "error": type(exc).__name__}
        return {"update_id": update_id, UNREADABLE: problem}


class ChatBot(ExtBot[Any]):
    """The ExtBot the inbound bot polls with: an unreadable update never blocks the rest."""

    async def _post(self, endpoint: str, data: Any = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            return [readable(raw, self) for raw in result]
        return result


class PerChatProcessor(BaseUpdateProcessor):
    """Updates of one chat one after another, in order; different chats side by side.

    An update waiting for its chat still holds one of PTB's `max_concurrent_updates`
    slots, so a chat may keep at most `max_per_chat` updates waiting: beyond that it is
    flooding (the throttle has told it so) and the rest is dropped unread.
    """

    def __init__(self, max_concurrent_updates: int = 256, *, max_per_chat: int = 40) -> None:
        super().__init__(max_concurrent_updates)
        self.max_per_chat = max_per_chat
        self.dropped = 0
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        key = chat.id
        if self._waiting.get(key, 0) >= self.max_per_chat:
            self.dropped += 1
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # never run: no "coroutine was never awaited" warning
            log.debug("chat %s floods the bot: an update was dropped unread", key)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:  # asyncio locks wake waiters first come, first served
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up: locks are made per chat as updates arrive."""

    async def shutdown(self) -> None:
        """Nothing to free."""


_MAX_TRACKED = 10_000


@dataclass(frozen=True)
class Limit:
    count: int
    period: timedelta


@dataclass
class _Window:
    times: deque[datetime] = field(default_factory=deque)
    throttled: bool = False


class Throttle:
    """At most `limit.count` events per chat in any `limit.period`, on the injected clock.

    Kept in memory: a restart forgets the counts, which only ever lets a chat in sooner.
    """

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self._windows: dict[str, _Window] = {}

    def _window(self, chat_id: str, now: datetime) -> _Window:
        window = self._windows.setdefault(chat_id, _Window())
        while window.times and window.times[0] <= now - self.limit.period:
            window.times.popleft()
        if len(window.times) < self.limit.count:
            window.throttled = False  # the burst is over
        if len(self._windows) > _MAX_TRACKED:
            # Forget quiet chats so that memory follows active chats, not all chats ever.
            for key in [k for k, w in self._windows.items() if not w.times and k != chat_id]:
                del self._windows[key]
        return window

    def blocked(self, chat_id: str, now: datetime) -> bool:
        """Whether the chat has used up its window (nothing is counted)."""
        return len(self._window(chat_id, now).times) >= self.limit.count

    def record(self, chat_id: str, now: datetime) -> None:
        self._window(chat_id, now).times.append(now)

    def allow(self, chat_id: str, now: datetime) -> bool:
        """Count one event if the window has room; False when it has none."""
        if self.blocked(chat_id, now):
            return False
        self.record(chat_id, now)
        return True

    def start_burst(self, chat_id: str) -> bool:
        """True once per burst: the moment to tell the chat and write the audit row."""
        window = self._windows.setdefault(chat_id, _Window())
        if window.throttled:
            return False
        window.throttled = True
        return True
