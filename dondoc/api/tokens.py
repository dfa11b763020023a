"""API tokens: made once and shown once, stored as a hash, checked on every request.

Bad tokens are counted per address in the web app's `login_failure` table (under their
own name, `API_TOKEN_FAILURE`), so guessing is throttled across processes and restarts
like sign-in is, and apart from it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from dondoc.errors import NotFoundError, UserError
from dondoc.models import Agency, AuditEntry, Plan
from dondoc.models_api import TOKEN_SCOPES, ApiToken
from dondoc.models_web import API_TOKEN_FAILURE, LoginFailure

TOKEN_PREFIX = "ddk_"
FAILURE_NAME = API_TOKEN_FAILURE
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ADDRESS = 20
# `last_used_at` is written at most this often, so reads do not each write to the store.
LAST_USED_EVERY = timedelta(minutes=1)
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


@dataclass(frozen=True)
class Caller:
    """The token a request came with, as the routes need it."""

    id: int
    name: str
    scope: str
    plan_id: int | None
    agency_id: int | None

    @property
    def actor(self) -> str:
        return f"api:{self.name}"

    @property
    def can_write(self) -> bool:
        return self.scope == "write"


@dataclass(frozen=True)
class TokenRow:
    name: str
    scope: str
    plan: str | None
    agency: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class Throttled:
    """The address sent too many bad tokens lately; returned, not raised, so the audit
    entry saying so is committed with the rest."""

    minutes: int

    @property
    def message(self) -> str:
        return (
            "Có quá nhiều lần gửi mã truy cập sai từ địa chỉ này. "
            f"Vui lòng thử lại sau khoảng {self.minutes} phút."
        )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_name(name: str) -> str:
    cleaned = name.strip().lower()
    if not cleaned or len(cleaned) > 64 or not set(cleaned) <= _NAME_CHARS:
        raise UserError(
            f"Tên mã truy cập '{name}' không hợp lệ: chỉ dùng chữ thường không dấu, số, '.', "
            "'_' hoặc '-', tối đa 64 ký tự."
        )
    return cleaned


def create_token(
    session: Session,
    *,
    name: str,
    scope: str,
    plan: str | None,
    agency: str | None,
    actor: str,
    now: datetime,
) -> str:
    """Store a new token's hash; returns the token itself, which is never stored."""
    name = _check_name(name)
    if scope not in TOKEN_SCOPES:
        raise UserError(f"--scope phải là một trong: {', '.join(TOKEN_SCOPES)}.")
    if session.exec(select(ApiToken).where(ApiToken.name == name)).first() is not None:
        raise UserError(f"Đã có mã truy cập tên '{name}'.")
    plan_row = None
    if plan is not None:
        plan_row = session.exec(select(Plan).where(Plan.code == plan)).first()
        if plan_row is None:
            raise NotFoundError("kế hoạch", plan)
    agency_row = None
    if agency is not None:
        agency_row = session.exec(select(Agency).where(Agency.code == agency)).first()
        if agency_row is None:
            raise NotFoundError("cơ quan", agency)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            name=name,
            token_hash=hash_token(token),
            scope=scope,
            plan_id=plan_row.id if plan_row else None,
            agency_id=agency_row.id if agency_row else None,
            created_at=now,
            created_by=actor,
        )
    )
    _audit(
        session, actor, "api.token_created", now, token=name, scope=scope, plan=plan, agency=agency
    )
    return token


def list_tokens(session: Session) -> list[TokenRow]:
    plans = dict(session.exec(select(Plan.id, Plan.code)).all())
    rows = session.exec(select(ApiToken).order_by(col(ApiToken.name))).all()
    agency_ids = [t.agency_id for t in rows if t.agency_id is not None]
    agencies = dict(
        session.exec(select(Agency.id, Agency.code).where(col(Agency.id).in_(agency_ids))).all()
    )
    return [
        TokenRow(
            t.name,
            t.scope,
            plans.get(t.plan_id) if t.plan_id else None,
            agencies.get(t.agency_id) if t.agency_id else None,
            t.created_at,
            t.last_used_at,
            t.revoked_at,
        )
        for t in rows
    ]


def revoke_token(session: Session, *, name: str, actor: str, now: datetime) -> bool:
    """False when it was already revoked."""
    token = session.exec(select(ApiToken).where(ApiToken.name == _check_name(name))).first()
    if token is None:
        raise NotFoundError("mã truy cập", name)
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    session.add(token)
    _audit(session, actor, "api.token_revoked", now, token=token.name)
    return True


def authenticate(
    session: Session, *, header: str | None, address: str, path: str, now: datetime
) -> Caller | Throttled | None:
    """The caller of a valid, unrevoked token; None (counted and audited) otherwise.

    Throttled once an address has sent too many bad tokens lately; that check comes
    first, so a throttled address learns nothing about the token it sends.
    """
    address = address[:64]
    since = now - THROTTLE_WINDOW
    failures = session.exec(
        select(sa.func.count())
        .select_from(LoginFailure)
        .where(
            col(LoginFailure.name) == FAILURE_NAME,
            col(LoginFailure.address) == address,
            col(LoginFailure.at) >= since,
        )
    ).one()
    if failures >= MAX_FAILURES_PER_ADDRESS:
        _audit(session, "api:?", "api.throttled", now, address=address, path=path)
        return Throttled(int(THROTTLE_WINDOW.total_seconds() // 60))
    token = _bearer(header)
    row = (
        session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
        if token
        else None
    )
    if row is None or row.revoked_at is not None or row.id is None:
        # Failures older than the window no longer count: pruned here, on the failure
        # path, so a good request does not write to the store.
        session.execute(
            sa.delete(LoginFailure).where(
                col(LoginFailure.name) == FAILURE_NAME, col(LoginFailure.at) < since
            )
        )
        session.add(LoginFailure(at=now, name=FAILURE_NAME, address=address))
        reason = "missing" if not token else ("revoked" if row is not None else "unknown")
        _audit(
            session,
            "api:?",
            "api.auth_failed",
            now,
            address=address,
            path=path,
            reason=reason,
            **({"token": row.name} if row is not None else {}),
        )
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        row.last_used_at = now
        session.add(row)
    return Caller(row.id, row.name, row.scope, row.plan_id, row.agency_id)


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    kind, _, value = header.strip().partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def audit_refusal(
    session: Session, caller: Caller, *, reason: str, path: str, now: datetime, **detail: object
) -> None:
    _audit(session, caller.actor, "api.refused", now, reason=reason, path=path, **detail)


def _audit(session: Session, actor: str, action: str, now: datetime, **detail: object) -> None:
    plan_id = detail.pop("plan_id", None)
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=action,
            plan_id=plan_id if isinstance(plan_id, int) else None,
            detail={k: v for k, v in detail.items() if v is not None},
        )
    )
