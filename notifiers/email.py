"""Email over SMTP with aiosmtplib: one connection per batch, reconnecting when dropped.

Outcomes follow SMTP's own split: 5xx for a recipient is permanent for that address,
4xx and anything about the connection is worth retrying. Problems with our own
configuration (login, sender refused) are retryable too: once an admin fixes the
settings, the queued reminders go out instead of having been given up.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import uuid
from datetime import UTC, datetime, tzinfo
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid

import aiosmtplib

from config.settings import SmtpSettings
from dondoc.clock import Clock
from notifiers.base import Attachment, ChannelError, OutgoingMessage

# Characters allowed in the left part of a Message-ID (RFC 5322 dot-atom-text).
_NOT_ATEXT = re.compile(r"[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+")
_ADDRESS = re.compile(r"[^@\s<>,;:\"]+@[^@\s<>,;:\"]+\.[^@\s<>,;:\"]+")
# 421: the server is closing the connection; the message itself was fine.
_CLOSING = 421


def build_email(
    message: OutgoingMessage,
    *,
    sender: str,
    message_id: str,
    now: datetime,
    tz: tzinfo | None = None,
) -> Message:
    """Text and HTML as alternatives, then the attachments; every header checked first.

    The classic MIME classes, not EmailMessage: building and flattening them costs a
    third as much, which is most of a send on a reused connection.
    """
    for role, address in (("người nhận", message.address), ("trả lời về", message.reply_to)):
        if address is not None and not _ADDRESS.fullmatch(address):
            raise ChannelError(f"Địa chỉ email {role} không hợp lệ: {address!r}.", permanent=True)
    email: Message = MIMEText(message.text, "plain", "utf-8")
    if message.html:
        alternatives = MIMEMultipart("alternative", boundary=_boundary())
        alternatives.attach(email)
        alternatives.attach(MIMEText(message.html, "html", "utf-8"))
        email = alternatives
    if message.attachments:
        mixed = MIMEMultipart("mixed", boundary=_boundary())
        mixed.attach(email)
        for attachment in message.attachments:
            mixed.attach(_attachment_part(attachment))
        email = mixed
    email["From"] = sender
    email["To"] = message.address
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    subject = Header(" ".join(message.subject.split()), "utf-8", header_name="Subject")
    email["Subject"] = subject.encode()
    # The office's zone (a virtual clock may stand in UTC): readers see their own time.
    email["Date"] = format_datetime(now.astimezone(tz) if tz is not None else now)
    email["Message-ID"] = message_id
    # RFC 3834: out-of-office robots must not answer reminders (and loop with them).
    email["Auto-Submitted"] = "auto-generated"
    email["X-Auto-Response-Suppress"] = "All"
    return email


def _boundary() -> str:
    """A MIME boundary that cannot occur in the parts: they are base64 (no '.') under
    fixed headers. Left to itself, the generator compiles a new regular expression per
    message to check its random boundary against the text: a third of flattening."""
    return f"=_dondoc.{uuid.uuid4().hex}"


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    if not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()


def _attachment_part(attachment: Attachment) -> MIMEBase:
    maintype, _, subtype = attachment.mime_type.partition("/")
    part = MIMEBase(maintype or "application", subtype or "octet-stream")
    if maintype == "text":
        # Reports are UTF-8 text: say so, or a mail client may read them as Latin-1.
        part.set_param("charset", "utf-8")
    part.set_payload(attachment.content)
    encoders.encode_base64(part)
    name = attachment.filename
    filename: str | tuple[str, str, str] = name if name.isascii() else ("utf-8", "", name)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


class EmailChannel:
    """Sends `OutgoingMessage`s as multipart text + HTML email over a small connection pool.

    A few connections in parallel hide each message's round trips; more would only make
    a real mail server throttle or refuse us.
    """

    name = "email"

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        tls_context: ssl.SSLContext | None = None,
        clock: Clock | None = None,
        connections: int = 4,
        tz: tzinfo | None = None,
    ) -> None:
        if not settings.host:
            raise ValueError("EmailChannel needs settings.smtp.host")
        if connections < 1:
            raise ValueError("EmailChannel needs at least one connection")
        self._tz = tz
        self._settings = settings
        self._host = settings.host
        self._tls_context = tls_context
        self._clock = clock
        self.concurrency = connections
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._idle: list[aiosmtplib.SMTP] = []
        self._in_batch = False
        self.connections_opened = 0  # for the benchmark and tests: proof of reuse

    async def open(self) -> None:
        # No network here: a mail server that is down must fail the sends (which the
        # delivery path retries), not the start of a batch.
        self._in_batch = True

    async def close(self) -> None:
        self._in_batch = False
        idle, self._idle = self._idle, []
        for smtp in idle:
            await _quit(smtp)

    def wait_for(self, address: str) -> float:
        return 0.0  # the pool's size is the only limit

    async def send(self, message: OutgoingMessage) -> str:
        email = self._build(message)
        message_id = str(email["Message-ID"])
        async with self._semaphore():
            for attempt in (1, 2):
                smtp = await self._checkout()
                try:
                    await smtp.send_message(
                        email, sender=self._settings.sender, recipients=[message.address]
                    )
                except aiosmtplib.SMTPServerDisconnected as exc:
                    smtp.close()
                    if attempt == 1:
                        continue  # an idle connection the server closed: reconnect once
                    raise ChannelError(
                        f"Máy chủ thư {self._where} ngắt kết nối khi đang gửi: {exc}",
                        permanent=False,
                    ) from None
                except aiosmtplib.SMTPRecipientsRefused as exc:
                    self._checkin(smtp)  # the connection is fine; the address is not
                    raise self._refused(message.address, exc) from None
                except aiosmtplib.SMTPResponseException as exc:
                    smtp.close()
                    if exc.code == _CLOSING and attempt == 1:
                        continue
                    raise self._response_error(exc) from None
                except (aiosmtplib.SMTPException, OSError) as exc:
                    smtp.close()
                    raise ChannelError(
                        f"Lỗi khi gửi thư qua {self._where}: {exc}", permanent=False
                    ) from None
                except BaseException:
                    smtp.close()  # cancelled mid-send: the connection is in an unknown state
                    raise
                if self._in_batch:
                    self._checkin(smtp)
                else:
                    await _quit(smtp)
                return message_id
        raise ChannelError(f"Máy chủ thư {self._where} liên tục ngắt kết nối.", permanent=False)

    def _semaphore(self) -> asyncio.Semaphore:
        # One per event loop: the daemon's simulations run one loop after another.
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.concurrency))
            self._idle = []
        return self._slots[1]

    def _checkin(self, smtp: aiosmtplib.SMTP) -> None:
        if smtp.is_connected:
            self._idle.append(smtp)

    @property
    def _where(self) -> str:
        return f"{self._host}:{self._settings.port}"

    async def _checkout(self) -> aiosmtplib.SMTP:
        while self._idle:
            smtp = self._idle.pop()
            if smtp.is_connected:
                return smtp
            smtp.close()
        settings = self._settings
        if settings.security != "none" and self._tls_context is None:
            # Loading the system trust store takes tens of milliseconds: once per channel,
            # not once per reconnect.
            self._tls_context = await asyncio.to_thread(ssl.create_default_context)
        smtp = aiosmtplib.SMTP(
            hostname=self._host,
            port=settings.port,
            timeout=settings.timeout,
            use_tls=settings.security == "tls",
            start_tls=settings.security == "starttls",
            tls_context=self._tls_context,
        )
        try:
            await smtp.connect()
            encrypted = bool(smtp.get_transport_info("sslcontext"))
            if settings.username and not encrypted and not settings.allow_insecure_auth:
                smtp.close()
                raise ChannelError(
                    f"Máy chủ thư {self._where}: kết nối không mã hóa, dondoc không gửi mật "
                    "khẩu; đặt DONDOC_SMTP__SECURITY=starttls hoặc tls (or explicitly "
                    "DONDOC_SMTP__ALLOW_INSECURE_AUTH=true).",
                    permanent=False,
                )
            if settings.username:
                password = settings.password.get_secret_value() if settings.password else ""
                await smtp.login(settings.username, password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            smtp.close()
            raise ChannelError(
                f"Máy chủ thư {self._where} từ chối đăng nhập tài khoản '{settings.username}' "
                f"({exc.code}); kiểm tra DONDOC_SMTP__USERNAME và DONDOC_SMTP__PASSWORD.",
                permanent=False,
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise ChannelError(
                f"Không kết nối được máy chủ thư {self._where}: {exc}", permanent=False
            ) from None
        self.connections_opened += 1
        return smtp

    def _build(self, message: OutgoingMessage) -> Message:
        now = self._clock.now() if self._clock is not None else datetime.now(UTC)
        return build_email(
            message,
            sender=self._settings.sender,
            message_id=self._message_id(message.message_key),
            now=now,
            tz=self._tz,
        )

    def _message_id(self, key: str) -> str:
        domain = self._settings.sender.rpartition("@")[2] or "dondoc.localhost"
        left = _NOT_ATEXT.sub("-", key).strip(".-")
        return f"<{left}@{domain}>" if left else make_msgid(domain=domain)

    def _refused(self, address: str, exc: aiosmtplib.SMTPRecipientsRefused) -> ChannelError:
        refusal = exc.recipients[0] if exc.recipients else None
        code = refusal.code if refusal is not None else 550
        reason = refusal.message if refusal is not None else str(exc)
        if code >= 500:
            return ChannelError(
                f"Máy chủ thư từ chối địa chỉ {address} ({code} {reason}).", permanent=True
            )
        return ChannelError(
            f"Máy chủ thư tạm thời chưa nhận thư cho {address} ({code} {reason}).",
            permanent=False,
        )

    def _response_error(self, exc: aiosmtplib.SMTPResponseException) -> ChannelError:
        if isinstance(exc, aiosmtplib.SMTPSenderRefused):
            return ChannelError(
                f"Máy chủ thư từ chối địa chỉ gửi {exc.sender} ({exc.code} {exc.message}); "
                "kiểm tra DONDOC_SMTP__SENDER.",
                permanent=False,
            )
        if exc.code >= 500 and isinstance(exc, aiosmtplib.SMTPDataError):
            return ChannelError(
                f"Máy chủ thư không nhận nội dung thư ({exc.code} {exc.message}).", permanent=True
            )
        return ChannelError(
            f"Máy chủ thư {self._where} trả lỗi {exc.code} {exc.message}.", permanent=False
        )
