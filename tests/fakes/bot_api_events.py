"""What users do besides writing and pressing, in the Bot API's real payload shapes.

Functions on a FakeBotApi (telegram_api.py): edits, photos with captions, channel posts,
a group turned into a supergroup, and raw updates for shapes no client should send.

    from fakes.bot_api_events import user_edits
    user_edits(fake, chat_id, message_id, "new text")
Telegram delivers an update only when its type is in the bot's `allowed_updates`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .bot_api_types import ChatMessage

if TYPE_CHECKING:
    from .telegram_api import FakeBotApi

MAX_MESSAGE = 4096  # Telegram refuses longer texts from users too
MAX_CAPTION = 1024
# What Telegram sends when a bot never said which updates it wants.
DEFAULT_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "my_chat_member",
    }
)


def push_raw(fake: FakeBotApi, update: dict[str, Any]) -> int:
    """An update of any shape (the update_id is added); returns its update_id."""
    with fake._cond:
        fake._push(update)
        return fake._state.next_update_id - 1


def user_edits(fake: FakeBotApi, chat_id: int, message_id: int, text: str) -> None:
    with fake._cond:
        message = fake._state.messages[(chat_id, message_id)]
        message.text = text
        payload = fake._message_json(message)
        payload["edit_date"] = int(time.time())
        fake._push({"edited_message": payload})


def user_sends_photo(
    fake: FakeBotApi, chat_id: int, caption: str, *, reply_to: int | None = None
) -> ChatMessage:
    if len(caption) > MAX_CAPTION:
        raise ValueError("Telegram does not accept captions over 1024 characters")
    with fake._cond:
        fake._remember_chat(chat_id, None)
        message = ChatMessage(
            chat_id=chat_id,
            message_id=fake._new_message_id(chat_id),
            text="",
            from_bot=False,
            user_id=fake._default_user(chat_id),
            reply_to=reply_to,
        )
        fake._state.messages[(chat_id, message.message_id)] = message
        payload = fake._message_json(message)
        del payload["text"]
        payload["caption"] = caption
        payload["photo"] = [
            {"file_id": f"p{message.message_id}-{size}", "file_unique_id": f"u{size}",
             "file_size": size * 100, "width": size, "height": size}
            for size in (90, 320, 800)
        ]  # fmt: skip
        fake._push({"message": payload})
        return message


def channel_posts(fake: FakeBotApi, channel_id: int, text: str) -> None:
    with fake._cond:
        fake._remember_chat(channel_id, "channel")
        chat = {"id": channel_id, "title": f"Kênh {abs(channel_id)}", "type": "channel"}
        post = {
            "message_id": fake._new_message_id(channel_id),
            "sender_chat": chat,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            post["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        fake._push({"channel_post": post})


def group_migrates(fake: FakeBotApi, group_id: int, supergroup_id: int) -> None:
    """A group becomes a supergroup: a service message in each, and sends to the old
    id are refused from now on with `migrate_to_chat_id` (ChatMigrated in PTB)."""
    with fake._cond:
        fake.migrated[group_id] = supergroup_id
        fake._remember_chat(supergroup_id, "supergroup")
        now = int(time.time())
        fake._push(
            {
                "message": {
                    "message_id": fake._new_message_id(group_id),
                    "from": fake._user_json(fake._default_user(group_id)),
                    "chat": {"id": group_id, "title": f"Nhóm {abs(group_id)}",
                             "type": "group"},
                    "date": now,
                    "migrate_to_chat_id": supergroup_id,
                }
            }
        )  # fmt: skip
        fake._push(
            {
                "message": {
                    "message_id": fake._new_message_id(supergroup_id),
                    "from": {"id": 1087968824, "is_bot": True, "first_name": "Group",
                             "username": "GroupAnonymousBot"},
                    "sender_chat": {"id": supergroup_id, "title": f"Nhóm {abs(group_id)}",
                                    "type": "supergroup"},
                    "chat": {"id": supergroup_id, "title": f"Nhóm {abs(group_id)}",
                             "type": "supergroup"},
                    "date": now,
                    "migrate_from_chat_id": group_id,
                }
            }
        )  # fmt: skip
