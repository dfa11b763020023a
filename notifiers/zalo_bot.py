"""Polling the Zalo Bot Platform for messages (no open port needed) and answering them.

`getUpdates` hands out one update per call (notifiers/zalo.py); the poller reads them one
after the other and answers each through notifiers/zalo_answers.py. Updates that are not a
person's text (stickers, images, other bots) are skipped; an answer that fails is
logged, audited as `chat.error` and the chat is told: it never stops the loop. The poller
shares the channel's client, so answers and reminders keep to one send budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from config.settings import Settings
from dondoc import chat_links
from dondoc.clock import Clock
from notifiers.render import Renderer
from notifiers.zalo import ZaloApiError, ZaloClient, split_items
from notifiers.zalo_answers import CHANNEL, Incoming, ZaloAnswers

log = logging.getLogger("dondoc.zalo")

ERROR_PAUSE = (1.0, 30.0)  # first and longest wait after the platform failed


def incoming_of(update: Any) -> Incoming | None:
    """A text message from a person, or None for anything else (stickers, images, bots)."""
    if not isinstance(update, dict) or update.get("event_name") != "message.text.received":
        return None
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    chat, sender, text = message.get("chat"), message.get("from"), message.get("text")
    if not isinstance(chat, dict) or not isinstance(text, str) or not chat.get("id"):
        return None
    sender = sender if isinstance(sender, dict) else {}
    if sender.get("is_bot"):
        return None
    return Incoming(
        chat_id=str(chat["id"]),
        chat_type=str(chat.get("chat_type") or "PRIVATE"),
        user_id=str(sender.get("id") or ""),
        user_name=str(sender.get("display_name") or sender.get("name") or ""),
        text=text,
        message_id=str(message.get("message_id") or ""),
    )


class ZaloPoller:
    """Long-polls while the daemon runs: `start()` returns at once, `stop()` waits."""

    def __init__(self, *, client: ZaloClient, answers: ZaloAnswers) -> None:
        self.client = client
        self.answers = answers
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="zalo-poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.client.aclose()

    async def _run(self) -> None:
        pause = ERROR_PAUSE[0]
        while True:
            try:
                update = await self.client.get_update()
            except (ZaloApiError, httpx.HTTPError) as exc:
                log.warning("zalo getUpdates failed: %s", self.client.redact(str(exc)))
                await asyncio.sleep(pause)
                pause = min(pause * 2, ERROR_PAUSE[1])
                continue
            pause = ERROR_PAUSE[0]
            if update is not None:
                await self.process(update)

    async def process(self, update: Any) -> None:
        """Answer one update; whatever goes wrong is logged, the loop goes on."""
        message = incoming_of(update)
        if message is None:
            return
        try:
            reply = await self.answers.handle(message)
            if reply:
                for piece in split_items(reply):
                    await self.client.send_message(message.chat_id, piece)
        except (ZaloApiError, httpx.HTTPError) as exc:
            log.warning(
                "zalo answer to %s failed: %s", message.chat_id, self.client.redact(str(exc))
            )
        except Exception as exc:  # a bug answering one message must not end the polling
            log.exception("zalo: answering a message in %s failed", message.chat_id)
            await self._report_failure(message, exc)

    async def _report_failure(self, message: Incoming, error: Exception) -> None:
        """Audit the failure (chat.error) and tell the chat its message was not recorded."""
        answers = self.answers
        try:
            outcome = await answers.db(
                chat_links.refuse,
                chat_id=message.chat_id,
                reason="handler_error",
                status="failed",
                event="chat.error",
                action="text",
                actor=message.actor,
                now=answers.clock.now(),
                channel=CHANNEL,
                error=type(error).__name__,
            )
            await self.client.send_message(message.chat_id, answers.say(outcome))
        except Exception:
            log.exception("zalo: could not tell chat %s that its message failed", message.chat_id)


def build_poller(
    *, settings: Settings, engine: Engine, clock: Clock, poll_timeout: float = 30.0
) -> ZaloPoller:
    client = ZaloClient(settings.zalo, poll_timeout=poll_timeout)
    renderer = Renderer(templates_dir=settings.templates_dir)
    answers = ZaloAnswers(engine=engine, clock=clock, renderer=renderer, tz=settings.tz)
    return ZaloPoller(client=client, answers=answers)
