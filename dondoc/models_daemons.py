"""Tables that several daemons on one store write side by side: one row per running
daemon (`dondoc status` lists them all) and the Zalo pushes any daemon takes in and the
chat leader answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from dondoc.columns import UTCDateTime, json_column


class DaemonInstance(SQLModel, table=True):
    """What one daemon last said about itself. `heartbeat_at` is the database's clock,
    the one clock every daemon (on any host) shares; a row whose heartbeat is older than
    its own `stale_after` belongs to a daemon that stopped publishing (killed, hung)."""

    __tablename__ = "daemon_instance"
    id: str = Field(max_length=160, primary_key=True)  # host:pid:random, as its claims
    host: str = Field(max_length=255)
    pid: int
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    heartbeat_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    stale_after: float
    stopped_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())


class ZaloPush(SQLModel, table=True):
    """One Zalo webhook push, stored by whichever daemon received it, answered by the
    chat leader. `event_key` is unique: a push the platform retries is stored once."""

    __tablename__ = "zalo_push"
    __table_args__ = (
        sa.Index("ix_zalo_push_status_id", "status", "id"),
        sa.Index("ix_zalo_push_chat_id_id", "chat_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    event_key: str = Field(max_length=200, unique=True)
    chat_id: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    received_by: str = Field(default="", max_length=160)
    status: str = Field(default="pending", max_length=16)  # pending|processing|done|failed
    claimed_by: str | None = Field(default=None, max_length=160)
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    attempts: int = 0
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
