"""The chat bots' side of the daemon: the bot's start and its retries in the background,
and, with several daemons on one PostgreSQL, what the chat leader alone does (poll the
bots and send on the chat channels, whose flood limits belong to the bot).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from notifiers.base import ChannelError
from scheduler.leader import Leadership
from scheduler.outcomes import CHAT_CHANNELS
from scheduler.step import Stepper

log = logging.getLogger("dondoc.daemon")

# A bot that could not start is tried again after this, then twice as long each time.
BOT_RETRY_FIRST = 15.0
BOT_RETRY_MAX = 600.0


class Bot(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...

    def problem(self) -> str | None:
        """What keeps a started bot from working fully (in Vietnamese), or None."""
        ...


class ChatSide(Stepper):
    """A `Stepper` with the chat bots: started, retried, and led by one daemon."""

    def __init__(self, *, bot: Bot | None = None, **stepper: Any) -> None:
        super().__init__(**stepper)
        self.bot = bot
        self.bot_error: str | None = None
        self._bot_retry: asyncio.Future[None] | None = None
        # On PostgreSQL several daemons run; the bots poll, and chat channels send, in the
        # leader alone.
        self.leadership: Leadership | None = None
        self._chat_workers_alone = False
        self._chat_stop = asyncio.Event()
        self._chat_tasks: list[asyncio.Future[None]] = []

    def chat_role(self) -> str | None:
        """'leader' in the daemon that polls the chat bots, 'follower' elsewhere, None
        without a bot."""
        if self.bot is None:
            return None
        if self.leadership is None:  # alone on its store: it polls
            return "leader"
        return "leader" if self.leadership.leader else "follower"

    def bot_problem(self) -> str | None:
        """A started bot's own trouble (Zalo's webhook not registered, its stored pushes
        unreadable): reported like a bot that cannot start, never only logged."""
        if self.bot is None or self.bot_error is not None:
            return None
        return self.bot.problem()

    async def _start_bot(self) -> None:
        """A bot that cannot start (Bot API down, wrong token) is reported and retried in
        the background: email and the rest of the daemon go on without it."""
        if self.bot is None:
            return
        try:
            await self.bot.start()
        except ChannelError as exc:
            self.bot_error = exc.message
            log.error("%s; retrying in the background", exc.message)
            self._bot_retry = asyncio.ensure_future(self._retry_bot())
            return
        self.bot_error = None

    def _leader_channels(self) -> list[str]:
        """Chat channels send from the leader alone: Telegram's limits (30 a second, 1 a
        second per chat) are the bot's, and one daemon's limiter keeps them exactly."""
        if not self._chat_workers_alone:
            return []
        return [name for name in self.workers if name in CHAT_CHANNELS]

    async def _lead(self) -> None:
        self._chat_stop = asyncio.Event()
        self._chat_tasks = [
            asyncio.ensure_future(self.workers[name].run(self._chat_stop))
            for name in self._leader_channels()
        ]
        await self._start_bot()

    async def _follow(self) -> None:
        """No longer the leader: the pollers stop first (the fence), then the chat workers
        finish what they are sending; whatever is left when this is cut short stops."""
        self._chat_stop.set()
        tasks, self._chat_tasks = self._chat_tasks, []
        try:
            await self._stop_bot()
            if tasks:
                await asyncio.wait(tasks, timeout=self.settings.shutdown_grace)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _stop_bot(self) -> None:
        if self._bot_retry is not None:
            self._bot_retry.cancel()
            await asyncio.gather(self._bot_retry, return_exceptions=True)
            self._bot_retry = None
        if self.bot is not None:
            await self.bot.stop()

    async def _retry_bot(self, first: float = BOT_RETRY_FIRST) -> None:
        delay = first
        while self.bot is not None and not self._stop.is_set():
            await asyncio.sleep(delay)
            try:
                await self.bot.start()
            except ChannelError as exc:
                self.bot_error = exc.message
                delay = min(delay * 2, BOT_RETRY_MAX)
                continue
            self.bot_error = None
            log.info("the Telegram bot has started")
            return
