"""`/api/v1/events`: the ordered event feed (dondoc/events.py), within the token's limits.

An event's id is stable and increasing, so it is the cursor: a consumer keeps the last id
it processed and asks for `?after=ID`. `next` is always given, because the feed does not
end; an empty page means nothing new yet.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from dondoc.api.deps import api, caller, db
from dondoc.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from dondoc.api.problems import Problem
from dondoc.api.tokens import Caller
from dondoc.events import EVENT_TYPES, UnknownEventType, event_json, list_events

router = APIRouter()


class EventOut(BaseModel):
    id: int = Field(description="Số thứ tự ổn định, tăng dần; dùng làm `after`")
    type: str = Field(description=", ".join(EVENT_TYPES))
    at: str
    actor: str
    plan_id: int | None
    task_id: int | None
    assignment_id: int | None
    agency_id: int | None
    data: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventOut]
    last_id: int = Field(description="Id của sự kiện cuối đã trả về (hoặc `after` nếu chưa có)")
    next: str = Field(description="Địa chỉ để hỏi tiếp các sự kiện sau trang này")


@router.get("/events", response_model=EventPage, summary="Dòng sự kiện theo thứ tự")
def events(
    request: Request,
    after: int = Query(0, ge=0, description="Chỉ lấy sự kiện có id lớn hơn số này"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Số sự kiện tối đa"),
    type: list[str] | None = Query(None, description="Chỉ các loại sự kiện này (lặp lại được)"),
    who: Caller = Depends(caller),
    session: Session = Depends(db, scope="function"),
) -> EventPage:
    ctx = api(request)
    try:
        found = list_events(
            session,
            after=after,
            limit=limit,
            types=type or None,
            plan_id=who.plan_id,
            agency_id=who.agency_id,
            now=ctx.clock.now(),
        )
    except UnknownEventType as exc:
        raise Problem(
            422,
            f"Loại sự kiện '{exc.name}' không có; các loại: {', '.join(EVENT_TYPES)}.",
            code="unknown-event-type",
        ) from None
    last = found[-1].id if found else after
    return EventPage(
        items=[EventOut(**event_json(e)) for e in found],
        last_id=last,
        next=str(request.url.include_query_params(after=last)),
    )
