"""More of the office's pages: an agency, and the rule config in force (read-only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from config.errors import ConfigError
from config.rules_loader import load_rule_config
from dondoc.errors import UserError
from dondoc.extensions import effective_due
from dondoc.models import Agency, Assignment, AuditEntry, Contact, OutboxMessage, Plan, Task
from dondoc.preview import build_preview
from dondoc.web.accounts import SignedIn
from dondoc.web.deps import WebContext, current_user, db, web
from notifiers.render import Renderer

router = APIRouter()
HISTORY = 50
PREVIEW_WEEKS = 4
PREVIEW_ROWS = 100


@router.get("/agencies/{code}")
def agency_page(
    request: Request,
    code: str,
    user: SignedIn = Depends(current_user),
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    agency = session.exec(select(Agency).where(Agency.code == code)).first()
    if agency is None:
        raise HTTPException(status_code=404)
    tasks = session.exec(
        select(Assignment, Task, Plan)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .join(Plan, col(Plan.id) == col(Task.plan_id))
        .where(Assignment.agency_id == agency.id, col(Assignment.active), col(Task.active))
        .order_by(col(Plan.code), col(Task.position))
    ).all()
    contacts = session.exec(
        select(Contact).where(Contact.agency_id == agency.id).order_by(col(Contact.channel))
    ).all()
    messages = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.agency_id == agency.id)
        .order_by(col(OutboxMessage.id).desc())
        .limit(HISTORY)
    ).all()
    answers = session.exec(
        select(AuditEntry)
        .where(AuditEntry.agency_id == agency.id)
        .order_by(col(AuditEntry.id).desc())
        .limit(HISTORY)
    ).all()
    return ctx.templates.TemplateResponse(
        request,
        "agency.html",
        {
            "user": user,
            "agency": agency,
            "tasks": [(a, t, p, effective_due(a, t)) for a, t, p in tasks],
            "emails": [c for c in contacts if c.channel == "email"],
            "chats": [c for c in contacts if c.channel == "telegram"],
            "messages": messages,
            "answers": answers,
        },
    )


@router.get("/rules")
def rules_page(
    request: Request,
    user: SignedIn = Depends(current_user),
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    path = ctx.settings.rules_path
    agencies = list(session.exec(select(Agency.code)).all())
    templates = Renderer(templates_dir=ctx.settings.templates_dir).available()
    values: dict[str, Any] = {"user": user, "path": path, "problems": [], "config": None}
    try:
        values["source"] = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        values["source"] = ""
        values["problems"] = [f"{path}: không đọc được tệp ({exc.__class__.__name__})"]
    if not values["problems"]:
        try:
            config = load_rule_config(path, agencies=agencies, templates=templates)
        except ConfigError as exc:
            values["problems"] = exc.problems
        else:
            values["config"] = config
            today = ctx.clock.now().astimezone(ctx.settings.tz).date()
            try:
                preview = build_preview(
                    session,
                    config=config,
                    start=today,
                    end=today + timedelta(weeks=PREVIEW_WEEKS) - timedelta(days=1),
                )
            except UserError as exc:
                values["problems"] = [exc.message]
            else:
                values["preview"] = preview
                values["preview_rows"] = preview.rows[:PREVIEW_ROWS]
    return ctx.templates.TemplateResponse(request, "rules.html", values)
