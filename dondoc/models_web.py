"""Tables of the office's web app: office accounts, failed logins, agency link keys."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from dondoc.columns import UTCDateTime, ts_column

USER_ROLES = ("admin", "viewer")


class OfficeUser(SQLModel, table=True):
    """A person of the office who signs in to the web app; only the argon2 hash is kept."""

    __tablename__ = "office_user"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    role: str = Field(max_length=16)  # "admin" | "viewer"
    password_hash: str = Field(max_length=300)
    locale: str = Field(default="vi", max_length=8)
    active: bool = True
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_login_at: datetime | None = ts_column()


# The `name` of a bad API token's row. Sign-in lowercases the names it records, so no
# sign-in failure has this one: each side counts only its own failures, and an
# integration sending a stale token does not lock the office out of the web app.
API_TOKEN_FAILURE = "API token"


class LoginFailure(SQLModel, table=True):
    """One refused sign-in or API token, counted per account and per address to slow
    down guessing; web and API failures are counted apart (`API_TOKEN_FAILURE`)."""

    __tablename__ = "login_failure"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    name: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64, index=True)


class AgencyLinkKey(SQLModel, table=True):
    """The generation of an agency's portal and calendar links: revoking bumps it, and
    every link signed with an older generation stops working."""

    __tablename__ = "agency_link_key"
    agency_id: int = Field(foreign_key="agency.id", primary_key=True)
    generation: int = 0
    revoked_at: datetime | None = ts_column()
