"""Tables of the integration API (/api/v1): access tokens and remembered write requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from dondoc.columns import UTCDateTime, json_column, ts_column

TOKEN_SCOPES = ("read", "write")


class ApiToken(SQLModel, table=True):
    """A system allowed to call the API. Only the SHA-256 of the token is kept.

    A plain hash is enough here, unlike passwords (argon2): the token is 256 random bits
    made by `secrets`, so nobody can guess it back from its hash, and a fast hash lets
    every request find its token by an indexed lookup instead of a slow check per row.
    """

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    scope: str = Field(max_length=8)  # "read" | "write"
    # Limits: a token may see (and change) only one plan's and/or one agency's part.
    plan_id: int | None = Field(default=None, foreign_key="plan.id")
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_by: str = Field(default="cli", max_length=200)
    last_used_at: datetime | None = ts_column()
    revoked_at: datetime | None = ts_column()


class ApiIdempotency(SQLModel, table=True):
    """A write request done once: its key, what was asked and what was answered, so a
    retry with the same key gets the same answer and changes nothing."""

    __tablename__ = "api_idempotency"
    __table_args__ = (sa.UniqueConstraint("token_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="api_token.id")
    key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    response: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
