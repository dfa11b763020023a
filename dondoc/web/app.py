"""create_app: the composition of the web app, given the store, settings and clock.

The daemon mounts the same app next to /healthz and /metrics; `dondoc web` serves it
alone. /api/v1 is left for the integration API (issue 13), which shares this app.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import pass_context
from jinja2.runtime import Context
from sqlalchemy.engine import Engine
from starlette.middleware.sessions import SessionMiddleware
from starlette.templating import Jinja2Templates

import dondoc.web.answers as answers
import dondoc.web.auth as auth
import dondoc.web.office as office
import dondoc.web.office_more as office_more
from config.settings import Settings, secret_key
from dondoc.api.app import create_api
from dondoc.clock import Clock
from dondoc.web.deps import Forbidden, LoginRequired, RuleConfigCache, WebContext, csrf_token
from dondoc.web.forecast import ForecastCache
from dondoc.web.i18n import (
    ROLE_LABELS,
    STATUS_LABELS,
    local_date,
    local_datetime,
    locale_of,
    t,
    translate,
)
from dondoc.web.links import Links, Signer
from rules.status import category_label

HERE = Path(__file__).parent
SESSION_HOURS = 8
API_PREFIX = "/api/v1"  # reserved for issue 13's API on this same app


def create_app(*, engine: Engine, settings: Settings, clock: Clock) -> FastAPI:
    key = secret_key(settings)
    signer = Signer(key, clock=clock)
    templates = _templates(settings, clock)
    links = Links(settings.public_url, signer) if settings.public_url else None
    app = FastAPI(
        title="dondoc",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        default_response_class=HTMLResponse,
    )
    app.state.web = WebContext(
        engine=engine,
        settings=settings,
        clock=clock,
        signer=signer,
        templates=templates,
        links=links,
        rules=RuleConfigCache(),
        forecasts=ForecastCache(engine=engine, clock=clock),
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=key,
        session_cookie="dondoc_session",
        max_age=SESSION_HOURS * 3600,
        # Lax, not Strict: an agency opening an emailed link arrives from another site.
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(auth.router)
    app.include_router(office.router)
    app.include_router(office_more.router)
    app.include_router(answers.router)
    api = create_api(engine=engine, settings=settings, clock=clock, rules=app.state.web.rules)
    app.mount(API_PREFIX, api)  # the integration API (dondoc/api/), problem+json errors

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return error_page(
            request,
            403,
            "Không có quyền",
            "Tài khoản của bạn chỉ được xem, không được thay đổi dữ liệu.",
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if exc.detail == "csrf":
            return error_page(
                request,
                403,
                "Phiên làm việc đã hết hạn",
                "Biểu mẫu không hợp lệ hoặc đã quá hạn. Vui lòng tải lại trang và thử lại.",
            )
        if exc.status_code == 404:
            return error_page(request, 404, "Không tìm thấy", "Trang bạn tìm không tồn tại.")
        return error_page(request, exc.status_code, "Lỗi", str(exc.detail))

    return app


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    """An error in the page's locale (`title` and `message` are the Vietnamese phrases)."""
    templates: Jinja2Templates = request.app.state.web.templates
    locale = locale_of(request)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"title": translate(title, locale), "message": translate(message, locale)},
        status_code=status,
    )


def _templates(settings: Settings, clock: Clock) -> Jinja2Templates:
    templates = Jinja2Templates(
        directory=HERE / "templates",
        context_processors=[lambda request: {"locale": locale_of(request)}],
    )
    env = templates.env
    tz = settings.tz

    @pass_context
    def day(context: Context, value: date | str | None) -> str:
        return local_date(value, str(context.get("locale")), tz)

    @pass_context
    def moment(context: Context, value: datetime | None) -> str:
        return local_datetime(value, str(context.get("locale")), tz)

    env.filters["d"] = day
    env.filters["dt"] = moment
    env.globals["t"] = t
    env.globals["csrf_token"] = csrf_token
    env.globals["STATUS"] = STATUS_LABELS
    env.globals["ROLE"] = ROLE_LABELS
    env.globals["category_label"] = category_label
    env.globals["today"] = lambda: clock.now().astimezone(tz).date()
    return templates
