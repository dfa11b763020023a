"""Tables of the administration's history: former names, mergers and renamings.

An agency keeps the names it (or an agency merged into it) had before, each with the day
it ceased to be used, so a plan of 2022 naming "Sở Thông tin và Truyền thông" still
finds today's "Sở Khoa học và Công nghệ". A merger or renaming recorded with `dondoc
agencies merge|rename` is an `AgencyChange` that remembers what it moved, so it can be
undone before it takes effect.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from dondoc.columns import UTCDateTime, json_column, ts_column


class AgencyFormerName(SQLModel, table=True):
    """A name that meant this agency (or group) until `until` (the day it ceased)."""

    __table_args__ = (
        sa.CheckConstraint(
            "(agency_id IS NULL) <> (group_id IS NULL)", name="ck_formername_one_owner"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    group_id: int | None = Field(default=None, foreign_key="agencygroup.id", index=True)
    name: str = Field(max_length=300)
    aliases: list[str] = Field(default_factory=list, sa_column=json_column())
    until: date
    # The code the former agency had, when it had one of its own (a merger).
    former_code: str | None = Field(default=None, max_length=64)
    change_id: int | None = Field(default=None, foreign_key="agencychange.id")


class AgencyChange(SQLModel, table=True):
    """One merger (`old` into `new`) or renaming (`old` is `new`) recorded in the store."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # "merge" | "rename"
    old_agency_id: int = Field(foreign_key="agency.id", index=True)
    new_agency_id: int = Field(foreign_key="agency.id", index=True)
    old_name: str = Field(max_length=300)
    new_name: str = Field(max_length=300)
    effective_on: date
    # What was moved, so `--undo` puts every row back: assignment and contact ids.
    moved: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_by: str = Field(max_length=200)
    undone_at: datetime | None = ts_column()
