"""A local fake of the Zalo Bot Platform API over HTTP (127.0.0.1), as strict as documented.

Point dondoc at it with `DONDOC_ZALO__API_URL=fake.url`, `DONDOC_ZALO__TOKEN=fake.token`.
It runs in its own thread, so it serves sync code, async code and subprocesses alike.

    fake = FakeZaloApi().start()             # or the `fake_zalo_api` fixture
    fake.user_says("g1", "/start ABCDE-FGHJK", chat_type="GROUP", user="u1")
    fake.webhook_update("g1", "1")           # the body the platform pushes in webhook mode
    fake.sent("g1")                          # [ZaloMessage] the bot sent there
    fake.fail_next("sendMessage", code=429, retry_after=1, times=2)
    fake.block("g1")                         # 403: the bot was removed from that chat
    FakeZaloApi(per_second=5)                # answer 429 above 5 sends in any second
    fake.limit_violations                    #   and count every one

Strictness, after the platform's documentation (see notifiers/zalo.py): every method is a
POST with a JSON object body to /bot<TOKEN>/<method>; a wrong token is 401, an unknown
method 404; `chat_id` and `text` must be strings, text 1–2000 characters; a chat the bot
has never heard from is 400; `getUpdates` returns ONE update per call (no offset) or
error 408 when none came within its timeout, and refuses while a webhook is set;
`setWebhook` wants an https URL and an 8–256 character secret.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_TEXT = 2000


@dataclass(frozen=True)
class ZaloMessage:
    chat_id: str
    message_id: str
    text: str
    at: float


@dataclass
class _Failure:
    method: str
    code: int
    description: str
    retry_after: float | None
    times: int


class FakeZaloApi:
    def __init__(
        self,
        *,
        token: str = "1234567890:dondoc-fake-zalo-token",
        per_second: float | None = None,
        max_poll_wait: float = 0.5,
    ) -> None:
        self.token = token
        self.per_second = per_second
        self.max_poll_wait = max_poll_wait
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every method but getUpdates
        self.polls = 0  # getUpdates calls
        self.limit_violations = 0
        self.webhook: dict[str, Any] | None = None
        self._updates: deque[dict[str, Any]] = deque()
        self._sent: dict[str, list[ZaloMessage]] = defaultdict(list)
        self._known: set[str] = set()
        self._blocked: set[str] = set()
        self._failures: list[_Failure] = []
        self._window: deque[float] = deque()
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeZaloApi is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeZaloApi:
        fake = self

        class Handler(_Handler):
            api = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-zalo-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = self._thread = None

    def __enter__(self) -> FakeZaloApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what people do ----------------------------------------------------------------

    def user_says(
        self,
        chat_id: str,
        text: str,
        *,
        chat_type: str = "PRIVATE",
        user: str | None = None,
        name: str = "Nguyễn Văn An",
    ) -> str:
        """A text message from a person, as the platform delivers it; its message_id.

        While a webhook is set the platform pushes instead of queueing: use
        `webhook_update` and POST it where the webhook points."""
        if self.webhook is not None:
            raise RuntimeError("a webhook is set: the platform pushes, use webhook_update()")
        update = self.webhook_update(chat_id, text, chat_type=chat_type, user=user, name=name)
        self.push(update, chat_id=chat_id)
        return str(update["message"]["message_id"])

    def webhook_update(
        self,
        chat_id: str,
        text: str,
        *,
        chat_type: str = "PRIVATE",
        user: str | None = None,
        name: str = "Nguyễn Văn An",
    ) -> dict[str, Any]:
        """The body the platform pushes for a person's text; the bot may now answer there."""
        with self._cond:
            self._known.add(chat_id)
        return {
            "event_name": "message.text.received",
            "message": {
                "message_id": secrets.token_hex(10),
                "date": int(time.time() * 1000),
                "text": text,
                "chat": {"id": chat_id, "chat_type": chat_type},
                "from": {"id": user or chat_id, "display_name": name, "is_bot": False},
            },
        }

    def push(self, update: dict[str, Any], *, chat_id: str | None = None) -> None:
        """Any update shape (a sticker, an image…) waiting for the next getUpdates."""
        with self._cond:
            if chat_id is not None:
                self._known.add(chat_id)
            self._updates.append(update)
            self._cond.notify_all()

    def block(self, chat_id: str) -> None:
        self._blocked.add(chat_id)

    def fail_next(
        self,
        method: str,
        *,
        code: int,
        description: str | None = None,
        retry_after: float | None = None,
        times: int = 1,
    ) -> None:
        text = description or ("Too Many Requests" if code == 429 else "Internal Server Error")
        self._failures.append(_Failure(method, code, text, retry_after, times))

    # --- what the bot did --------------------------------------------------------------

    def sent(self, chat_id: str) -> list[ZaloMessage]:
        with self._cond:
            return list(self._sent[chat_id])

    def all_sent(self) -> list[ZaloMessage]:
        with self._cond:
            return sorted((m for ms in self._sent.values() for m in ms), key=lambda m: m.at)

    def pending_updates(self) -> int:
        with self._cond:
            return len(self._updates)

    async def wait_until(self, condition: Callable[[], bool], *, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the condition did not come true in time")
            await asyncio.sleep(0.02)

    # --- the API -----------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method != "getUpdates":
            self.calls.append((method, params))
        else:
            self.polls += 1
        for failure in self._failures:
            if failure.method == method and failure.times > 0:
                failure.times -= 1
                return _error(failure.code, failure.description, failure.retry_after)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Method not found")
        result: tuple[int, dict[str, Any]] = handler(params)
        return result

    def _m_getMe(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        bot_id = self.token.split(":", 1)[0]
        return _ok(
            {"id": bot_id, "account_name": "bot.dondoc", "account_type": "BASIC",
             "can_join_groups": True}
        )  # fmt: skip

    def _m_getUpdates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.webhook is not None:
            return _error(400, "Bad Request: getUpdates is unavailable while a webhook is set")
        try:
            timeout = float(params.get("timeout", 30))
        except (TypeError, ValueError):
            return _error(400, "Bad Request: timeout must be a number of seconds")
        deadline = time.monotonic() + min(timeout, self.max_poll_wait)
        with self._cond:
            while not self._updates:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return _error(408, "Request timeout")
                self._cond.wait(remaining)
            return _ok(self._updates.popleft())

    def _m_setWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        url, secret = params.get("url"), params.get("secret_token")
        if not isinstance(url, str) or not url.startswith("https://"):
            return _error(400, "Bad Request: url must be an HTTPS URL")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            return _error(400, "Bad Request: secret_token must be 8 to 256 characters")
        self.webhook = {"url": url, "secret_token": secret}
        return _ok({"url": url, "updated_at": int(time.time() * 1000)})

    def _m_deleteWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.webhook = None
        return _ok({"url": "", "updated_at": int(time.time() * 1000)})

    def _m_getWebhookInfo(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return _ok({"url": (self.webhook or {}).get("url", ""), "updated_at": 0})

    def _m_sendMessage(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        text = params.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT:
            return _error(400, f"Bad Request: text must be 1 to {MAX_TEXT} characters")
        return self._deliver(params, text)

    def _m_sendPhoto(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        photo, caption = params.get("photo"), params.get("caption", "")
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            return _error(400, "Bad Request: photo must be a URL")
        if not isinstance(caption, str) or len(caption) > MAX_TEXT:
            return _error(400, f"Bad Request: caption must be at most {MAX_TEXT} characters")
        return self._deliver(params, f"[photo {photo}] {caption}".strip())

    def _m_sendChatAction(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if params.get("action") not in ("typing", "upload_photo"):
            return _error(400, "Bad Request: unknown action")
        return 200, {"ok": True}

    def _deliver(self, params: dict[str, Any], text: str) -> tuple[int, dict[str, Any]]:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, str) or not chat_id:
            return _error(400, "Bad Request: chat_id must be a non-empty string")
        with self._cond:
            if chat_id not in self._known:
                return _error(400, "Bad Request: chat not found")
            if chat_id in self._blocked:
                return _error(403, "Forbidden: the bot cannot send messages to this chat")
            now = time.monotonic()
            if self.per_second is not None:
                while self._window and self._window[0] <= now - 1.0:
                    self._window.popleft()
                if len(self._window) >= self.per_second:
                    self.limit_violations += 1
                    return _error(429, "Too Many Requests", 1)
                self._window.append(now)
            message = ZaloMessage(chat_id, secrets.token_hex(10), text, time.time())
            self._sent[chat_id].append(message)
            self._cond.notify_all()
        return _ok({"message_id": message.message_id, "date": int(message.at * 1000)})

    def know(self, *chat_ids: str) -> None:
        """Chats the bot may write to without having heard from them (benchmarks)."""
        with self._cond:
            self._known.update(chat_ids)


def _ok(result: Any) -> tuple[int, dict[str, Any]]:
    return 200, {"ok": True, "result": result}


def _error(code: int, description: str, retry_after: float | None = None) -> tuple[int, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    status = code if 400 <= code < 600 else 400
    return status, body


class _Handler(BaseHTTPRequestHandler):
    api: FakeZaloApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._reply(*_error(405, "Method Not Allowed: use POST"))

    def do_POST(self) -> None:
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(parts) != 2 or parts[0] != f"bot{self.api.token}":
            self._reply(*_error(401, "Unauthorized"))
            return
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            self._reply(*_error(400, "Bad Request: the body must be JSON"))
            return
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = None
        if not isinstance(params, dict):
            self._reply(*_error(400, "Bad Request: the body must be a JSON object"))
            return
        self._reply(*self.api.handle(parts[1], params))

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
