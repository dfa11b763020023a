"""Taking messages from the Zalo Bot Platform and answering them: polling or webhook.

By default the poller long-polls (`getUpdates`, no open port needed); it first deletes
any webhook, since the platform refuses getUpdates while one is set. In webhook mode
(notifiers/zalo_webhook.py) it registers the webhook instead. Every daemon's HTTP server
hands each push to `deliver`, which stores it once per Zalo event
(notifiers/zalo_inbox.py) and returns: the platform is answered at once by whichever
daemon it reached. The running poller (the chat leader's, when several daemons share a
store) claims stored pushes in arrival order and answers them. Both modes end in
`process`: the same answers (notifiers/zalo_answers.py), one update at a time, and an
update seen before (same event and message id) is not answered twice. Updates that are not a
person's text (stickers, images, other bots) are skipped; an answer that fails is
logged, audited as `chat.error` and the chat is told: it never stops the loop. The poller
shares the channel's client, so answers and reminders keep to one send budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import deque
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.settings import Settings
from dondoc import chat_links
from dondoc.clock import Clock
from notifiers.chat_rules import ack_timeout_of
from notifiers.render import Renderer
from notifiers.zalo import ZaloApiError, ZaloClient, split_items
from notifiers.zalo_answers import CHANNEL, Incoming, ZaloAnswers
from notifiers.zalo_inbox import (
    LEASE,
    claim_pushes,
    finish_push,
    prune_pushes,
    release_pushes,
    store_push,
)
from notifiers.zalo_webhook import WebhookSetup, register, unregister

log = logging.getLogger("dondoc.zalo")

ERROR_PAUSE = (1.0, 30.0)  # first and longest wait after the platform failed
# Stopping lets the push being answered finish for this long; the rest go back.
PUSH_WAIT = 10.0
# How often the running poller looks for pushes another daemon stored (its own wake it).
PUSH_POLL = 0.5
PRUNE_EVERY = 3600.0
SEEN_KEPT = 10_000  # message ids remembered against redelivery


class _Seen:
    """The last SEEN_KEPT update keys, oldest forgotten first."""

    def __init__(self) -> None:
        self._order: deque[str] = deque()
        self._keys: set[str] = set()

    def first(self, key: str) -> bool:
        """True the first time `key` is offered (and remembers it)."""
        if key in self._keys:
            return False
        self._keys.add(key)
        self._order.append(key)
        if len(self._order) > SEEN_KEPT:
            self._keys.discard(self._order.popleft())
        return True


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
    """Reads updates while the daemon runs: `start()` returns at once, `stop()` waits.

    With `webhook` set it registers the webhook instead of polling, and takes pushes
    through `deliver`."""

    def __init__(
        self,
        *,
        client: ZaloClient,
        answers: ZaloAnswers,
        webhook: WebhookSetup | None = None,
        retention: timedelta = timedelta(days=400),
        lease: timedelta = LEASE,
    ) -> None:
        self.client = client
        self.answers = answers
        self.webhook = webhook
        self.retention = retention  # answered pushes are kept as long as sent messages
        self.lease = lease
        # Claims of stored pushes carry this: this poller's, whatever happens.
        self.token = f"zalo:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.inbox_error: str | None = None  # the last failure reading stored pushes
        self.webhook_error: str | None = None  # setWebhook refused or unreachable
        self._task: asyncio.Task[None] | None = None
        self._pushes: asyncio.Task[None] | None = None
        # The loop the client and its pace belong to; pushes are answered there.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._one_at_a_time: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._seen = _Seen()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._one_at_a_time = asyncio.Lock()
        self._wake, self._stopping = asyncio.Event(), asyncio.Event()
        work = self._register() if self.webhook is not None else self._run()
        self._task = asyncio.create_task(work, name="zalo-poller")
        if self.webhook is not None:
            self._pushes = asyncio.create_task(self._answer_pushes(), name="zalo-pushes")

    async def stop(self) -> None:
        self._loop = None
        if self._stopping is not None:
            self._stopping.set()
        if self._pushes is not None:
            # The push being answered finishes; whatever is still claimed goes back.
            done, _ = await asyncio.wait({self._pushes}, timeout=PUSH_WAIT)
            if not done:
                self._pushes.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._pushes
            self._pushes = None
            try:
                await asyncio.to_thread(release_pushes, self.answers.engine, token=self.token)
            except sa.exc.SQLAlchemyError as exc:  # its lease expires: the next leader's
                log.warning("zalo: returning claimed pushes failed: %s", exc.__class__.__name__)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.client.aclose()

    async def _register(self) -> None:
        """setWebhook until the platform accepts it. The webhook stays set when the
        daemon stops: the platform retries its pushes until the daemon is back."""
        webhook, pause = self.webhook, ERROR_PAUSE[0]
        while webhook is not None:
            try:
                url = await register(
                    self.client, public_url=webhook.public_url, secret=webhook.secret
                )
            except (ZaloApiError, httpx.HTTPError) as exc:
                reason = self.client.redact(str(exc)) or exc.__class__.__name__
                self.webhook_error = f"Zalo chưa nhận đăng ký webhook (setWebhook): {reason}"
                log.warning("zalo setWebhook failed: %s", reason)
                await asyncio.sleep(pause)
                pause = min(pause * 2, ERROR_PAUSE[1])
                continue
            self.webhook_error = None
            log.info("zalo: webhook mode, the platform pushes updates to %s", url)
            return

    def problem(self) -> str | None:
        """Why Zalo's messages may not be answered now, for /healthz and `dondoc status`."""
        if self.webhook_error is not None:
            return self.webhook_error
        if self.inbox_error is not None:
            return f"Không đọc được tin Zalo đã nhận (zalo_push): {self.inbox_error}"
        return None

    async def _run(self) -> None:
        pause = ERROR_PAUSE[0]
        webhook_cleared = False
        while True:
            try:
                if not webhook_cleared:
                    # A webhook left from webhook mode would make every getUpdates fail.
                    await unregister(self.client)
                    webhook_cleared = True
                update = await self.client.get_update()
            except (ZaloApiError, httpx.HTTPError) as exc:
                log.warning("zalo polling failed: %s", self.client.redact(str(exc)))
                if isinstance(exc, ZaloApiError) and exc.code == 400:
                    webhook_cleared = False  # e.g. a webhook set since by someone else
                await asyncio.sleep(pause)
                pause = min(pause * 2, ERROR_PAUSE[1])
                continue
            pause = ERROR_PAUSE[0]
            if update is not None:
                await self.process(update)

    async def deliver(self, update: Any) -> bool:
        """Keep a pushed update for the running poller, from any daemon and any thread
        (the HTTP server runs its own loop); True once it is stored (or is nothing to
        answer), False when the store cannot take it, so the platform delivers it again."""
        message = incoming_of(update)
        if message is None:
            return True  # stickers, images, other bots: skipped, as polling skips them
        answers = self.answers
        try:
            new = await asyncio.to_thread(
                store_push,
                answers.engine,
                update,
                chat_id=message.chat_id,
                now=answers.clock.now(),
                received_by=self.token,
            )
        except sa.exc.SQLAlchemyError as exc:
            log.warning("zalo: storing a push failed: %s", exc.__class__.__name__)
            return False
        if not new:
            log.info("zalo: update %s received before, kept once", message.message_id)
        loop, wake = self._loop, self._wake
        if new and loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)
        return True

    async def _answer_pushes(self) -> None:
        """Answer stored pushes, oldest first, until stopped: this poller's own wake it at
        once, other daemons' are found within PUSH_POLL."""
        wake, stopping = self._wake, self._stopping
        if wake is None or stopping is None:  # not started
            return
        engine, clock = self.answers.engine, self.answers.clock
        pruned = -PRUNE_EVERY
        while not stopping.is_set():
            wake.clear()
            try:
                pushes = await asyncio.to_thread(
                    claim_pushes, engine, token=self.token, now=clock.now(), lease=self.lease
                )
                self.inbox_error = None
            except sa.exc.SQLAlchemyError as exc:
                self.inbox_error = exc.__class__.__name__
                log.warning("zalo: reading stored pushes failed: %s", self.inbox_error)
                pushes = []
            for push in pushes:
                if stopping.is_set():
                    break  # the rest go back to pending in stop()
                await self.process(push.update)
                try:
                    await asyncio.to_thread(
                        finish_push, engine, push.id, token=self.token, now=clock.now()
                    )
                except sa.exc.SQLAlchemyError as exc:  # answered again after the lease
                    log.warning("zalo: recording an answered push failed: %s", exc)
            if pushes:
                continue  # the next message of each chat may be waiting right behind
            loop_time = asyncio.get_running_loop().time()
            if loop_time - pruned >= PRUNE_EVERY:
                pruned = loop_time
                try:
                    await asyncio.to_thread(
                        prune_pushes, engine, before=clock.now() - self.retention
                    )
                except sa.exc.SQLAlchemyError as exc:  # tried again in an hour
                    log.warning("zalo: pruning answered pushes failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), PUSH_POLL)

    async def process(self, update: Any) -> None:
        """Answer one update; whatever goes wrong is logged, the loop goes on."""
        message = incoming_of(update)
        if message is None:
            return
        if message.message_id and not self._seen.first(
            f"{update.get('event_name')}:{message.message_id}"
        ):
            log.info("zalo: update %s seen before, not answered again", message.message_id)
            return
        if self._one_at_a_time is None:
            await self._answer(message)
            return
        # One at a time, as polling reads them: pushes may arrive side by side.
        async with self._one_at_a_time:
            await self._answer(message)

    async def _answer(self, message: Incoming) -> None:
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
    *,
    settings: Settings,
    engine: Engine,
    clock: Clock,
    poll_timeout: float = 30.0,
    webhook: WebhookSetup | None = None,
) -> ZaloPoller:
    client = ZaloClient(settings.zalo, poll_timeout=poll_timeout)
    renderer = Renderer(templates_dir=settings.templates_dir)
    answers = ZaloAnswers(
        engine=engine,
        clock=clock,
        renderer=renderer,
        tz=settings.tz,
        ack_timeout=ack_timeout_of(settings),
    )
    return ZaloPoller(
        client=client,
        answers=answers,
        webhook=webhook,
        retention=timedelta(days=settings.retention),
    )
