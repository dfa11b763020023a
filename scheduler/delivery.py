"""The delivery path: the only place that sends. Outcomes are written by scheduler/outcomes.py.

A group of claimed rows (one agency, channel and audience) becomes one message per
recipient address. An address that already has the rows (`delivered_to`) is skipped, so
a retry reaches only the addresses still owed; an address the channel cannot serve yet
(a chat at its flood limit) is deferred, never waited on. Channels never touch the store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from dondoc.models import Agency, Contact, OutboxMessage
from dondoc.store import session_scope
from dondoc.webhooks import CHANNEL as WEBHOOK
from dondoc.webhooks import Target, load_targets
from notifiers.base import Attachment, Channel, ChannelError, OutgoingMessage
from notifiers.render import Renderer
from notifiers.webhook import WebhookMessage
from rules.calendar import WorkCalendar
from scheduler.outcomes import AddressOutcome, RowOutcome
from scheduler.queue import Group

log = logging.getLogger("dondoc.delivery")


@dataclass(frozen=True)
class Recipients:
    """Agencies and active contacts of one batch, read in two queries."""

    agencies: dict[int, Agency]
    contacts: dict[int, list[Contact]]
    webhooks: dict[int, Target] = field(default_factory=dict)  # by subscription id

    @classmethod
    def load(
        cls,
        engine: Engine,
        agency_ids: Iterable[int | None],
        rows: Iterable[OutboxMessage] = (),
    ) -> Recipients:
        hooks = [r.context.get("webhook", {}).get("subscription_id") for r in rows]
        wanted = [int(i) for i in hooks if isinstance(i, int)]
        webhooks: dict[int, Target] = {}
        if wanted:
            with session_scope(engine) as session:
                webhooks = load_targets(session, wanted)
        ids = sorted({i for i in agency_ids if i is not None})
        if not ids:
            return cls({}, {}, webhooks)
        with session_scope(engine) as session:
            agencies = session.exec(select(Agency).where(col(Agency.id).in_(ids))).all()
            contacts = session.exec(
                select(Contact)
                .where(col(Contact.agency_id).in_(ids), col(Contact.active))
                .order_by(col(Contact.id))
            ).all()
        by_agency: dict[int, list[Contact]] = {}
        for contact in contacts:
            by_agency.setdefault(contact.agency_id, []).append(contact)
        return cls({a.id or 0: a for a in agencies}, by_agency, webhooks)

    def addresses(self, agency_id: int, channel: str, audience: str) -> list[str]:
        contacts = [c for c in self.contacts.get(agency_id, []) if c.channel == channel]
        if audience == "head" and channel == "email":
            heads = [c.address for c in contacts if c.is_head]
            if heads:
                return heads
        return [c.address for c in contacts if not c.is_head or channel != "email"]


class Sender:
    """Turns a group into messages and sends them through its channel."""

    def __init__(self, *, renderer: Renderer, calendar: WorkCalendar) -> None:
        self.renderer = renderer
        self.calendar = calendar

    async def send(
        self, channel: Channel, group: Group, recipients: Recipients, now: datetime
    ) -> list[RowOutcome]:
        if group.channel == WEBHOOK:
            return [await _send_webhook(channel, row, recipients) for row in group.rows]
        outcomes = {row.id: RowOutcome(row) for row in group.rows}
        agency = recipients.agencies.get(group.agency_id or 0)
        if agency is None:
            error = ChannelError("Không xác định được cơ quan nhận.", permanent=True)
            return [RowOutcome(row, error=error) for row in group.rows]
        addresses = recipients.addresses(agency.id or 0, group.channel, group.audience)
        if not addresses:
            what = (
                "địa chỉ email"
                if group.channel == "email"
                else f"cuộc trò chuyện {group.channel.capitalize()} đã liên kết"
            )
            error = ChannelError(f"{agency.name} chưa có {what}.", permanent=True)
            return [RowOutcome(row, error=error) for row in group.rows]
        # Rows an address still lacks; usually the whole group, after a partial failure less.
        owed: dict[tuple[int, ...], list[str]] = {}
        for address in addresses:
            ids = tuple(r.id or 0 for r in group.rows if address not in (r.delivered_to or []))
            if ids:
                owed.setdefault(ids, []).append(address)
        by_id = {row.id or 0: row for row in group.rows}
        for row_ids, targets in owed.items():
            rows = [by_id[i] for i in row_ids]
            try:
                messages = self._messages(group, rows, agency, targets, now)
            except ChannelError as exc:
                for row in rows:
                    outcomes[row.id].error = exc
                continue
            for message in messages:
                result = await _send_one(channel, message)
                for row in rows:
                    outcomes[row.id].addresses.append(result)
        return list(outcomes.values())

    def _messages(
        self,
        group: Group,
        rows: Sequence[OutboxMessage],
        agency: Agency,
        addresses: Sequence[str],
        now: datetime,
    ) -> list[OutgoingMessage]:
        first = rows[0]
        template = first.template if len(rows) == 1 else "digest"
        today = now.astimezone(ZoneInfo(self.calendar.timezone)).date()
        try:
            rendered = self.renderer.render(
                template,
                items=[r.context for r in rows],
                locale=agency.locale,
                today=today,
                channel=group.channel,
            )
        except Exception as exc:  # a broken (admin-edited) template must not wedge the outbox
            log.exception("rendering %s failed", template)
            raise ChannelError(f"Lỗi mẫu thư '{template}': {exc}", permanent=True) from exc
        attachments = _attachments(rows)
        return [
            rendered.message(
                channel=group.channel,
                address=address,
                message_key=first.key,
                reply_to=_office_reply_to(first.context),
                attachments=attachments,
            )
            for address in addresses
        ]


async def _send_one(channel: Channel, message: OutgoingMessage) -> AddressOutcome:
    wait = channel.wait_for(message.address)
    if wait > 0:
        return AddressOutcome(message.address, wait=wait)
    try:
        return AddressOutcome(message.address, provider_id=await channel.send(message))
    except ChannelError as exc:
        return AddressOutcome(message.address, error=exc)


async def _send_webhook(channel: Channel, row: OutboxMessage, recipients: Recipients) -> RowOutcome:
    """One event to one subscriber, its URL and secret read now (see dondoc/webhooks.py)."""
    about = row.context.get("webhook", {})
    target = recipients.webhooks.get(int(about.get("subscription_id", 0)))
    if target is None or not target.active:
        error = ChannelError("Webhook đã bị gỡ hoặc tạm dừng.", permanent=True)
        return RowOutcome(row, error=error)
    event = row.context.get("event", {})
    message = WebhookMessage(
        channel=WEBHOOK,
        address=target.url,
        subject=str(event.get("type", "")),
        text=json.dumps(event, ensure_ascii=False, separators=(",", ":")),
        message_key=row.key,
        secret=target.secret,
    )
    return RowOutcome(row, addresses=[await _send_one(channel, message)])


def channels_down(outcomes: Sequence[RowOutcome]) -> ChannelError | None:
    """The error when nothing got through and it may pass: the channel itself is likely
    down, and the rest of the batch should wait rather than hammer it."""
    if any(o.row.channel == WEBHOOK for o in outcomes):
        return None  # one receiver down is not every receiver down (see WebhookChannel)
    errors = [a.error for o in outcomes for a in o.addresses if a.error is not None]
    delivered = any(a.provider_id for o in outcomes for a in o.addresses)
    if delivered or not errors or any(e.permanent for e in errors):
        return None
    return errors[0]


def _attachments(rows: Sequence[OutboxMessage]) -> tuple[Attachment, ...]:
    files: list[Attachment] = []
    for row in rows:
        report = row.context.get("report")
        if not isinstance(report, dict):
            continue
        for key, mime in (("html_path", "text/html"), ("csv_path", "text/csv")):
            path = report.get(key)
            if path and Path(path).is_file():
                files.append(Attachment(Path(path).name, Path(path).read_bytes(), mime))
    return tuple(files)


def _office_reply_to(context: Mapping[str, Any]) -> str | None:
    answer = context.get("answer")
    return answer.get("reply_email") if isinstance(answer, dict) else None
