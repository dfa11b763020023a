"""The API's response and request bodies: pydantic models, so /api/v1/openapi.json
describes exactly what the routes return."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from rules.status import Category

Status = Literal["open", "acknowledged", "done"]


class ExplanationOut(BaseModel):
    id: int
    text: str
    author: str
    via: str
    at: datetime


class AssignmentOut(BaseModel):
    id: int
    plan_id: int
    plan: str = Field(description="Mã kế hoạch")
    task_id: int
    task_number: str
    task_title: str
    section_code: str | None
    agency_id: int
    agency_code: str
    agency_name: str
    role: Literal["lead", "coordinator"]
    status: Status
    status_at: datetime | None
    acknowledged_at: datetime | None
    done_at: datetime | None
    done_through: date | None
    category: Category | None = Field(description="Phân loại theo QĐ 42/2014/QĐ-TTg hôm nay")
    category_label: str | None
    due: date | None = Field(description="Hạn quyết định phân loại (đã tính gia hạn)")
    due_override: date | None = Field(description="Hạn mới sau khi được gia hạn")
    days_late: int
    deadline_text: str | None
    active: bool
    explanations: list[ExplanationOut]


class Tally(BaseModel):
    assignments: dict[str, int] = Field(
        default_factory=dict, description="Số phân công theo trạng thái (open, acknowledged, done)"
    )
    categories: dict[str, int] = Field(
        default_factory=dict, description="Số phân công theo phân loại QĐ 42 hôm nay"
    )


class TaskAssignmentOut(BaseModel):
    id: int
    agency_code: str
    agency_name: str
    role: Literal["lead", "coordinator"]
    status: Status
    category: Category | None
    due: date | None
    explanations: list[ExplanationOut]


class TaskOut(BaseModel):
    id: int
    plan_id: int
    plan: str
    number: str
    section_code: str | None
    section_title: str | None
    title: str
    product: str | None
    deadline_text: str | None
    deadline: dict[str, Any] | None = Field(description="Cụm thời hạn đã được hiểu")
    status: Status = Field(
        description="done khi mọi cơ quan đã xong; open khi còn cơ quan chưa nhận"
    )
    category: Category | None
    category_label: str | None
    due: date | None
    days_late: int
    active: bool
    leads: list[str] = Field(description="Mã các cơ quan chủ trì")
    counts: Tally = Field(description="Phân công của nhiệm vụ theo trạng thái và phân loại")


class TaskDetailOut(TaskOut):
    assignments: list[TaskAssignmentOut]


class PlanOut(BaseModel):
    id: int
    code: str
    title: str
    document: str | None
    imported_at: datetime | None
    tasks: int


class SectionTally(Tally):
    code: str | None
    title: str | None
    tasks: int


class PlanDetailOut(PlanOut, Tally):
    sections: list[SectionTally]


class SectionOut(BaseModel):
    plan_id: int
    plan: str
    code: str | None
    title: str | None
    tasks: int


class AgencyOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    aliases: list[str]
    groups: list[str]


class AgencyDetailOut(AgencyOut, Tally):
    pass


class GroupOut(BaseModel):
    id: int
    code: str
    name: str
    aliases: list[str]
    members: list[str]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(description="Địa chỉ trang sau; null ở trang cuối")


# --- writes ----------------------------------------------------------------------------


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class DoneIn(BaseModel):
    occurrence: date | None = Field(
        default=None, description="Nhiệm vụ định kỳ: kỳ đã hoàn thành (mặc định kỳ đang làm)"
    )


class ExtensionIn(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)
    proposed_due: date


class ActionOut(BaseModel):
    outcome: str = Field(description="Kết quả: acknowledged, done, already_done, note_saved…")
    message: str
    assignment: AssignmentOut


class ImportOut(BaseModel):
    dry_run: bool
    report: dict[str, Any]
