"""The chat's own state in the store: open questions and spent buttons.

Kept in the store, not in the bot's memory, so that a reply typed after a restart, or
read by another daemon of the same store, still finds the question it answers, and a
button pressed twice is recognised whichever daemon sees the second press.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from dondoc.columns import UTCDateTime, ts_column


class ChatPrompt(SQLModel, table=True):
    """A question the bot asked in a chat ("reply with the reason and the date")."""

    __table_args__ = (sa.UniqueConstraint("chat_id", "message_id"),)
    id: int | None = Field(default=None, primary_key=True)
    chat_id: str = Field(max_length=64, index=True)
    message_id: int  # the bot's question, which a reply points at
    kind: str = Field(max_length=16)  # "extension" | "explanation"
    assignment_id: int = Field(foreign_key="assignment.id")
    asked_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    answered_at: datetime | None = ts_column()


class ChatButtonUse(SQLModel, table=True):
    """A decision button's one-time nonce, spent: pressing it again does nothing."""

    id: int | None = Field(default=None, primary_key=True)
    nonce: str = Field(max_length=32, unique=True)
    chat_id: str = Field(max_length=64)
    action: str = Field(max_length=16)
    assignment_id: int | None = Field(default=None)
    used_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ChatMember(SQLModel, table=True):
    """A person allowed to answer in an agency's group chats (`dondoc agency members`).

    An agency without members listed lets any member of its linked chats answer.
    """

    __table_args__ = (sa.UniqueConstraint("agency_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    user_id: int = Field(sa_column=Column(sa.BigInteger(), nullable=False))
    name: str | None = Field(default=None, max_length=200)
    added_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ChatMigration(SQLModel, table=True):
    """A group Telegram turned into a supergroup: buttons signed for the old id still work."""

    id: int | None = Field(default=None, primary_key=True)
    old_chat_id: str = Field(max_length=64, unique=True)
    new_chat_id: str = Field(max_length=64, index=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
