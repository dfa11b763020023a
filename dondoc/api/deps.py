"""What every API route needs through FastAPI dependencies: the store, the clock and the
caller's token, checked (and refusals recorded) before the route runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings
from dondoc.api.problems import Problem
from dondoc.api.tokens import Caller, Throttled, audit_refusal, authenticate
from dondoc.clock import Clock
from dondoc.store import session_scope

if TYPE_CHECKING:  # the web app imports the API: at run time the cache is passed in
    from dondoc.web.deps import RuleConfigCache


@dataclass(frozen=True)
class ApiContext:
    """Built once by create_api and kept on the API app's state: no global objects."""

    engine: Engine
    settings: Settings
    clock: Clock
    rules: RuleConfigCache

    def today(self) -> date:
        return self.clock.now().astimezone(self.settings.tz).date()


def api(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.api
    return context


def db(request: Request) -> Iterator[Session]:
    """A session committed when the route returns normally, rolled back otherwise."""
    with Session(api(request).engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# Only so the OpenAPI description names the scheme; the header is checked below.
_bearer = HTTPBearer(auto_error=False, description="Mã tạo bằng `dondoc token create`")


def caller(
    request: Request, _scheme: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Caller:
    """The token's caller; 401 for a missing or bad token, 429 once throttled.

    Its own unit of work: a refused attempt is counted and audited even though the
    request stops here."""
    ctx = api(request)
    with session_scope(ctx.engine) as session:
        found = authenticate(
            session,
            header=request.headers.get("authorization"),
            address=_address(request),
            path=request.url.path,
            now=ctx.clock.now(),
        )
    if isinstance(found, Throttled):
        raise Problem(429, found.message, headers={"Retry-After": str(found.minutes * 60)})
    if found is None:
        raise Problem(401, headers={"WWW-Authenticate": 'Bearer realm="dondoc"'})
    return found


def writer(request: Request, who: Caller = Depends(caller)) -> Caller:
    """A caller whose token has the write scope; a read token is refused and audited."""
    if not who.can_write:
        refuse(request, who, "read_scope")
    return who


def refuse(request: Request, who: Caller, reason: str, status: int = 403, **detail: object) -> None:
    """Record why the caller was refused, then raise the problem that says so."""
    ctx = api(request)
    with session_scope(ctx.engine) as session:
        audit_refusal(
            session,
            who,
            reason=reason,
            path=request.url.path,
            now=ctx.clock.now(),
            method=request.method,
            **detail,
        )
    raise Problem(status, REFUSALS.get(reason), code=reason.replace("_", "-"))


REFUSALS = {
    "read_scope": "Mã truy cập này chỉ có quyền đọc (scope read); thao tác ghi cần scope write.",
    "plan_limit": "Mã truy cập này chỉ được dùng cho một kế hoạch khác.",
    "agency_limit": "Mã truy cập này chỉ được dùng cho phần việc của một cơ quan khác.",
    "office_only": "Thao tác này chỉ dành cho mã truy cập của Văn phòng (không giới hạn cơ quan).",
}
