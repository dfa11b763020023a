"""What every route needs, passed through FastAPI dependencies: the store, the clock,
the signed-in user, and the CSRF check every form passes."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.templating import Jinja2Templates

from config.errors import ConfigError
from config.rules_loader import load_rule_config
from config.settings import Settings
from dondoc.clock import Clock
from dondoc.web.accounts import SignedIn, signed_in_user
from dondoc.web.forecast import ForecastCache
from dondoc.web.i18n import use_locale
from dondoc.web.links import Links, Signer
from rules.policy import RuleConfig

CSRF_FIELD = "csrf"


class RuleConfigCache:
    """The rule config, read again only when its file changes (pages read it often)."""

    def __init__(self) -> None:
        self._key: tuple[str, int] | None = None
        self._config: RuleConfig | None = None

    def current(self, path: Path) -> RuleConfig | None:
        try:
            key = (str(path), path.stat().st_mtime_ns)
        except OSError:
            return None
        if key != self._key:
            try:
                self._config = load_rule_config(path)
            except ConfigError:
                self._config = None
            self._key = key
        return self._config


@dataclass(frozen=True)
class WebContext:
    """Built once by create_app and kept on app.state: no global objects."""

    engine: Engine
    settings: Settings
    clock: Clock
    signer: Signer
    templates: Jinja2Templates
    links: Links | None
    rules: RuleConfigCache
    forecasts: ForecastCache


def web(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


def db(request: Request) -> Iterator[Session]:
    """A session committed when the route returns normally, rolled back otherwise.

    Routes take it with `scope="function"`: the commit happens before the response is
    sent, so whoever reads the store after the answer sees the change.
    """
    with Session(web(request).engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class LoginRequired(Exception):
    pass


class Forbidden(Exception):
    pass


def current_user(request: Request) -> SignedIn:
    with Session(web(request).engine) as session:
        user = signed_in_user(session, request.session.get("user_id"))
    if user is None:
        request.session.pop("user_id", None)
        raise LoginRequired()
    use_locale(request, user.locale)
    return user


def admin_user(request: Request) -> SignedIn:
    user = current_user(request)
    if not user.can_change:
        raise Forbidden()
    return user


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


async def form_with_csrf(request: Request) -> dict[str, Any]:
    """The posted form, after checking its CSRF token against the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_FIELD)
    if (
        not isinstance(sent, str)
        or not isinstance(expected, str)
        or not hmac.compare_digest(sent, expected)
    ):
        raise HTTPException(status_code=403, detail="csrf")
    return {key: value for key, value in form.items() if isinstance(value, str)}


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
