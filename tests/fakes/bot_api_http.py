"""The HTTP side of the fake Bot API: requests in, JSON answers out (see telegram_api.py)."""

from __future__ import annotations

import email
import email.policy
import json
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from .telegram_api import FakeBotApi

# PTB sends form fields; these carry JSON, integers or booleans as text.
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


def error_body(
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


def decode_field(name: str, value: Any) -> Any:
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


class BotApiHandler(BaseHTTPRequestHandler):
    api: FakeBotApi
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK, up to 40 ms per answer, which no real Bot API adds.
    disable_nagle_algorithm = True

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
        params = {k: decode_field(k, v) for k, v in self._params(body).items()}
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
