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
    # edits, photos, channel posts, supergroup migration, raw shapes: fakes/bot_api_events.py
    await fake.wait_until(lambda: len(fake.sent(1)) == 2)   # poll a condition (async)
    # failures
    fake.fail_next("sendMessage", times=3, status=429, retry_after=1)   # or 500, 502…
    fake.block(chat_id)                  # 403 "Forbidden: bot was blocked by the user"
    fake.forget(chat_id)                 # 400 "Bad Request: chat not found"
    FakeBotApi(limits=Limits())          # enforce Telegram's flood limits: answer 429
    fake.limit_violations                #   and count every violation

Chat ids: positive = private chat with the user of the same id; negative = a group.
Like Telegram, it delivers only the update types in the bot's last `allowed_updates`,
refuses user texts over 4096 characters, and answers a send to a group that became a
supergroup with 400 and `migrate_to_chat_id`.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any

from .bot_api_events import DEFAULT_UPDATES, MAX_MESSAGE
from .bot_api_http import BotApiHandler, error_body
from .bot_api_types import BotCall, ChatMessage, Failure, Limits, State

BOT_ID = 777000111
USER_NAMES = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung")


class FakeBotApi:
    def __init__(
        self,
        *,
        token: str = "123456789:TEST-dondoc-fake-token",
        username: str = "dondoc_test_bot",
        limits: Limits | None = None,
        max_poll_wait: float = 0.5,
        port: int = 0,
    ) -> None:
        self.token = token
        self.port = port  # 0: any free port; a fixed one lets a test start the API late
        self.username = username
        self.limits = limits
        self.max_poll_wait = max_poll_wait
        self.calls: list[BotCall] = []
        self.get_updates_calls = 0
        # Long polls that arrived while another was open: Telegram answers one of them
        # 409 Conflict ("only one bot instance"); two pollers of one bot are a defect.
        self.poll_conflicts = 0
        self._polls_open = 0
        self.limit_violations = 0
        self._state = State()
        self._failures: list[Failure] = []
        self._blocked: set[int] = set()
        self._forgotten: set[int] = set()
        self.allowed_updates = DEFAULT_UPDATES
        self.migrated: dict[int, int] = {}
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

        class Handler(BotApiHandler):
            api = fake

        self._stopping = False
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
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
        if len(text) > MAX_MESSAGE:
            raise ValueError("Telegram does not accept messages over 4096 characters")
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
                self._failures.append(Failure(method, status, retry_after, description))

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
                return error_body(failure.status, failure.description, failure.retry_after)
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            if chat_id in self._blocked:
                return error_body(403, "Forbidden: bot was blocked by the user")
            if chat_id in self._forgotten:
                return error_body(400, "Bad Request: chat not found")
            if chat_id in self.migrated:
                status, body = error_body(
                    400, "Bad Request: group chat was upgraded to a supergroup chat"
                )
                body["parameters"] = {"migrate_to_chat_id": self.migrated[chat_id]}
                return status, body
            if self.limits is not None and method.startswith(("send", "edit")):
                wait = self._over_limit(chat_id, at)
                if wait is not None:
                    self.limit_violations += 1
                    return error_body(429, None, max(1, math.ceil(wait)))
        handler = _METHODS.get(method)
        if handler is None:
            return error_body(404, "Not Found: method not found")
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
        wanted = params.get("allowed_updates")
        with self._cond:
            self.get_updates_calls += 1
            # Long polls only: PTB's stop cancels its own open poll (the fake cannot see
            # the connection close) and confirms the offset with a getUpdates(timeout=0).
            long_poll = timeout > 0
            self.poll_conflicts += long_poll and self._polls_open > 0
            self._polls_open += long_poll
            try:
                if isinstance(wanted, list):  # kept until changed, as Telegram does
                    self.allowed_updates = frozenset(wanted) if wanted else DEFAULT_UPDATES
                # Telegram drops what the bot did not ask for; it never reaches the bot.
                self._state.updates = [
                    (i, u)
                    for i, u in self._state.updates
                    if i >= offset and (set(u) - {"update_id"}) & self.allowed_updates
                ]
                while not self._state.updates and not self._stopping:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                limit = int(params.get("limit") or 100)
                return [u for _, u in self._state.updates[:limit]]
            finally:
                self._polls_open -= long_poll

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
