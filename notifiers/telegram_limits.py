"""Telegram's flood limits, applied to every request the one `ExtBot` of a process makes.

Apart from the channel (notifiers/telegram.py) because the pacing is a self-contained
piece of timing logic with its own tests, and nothing in it knows what is being sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

# How often a gate whose every place is held by unanswered sends looks again.
_ANSWER_POLL = 0.005


class _Gate:
    """At most `count` sends in any `period` seconds.

    Each send is stamped when it leaves and stamped again when its answer comes back.
    Telegram counts a request when it arrives, somewhere between the two; counting from
    the answer keeps the window honest when a request travels slowly (a new connection,
    a busy loop) and would otherwise land in the next window next to a fast one. A send
    still unanswered may yet arrive at any moment, so it never frees its place: only an
    answered send `period` ago does.
    """

    def __init__(
        self, count: int, period: float, *, clock: Callable[[], float], even: bool = False
    ) -> None:
        self.count, self.period = count, period
        self._clock = clock
        # Evenly spaced sends: a burst leaves the client over some milliseconds and would
        # reach Telegram smeared into the next window.
        self.spacing = period / count if even else 0.0
        self.lock = asyncio.Lock()
        self.stamps: deque[list[float]] = deque(maxlen=max(count, 1))
        # The spacing follows a planned grid: a late wake-up must not slow every later send.
        self.next_at = 0.0

    def free_at(self) -> float:
        """The earliest moment the next send may leave."""
        moment = 0.0
        if len(self.stamps) == self.count:
            moment = min(stamp[0] for stamp in self.stamps) + self.period
        return max(moment, self.next_at) if self.spacing else moment

    async def room(self) -> None:
        # Looked at again after each sleep: a send still in flight moves its stamp to
        # its answer's time when that comes back.
        while len(self.stamps) == self.count:
            answered = [s[0] for s in self.stamps if s[1]]
            if not answered:
                await asyncio.sleep(_ANSWER_POLL)
                continue
            free = min(answered) + self.period
            if free <= self._clock():
                break
            await _sleep_until(self._clock, free)
        if self.spacing:
            planned = max(self._clock(), self.next_at)
            await _sleep_until(self._clock, planned)
            self.next_at = planned + self.spacing

    def idle(self, now: float) -> bool:
        return not self.lock.locked() and (
            not self.stamps or self.stamps[-1][0] + self.period < now
        )


class TelegramRateLimiter(BaseRateLimiter[int]):
    """Telegram's flood limits for every request that names a chat.

    PTB's AIORateLimiter covers the overall and per-group rates only; private chats also
    get ≤ 1 message per second each. Windows are strict sliding windows (a token bucket
    would allow a double burst across a window edge), with a small margin for jitter.
    After a 429 every request waits out its retry_after: the flood ban is bot-wide.
    `wait_for(chat)` tells the delivery path how long a chat must wait, so that it can
    send to other chats meanwhile instead of sleeping here.
    """

    def __init__(
        self,
        *,
        overall: tuple[int, float] = (30, 1.0),
        per_chat: float = 1.0,
        group: tuple[int, float] = (20, 60.0),
        margin: float = 0.01,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._overall = _Gate(overall[0], overall[1] + margin, clock=clock, even=True)
        self._per_chat = per_chat + margin
        self._group = (group[0], group[1] + margin)
        self._chats: dict[str, _Gate] = {}
        self._groups: dict[str, _Gate] = {}
        self._resume_at = 0.0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def wait_for(self, chat: str) -> float:
        """Seconds before a message to `chat` may leave without breaking a limit of that
        chat (or a bot-wide flood ban); the bot-wide rate itself is not counted."""
        now = self._clock()
        moments = [self._resume_at]
        own = self._chats.get(chat)
        if own is not None and own.lock.locked():  # another send to this chat is under way
            moments.append(now + self._per_chat)
        for gate in (own, self._groups.get(chat)):
            if gate is not None:
                moments.append(gate.free_at())
        return max(0.0, max(moments) - now)

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
        while self._clock() < self._resume_at:
            await asyncio.sleep(self._resume_at - self._clock())
        stamp = await self._pass(self._gates(str(chat), self._clock()))
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            self._resume_at = max(self._resume_at, self._clock() + retry_after_seconds(exc))
            raise
        finally:
            stamp[0], stamp[1] = self._clock(), 1.0

    def _gates(self, chat: str, now: float) -> list[_Gate]:
        if len(self._chats) > 4096:
            self._chats = {k: g for k, g in self._chats.items() if not g.idle(now)}
            self._groups = {k: g for k, g in self._groups.items() if not g.idle(now)}
        # The chat's own gate first, the bot-wide one last: a message waiting for its chat
        # must not hold up messages to other chats.
        gates = [self._chats.setdefault(chat, _Gate(1, self._per_chat, clock=self._clock))]
        if _is_group(chat):
            gates.append(self._groups.setdefault(chat, _Gate(*self._group, clock=self._clock)))
        gates.append(self._overall)
        return gates

    async def _pass(self, gates: list[_Gate]) -> list[float]:
        """Hold each gate in turn until it has room, then record one send in all of them."""
        async with contextlib.AsyncExitStack() as held:
            for gate in gates:
                await held.enter_async_context(gate.lock)
                await gate.room()
            stamp = [self._clock(), 0.0]  # [moment, answered]
            for gate in gates:
                gate.stamps.append(stamp)
            return stamp


async def _sleep_until(clock: Callable[[], float], moment: float) -> None:
    delay = moment - clock()
    if delay > 0:
        await asyncio.sleep(delay)


def _is_group(chat: str) -> bool:
    return chat.startswith(("-", "@"))


def retry_after_seconds(exc: RetryAfter) -> float:
    value = exc._retry_after  # a timedelta in PTB 22, whatever PTB_TIMEDELTA says
    return float(value.total_seconds())
