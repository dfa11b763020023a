"""Outbound webhook subscriptions: add, list, remove, and what a delivery needs of them.

A subscription receives the events (dondoc/events.py) that happen after it is added,
each as one outbox row (dondoc/webhooks_dispatch.py), delivered by the daemon's
`webhook` channel (notifiers/webhook.py) like any reminder: retried with backoff, given
up and reported to the office after the same limit. Its secret is kept as given because
every delivery is signed with it; it is printed once, when added, and never listed.
"""

from __future__ import annotations

import secrets
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from dondoc import events
from dondoc.errors import NotFoundError, UserError
from dondoc.models import AuditEntry, OutboxMessage
from dondoc.models_webhooks import WebhookSubscription

CHANNEL = "webhook"
SECRET_PREFIX = "whsec_"
MIN_SECRET = 16
MAX_URL = 2000
# The type of the sample `dondoc webhook test` sends; never a real event's type.
TEST_EVENT = "webhook.test"


@dataclass(frozen=True)
class Target:
    """Where a delivery goes and what it is signed with, read at send time: a removed
    or paused subscription, or a changed secret, applies to deliveries still queued."""

    id: int
    url: str
    secret: str
    active: bool


def delivery_key(subscription_id: int, event_id: int) -> str:
    """The outbox key and `X-Dondoc-Delivery` id: one per (subscription, event)."""
    return f"{CHANNEL}:{subscription_id}:{event_id}"


def _key_prefix(subscription_id: int) -> str:
    return f"{CHANNEL}:{subscription_id}:"


def validate_url(url: str) -> str:
    text = url.strip()
    where = f"URL '{url}'"
    if not text:
        raise UserError("URL: chưa nhập địa chỉ máy nhận.")
    if len(text) > MAX_URL:
        raise UserError(f"URL: dài quá {MAX_URL} ký tự.")
    try:
        parts = urllib.parse.urlsplit(text)
        parts.port  # noqa: B018  (a malformed port raises here)
    except ValueError:
        raise UserError(f"{where}: không phải địa chỉ hợp lệ.") from None
    if parts.scheme not in ("http", "https"):
        raise UserError(f"{where}: chỉ nhận địa chỉ http:// hoặc https://.")
    if not parts.hostname:
        raise UserError(f"{where}: thiếu tên máy (host).")
    if parts.username or parts.password:
        # It would be printed by `webhook list` and logged with every failure.
        raise UserError(
            "URL: không ghi tên đăng nhập hay mật khẩu trong địa chỉ; "
            "máy nhận xác thực bằng chữ ký (X-Dondoc-Signature)."
        )
    if parts.fragment:
        raise UserError(f"{where}: bỏ phần '#{parts.fragment}' ở cuối địa chỉ.")
    return text


def parse_event_types(text: str | None) -> list[str]:
    """`--events a,b` → the types; empty, "all" or "*" → [] (every type)."""
    if text is None or text.strip().lower() in ("", "all", "*", "tat-ca", "tất cả"):
        return []
    chosen: list[str] = []
    for part in text.split(","):
        name = part.strip()
        if not name:
            continue
        if name not in events.EVENT_TYPES:
            raise UserError(
                f"--events: '{name}' không phải loại sự kiện. Các loại: "
                f"{', '.join(events.EVENT_TYPES)} (hoặc all)."
            )
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise UserError("--events: chưa chọn loại sự kiện nào (ghi all để nhận mọi loại).")
    return chosen


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _check_secret(secret: str) -> str:
    if len(secret) < MIN_SECRET or len(secret) > 200:
        raise UserError(f"--secret: khóa ký phải dài từ {MIN_SECRET} đến 200 ký tự.")
    if secret != secret.strip() or not secret.isprintable():
        raise UserError(
            "--secret: khóa ký không được có khoảng trắng đầu/cuối hay ký tự điều khiển."
        )
    return secret


def last_event_id(session: Session) -> int:
    """Events carry audit-log ids: a subscription starts after the latest of them."""
    return int(session.exec(select(func.max(AuditEntry.id))).one() or 0)


def add_subscription(
    session: Session,
    *,
    url: str,
    event_types: list[str],
    secret: str | None,
    actor: str,
    now: datetime,
) -> tuple[WebhookSubscription, str]:
    """Subscribe `url`; returns it and its secret (generated when not given)."""
    url = validate_url(url)
    if session.exec(select(WebhookSubscription).where(WebhookSubscription.url == url)).first():
        raise UserError(
            f"URL '{url}' đã được đăng ký: gỡ bằng `dondoc webhook remove` trước khi thêm lại."
        )
    secret = _check_secret(secret) if secret is not None else new_secret()
    subscription = WebhookSubscription(
        url=url,
        event_types=list(event_types),
        secret=secret,
        active=True,
        created_at=now,
        created_by=actor,
        last_event_id=last_event_id(session),
    )
    session.add(subscription)
    session.flush()
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action="webhook.added",
            detail={"id": subscription.id, "url": url, "events": list(event_types)},
        )
    )
    return subscription, secret


def find_subscription(session: Session, ref: str) -> WebhookSubscription:
    """By id (digits) or by URL."""
    text = ref.strip()
    found = None
    if text.isdigit():
        found = session.get(WebhookSubscription, int(text))
    if found is None:
        found = session.exec(
            select(WebhookSubscription).where(WebhookSubscription.url == text)
        ).first()
    if found is None:
        raise NotFoundError("webhook", ref)
    return found


def remove_subscription(
    session: Session, *, ref: str, actor: str, now: datetime
) -> tuple[str, int]:
    """Delete a subscription; its deliveries still queued are dropped (status skipped).
    Returns its URL and how many queued deliveries were dropped."""
    subscription = find_subscription(session, ref)
    sub_id = subscription.id or 0
    dropped = session.execute(
        sa.update(OutboxMessage)
        .where(
            col(OutboxMessage.key).startswith(_key_prefix(sub_id), autoescape=True),
            col(OutboxMessage.status).in_(["pending", "sending"]),
        )
        .values(status="skipped", claimed_by=None, last_error="Webhook đã bị gỡ.")
    )
    url = subscription.url
    session.delete(subscription)
    session.add(
        AuditEntry(at=now, actor=actor, action="webhook.removed", detail={"id": sub_id, "url": url})
    )
    return url, int(getattr(dropped, "rowcount", 0) or 0)


def list_subscriptions(session: Session) -> list[dict[str, Any]]:
    """Every subscription with its queue, for `webhook list`; never the secret."""
    subscriptions = session.exec(
        select(WebhookSubscription).order_by(col(WebhookSubscription.id))
    ).all()
    rows = []
    for sub in subscriptions:
        counts: dict[str, int] = dict(
            session.execute(  # type: ignore[arg-type]
                sa.select(OutboxMessage.status, func.count())  # type: ignore[call-overload]
                .where(col(OutboxMessage.key).startswith(_key_prefix(sub.id or 0), autoescape=True))
                .group_by(OutboxMessage.status)
            ).all()
        )
        rows.append(
            {
                "id": sub.id,
                "url": sub.url,
                "events": list(sub.event_types) or ["all"],
                "active": sub.active,
                "created_at": sub.created_at,
                "last_event_id": sub.last_event_id,
                "queued": counts.get("pending", 0) + counts.get("sending", 0),
                "sent": counts.get("sent", 0) + counts.get("pruned", 0),
                "failed": counts.get("failed", 0),
            }
        )
    return rows


def load_targets(session: Session, ids: Iterable[int]) -> dict[int, Target]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    found = session.exec(
        select(WebhookSubscription).where(col(WebhookSubscription.id).in_(wanted))
    ).all()
    return {s.id or 0: Target(s.id or 0, s.url, s.secret, s.active) for s in found}


def sample_event(now: datetime) -> events.Event:
    """What `dondoc webhook test` sends: the shape of every event, marked as a test."""
    return events.Event(
        id=0,
        type=TEST_EVENT,
        at=now,
        actor="dondoc",
        plan_id=None,
        task_id=None,
        assignment_id=None,
        agency_id=None,
        data={"message": "Đây là sự kiện thử của dondoc (a test event from dondoc)."},
    )
