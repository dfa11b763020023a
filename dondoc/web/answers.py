"""Agencies answer from a signed link: an emailed reminder's buttons or their portal.

A GET shows the task and a form; only the POST acts, through dondoc.chat_actions (the
same functions, audit entries and office notices as the Telegram buttons). A link that
is tampered with, expired, revoked or names another agency's task is refused and audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from dondoc import chat_actions
from dondoc.chat_links import ChatOutcome
from dondoc.extensions import Parts, effective_due, load_parts
from dondoc.models import Agency, Assignment, Explanation, ExtensionRequest, Task
from dondoc.web.calendar_feed import agency_calendar
from dondoc.web.deps import WebContext, client_address, db, form_with_csrf, web
from dondoc.web.i18n import translate, use_locale
from dondoc.web.links import ANSWER_ACTIONS, LinkRefused, audit_refused_link, check_generation
from notifiers.render import format_date
from rules.deadline import Deadline

router = APIRouter()

TITLES = {
    "ack": "Xác nhận đã nhận nhiệm vụ",
    "done": "Báo cáo đã hoàn thành",
    "extend": "Xin gia hạn",
    "explain": "Gửi giải trình",
}
OUTCOMES = {
    "acknowledged": "Đã ghi nhận: cơ quan đã nhận nhiệm vụ. Văn phòng sẽ không nhắc lại.",
    "done": "Đã ghi nhận: nhiệm vụ đã hoàn thành. Xin cảm ơn.",
    "occurrence_done": "Đã ghi nhận hoàn thành kỳ {occurrence}. Xin cảm ơn.",
    "already_done": "Nhiệm vụ này đã được báo hoàn thành trước đó.",
    "explanation_saved": "Đã gửi giải trình đến Văn phòng. Xin cảm ơn.",
    "explanation_invalid": "{message}",
    "extension_sent": (
        "Đã gửi đề nghị gia hạn đến ngày {proposed}. Văn phòng sẽ trả lời sau khi xem xét."
    ),
    "extension_pending": "Đã có một đề nghị gia hạn (đến {proposed}) đang chờ duyệt.",
    "extension_date_not_future": "Ngày đề nghị ({proposed}) phải sau hôm nay.",
    "task_gone": "Nhiệm vụ này không còn được theo dõi.",
    "refused": "Liên kết này không dùng được cho nhiệm vụ này.",
    "not_linked": "Liên kết này không dùng được cho nhiệm vụ này.",
}


@dataclass(frozen=True)
class Door:
    """A verified link: which agency speaks, about which assignment and occurrence."""

    agency: Agency
    parts: Parts
    occurrence: date | None
    base: str  # the URL prefix of this door's answer pages
    portal: str | None  # the portal's URL when the door is the portal


def _refuse(
    request: Request,
    session: Session,
    ctx: WebContext,
    refused: LinkRefused,
    *,
    kind: str,
    assignment_id: int | None = None,
) -> Response:
    audit_refused_link(
        session,
        refused=refused,
        kind=kind,
        address=client_address(request),
        now=ctx.clock.now(),
        assignment_id=assignment_id,
    )
    session.commit()
    message = {
        "expired": "Liên kết đã hết hạn. Vui lòng dùng liên kết trong thư nhắc việc mới nhất "
        "hoặc liên hệ Văn phòng.",
        "revoked": "Liên kết đã bị thu hồi. Vui lòng liên hệ Văn phòng để nhận liên kết mới.",
    }.get(
        refused.reason, "Liên kết không hợp lệ. Vui lòng kiểm tra lại thư hoặc liên hệ Văn phòng."
    )
    # In the agency's language when the link still says which agency it was for.
    agency = session.get(Agency, refused.agency_id) if refused.agency_id else None
    locale = use_locale(request, agency.locale if agency else None)
    return ctx.templates.TemplateResponse(
        request,
        "error.html",
        {
            "title": translate("Không mở được liên kết", locale),
            "message": translate(message, locale),
        },
        status_code=410 if refused.reason in ("expired", "revoked") else 403,
    )


def _parts_for(session: Session, agency_id: int, assignment_id: int) -> Parts:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.agency_id != agency_id:
        raise LinkRefused("not_assigned", agency_id)
    return load_parts(session, assignment_id)


def _answer_door(session: Session, ctx: WebContext, token: str) -> Door:
    grant = ctx.signer.read_answer(token)
    parts = _parts_for(session, grant.agency_id, grant.assignment_id)
    return Door(parts.agency, parts, grant.occurrence, f"/r/{token}", None)


def _portal_door(session: Session, ctx: WebContext, token: str, assignment_id: int) -> Door:
    grant = ctx.signer.read_portal(token)
    check_generation(session, grant)
    parts = _parts_for(session, grant.agency_id, assignment_id)
    return Door(parts.agency, parts, None, f"/p/{token}/a/{assignment_id}", f"/p/{token}")


def _task_view(parts: Parts) -> dict[str, Any]:
    deadline = Deadline.from_dict(parts.task.deadline) if parts.task.deadline else None
    return {
        "plan": parts.plan,
        "task": parts.task,
        "assignment": parts.assignment,
        "agency": parts.agency,
        "due": effective_due(parts.assignment, parts.task),
        "explained": deadline.describe(parts.agency.locale) if deadline else None,
    }


def _show(request: Request, ctx: WebContext, door: Door, action: str) -> Response:
    use_locale(request, door.agency.locale)
    return ctx.templates.TemplateResponse(
        request,
        "answer.html",
        {
            **_task_view(door.parts),
            "action": action,
            "title": TITLES[action],
            "door": door,
            "outcome": None,
            "error": None,
            "form": {},
        },
    )


def _act(
    session: Session, ctx: WebContext, door: Door, action: str, form: dict[str, Any]
) -> tuple[ChatOutcome | None, str | None]:
    """Run the shared action; (outcome, None) or (None, a problem with the form)."""
    now = ctx.clock.now()
    actor = f"{door.agency.name} (liên kết email)"
    common: dict[str, Any] = {
        "assignment_id": door.parts.assignment.id,
        "actor": actor,
        "now": now,
        "link_agency_id": door.agency.id,
    }
    if action == "ack":
        return chat_actions.acknowledge(session, **common), None
    if action == "done":
        return chat_actions.complete(session, occurrence=door.occurrence, **common), None
    if action == "explain":
        text = form.get("text", "").strip()
        if not text:
            return None, "Vui lòng nhập nội dung giải trình."
        return chat_actions.submit_explanation(session, text=text, **common), None
    reason = form.get("reason", "").strip()
    if not reason:
        return None, "Vui lòng nhập lý do xin gia hạn."
    try:
        proposed = date.fromisoformat(form.get("proposed_due", ""))
    except ValueError:
        return None, "Vui lòng chọn ngày đề nghị gia hạn (ngày/tháng/năm)."
    today = now.astimezone(ctx.settings.tz).date()
    outcome = chat_actions.request_extension(
        session, reason=reason, proposed_due=proposed, today=today, **common
    )
    return outcome, None


def _message(outcome: ChatOutcome, locale: str) -> str:
    values = {
        key: (format_date(value, locale) if isinstance(value, date) else value)
        for key, value in outcome.detail.items()
    }
    template = translate(OUTCOMES.get(outcome.status, "Đã ghi nhận."), locale)
    return template.format(**{"occurrence": "", "proposed": "", "message": "", **values})


def _post(
    request: Request,
    session: Session,
    ctx: WebContext,
    door: Door,
    action: str,
    form: dict[str, Any],
) -> Response:
    locale = use_locale(request, door.agency.locale)
    outcome, error = _act(session, ctx, door, action, form)
    context = {**_task_view(door.parts), "action": action, "title": TITLES[action], "door": door}
    if outcome is None or outcome.status in ("explanation_invalid", "extension_date_not_future"):
        message = (
            translate(error, locale) if error else _message(outcome, locale) if outcome else ""
        )
        return ctx.templates.TemplateResponse(
            request,
            "answer.html",
            {**context, "outcome": None, "error": message, "form": form},
            status_code=422,
        )
    return ctx.templates.TemplateResponse(
        request,
        "answer.html",
        {**context, "outcome": _message(outcome, locale), "error": None, "form": {}},
    )


def _check_action(action: str) -> None:
    if action not in ANSWER_ACTIONS:
        raise HTTPException(status_code=404)


# --- an emailed reminder's links -----------------------------------------------------------


@router.get("/r/{token}/{action}")
def answer_page(
    request: Request,
    token: str,
    action: str,
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    _check_action(action)
    try:
        door = _answer_door(session, ctx, token)
    except LinkRefused as refused:
        return _refuse(request, session, ctx, refused, kind="answer")
    return _show(request, ctx, door, action)


@router.post("/r/{token}/{action}")
def answer(
    request: Request,
    token: str,
    action: str,
    form: dict[str, Any] = Depends(form_with_csrf),
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    _check_action(action)
    try:
        door = _answer_door(session, ctx, token)
    except LinkRefused as refused:
        return _refuse(request, session, ctx, refused, kind="answer")
    return _post(request, session, ctx, door, action, form)


# --- an agency's portal --------------------------------------------------------------------


@router.get("/p/{token}")
def portal(
    request: Request,
    token: str,
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    try:
        grant = ctx.signer.read_portal(token)
        check_generation(session, grant)
    except LinkRefused as refused:
        return _refuse(request, session, ctx, refused, kind="portal")
    agency = session.get(Agency, grant.agency_id)
    if agency is None:
        raise HTTPException(status_code=404)
    use_locale(request, agency.locale)
    rows = session.exec(
        select(Assignment, Task)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .where(
            Assignment.agency_id == agency.id,
            col(Assignment.active),
            col(Task.active),
            Assignment.status != "done",
        )
        .order_by(col(Task.plan_id), col(Task.position))
    ).all()
    pending = set(
        session.exec(
            select(ExtensionRequest.assignment_id).where(ExtensionRequest.status == "pending")
        ).all()
    )
    explained = set(session.exec(select(Explanation.assignment_id)).all())
    items = [
        {
            "assignment": assignment,
            "task": task,
            "due": effective_due(assignment, task),
            "extension_pending": assignment.id in pending,
            "explained": assignment.id in explained,
        }
        for assignment, task in rows
    ]
    calendar = (
        ctx.links.calendar(grant) if ctx.links else f"/cal/{ctx.signer.calendar_token(grant)}.ics"
    )
    return ctx.templates.TemplateResponse(
        request,
        "portal.html",
        {"agency": agency, "items": items, "token": token, "calendar": calendar},
    )


@router.get("/p/{token}/a/{assignment_id}/{action}")
def portal_answer_page(
    request: Request,
    token: str,
    assignment_id: int,
    action: str,
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    _check_action(action)
    try:
        door = _portal_door(session, ctx, token, assignment_id)
    except LinkRefused as refused:
        return _refuse(request, session, ctx, refused, kind="portal", assignment_id=assignment_id)
    return _show(request, ctx, door, action)


@router.post("/p/{token}/a/{assignment_id}/{action}")
def portal_answer(
    request: Request,
    token: str,
    assignment_id: int,
    action: str,
    form: dict[str, Any] = Depends(form_with_csrf),
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    _check_action(action)
    try:
        door = _portal_door(session, ctx, token, assignment_id)
    except LinkRefused as refused:
        return _refuse(request, session, ctx, refused, kind="portal", assignment_id=assignment_id)
    return _post(request, session, ctx, door, action, form)


# --- an agency's calendar feed -------------------------------------------------------------


@router.get("/cal/{token}.ics")
def calendar_feed(
    request: Request,
    token: str,
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    try:
        grant = ctx.signer.read_calendar(token)
        check_generation(session, grant)
    except LinkRefused as refused:
        audit_refused_link(
            session,
            refused=refused,
            kind="calendar",
            address=client_address(request),
            now=ctx.clock.now(),
        )
        return Response(
            "Liên kết lịch không hợp lệ hoặc đã bị thu hồi.\n",
            status_code=410 if refused.reason == "revoked" else 403,
            media_type="text/plain; charset=utf-8",
        )
    agency = session.get(Agency, grant.agency_id)
    if agency is None:
        raise HTTPException(status_code=404)
    now = ctx.clock.now()
    body = agency_calendar(
        session,
        agency=agency,
        host=request.url.hostname or "dondoc",
        now=now,
        today=now.astimezone(ctx.settings.tz).date(),
    )
    return Response(body, media_type="text/calendar; charset=utf-8")
