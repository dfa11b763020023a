"""Taking messages from the Zalo Bot Platform and answering them: polling or webhook.

By default the poller long-polls (`getUpdates`, no open port needed); it first deletes
any webhook, since the platform refuses getUpdates while one is set. In webhook mode
(notifiers/zalo_webhook.py) it registers the webhook instead and the daemon's HTTP
server hands each push to `deliver`. Both end in `process`: the same answers
(notifiers/zalo_answers.py), one update at a time, and an update seen before (same event
and message id: a redelivered push) is not answered twice. Updates that are not a
person's text (stickers, images, other bots) are skipped; an answer that fails is
logged, audited as `chat.error` and the chat is told: it never stops the loop. The poller
shares the channel's client, so answers and reminders keep to one send budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from config.settings import Settings
from dondoc import chat_links
from dondoc.clock import Clock
from notifiers.chat_rules import ack_timeout_of
from notifiers.render import Renderer
from notifiers.zalo import ZaloApiError, ZaloClient, split_items
from notifiers.zalo_answers import CHANNEL, Incoming, ZaloAnswers
from notifiers.zalo_webhook import WebhookSetup, register, unregister

log = logging.getLogger("dondoc.zalo")

ERROR_PAUSE = (1.0, 30.0)  # first and longest wait after the platform failed
# How long a push waits for its answer before the platform is told 200 anyway (the
# answer goes on; a redelivery meanwhile is recognised as seen).
PUSH_WAIT = 10.0
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
        self, *, client: ZaloClient, answers: ZaloAnswers, webhook: WebhookSetup | None = None
    ) -> None:
        self.client = client
        self.answers = answers
        self.webhook = webhook
        self._task: asyncio.Task[None] | None = None
        # The loop the client and its pace belong to; pushes are answered there.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._one_at_a_time: asyncio.Lock | None = None
        self._seen = _Seen()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._one_at_a_time = asyncio.Lock()
        work = self._register() if self.webhook is not None else self._run()
        self._task = asyncio.create_task(work, name="zalo-poller")

    async def stop(self) -> None:
        self._loop = None
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
                log.warning("zalo setWebhook failed: %s", self.client.redact(str(exc)))
                await asyncio.sleep(pause)
                pause = min(pause * 2, ERROR_PAUSE[1])
                continue
            log.info("zalo: webhook mode, the platform pushes updates to %s", url)
            return

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
        """Answer a pushed update from any thread (the HTTP server runs its own loop);
        False while the bot is not running, so the platform delivers it again later."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return False
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is loop:
            await self.process(update)
            return True
        answered = asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.process(update), loop))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(answered), PUSH_WAIT)
        return True

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
    return ZaloPoller(client=client, answers=answers, webhook=webhook)
