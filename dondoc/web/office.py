"""The office's pages: overview, plan, task (with extension decisions), late list.

Every page needs a signed-in user; every change needs an admin and a valid CSRF token,
and is made by the same functions as the CLI (dondoc.extensions), audited with the
user's name.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from dondoc.errors import UserError
from dondoc.extensions import decide_extension, effective_due, extension_view, load_parts
from dondoc.models import (
    Agency,
    Assignment,
    AuditEntry,
    Explanation,
    ExtensionRequest,
    OutboxMessage,
    Plan,
    Task,
)
from dondoc.preview import build_preview
from dondoc.reports.files import office_name
from dondoc.reports.late import build_late_report
from dondoc.reports.periods import month_of, parse_month
from dondoc.reports.render_html import render_late_html
from dondoc.reports.tables import late_csv
from dondoc.web.accounts import SignedIn
from dondoc.web.chart import web_chart
from dondoc.web.deps import WebContext, admin_user, current_user, db, form_with_csrf, web
from dondoc.web.forecast import Forecast
from dondoc.web.i18n import ROLE_LABELS, STATUS_LABELS, translate
from dondoc.web.overview_data import overview_figures
from dondoc.web.plan_view import TASKS_PER_PAGE, plan_sections, section_index
from rules.deadline import Deadline
from rules.status import Category, category_label

router = APIRouter()

# What the office calls each kind of message (notifiers/templates/vi/*.j2).
TEMPLATE_LABELS = {
    "upcoming": "Nhắc trước hạn",
    "due_today": "Đến hạn",
    "overdue": "Quá hạn",
    "escalation": "Báo cáo lãnh đạo",
    "checkin": "Hỏi tiến độ",
    "set_deadline": "Đề nghị xác định thời hạn",
    "explanation_request": "Đề nghị giải trình",
    "explanation_received": "Giải trình nhận được",
    "extension_request": "Đề nghị gia hạn",
    "extension_decision": "Kết quả xét gia hạn",
    "delivery_failed": "Báo gửi không thành công",
    "webhook": "Sự kiện webhook",
    "late_report": "Danh sách chậm muộn",
    "quarter_report": "Báo cáo quý",
    "digest": "Thư tổng hợp",
}
CHANNEL_LABELS = {"email": "email", "telegram": "Telegram"}


def _page(request: Request, ctx: WebContext, name: str, user: SignedIn, **values: Any) -> Response:
    return ctx.templates.TemplateResponse(request, name, {"user": user, **values})


def _milestones(ctx: WebContext) -> Any:
    """The office's dates for external references, as the reminders use them; a broken
    rule file gives none here (the rules page shows its problems)."""
    config = ctx.rules.current(ctx.settings.rules_path)
    return config.milestone_for if config else None


@router.get("/")
def overview(
    request: Request,
    user: SignedIn = Depends(current_user),
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    now = ctx.clock.now()
    tz = ctx.settings.tz
    today = now.astimezone(tz).date()
    period = month_of(today)
    figures = overview_figures(
        session, today=today, period_start=period.start, tz=tz, milestone_for=_milestones(ctx)
    )
    per_plan = figures.per_plan
    plans = {p.code: p for p in session.exec(select(Plan).order_by(col(Plan.code))).all()}
    charts = {
        code: web_chart([(str(c), category_label(c, user.locale), counts[c]) for c in Category])
        for code, counts in per_plan.items()
    }
    ranked = figures.ranked(15)
    week_start = today - timedelta(days=today.weekday())
    start = datetime.combine(week_start, time(0), tzinfo=tz)
    sent = _outbox_counts(
        session, sent_from=start, sent_to=start + timedelta(days=7), locale=user.locale
    )
    coming, forecast = _next_week(session, ctx, week_start + timedelta(days=7), user.locale)
    pending = session.exec(
        select(ExtensionRequest, Task, Agency)
        .join(Assignment, col(Assignment.id) == col(ExtensionRequest.assignment_id))
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .join(Agency, col(Agency.id) == col(Assignment.agency_id))
        .where(ExtensionRequest.status == "pending")
        .order_by(col(ExtensionRequest.created_at))
    ).all()
    return _page(
        request,
        ctx,
        "overview.html",
        user,
        pending=pending,
        plans=plans,
        per_plan=per_plan,
        charts=charts,
        categories=list(Category),
        ranked=ranked,
        late_chart=web_chart([(code, name, n) for (code, name), n in ranked]),
        sent=sent,
        coming=coming,
        forecast=forecast,
        week_start=week_start,
        week=timedelta(days=7),
    )


def _kind(template: str, channel: str, locale: str) -> str:
    """What a message is, as the office calls it: "Quá hạn (email)"."""
    label = translate(TEMPLATE_LABELS.get(template, template), locale)
    return f"{label} ({CHANNEL_LABELS.get(channel, channel)})"


def _next_week(
    session: Session, ctx: WebContext, monday: date, locale: str
) -> tuple[list[tuple[str, int]], Forecast | None]:
    """What the daemon will send next week, from the preview of the config in force."""
    config = ctx.rules.current(ctx.settings.rules_path)
    if config is None:
        return [], None

    def compute(session: Session) -> Counter[tuple[str, str]]:
        preview = build_preview(
            session,
            config=config,
            # From the weekend before: what falls due then is sent on Monday.
            start=monday - timedelta(days=2),
            end=monday + timedelta(days=6),
            scheduled_only=True,
        )
        # A reminder due on Sunday goes out on Monday: count by when it is sent.
        week = (monday, monday + timedelta(days=7))
        return Counter(
            (row.template, row.channel)
            for row in preview.rows
            if week[0] <= row.send_at.date() < week[1]
        )

    found = ctx.forecasts.get(session, config=config, monday=monday, compute=compute)
    counts = Counter[str]()
    for (template, channel), n in found.counts.items():
        counts[_kind(template, channel, locale)] += n
    return sorted(counts.items()), found


def _outbox_counts(
    session: Session, *, sent_from: datetime, sent_to: datetime, locale: str
) -> list[tuple[str, int]]:
    query = select(OutboxMessage.template, OutboxMessage.channel).where(
        OutboxMessage.status == "sent",
        col(OutboxMessage.sent_at) >= sent_from,
        col(OutboxMessage.sent_at) < sent_to,
    )
    counts = Counter(
        _kind(template, channel, locale) for template, channel in session.exec(query).all()
    )
    return sorted(counts.items())


@router.get("/plans/{code}")
def plan_page(
    request: Request,
    code: str,
    page: int = 1,
    user: SignedIn = Depends(current_user),
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    plan = session.exec(select(Plan).where(Plan.code == code)).first()
    if plan is None:
        raise HTTPException(status_code=404)
    sections, page, pages = plan_sections(session, plan=plan, page=page, locale=user.locale)
    index = section_index(session, plan=plan) if pages > 1 else []
    return _page(
        request,
        ctx,
        "plan.html",
        user,
        plan=plan,
        sections=sections,
        index=index,
        per_page=TASKS_PER_PAGE,
        page=page,
        pages=pages,
        roles={k: translate(v, user.locale) for k, v in ROLE_LABELS.items()},
        statuses={k: translate(v, user.locale) for k, v in STATUS_LABELS.items()},
    )


@router.get("/tasks/{task_id}")
def task_page(
    request: Request,
    task_id: int,
    user: SignedIn = Depends(current_user),
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    task = session.get(Task, task_id)
    if task is None:
        raise HTTPException(status_code=404)
    plan = session.get(Plan, task.plan_id)
    assignments = session.exec(
        select(Assignment, Agency)
        .join(Agency, col(Agency.id) == col(Assignment.agency_id))
        .where(Assignment.task_id == task_id)
        .order_by(col(Assignment.role).desc(), col(Agency.code))
    ).all()
    ids = [a.id for a, _ in assignments]
    extensions = [
        extension_view(request_row, load_parts(session, request_row.assignment_id))
        for request_row in session.exec(
            select(ExtensionRequest)
            .where(col(ExtensionRequest.assignment_id).in_(ids))
            .order_by(col(ExtensionRequest.id))
        ).all()
    ]
    explanations = session.exec(
        select(Explanation, Agency)
        .join(Assignment, col(Assignment.id) == col(Explanation.assignment_id))
        .join(Agency, col(Agency.id) == col(Assignment.agency_id))
        .where(col(Explanation.assignment_id).in_(ids))
        .order_by(col(Explanation.at))
    ).all()
    audit = session.exec(
        select(AuditEntry).where(AuditEntry.task_id == task_id).order_by(col(AuditEntry.at))
    ).all()
    deadline = Deadline.from_dict(task.deadline) if task.deadline else None
    return _page(
        request,
        ctx,
        "task.html",
        user,
        task=task,
        plan=plan,
        explained=deadline.describe(user.locale) if deadline else None,
        assignments=[(a, g, effective_due(a, task)) for a, g in assignments],
        extensions=extensions,
        explanations=explanations,
        audit=audit,
    )


@router.post("/extensions/{request_id}/{decision}")
def decide(
    request: Request,
    request_id: int,
    decision: str,
    form: dict[str, Any] = Depends(form_with_csrf),
    user: SignedIn = Depends(admin_user),
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    if decision not in ("approve", "deny"):
        raise HTTPException(status_code=404)
    row = session.get(ExtensionRequest, request_id)
    if row is None:
        raise HTTPException(status_code=404)
    parts = load_parts(session, row.assignment_id)
    try:
        decide_extension(
            session,
            request_id=request_id,
            approve=decision == "approve",
            note=form.get("note"),
            actor=f"web:{user.name}",
            now=ctx.clock.now(),
        )
    except UserError as exc:
        raise HTTPException(status_code=409, detail=exc.message) from None
    return RedirectResponse(f"/tasks/{parts.task.id}#extensions", status_code=303)


@router.get("/late")
def late_page(
    request: Request,
    month: str | None = None,
    plan: str | None = None,
    format: str | None = None,
    user: SignedIn = Depends(current_user),
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    tz = ctx.settings.tz
    now = ctx.clock.now()
    try:
        period = (
            parse_month(month, "month") if month else month_of(now.astimezone(tz).date()).previous()
        )
        report = build_late_report(
            session,
            period=period,
            now=now,
            tz=tz,
            plan=plan or None,
            milestone_for=_milestones(ctx),
        )
    except UserError as exc:
        raise HTTPException(status_code=400, detail=exc.message) from None
    name = f"danh-sach-cham-muon-{period.key}"
    if format == "csv":
        return Response(
            "\ufeff" + late_csv(report, tz=tz),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if format == "html":
        return Response(
            render_late_html(report, tz=tz, office_name=office_name(session, plan or None)),
            media_type="text/html; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.html"'},
        )
    if format == "xlsx":
        from dondoc.web.late_xlsx import late_xlsx

        return Response(
            late_xlsx(report, tz=tz),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    plans = session.exec(select(Plan.code).order_by(col(Plan.code))).all()
    return _page(
        request,
        ctx,
        "late.html",
        user,
        report=report,
        period=period,
        month=period.key,
        plan=plan or "",
        plans=plans,
        chart=web_chart([(a.code, a.name, a.count) for a in report.agencies]),
    )
