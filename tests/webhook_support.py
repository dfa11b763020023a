"""A real webhook receiver on 127.0.0.1 for the webhook tests.

It checks every request's signature with the verification code the README gives to
receivers' developers (extracted from README.md and run as is), so the documented code
is proved against what dondoc sends, and a wrong secret is refused like a real receiver
would refuse it (401). Answers can be scripted: statuses (and headers) to give in turn.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_verifier() -> Callable[..., bool]:
    """`verify_dondoc_signature` exactly as the README's webhook section shows it."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    code = next(b for b in blocks if "def verify_dondoc_signature" in b)
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    verify: Callable[..., bool] = namespace["verify_dondoc_signature"]
    return verify


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers 401 to a request whose signature does not verify, otherwise the next
    scripted answer (then 200 for ever). `now` is the receiver's clock (Unix seconds)
    for the replay check: the test's virtual clock."""

    secret: str
    now: Callable[[], float]
    answers: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    bind_port: int = 0  # 0: any free port
    _server: ThreadingHTTPServer | None = None

    def script(self, statuses: Iterable[int], headers: dict[str, str] | None = None) -> None:
        for status in statuses:
            self.answers.append((status, dict(headers or {})))

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("receiver not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/dondoc"

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.status < 300]

    def __enter__(self) -> Receiver:
        verify = readme_verifier()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k: v for k, v in self.headers.items()}
                ok = verify(receiver.secret, self.headers, body, now=receiver.now())
                if not ok:
                    status, extra = 401, {}
                elif receiver.answers:
                    status, extra = receiver.answers.popleft()
                else:
                    status, extra = 200, {}
                receiver.received.append(Received(self.path, headers, body, ok, status))
                answer = b'{"ok": true}' if 200 <= status < 300 else b'{"error": "no"}'
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.bind_port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
