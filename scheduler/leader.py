"""The chat bots poll in exactly one daemon: the holder of the leader lock.

Every daemon runs `Leadership.run`. A daemon without the lock asks for it every few
seconds, so when the leader dies (or its lock connection does), another takes over.

Fencing: PostgreSQL frees the lock as soon as the leader's connection ends, while the
leader itself may still be polling; it only learns of the loss when it next asks
(`LeaderLock.held`, every `CHECK` seconds, given up as lost after `CHECK_TIMEOUT`) and then
stops its pollers (a Telegram long poll ends within its own timeout). The leader stamps
each successful check in the store (the database's clock), and a new leader waits until
`TAKEOVER_DELAY`, longer than all of that together, has passed since the last stamp
before its first poll: two daemons never poll, nor answer a chat, at the same time. On a
store no leader polled lately (a first start), there is nothing to wait for. The old
leader stops its pollers before it asks for the lock again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from scheduler.lock import LeaderLock

log = logging.getLogger("dondoc.daemon")

T = TypeVar("T")

RETRY = 3.0  # a follower asks for the lock this often
CHECK = 2.0  # the leader makes sure it still holds it this often
CHECK_TIMEOUT = 3.0  # a check that takes longer counts as a loss
STOP_TIMEOUT = 15.0  # stopping the pollers: a Telegram long poll is 10 s
# A new leader's wait before it polls: a detected loss needs at most CHECK + CHECK_TIMEOUT,
# the pollers' stop at most STOP_TIMEOUT (past it, the old leader abandons them).
TAKEOVER_DELAY = CHECK + CHECK_TIMEOUT + STOP_TIMEOUT + 2.0


class Leadership:
    """Runs `on_gain` once this daemon leads and `on_loss` once it no longer does."""

    def __init__(
        self,
        lock: LeaderLock,
        *,
        on_gain: Callable[[], Awaitable[None]],
        on_loss: Callable[[], Awaitable[None]],
        retry: float = RETRY,
        check: float = CHECK,
        check_timeout: float = CHECK_TIMEOUT,
        stop_timeout: float = STOP_TIMEOUT,
        takeover_delay: float = TAKEOVER_DELAY,
    ) -> None:
        self.lock = lock
        self.on_gain = on_gain
        self.on_loss = on_loss
        self.retry = retry
        self.check = check
        self.check_timeout = check_timeout
        self.stop_timeout = stop_timeout
        self.takeover_delay = takeover_delay
        self.leader = False
        self.terms = 0  # how many times this daemon became the leader

    async def run(self, stop: asyncio.Event) -> None:
        """Contend for the lock, lead while holding it, until `stop`; never raises for a
        lost database: a follower simply asks again."""
        try:
            while not stop.is_set():
                if not await self._ask(self.lock.try_acquire):
                    await _sleep(stop, self.retry)
                    continue
                wait = await self._wait()
                if wait > 0:
                    log.info(
                        "this daemon takes over chat polling in %.0f s, once the previous "
                        "leader has stopped",
                        wait,
                    )
                if await _sleep(stop, wait) or not await self._held():
                    await self._release()
                    continue
                log.info("this daemon polls the chat bots (leader)")
                await self._lead(stop)
                # A daemon that just lost the lock lets the others (asking every `retry`
                # seconds) take it first: its own database connection may be the trouble.
                await _sleep(stop, 3 * self.retry)
        finally:
            await self._release()

    async def _lead(self, stop: asyncio.Event) -> None:
        self.leader = True
        self.terms += 1
        try:
            try:
                await self.on_gain()
            except Exception:  # lead again later rather than hold the lock and not poll
                log.exception("starting the chat pollers failed")
                await _sleep(stop, self.retry)
                return
            while not await _sleep(stop, self.check):
                if not await self._held():
                    log.warning(
                        "this daemon lost the chat-polling lock (its database connection "
                        "ended): it stops polling; another daemon takes over"
                    )
                    break
        finally:
            self.leader = False
            try:
                await asyncio.wait_for(self.on_loss(), self.stop_timeout)
            except Exception:  # a poller that will not stop is abandoned, not waited on
                log.exception("stopping the chat pollers failed")
            await self._release()

    async def _wait(self) -> float:
        """How long to wait before polling: the previous leader's last check + the delay;
        the whole delay when the store cannot say."""
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self.lock.takeover_wait, self.takeover_delay),
                self.check_timeout,
            )
        except Exception:
            return self.takeover_delay

    async def _held(self) -> bool:
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.lock.held), self.check_timeout)
        except Exception:  # a timeout or a broken connection: the lock may be gone
            return False

    async def _ask(self, call: Callable[[], bool]) -> bool:
        try:
            return await asyncio.wait_for(asyncio.to_thread(call), self.check_timeout)
        except Exception as exc:  # the database is unreachable: ask again later
            log.warning("could not ask for the chat-polling lock: %s", exc.__class__.__name__)
            await self._release()
            return False

    async def _release(self) -> None:
        try:
            await asyncio.wait_for(asyncio.to_thread(self.lock.release), self.check_timeout)
        except Exception:
            log.warning("closing the chat-polling lock's connection failed")


async def _sleep(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds` or until `stop`; True when stopped."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True
