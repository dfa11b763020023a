"""Outbound webhooks: one event POSTed as JSON to a subscriber's URL, signed.

The signature follows Stripe and GitHub: `X-Dondoc-Signature: sha256=<hex>` is the
HMAC-SHA256, keyed by the subscription's secret, of `f"{timestamp}.{body}"`, where the
timestamp (Unix seconds) is also sent, in `X-Dondoc-Timestamp`, so that a receiver can
refuse old replays. A retry is signed afresh but keeps its `X-Dondoc-Delivery` id, by
which a receiver recognises a delivery it already has.

Like every channel this one never touches the store: the delivery path gives it a
`WebhookMessage` carrying the URL, the body and the secret, and records the outcome.
2xx is delivered; timeouts, connection errors, 408, 429 and 5xx may pass (temporary,
`Retry-After` honoured); any other answer will not change by itself (permanent).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from dondoc.clock import Clock, SystemClock
from notifiers.base import ChannelError, OutgoingMessage

NAME = "webhook"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "dondoc-webhooks/1"
# Statuses a receiver gives when it may accept the same request later.
TEMPORARY_STATUSES = frozenset({408, 429})
# How much of a receiver's answer is kept for the office to read.
ANSWER_CHARS = 300
# After a temporary failure the receiver's other deliveries wait this long (or as long
# as its Retry-After asks) instead of each paying for a timeout of its own.
PAUSE_AFTER_FAILURE = 60.0


@dataclass(frozen=True)
class WebhookMessage(OutgoingMessage):
    """`address` is the URL, `text` the JSON body, `subject` the event type and
    `message_key` the delivery id; the secret is never shown in a repr or a log."""

    secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class Answer:
    """What a receiver answered: for `dondoc webhook test` and the delivery log."""

    status: int
    body: str


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Dondoc-Signature` value of `body` sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signed_headers(message: WebhookMessage, *, timestamp: int) -> dict[str, str]:
    body = message.text.encode("utf-8")
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Dondoc-Event": message.subject,
        "X-Dondoc-Delivery": message.message_key,
        "X-Dondoc-Timestamp": str(timestamp),
        "X-Dondoc-Signature": signature(message.secret, timestamp, body),
    }


class WebhookChannel:
    name = NAME
    concurrency = 8

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        self.clock = clock or SystemClock()
        self._timeout = timeout
        self._client = client
        self._owns_client = client is None
        self._paused: dict[str, datetime] = {}  # URL → when it may be tried again

    async def open(self) -> None:
        if self._client is None:
            # Redirects are not followed: a receiver that moved must be re-registered,
            # rather than have signed events follow a Location header anywhere.
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)

    async def close(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    def wait_for(self, address: str) -> float:
        """A receiver that just failed for a while is not tried again before its pause
        ends: one receiver down costs one try per round, and others are not held up."""
        until = self._paused.get(address)
        if until is None:
            return 0.0
        left = (until - self.clock.now()).total_seconds()
        if left <= 0:
            del self._paused[address]
            return 0.0
        return left

    async def send(self, message: OutgoingMessage) -> str:
        try:
            answer = await self.post(message)
        except ChannelError as exc:
            if not exc.permanent:
                pause = max(PAUSE_AFTER_FAILURE, exc.retry_after or 0.0)
                self._paused[message.address] = self.clock.now() + timedelta(seconds=pause)
            raise
        self._paused.pop(message.address, None)
        return f"HTTP {answer.status}"

    async def post(self, message: OutgoingMessage) -> Answer:
        """POST one signed event; the receiver's answer when it is 2xx, else ChannelError."""
        if not isinstance(message, WebhookMessage) or not message.secret:
            raise ChannelError("Tin webhook thiếu khóa ký: không gửi.", permanent=True)
        if self._client is None:
            await self.open()
        client = self._client
        if client is None:  # open() always sets it; this keeps mypy and a misuse honest
            raise ChannelError("Kênh webhook chưa mở.", permanent=False)
        timestamp = int(self.clock.now().timestamp())
        try:
            response = await client.post(
                message.address,
                content=message.text.encode("utf-8"),
                headers=signed_headers(message, timestamp=timestamp),
            )
        except httpx.TimeoutException:
            raise ChannelError(
                f"Máy nhận {message.address} không trả lời kịp thời (timeout).", permanent=False
            ) from None
        except httpx.HTTPError as exc:
            raise ChannelError(
                f"Không kết nối được tới máy nhận {message.address}: {type(exc).__name__}.",
                permanent=False,
            ) from None
        answer = Answer(response.status_code, response.text[:ANSWER_CHARS])
        if 200 <= answer.status < 300:
            return answer
        raise _refusal(message.address, response, answer, now=self.clock.now())


def _refusal(url: str, response: httpx.Response, answer: Answer, *, now: datetime) -> ChannelError:
    status = answer.status
    said = f" ({answer.body.strip()[:120]})" if answer.body.strip() else ""
    if status in TEMPORARY_STATUSES or status >= 500:
        return ChannelError(
            f"Máy nhận {url} tạm thời không nhận (HTTP {status}){said}.",
            permanent=False,
            retry_after=_retry_after(response.headers.get("Retry-After"), now=now),
        )
    if 300 <= status < 400:
        where = response.headers.get("Location", "")
        return ChannelError(
            f"Máy nhận {url} chuyển hướng (HTTP {status}) sang {where or 'địa chỉ khác'}: "
            "hãy đăng ký lại địa chỉ mới.",
            permanent=True,
        )
    return ChannelError(f"Máy nhận {url} từ chối (HTTP {status}){said}.", permanent=True)


def _retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
