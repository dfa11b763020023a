"""Values the fake Bot API keeps: its limits, the calls it saw, the messages of each chat."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Telegram's flood limits as sliding windows over arrival times, of exactly
    Telegram's length: a client must leave the margin for late arrivals itself.

    `tolerance` shortens each window; only a test about something else may ask for it.
    """

    overall: tuple[int, float] = (30, 1.0)
    per_chat: tuple[int, float] = (1, 1.0)
    group: tuple[int, float] = (20, 60.0)
    tolerance: float = 0.0


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
class Failure:
    method: str | None
    status: int
    retry_after: int | None
    description: str | None


@dataclass
class State:
    messages: dict[tuple[int, int], ChatMessage] = field(default_factory=dict)
    next_message_id: dict[int, int] = field(default_factory=lambda: defaultdict(lambda: 1))
    chat_types: dict[int, str] = field(default_factory=dict)
    updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    next_update_id: int = 1
    next_callback_id: int = 1
