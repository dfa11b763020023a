"""A local fake of the Telegram Bot API over HTTP, for the real python-telegram-bot stack.

Point the bot at it with `DONDOC_TELEGRAM__API_URL=fake.url` (settings.telegram.api_url)
and `DONDOC_TELEGRAM__TOKEN=fake.token`. It runs in its own thread, so it serves sync
code, async code and daemon subprocesses alike.

    fake = FakeBotApi().start()          # or the `fake_bot_api` fixture
    fake.url, fake.token, fake.username
    # what the bot did
    fake.sent(chat_id)                   # [ChatMessage] the bot sent there (text, buttons…)
    fake.calls / fake.calls_to("answerCallbackQuery")   # every request but getUpdates
    fake.message(chat_id, message_id)    # a message as it is now (after edits)
    # what users do (delivered to the bot through getUpdates)
    fake.user_says(chat_id, "/start ABC", reply_to=None, chat_type="private")
    fake.user_presses(chat_id, message_id, "Đã nhận")       # by button label …
    fake.user_presses(chat_id, message_id, data="a:1:sig")  # … or with raw callback data
    await fake.wait_until(lambda: len(fake.sent(1)) == 2)   # poll a condition (async)
    # failures
    fake.fail_next("sendMessage", times=3, status=429, retry_after=1)   # or 500, 502…
    fake.block(chat_id)                  # 403 "Forbidden: bot was blocked by the user"
    fake.forget(chat_id)                 # 400 "Bad Request: chat not found"
    FakeBotApi(limits=Limits())          # enforce Telegram's flood limits: answer 429
    fake.limit_violations                #   and count every violation

Chat ids: positive = private chat with the user of the same id; negative = a group.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs

JSON_FIELDS = {
    "reply_markup",
    "reply_parameters",
    "link_preview_options",
    "allowed_updates",
    "commands",
    "entities",
}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "reply_to_message_id"}
BOOL_FIELDS = {"show_alert", "disable_notification", "protect_content"}
BOT_ID = 777000111
USER_NAMES = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung")


@dataclass(frozen=True)
class Limits:
    """Telegram's flood limits as sliding windows over arrival times.

    `tolerance` shortens each window: a request released on time by the client may reach
    this thread late when the machine is busy (Telegram itself is far less exact).
    """

    overall: tuple[int, float] = (30, 1.0)
    per_chat: tuple[int, float] = (1, 1.0)
    group: tuple[int, float] = (20, 60.0)
    tolerance: float = 0.1


@dataclass
class BotCall:
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() on arrival
    status: int = 200


@dataclass
class ChatMessage:
    chat_id: int
    message_id: int
    text: str
    from_bot: bool
    user_id: int | None = None
    reply_markup: dict[str, Any] | None = None
    reply_to: int | None = None
    document: tuple[str, bytes] | None = None
    edits: int = 0

    @property
    def buttons(self) -> list[list[dict[str, str]]]:
        if not self.reply_markup:
            return []
        return list(self.reply_markup.get("inline_keyboard", []))

    @property
    def button_labels(self) -> list[str]:
        return [b["text"] for row in self.buttons for b in row]

    def button_data(self, label: str) -> str:
        for row in self.buttons:
            for button in row:
                if button["text"] == label:
                    return button["callback_data"]
        raise KeyError(f"no button {label!r} on message {self.message_id}: {self.button_labels}")


@dataclass
class _Failure:
    method: str | None
    status: int
    retry_after: int | None
    description: str | None


@dataclass
class _State:
    messages: dict[tuple[int, int], ChatMessage] = field(default_factory=dict)
    next_message_id: dict[int, int] = field(default_factory=lambda: defaultdict(lambda: 1))
    chat_types: dict[int, str] = field(default_factory=dict)
    updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    next_update_id: int = 1
    next_callback_id: int = 1


class FakeBotApi:
    def __init__(
        self,
        *,
        token: str = "123456789:TEST-dondoc-fake-token",
        username: str = "dondoc_test_bot",
        limits: Limits | None = None,
        max_poll_wait: float = 0.5,
    ) -> None:
        self.token = token
        self.username = username
        self.limits = limits
        self.max_poll_wait = max_poll_wait
        self.calls: list[BotCall] = []
        self.get_updates_calls = 0
        self.limit_violations = 0
        self._state = _State()
        self._failures: list[_Failure] = []
        self._blocked: set[int] = set()
        self._forgotten: set[int] = set()
        self._windows: dict[Any, deque[float]] = defaultdict(deque)
        self._cond = threading.Condition()
        self._stopping = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeBotApi is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeBotApi:
        fake = self

        class Handler(_Handler):
            api = fake

        self._stopping = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # stop() waits for one poll: keep it short
            name="fake-bot-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = self._thread = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what the bot did --------------------------------------------------------------

    def calls_to(self, method: str) -> list[BotCall]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def sent(self, chat_id: int | None = None) -> list[ChatMessage]:
        with self._cond:
            return [
                m
                for m in self._state.messages.values()
                if m.from_bot and (chat_id is None or m.chat_id == chat_id)
            ]

    def message(self, chat_id: int, message_id: int) -> ChatMessage:
        with self._cond:
            return self._state.messages[(chat_id, message_id)]

    def callback_answers(self) -> list[dict[str, Any]]:
        return [c.params for c in self.calls_to("answerCallbackQuery")]

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the fake Bot API did not see the expected requests in time")
            await asyncio.sleep(0.01)

    # --- what users do -----------------------------------------------------------------

    def user_says(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        reply_to: int | None = None,
        chat_type: str | None = None,
        language: str = "vi",
    ) -> ChatMessage:
        with self._cond:
            self._remember_chat(chat_id, chat_type)
            message = ChatMessage(
                chat_id=chat_id,
                message_id=self._new_message_id(chat_id),
                text=text,
                from_bot=False,
                user_id=user_id or self._default_user(chat_id),
                reply_to=reply_to,
            )
            self._state.messages[(chat_id, message.message_id)] = message
            payload = self._message_json(message)
            payload["from"]["language_code"] = language
            self._push({"message": payload})
            return message

    def user_presses(
        self,
        chat_id: int,
        message_id: int,
        label: str | None = None,
        *,
        data: str | None = None,
        user_id: int | None = None,
        chat_type: str | None = None,
    ) -> str:
        with self._cond:
            self._remember_chat(chat_id, chat_type)
            message = self._state.messages.get((chat_id, message_id))
            if message is None:
                # A message of another chat (a forged press): shown as if it were here.
                message = ChatMessage(chat_id, message_id, "", from_bot=True)
            if data is None:
                if label is None:
                    raise ValueError("give the button's label or its data")
                data = message.button_data(label)
            callback_id = str(self._state.next_callback_id)
            self._state.next_callback_id += 1
            user = self._user_json(user_id or self._default_user(chat_id))
            self._push(
                {
                    "callback_query": {
                        "id": callback_id,
                        "from": user,
                        "chat_instance": f"ci{chat_id}",
                        "data": data,
                        "message": self._message_json(message),
                    }
                }
            )
            return callback_id

    # --- failures ----------------------------------------------------------------------

    def fail_next(
        self,
        method: str | None = "sendMessage",
        *,
        times: int = 1,
        status: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
    ) -> None:
        with self._cond:
            for _ in range(times):
                self._failures.append(_Failure(method, status, retry_after, description))

    def block(self, chat_id: int) -> None:
        self._blocked.add(chat_id)

    def forget(self, chat_id: int) -> None:
        self._forgotten.add(chat_id)

    # --- the HTTP side -----------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        with self._cond:
            call = BotCall(method, params, time.monotonic())
            self.calls.append(call)
            status, body = self._answer(method, params, call.at)
            call.status = status
            return status, body

    def _answer(self, method: str, params: dict[str, Any], at: float) -> tuple[int, dict[str, Any]]:
        for index, failure in enumerate(self._failures):
            if failure.method in (None, method):
                del self._failures[index]
                return _error(failure.status, failure.description, failure.retry_after)
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            if chat_id in self._blocked:
                return _error(403, "Forbidden: bot was blocked by the user")
            if chat_id in self._forgotten:
                return _error(400, "Bad Request: chat not found")
            if self.limits is not None and method.startswith(("send", "edit")):
                wait = self._over_limit(chat_id, at)
                if wait is not None:
                    self.limit_violations += 1
                    return _error(429, None, max(1, math.ceil(wait)))
        handler = _METHODS.get(method)
        if handler is None:
            return _error(404, "Not Found: method not found")
        return 200, {"ok": True, "result": handler(self, params)}

    def _over_limit(self, chat_id: int, at: float) -> float | None:
        """Seconds to wait when this request would break a limit; None when it may pass."""
        limits = self.limits
        if limits is None:
            return None
        checks: list[tuple[Any, tuple[int, float]]] = [
            ("overall", limits.overall),
            (("chat", chat_id), limits.per_chat),
        ]
        if chat_id < 0:
            checks.append((("group", chat_id), limits.group))
        for key, (count, period) in checks:
            window = self._windows[key]
            while window and window[0] <= at - (period - limits.tolerance):
                window.popleft()
            if len(window) >= count:
                return window[0] + period - at
        for key, _ in checks:
            self._windows[key].append(at)
        return None

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, self.max_poll_wait)
        with self._cond:
            self.get_updates_calls += 1
            self._state.updates = [(i, u) for i, u in self._state.updates if i >= offset]
            while not self._state.updates and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            limit = int(params.get("limit") or 100)
            return [u for _, u in self._state.updates[:limit]]

    # --- Bot API methods ---------------------------------------------------------------

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Đôn đốc",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _true(self, params: dict[str, Any]) -> bool:
        return True

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._store_bot_message(params, text=str(params.get("text", "")))

    def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        document = params.get("document")
        result = self._store_bot_message(params, text=str(params.get("caption", "")))
        message = self._state.messages[(int(params["chat_id"]), result["message_id"])]
        if isinstance(document, tuple):
            message.document = document
            result["document"] = {
                "file_id": f"f{message.message_id}",
                "file_unique_id": f"u{message.message_id}",
                "file_name": document[0],
            }
        return result

    def _store_bot_message(self, params: dict[str, Any], *, text: str) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        self._remember_chat(chat_id, None)
        reply = params.get("reply_parameters") or {}
        reply_to = params.get("reply_to_message_id") or reply.get("message_id")
        message = ChatMessage(
            chat_id=chat_id,
            message_id=self._new_message_id(chat_id),
            text=text,
            from_bot=True,
            reply_markup=params.get("reply_markup"),
            reply_to=int(reply_to) if reply_to else None,
        )
        self._state.messages[(chat_id, message.message_id)] = message
        return self._message_json(message)

    def _edit(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self._state.messages.get(key)
        if message is None:
            return True
        if "text" in params:
            message.text = str(params["text"])
        message.reply_markup = params.get("reply_markup")
        message.edits += 1
        return self._message_json(message)

    # --- JSON shapes -------------------------------------------------------------------

    def _message_json(self, message: ChatMessage, *, nested: bool = False) -> dict[str, Any]:
        chat_type = self._state.chat_types.get(message.chat_id, "private")
        chat: dict[str, Any] = {"id": message.chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = USER_NAMES[message.chat_id % len(USER_NAMES)]
        else:
            chat["title"] = f"Nhóm {abs(message.chat_id)}"
        payload: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": chat,
            "text": message.text,
            "from": self._get_me({})
            if message.from_bot
            else self._user_json(message.user_id or self._default_user(message.chat_id)),
        }
        if message.text.startswith("/"):
            command = message.text.split()[0]
            payload["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            payload["reply_markup"] = message.reply_markup  # Telegram echoes inline keyboards only
        if message.reply_to and not nested:
            replied = self._state.messages.get((message.chat_id, message.reply_to))
            if replied is not None:
                payload["reply_to_message"] = self._message_json(replied, nested=True)
        return payload

    @staticmethod
    def _user_json(user_id: int) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": USER_NAMES[user_id % len(USER_NAMES)],
            "language_code": "vi",
        }

    @staticmethod
    def _default_user(chat_id: int) -> int:
        return chat_id if chat_id > 0 else 5000 + abs(chat_id) % 1000

    def _remember_chat(self, chat_id: int, chat_type: str | None) -> None:
        if chat_type is not None:
            self._state.chat_types[chat_id] = chat_type
        elif chat_id not in self._state.chat_types:
            self._state.chat_types[chat_id] = "private" if chat_id > 0 else "group"

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._state.next_message_id[chat_id]
        self._state.next_message_id[chat_id] = message_id + 1
        return message_id

    def _push(self, update: dict[str, Any]) -> None:
        update_id = self._state.next_update_id
        self._state.next_update_id += 1
        self._state.updates.append((update_id, {"update_id": update_id, **update}))
        self._cond.notify_all()


_METHODS: dict[str, Callable[[FakeBotApi, dict[str, Any]], Any]] = {
    "getMe": FakeBotApi._get_me,
    "deleteWebhook": FakeBotApi._true,
    "setMyCommands": FakeBotApi._true,
    "sendChatAction": FakeBotApi._true,
    "answerCallbackQuery": FakeBotApi._true,
    "close": FakeBotApi._true,
    "logOut": FakeBotApi._true,
    "sendMessage": FakeBotApi._send_message,
    "sendDocument": FakeBotApi._send_document,
    "editMessageText": FakeBotApi._edit,
    "editMessageReplyMarkup": FakeBotApi._edit,
}


def _error(
    status: int, description: str | None, retry_after: int | None = None
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": status,
        "description": description
        or (
            f"Too Many Requests: retry after {retry_after}"
            if status == 429
            else "Internal Server Error"
        ),
    }
    if status == 429 and retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return status, body


def _decode(name: str, value: Any) -> Any:
    if isinstance(value, tuple):
        return value
    if name in JSON_FIELDS and isinstance(value, str):
        return json.loads(value)
    if name in BOOL_FIELDS and isinstance(value, str):
        return value == "true"
    if name in INT_FIELDS:
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    return value


class _Handler(BaseHTTPRequestHandler):
    api: FakeBotApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the tests read `calls`, not a log

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(parts) != 2 or parts[0] != f"bot{self.api.token}":
            self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        params = {k: _decode(k, v) for k, v in self._params(body).items()}
        status, payload = self.api.handle(parts[1], params)
        self._reply(status, payload)

    def _params(self, body: bytes) -> dict[str, Any]:
        content_type = self.headers.get("Content-Type", "")
        query = self.path.split("?", 1)[1] if "?" in self.path else ""
        params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query).items()}
        if content_type.startswith("application/json") and body:
            params.update(json.loads(body))
        elif content_type.startswith("multipart/form-data"):
            head = f"Content-Type: {content_type}\r\n\r\n".encode()
            message = cast(
                EmailMessage, email.message_from_bytes(head + body, policy=email.policy.HTTP)
            )
            for part in message.iter_parts():
                name = str(part.get_param("name", header="content-disposition"))
                filename = part.get_filename()
                payload = bytes(part.get_payload(decode=True) or b"")
                params[name] = (filename, payload) if filename else payload.decode()
        elif body:
            params.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
        return params

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (a cancelled poll)
