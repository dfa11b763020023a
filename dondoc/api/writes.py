"""Write endpoints: acknowledge, done, reopen, progress note, explanation, extension
request. Each runs the shared action of dondoc/chat_actions.py (the one Telegram, Zalo
and the web's answer pages run), so audit entries and office notices are the same; the
actor is `api:<token name>` and the audit says `via: api`.

Every write takes an `Idempotency-Key` (dondoc/api/idempotency.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

import dondoc.chat_actions as chat_actions
from dondoc.actions import set_status
from dondoc.api.deps import api, db, refuse, writer
from dondoc.api.idempotency import KeyHeader, once, request_hash, stored
from dondoc.api.problems import MEDIA_TYPE, PROBLEM_TYPE, TITLES
from dondoc.api.queries import one_assignment
from dondoc.api.reads import judge_for, visible_assignment
from dondoc.api.schemas import ActionOut, DoneIn, ExtensionIn, NoteIn
from dondoc.api.tokens import Caller
from dondoc.chat_access import authorize, outcome_for
from dondoc.chat_links import ChatOutcome
from dondoc.models import Assignment

router = APIRouter()

# Outcome → (HTTP status, Vietnamese message). Outcomes not listed are refusals (403).
OUTCOMES: dict[str, tuple[int, str]] = {
    "acknowledged": (200, "Đã ghi nhận cơ quan đã nhận nhiệm vụ."),
    "done": (200, "Đã ghi nhận hoàn thành nhiệm vụ."),
    "occurrence_done": (200, "Đã ghi nhận hoàn thành kỳ {occurrence}."),
    "already_done": (200, "Nhiệm vụ đã được ghi nhận hoàn thành trước đó; không thay đổi."),
    "reopened": (200, "Đã mở lại nhiệm vụ; các nhắc nhở sẽ tiếp tục."),
    "already_open": (200, "Nhiệm vụ đang mở; không thay đổi."),
    "note_saved": (200, "Đã lưu ghi chú tiến độ."),
    "explanation_saved": (200, "Đã nhận giải trình và báo Văn phòng."),
    "extension_sent": (200, "Đã gửi đề nghị gia hạn đến ngày {proposed} cho Văn phòng."),
    "explanation_invalid": (422, "Giải trình không hợp lệ: {message}"),
    "extension_date_not_future": (422, "Ngày đề nghị gia hạn ({proposed}) phải sau hôm nay."),
    "extension_pending": (
        409,
        "Đã có một đề nghị gia hạn (đến ngày {proposed}) đang chờ Văn phòng quyết định.",
    ),
    "task_gone": (409, "Nhiệm vụ hoặc phân công này không còn được theo dõi."),
}
REFUSED = "Mã truy cập này không được thao tác trên phân công này."


def _render(outcome: ChatOutcome) -> tuple[int, str]:
    status, template = OUTCOMES.get(outcome.status, (403, REFUSED))
    values = {
        k: (v.strftime("%d/%m/%Y") if hasattr(v, "strftime") else v)
        for k, v in outcome.detail.items()
    }
    return status, template.format(**{"occurrence": "", "proposed": "", "message": "", **values})


def _write(
    request: Request,
    session: Session,
    who: Caller,
    *,
    assignment_id: int,
    key: str,
    body: Any,
    act: Callable[[int, str], ChatOutcome],
    office_only: bool = False,
) -> JSONResponse:
    """Check the token may touch the assignment, then run `act` once per key."""
    visible_assignment(request, session, who, assignment_id)  # 404 / 403 (audited)
    if office_only and who.agency_id is not None:
        refuse(request, who, "office_only", assignment_id=assignment_id)
    ctx = api(request)
    now = ctx.clock.now()

    def run() -> tuple[int, dict[str, Any]]:
        outcome = act(assignment_id, who.actor)
        status, message = _render(outcome)
        session.flush()
        if status >= 400:
            return status, {
                "type": PROBLEM_TYPE + outcome.status.replace("_", "-"),
                "title": TITLES.get(status, TITLES[400])[0],
                "status": status,
                "detail": message,
                "instance": request.url.path,
            }
        fresh = one_assignment(session, judge_for(ctx), assignment_id)
        out = ActionOut(outcome=outcome.status, message=message, assignment=fresh)  # type: ignore[arg-type]
        return status, out.model_dump(mode="json")

    fingerprint = request_hash(request.method, request.url.path, body)
    try:
        status, content, replayed = once(
            session, who, key=key, fingerprint=fingerprint, now=now, run=run
        )
    except IntegrityError:
        # The same key arrived twice at once: the other request's answer is the answer.
        session.rollback()
        found = stored(session, who, key)
        if found is None:
            raise
        status, content, replayed = found.status_code, found.response, True
    return JSONResponse(
        content,
        status_code=status,
        media_type=MEDIA_TYPE if status >= 400 else "application/json",
        headers={"Idempotent-Replayed": "true"} if replayed else {},
    )


def _link(session: Session, assignment_id: int) -> int:
    """The agency the API speaks for: the assignment's own (its token's, when limited)."""
    assignment = session.get(Assignment, assignment_id)
    return assignment.agency_id if assignment else 0


_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": TITLES[code][0], "content": {MEDIA_TYPE: {}}}
    for code in (401, 403, 404, 409, 422, 429)
}


@router.post(
    "/assignments/{assignment_id}/acknowledge",
    response_model=ActionOut,
    responses=_RESPONSES,
    summary="Xác nhận đã nhận nhiệm vụ",
)
def acknowledge(
    request: Request,
    assignment_id: int,
    key: str = KeyHeader,
    who: Caller = Depends(writer),
    session: Session = Depends(db, scope="function"),
) -> JSONResponse:
    now = api(request).clock.now()
    return _write(
        request,
        session,
        who,
        assignment_id=assignment_id,
        key=key,
        body=None,
        act=lambda aid, actor: chat_actions.acknowledge(
            session,
            assignment_id=aid,
            actor=actor,
            now=now,
            link_agency_id=_link(session, aid),
            channel="api",
        ),
    )


@router.post(
    "/assignments/{assignment_id}/done",
    response_model=ActionOut,
    responses=_RESPONSES,
    summary="Báo hoàn thành (nhiệm vụ định kỳ: một kỳ)",
)
def done(
    request: Request,
    assignment_id: int,
    body: DoneIn = Body(default_factory=DoneIn),
    key: str = KeyHeader,
    who: Caller = Depends(writer),
    session: Session = Depends(db, scope="function"),
) -> JSONResponse:
    now = api(request).clock.now()
    return _write(
        request,
        session,
        who,
        assignment_id=assignment_id,
        key=key,
        body=body.model_dump(mode="json"),
        act=lambda aid, actor: chat_actions.complete(
            session,
            assignment_id=aid,
            occurrence=body.occurrence,
            actor=actor,
            now=now,
            link_agency_id=_link(session, aid),
            channel="api",
        ),
    )


@router.post(
    "/assignments/{assignment_id}/reopen",
    response_model=ActionOut,
    responses=_RESPONSES,
    summary="Mở lại nhiệm vụ (chỉ mã của Văn phòng)",
)
def reopen(
    request: Request,
    assignment_id: int,
    key: str = KeyHeader,
    who: Caller = Depends(writer),
    session: Session = Depends(db, scope="function"),
) -> JSONResponse:
    now = api(request).clock.now()

    def act(aid: int, actor: str) -> ChatOutcome:
        found = authorize(
            session,
            chat_id="",
            assignment_id=aid,
            action="reopen",
            actor=actor,
            now=now,
            link_agency_id=_link(session, aid),
            channel="api",
        )
        if isinstance(found, ChatOutcome):
            return found
        changed = set_status(
            session, assignment=found.assignment, status="open", actor=actor, now=now, via="api"
        )
        return outcome_for("reopened" if changed else "already_open", found)

    return _write(
        request,
        session,
        who,
        assignment_id=assignment_id,
        key=key,
        body=None,
        act=act,
        office_only=True,
    )


@router.post(
    "/assignments/{assignment_id}/notes",
    response_model=ActionOut,
    responses=_RESPONSES,
    summary="Ghi chú tiến độ",
)
def note(
    request: Request,
    assignment_id: int,
    body: NoteIn,
    key: str = KeyHeader,
    who: Caller = Depends(writer),
    session: Session = Depends(db, scope="function"),
) -> JSONResponse:
    now = api(request).clock.now()
    return _write(
        request,
        session,
        who,
        assignment_id=assignment_id,
        key=key,
        body=body.model_dump(mode="json"),
        act=lambda aid, actor: chat_actions.add_note(
            session,
            assignment_id=aid,
            text=body.text,
            actor=actor,
            now=now,
            link_agency_id=_link(session, aid),
            channel="api",
        ),
    )


@router.post(
    "/assignments/{assignment_id}/explanations",
    response_model=ActionOut,
    responses=_RESPONSES,
    summary="Gửi giải trình (nhiệm vụ chậm)",
)
def explain(
    request: Request,
    assignment_id: int,
    body: NoteIn,
    key: str = KeyHeader,
    who: Caller = Depends(writer),
    session: Session = Depends(db, scope="function"),
) -> JSONResponse:
    now = api(request).clock.now()
    return _write(
        request,
        session,
        who,
        assignment_id=assignment_id,
        key=key,
        body=body.model_dump(mode="json"),
        act=lambda aid, actor: chat_actions.submit_explanation(
            session,
            assignment_id=aid,
            text=body.text,
            actor=actor,
            now=now,
            link_agency_id=_link(session, aid),
            channel="api",
        ),
    )


@router.post(
    "/assignments/{assignment_id}/extension-requests",
    response_model=ActionOut,
    responses=_RESPONSES,
    summary="Đề nghị gia hạn",
)
def extension(
    request: Request,
    assignment_id: int,
    body: ExtensionIn,
    key: str = KeyHeader,
    who: Caller = Depends(writer),
    session: Session = Depends(db, scope="function"),
) -> JSONResponse:
    ctx = api(request)
    now = ctx.clock.now()
    return _write(
        request,
        session,
        who,
        assignment_id=assignment_id,
        key=key,
        body=body.model_dump(mode="json"),
        act=lambda aid, actor: chat_actions.request_extension(
            session,
            assignment_id=aid,
            reason=body.reason,
            proposed_due=body.proposed_due,
            today=ctx.today(),
            actor=actor,
            now=now,
            link_agency_id=_link(session, aid),
            channel="api",
        ),
    )
