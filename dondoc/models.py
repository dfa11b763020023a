"""The store's tables. Timestamps are UTC-aware in Python on every database.

Layering follows full-stack-fastapi-template: a `…Base` with the user-editable fields,
the `table=True` class adds keys and bookkeeping.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

# The column types live below every table module, so those modules depend on them alone.
from dondoc.columns import UTCDateTime, json_column, ts_column, utcnow

__all__ = ["UTCDateTime", "json_column", "ts_column", "utcnow"]

ROLES = ("lead", "coordinator")
STATUSES = ("open", "acknowledged", "done")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "skipped", "pruned")


# --- Agencies -------------------------------------------------------------------------


class AgencyBase(SQLModel):
    code: str = Field(max_length=64)
    name: str = Field(max_length=300)
    kind: str = Field(default="department", max_length=32)
    locale: str = Field(default="vi", max_length=8)


class Agency(AgencyBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    aliases: list[str] = Field(default_factory=list, sa_column=json_column())


class Contact(SQLModel, table=True):
    """How to reach an agency: an email address or a linked Telegram chat."""

    __table_args__ = (sa.UniqueConstraint("agency_id", "channel", "address"),)
    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    channel: str = Field(max_length=16)  # "email" | "telegram"
    address: str = Field(max_length=320)
    name: str | None = Field(default=None, max_length=200)
    is_head: bool = False  # the agency head's own contact, used by escalation stages
    active: bool = True


class AgencyGroup(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=300)
    aliases: list[str] = Field(default_factory=list, sa_column=json_column())


class AgencyGroupMember(SQLModel, table=True):
    group_id: int = Field(foreign_key="agencygroup.id", primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", primary_key=True)


# --- Plans and tasks ------------------------------------------------------------------


class Plan(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    title: str = Field(max_length=500)
    document: str | None = Field(default=None, max_length=300)
    owner_agency_id: int | None = Field(default=None, foreign_key="agency.id")
    source_file: str | None = Field(default=None, max_length=500)
    imported_at: datetime | None = ts_column()


class Task(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("plan_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    position: int = 0
    section_code: str | None = Field(default=None, max_length=16)
    section_title: str | None = None
    number: str = Field(max_length=32)
    title: str
    product: str | None = None
    deadline_text: str | None = None
    deadline: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    lead_text: str | None = None
    coordinator_text: str | None = None
    notes: str | None = None
    tags: list[str] = Field(default_factory=list, sa_column=json_column())
    policy: str | None = Field(default=None, max_length=64)
    # A task dropped from a re-imported plan keeps its history but is no longer tracked.
    active: bool = True


class Assignment(SQLModel, table=True):
    """One agency's part in one task; its status is its own."""

    __table_args__ = (
        sa.UniqueConstraint("task_id", "agency_id", "role"),
        # The web overview counts and ranks from this index alone (dondoc.web.overview_data):
        # every column that decides a QĐ 42 category, then the agency.
        sa.Index(
            "ix_assignment_overview",
            "task_id",
            "status",
            "due_override",
            "done_through",
            "done_at",
            "created_at",
            "agency_id",
            "active",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    role: str = Field(max_length=16)  # "lead" | "coordinator"
    status: str = Field(default="open", max_length=16)
    status_at: datetime | None = ts_column()
    status_by: str | None = Field(default=None, max_length=200)
    acknowledged_at: datetime | None = ts_column()
    done_at: datetime | None = ts_column()
    # Recurring tasks: occurrences up to this date are complete.
    done_through: date | None = None
    # An approved extension replaces the plan's due date for this assignment only.
    due_override: date | None = None
    # The daemon loads only rows whose next_due_at has come: never a scan of all tasks.
    next_due_at: datetime | None = ts_column(index=True)
    active: bool = True
    created_at: datetime | None = ts_column()


class AuditEntry(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64, index=True)
    plan_id: int | None = Field(default=None, index=True)
    task_id: int | None = Field(default=None, index=True)
    assignment_id: int | None = Field(default=None, index=True)
    agency_id: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())


# --- Delivery -------------------------------------------------------------------------


class MessageContext(SQLModel, table=True):
    """The render context a message's copies share (every recipient and channel of one
    reminder), stored once and found again by the digest of its content."""

    __tablename__ = "message_context"
    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64, unique=True)  # sha256 of `body`
    # Canonical JSON text (sorted keys, UTF-8 as is): hashed and stored as one string.
    body: str = Field(sa_column=Column(sa.Text(), nullable=False))


class OutboxMessage(SQLModel, table=True):
    """One message to one recipient on one channel; `key` makes re-evaluation a no-op.

    Its render context is the shared `message_context` (when `context_id` is set) with
    this row's own `context` (what differs per recipient) laid over it.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),
        # Each channel's worker claims its own due rows.
        sa.Index("ix_outbox_channel_status_next", "channel", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    kind: str = Field(default="reminder", max_length=16)  # "reminder" | "report" | "notice"
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id", index=True)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    channel: str = Field(max_length=16)
    stage: str = Field(max_length=64)
    template: str = Field(max_length=64)
    context: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    context_id: int | None = Field(default=None, foreign_key="message_context.id", index=True)
    due_at: datetime | None = ts_column()
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = ts_column()
    claimed_at: datetime | None = ts_column()
    claimed_by: str | None = Field(default=None, max_length=100)
    sent_at: datetime | None = ts_column()
    provider_id: str | None = Field(default=None, max_length=300)
    last_error: str | None = None
    created_at: datetime | None = ts_column()
    # Addresses that already have this message: a retry goes to the others only.
    delivered_to: list[str] = Field(default_factory=list, sa_column=json_column())


class DeliveryAttempt(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id", index=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    outcome: str = Field(max_length=16)  # "sent" | "retry" | "failed"
    error: str | None = None
    provider_id: str | None = Field(default=None, max_length=300)


class SentMessage(SQLModel, table=True):
    """Where a chat message went, so replies and buttons find their assignments."""

    __table_args__ = (sa.UniqueConstraint("channel", "chat_id", "message_id"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    message_id: str = Field(max_length=64)
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    assignment_ids: list[int] = Field(default_factory=list, sa_column=json_column())
    asks_explanation: bool = False
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


# --- Answers from agencies ------------------------------------------------------------


class Explanation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    text: str
    author: str = Field(max_length=200)
    via: str = Field(default="paper", max_length=16)  # "telegram" | "email" | "paper"
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ExtensionRequest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    requested_by: str = Field(max_length=200)
    reason: str
    proposed_due: date
    status: str = Field(default="pending", max_length=16)  # pending | approved | denied
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = ts_column()
    decision_note: str | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class InviteCode(SQLModel, table=True):
    """One-time code that links a chat to an agency; only its hash is stored."""

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=128, unique=True)
    agency_id: int = Field(foreign_key="agency.id")
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = ts_column()
    used_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DaemonState(SQLModel, table=True):
    """Small key/value facts the daemon publishes for `dondoc status` (last tick, …)."""

    key: str = Field(max_length=64, primary_key=True)
    value: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    updated_at: datetime | None = ts_column()


# Tables kept in modules of their own register here, so `dondoc.models` is the whole schema.
from dondoc import models_agency_history, models_api, models_web  # noqa: E402, F401
from dondoc.models_chat import (  # noqa: E402, F401
    ChatButtonUse,
    ChatMember,
    ChatMigration,
    ChatPrompt,
)
from dondoc.models_daemons import DaemonInstance, ZaloPush  # noqa: E402, F401
from dondoc.models_webhooks import WebhookSubscription  # noqa: E402, F401
