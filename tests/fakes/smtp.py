"""A real SMTP server (aiosmtpd) on 127.0.0.1, in its own thread, for tests and benchmarks.

    sink = SmtpSink()            # or the `smtp_sink` fixture (tests/fakes/fixtures.py)
    sink.start()                 # binds a free port: sink.host, sink.port
    ... send mail to it ...
    sink.messages                # [ReceivedMail]: .sender, .recipients, .message (EmailMessage),
                                 #   .text / .html (decoded bodies), .subject, .header(name)
    sink.wait_for(3, timeout=5)  # block until 3 messages arrived (returns them)
    sink.refuse("x@example.org")            # RCPT TO answered 550 (code=450: temporary)
    sink.drop_connections()      # close every open client connection now (an idle timeout)
    sink.drop_on_next_mail(1)    # abort the connection when the next MAIL FROM arrives
    sink.stop(); sink.start()    # the server goes down and comes back on the same port
    sink.connections             # client connections accepted so far
    sink.answer_delay = 1.5      # wait before answering DATA (a slow server)
    sink.started                 # [bytes]: every message whose DATA arrived, answered or not
    sink.logins                  # [(user, password)] of successful AUTH

Options: SmtpSink(users={"user": "secret"}) requires AUTH; tls_context=ctx with
starttls=True offers STARTTLS (and requires it), with implicit_tls=True wraps the socket.
As a real submission server, AUTH is offered and accepted only over TLS: a login on a
plain connection is refused (aiosmtpd's auth_require_tls).
It works from sync or async code: the server runs on its own event loop.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import threading
import time
import warnings
from dataclasses import dataclass
from email.message import EmailMessage
from functools import cached_property
from ssl import SSLContext
from typing import Any, cast

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    raw: bytes

    @cached_property
    def message(self) -> EmailMessage:
        # Parsed on first look, not on arrival: the benchmark should time the client.
        return cast(EmailMessage, email.message_from_bytes(self.raw, policy=email.policy.default))

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def header(self, name: str) -> str | None:
        value = self.message[name]
        return None if value is None else str(value)

    def _body(self, subtype: str) -> str | None:
        part = self.message.get_body(preferencelist=(subtype,))
        return None if part is None else str(part.get_content())

    @property
    def text(self) -> str:
        return self._body("plain") or ""

    @property
    def html(self) -> str | None:
        return self._body("html")

    def attachments(self) -> list[tuple[str, bytes]]:
        return [
            (part.get_filename() or "", bytes(part.get_payload(decode=True)))
            for part in self.message.iter_attachments()
        ]


def _abort(protocol: SMTP) -> None:
    # abort, not close: the client must see the connection vanish, as after a crash.
    transport = protocol.transport
    if isinstance(transport, asyncio.Transport):
        transport.abort()


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.sink._take_drop():
            _abort(server)
            return "421 4.4.2 connection dropped"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        code = self.sink._refused.get(address.lower())
        if code is not None:
            if code >= 500:
                return f"{code} 5.1.1 <{address}>: Recipient address rejected: user unknown"
            return f"{code} 4.2.0 <{address}>: Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        with self.sink._lock:
            self.sink.started.append(raw)
        if self.sink.answer_delay:
            await asyncio.sleep(self.sink.answer_delay)
            transport = server.transport
            if transport is None or transport.is_closing():
                # The client gave up before the answer: it cannot know the mail went out.
                return "451 4.3.0 client went away"
        mail = ReceivedMail(
            sender=str(envelope.mail_from), recipients=list(envelope.rcpt_tos), raw=raw
        )
        with self.sink._lock:
            self.sink.messages.append(mail)
        return "250 Message accepted for delivery"


class _TrackedSMTP(SMTP):
    sink: SmtpSink

    def connection_made(self, transport: Any) -> None:
        self.sink._opened(self)  # called again after STARTTLS: counted once
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.sink._closed(self)
        super().connection_lost(exc)


class SmtpSink:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        users: dict[str, str] | None = None,
        tls_context: SSLContext | None = None,
        starttls: bool = False,
        implicit_tls: bool = False,
    ) -> None:
        self.host = host
        self.port = 0
        self.messages: list[ReceivedMail] = []
        self.logins: list[tuple[str, str]] = []
        self.connections = 0
        self.answer_delay = 0.0
        # Several server processes on one port (SO_REUSEPORT), for benchmarks where one
        # process would be the bottleneck: set `port` and this before `start()`.
        self.reuse_port = False
        self.started: list[bytes] = []
        self._users = users
        self._tls_context = tls_context
        self._starttls = starttls
        self._implicit_tls = implicit_tls
        self._refused: dict[str, int] = {}
        self._drops = 0
        self._open: set[_TrackedSMTP] = set()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None

    # --- control -----------------------------------------------------------------------

    def refuse(self, address: str, *, code: int = 550) -> None:
        self._refused[address.lower()] = code

    def accept(self, address: str) -> None:
        self._refused.pop(address.lower(), None)

    def drop_on_next_mail(self, times: int = 1) -> None:
        self._drops += times

    def drop_connections(self) -> None:
        loop = self._loop
        if loop is None:
            return
        done = threading.Event()

        def abort_all() -> None:
            for protocol in list(self._open):
                _abort(protocol)
            done.set()

        loop.call_soon_threadsafe(abort_all)
        done.wait(5)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.messages)} of {count} emails arrived")
            time.sleep(0.01)
        return list(self.messages)

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> SmtpSink:
        # aiosmtpd logs every session at INFO; refusals are what the tests assert.
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="smtp-sink", daemon=True
        )
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(self._shutdown)
        thread.join(10)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- internals ---------------------------------------------------------------------

    def _factory(self) -> _TrackedSMTP:
        with warnings.catch_warnings():
            # aiosmtpd cannot see implicit TLS and warns that AUTH is not tied to it.
            warnings.simplefilter("ignore", UserWarning)
            protocol = self._protocol()
        protocol.sink = self
        return protocol

    def _protocol(self) -> _TrackedSMTP:
        return _TrackedSMTP(
            _Handler(self),
            hostname="smtp-sink.test",
            tls_context=self._tls_context if self._starttls else None,
            require_starttls=self._starttls,
            auth_required=self._users is not None,
            # Implicit TLS encrypts the whole session; otherwise AUTH waits for STARTTLS.
            auth_require_tls=not self._implicit_tls,
            authenticator=self._authenticate if self._users is not None else None,
            timeout=30,
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword) or self._users is None:
            return AuthResult(success=False, handled=False)
        user, password = data.login.decode(), data.password.decode()
        if self._users.get(user) != password:
            return AuthResult(success=False, handled=False)
        self.logins.append((user, password))
        return AuthResult(success=True)

    def _take_drop(self) -> bool:
        with self._lock:
            if self._drops <= 0:
                return False
            self._drops -= 1
            return True

    def _opened(self, protocol: _TrackedSMTP) -> None:
        if protocol not in self._open:
            self.connections += 1
        self._open.add(protocol)

    def _closed(self, protocol: _TrackedSMTP) -> None:
        self._open.discard(protocol)

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = self._loop
        if loop is None:
            return
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(
                loop.create_server(
                    self._factory,
                    self.host,
                    self.port,
                    ssl=self._tls_context if self._implicit_tls else None,
                    reuse_address=True,
                    reuse_port=self.reuse_port or None,
                )
            )
        except BaseException as exc:  # reported to start(), which re-raises it
            failure.append(exc)
            ready.set()
            return
        self.port = self._server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

    def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for protocol in list(self._open):
            _abort(protocol)
        if self._loop is not None:
            self._loop.stop()
