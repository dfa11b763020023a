"""Outbound webhook subscriptions: where events are POSTed, and how far each one has got."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from dondoc.columns import UTCDateTime, json_column


class WebhookSubscription(SQLModel, table=True):
    """One receiver. `event_types` empty means every event type.

    The secret is kept as given, not hashed: each delivery is signed with it. It is shown
    once, when the subscription is added, and never listed or logged.
    `last_event_id` is the dispatch cursor: events up to it are in the outbox already.
    """

    __tablename__ = "webhook_subscription"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000, unique=True)
    event_types: list[str] = Field(default_factory=list, sa_column=json_column())
    secret: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_by: str = Field(default="cli", max_length=200)
    last_event_id: int = 0
