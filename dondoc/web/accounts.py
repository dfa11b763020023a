"""Office accounts: who may sign in to the web app, with which role, and sign-in checks.

Passwords are hashed with argon2 (argon2-cffi's defaults, rehashed when they change).
Failed sign-ins are stored, so the throttle holds across processes and restarts: too
many failures for one account, or from one address, and sign-in waits a while.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from dondoc.errors import NotFoundError, UserError
from dondoc.models import AuditEntry
from dondoc.models_web import API_TOKEN_FAILURE, USER_ROLES, LoginFailure, OfficeUser
from notifiers.render import DEFAULT_LOCALE, LOCALES

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
MIN_PASSWORD_LENGTH = 10
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")

_hasher = PasswordHasher()  # a stateless set of parameters, not a resource


@cache
def _dummy_hash() -> str:
    # Verifying against this when the account does not exist costs the same time as a
    # real check, so response times do not tell which names exist.
    return _hasher.hash("dondoc-no-such-user")


class ThrottledError(UserError):
    def __init__(self, minutes: int) -> None:
        super().__init__(
            f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau khoảng {minutes} phút."
        )
        self.minutes = minutes


@dataclass(frozen=True)
class SignedIn:
    id: int
    name: str
    role: str
    locale: str

    @property
    def can_change(self) -> bool:
        return self.role == "admin"


def _check_name(name: str) -> str:
    cleaned = name.strip().lower()
    if not cleaned or len(cleaned) > 64 or not set(cleaned) <= _NAME_CHARS:
        raise UserError(
            f"Tên đăng nhập '{name}' không hợp lệ: chỉ dùng chữ thường không dấu, số, '.', '_' "
            "hoặc '-', tối đa 64 ký tự."
        )
    return cleaned


def _check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise UserError(
            f"Ngôn ngữ '{locale}' không hợp lệ: chọn một trong {', '.join(LOCALES)} "
            "(vi: tiếng Việt, en: English)."
        )
    return locale


def add_user(
    session: Session,
    *,
    name: str,
    role: str,
    password: str,
    actor: str,
    now: datetime,
    locale: str = DEFAULT_LOCALE,
) -> OfficeUser:
    if role not in USER_ROLES:
        raise UserError(f"--role phải là một trong: {', '.join(USER_ROLES)}.")
    locale = _check_locale(locale)
    name = _check_name(name)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"Mật khẩu phải dài ít nhất {MIN_PASSWORD_LENGTH} ký tự.")
    if session.exec(select(OfficeUser).where(OfficeUser.name == name)).first() is not None:
        raise UserError(f"Tài khoản '{name}' đã có.")
    user = OfficeUser(
        name=name,
        role=role,
        password_hash=_hasher.hash(password),
        locale=locale,
        created_at=now,
    )
    session.add(user)
    session.flush()
    _audit(session, actor=actor, action="user.added", now=now, user=name, role=role, locale=locale)
    return user


def list_users(session: Session) -> list[OfficeUser]:
    return list(session.exec(select(OfficeUser).order_by(col(OfficeUser.name))).all())


def disable_user(session: Session, *, name: str, actor: str, now: datetime) -> bool:
    """False when the account was already disabled."""
    user = session.exec(select(OfficeUser).where(OfficeUser.name == _check_name(name))).first()
    if user is None:
        raise NotFoundError("tài khoản", name)
    if not user.active:
        return False
    user.active = False
    session.add(user)
    _audit(session, actor=actor, action="user.disabled", now=now, user=user.name)
    return True


def set_locale(session: Session, *, name: str, locale: str, actor: str, now: datetime) -> bool:
    """The language of a user's pages; False when it was already that one."""
    locale = _check_locale(locale)
    user = session.exec(select(OfficeUser).where(OfficeUser.name == _check_name(name))).first()
    if user is None:
        raise NotFoundError("tài khoản", name)
    if user.locale == locale:
        return False
    previous, user.locale = user.locale, locale
    session.add(user)
    _audit(
        session,
        actor=actor,
        action="user.locale_changed",
        now=now,
        user=user.name,
        locale=locale,
        previous=previous,
    )
    return True


def _failures_since(session: Session, column: Any, value: str, since: datetime) -> int:
    """Sign-in failures only: bad API tokens from the same address are the API's to count."""
    return session.exec(
        select(sa.func.count())
        .select_from(LoginFailure)
        .where(
            column == value,
            col(LoginFailure.at) >= since,
            col(LoginFailure.name) != API_TOKEN_FAILURE,
        )
    ).one()


def sign_in(
    session: Session, *, name: str, password: str, address: str, now: datetime
) -> SignedIn | None:
    """The signed-in user, None for a wrong name or password; raises ThrottledError."""
    name = name.strip().lower()[:64]
    address = address[:64]
    since = now - THROTTLE_WINDOW
    # Failures older than the window no longer count: the table stays small.
    session.execute(sa.delete(LoginFailure).where(col(LoginFailure.at) < since))
    if (
        _failures_since(session, col(LoginFailure.name), name, since) >= MAX_FAILURES_PER_ACCOUNT
        or _failures_since(session, col(LoginFailure.address), address, since)
        >= MAX_FAILURES_PER_ADDRESS
    ):
        _audit(session, actor=f"web:{name}", action="web.login_throttled", now=now, address=address)
        raise ThrottledError(int(THROTTLE_WINDOW.total_seconds() // 60))
    user = session.exec(select(OfficeUser).where(OfficeUser.name == name)).first()
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        session.add(LoginFailure(at=now, name=name, address=address))
        _audit(session, actor=f"web:{name}", action="web.login_failed", now=now, address=address)
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    session.add(user)
    _audit(session, actor=f"web:{user.name}", action="web.login", now=now, address=address)
    return SignedIn(user.id or 0, user.name, user.role, user.locale)


def signed_in_user(session: Session, user_id: object) -> SignedIn | None:
    """The session's user while the account is still active."""
    if not isinstance(user_id, int):
        return None
    user = session.get(OfficeUser, user_id)
    if user is None or not user.active:
        return None
    return SignedIn(user.id or 0, user.name, user.role, user.locale)


def _audit(session: Session, *, actor: str, action: str, now: datetime, **detail: object) -> None:
    session.add(AuditEntry(at=now, actor=actor, action=action, detail=dict(detail)))
