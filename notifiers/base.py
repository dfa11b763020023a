"""What every channel shares: the message it is given and the one error it may raise.

Modelled on healthchecks' transports: `send` returns the provider's message id or raises
`ChannelError`, whose message is written for a person (the office reads it in the
delivery log) and whose `permanent` flag tells the delivery path whether to retry.
Channels never touch the store: the delivery path records every outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class ChannelError(Exception):
    """A send that did not happen; `permanent` means retrying the same message is useless."""

    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"ChannelError({self.message!r}, permanent={self.permanent}, "
            f"retry_after={self.retry_after})"
        )


@dataclass(frozen=True)
class Button:
    """A Telegram inline button; `data` is unsigned here, the channel signs it per chat."""

    text: str
    data: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str
    address: str  # an email address or a Telegram chat id
    subject: str
    text: str
    html: str | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()  # rows of buttons
    attachments: tuple[Attachment, ...] = ()
    message_key: str = ""  # stable id: the email Message-ID, dedup in logs
    reply_to: str | None = None  # email Reply-To: the office


class Channel(Protocol):
    name: str
    # How many sends the delivery worker may have in flight at once on this channel.
    concurrency: int

    async def open(self) -> None:
        """Prepare for a batch (one SMTP connection for all of it)."""
        ...

    async def send(self, message: OutgoingMessage) -> str:
        """Deliver one message: the provider's id, or raise ChannelError."""
        ...

    async def close(self) -> None:
        """End the batch; the channel may be opened again later."""
        ...

    def wait_for(self, address: str) -> float:
        """Seconds before `address` may be sent to without breaking the provider's limits
        (0 when it may be now). The delivery path reschedules rather than wait."""
        ...
