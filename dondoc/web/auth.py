"""Signing in and out of the office's web app, and a user's choice of language."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from dondoc.errors import UserError
from dondoc.models import AuditEntry
from dondoc.models_web import OfficeUser
from dondoc.web.accounts import SignedIn, ThrottledError, set_locale, sign_in
from dondoc.web.deps import WebContext, client_address, current_user, db, form_with_csrf, web

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # Only a path of this site: never an open redirect to another one.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


@router.get("/login")
def login_page(
    request: Request, next: str | None = None, ctx: WebContext = Depends(web)
) -> Response:
    return ctx.templates.TemplateResponse(
        request, "login.html", {"next": _safe_next(next), "error": None, "name": ""}
    )


@router.post("/login")
def login(
    request: Request,
    form: dict[str, Any] = Depends(form_with_csrf),
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    name, password = form.get("name", ""), form.get("password", "")
    target = _safe_next(form.get("next"))
    error, status = None, 401
    try:
        user = sign_in(
            session,
            name=name,
            password=password,
            address=client_address(request),
            now=ctx.clock.now(),
        )
        if user is None:
            error = "Tên đăng nhập hoặc mật khẩu không đúng."
    except ThrottledError as exc:
        user, error, status = None, exc.message, 429
    if user is None:
        session.commit()  # the failure counts even though the page says no
        return ctx.templates.TemplateResponse(
            request,
            "login.html",
            {"next": target, "error": error, "name": name},
            status_code=status,
        )
    # A new session on sign-in: a token planted before it is not carried over.
    request.session.clear()
    request.session["user_id"] = user.id
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(
    request: Request,
    form: dict[str, Any] = Depends(form_with_csrf),
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    user_id = request.session.get("user_id")
    if isinstance(user_id, int):
        user = session.get(OfficeUser, user_id)
        if user is not None:
            session.add(
                AuditEntry(at=ctx.clock.now(), actor=f"web:{user.name}", action="web.logout")
            )
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.post("/account/locale")
def choose_locale(
    form: dict[str, Any] = Depends(form_with_csrf),
    user: SignedIn = Depends(current_user),
    session: Session = Depends(db, scope="function"),
    ctx: WebContext = Depends(web),
) -> Response:
    """The signed-in user's own language (a preference, so a viewer may change it too)."""
    try:
        set_locale(
            session,
            name=user.name,
            locale=form.get("locale", ""),
            actor=f"web:{user.name}",
            now=ctx.clock.now(),
        )
    except UserError as exc:
        raise HTTPException(status_code=400, detail=exc.message) from None
    return RedirectResponse(_safe_next(form.get("next")), status_code=303)
