"""The delivery path: the only place that sends, and the only place that records outcomes.

Each outbox row goes pending → sending → sent | failed; rows are claimed and grouped
into messages by scheduler/queue.py. Retryable errors push the row forward with
exponential backoff and jitter (or the channel's retry-after), always into office
hours; a channel that is down is not hammered; permanent errors are not retried and
are reported to the office. Channels never touch the store.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dondoc.models import Agency, Contact, DeliveryAttempt, OutboxMessage, SentMessage
from dondoc.outbox import enqueue
from dondoc.store import session_scope
from notifiers.base import Attachment, Channel, ChannelError, OutgoingMessage
from notifiers.render import Renderer
from rules.calendar import WorkCalendar
from scheduler.metrics import Metrics
from scheduler.queue import Group, backoff, claim, group_rows

log = logging.getLogger("dondoc.delivery")

# A message is given up by age, not by count: a mail server down over a long holiday
# weekend must not cost a single reminder. Backoff is capped, so retries stay frequent.
GIVE_UP_AFTER = timedelta(days=7)


@dataclass
class DeliveryResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    interrupted: int = 0
    errors: list[str] = field(default_factory=list)


class Deliverer:
    """Sends claimed rows through the channels and records every outcome."""

    def __init__(
        self,
        *,
        engine: Engine,
        channels: Mapping[str, Channel],
        renderer: Renderer,
        calendar: WorkCalendar,
        metrics: Metrics,
        office_agency_id: int | None,
        digest: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.channels = channels
        self.renderer = renderer
        self.calendar = calendar
        self.metrics = metrics
        self.office_agency_id = office_agency_id
        self.digest = digest
        self.rng = rng or random.Random()

    async def deliver(self, *, now: datetime, should_stop: Any = None) -> DeliveryResult:
        result = DeliveryResult()
        if self.calendar.next_working_time(now) != now:
            return result  # rows wait; the next event is the next office opening
        rows = claim(self.engine, now=now)
        if not rows:
            return result
        groups = group_rows(rows, digest=self.digest)
        by_channel: dict[str, list[Group]] = {}
        for group in groups:
            by_channel.setdefault(group.channel, []).append(group)
        for channel_name, channel_groups in by_channel.items():
            channel = self.channels.get(channel_name)
            if channel is None:
                for group in channel_groups:
                    self._record_failure(
                        group,
                        now,
                        ChannelError(f"Kênh '{channel_name}' chưa được cấu hình.", permanent=True),
                        result,
                    )
                continue
            await channel.open()
            try:
                delivered_any = False
                for index, group in enumerate(channel_groups):
                    if should_stop is not None and should_stop():
                        self._release(group)
                        result.interrupted += len(group.rows)
                        continue
                    outcome = await self._send_group(channel, group, now, result)
                    delivered_any = delivered_any or outcome is None
                    if outcome is not None and not outcome.permanent and not delivered_any:
                        # Nothing got through and the error may pass: the channel itself
                        # is likely down. Do not hammer it; the rest waits, uncharged.
                        rest = channel_groups[index + 1 :]
                        self._postpone(rest, now, outcome)
                        result.retried += sum(len(g.rows) for g in rest)
                        break
            finally:
                await channel.close()
        return result

    async def _send_group(
        self, channel: Channel, group: Group, now: datetime, result: DeliveryResult
    ) -> ChannelError | None:
        """Send one group; None when it went out, else the error that was recorded."""
        try:
            messages = self._messages(group, now)
        except ChannelError as exc:
            self._record_failure(group, now, exc, result)
            return exc
        provider_ids: list[str] = []
        errors: list[ChannelError] = []
        for message in messages:
            try:
                provider_ids.append(await channel.send(message))
            except ChannelError as exc:
                errors.append(exc)
        if provider_ids:
            self._record_success(group, now, provider_ids, errors, result)
            return None
        # Retry if any address may still work; give up only when all refused for good.
        retryable = [e for e in errors if not e.permanent]
        error = retryable[0] if retryable else errors[0]
        self._record_failure(group, now, error, result)
        return error

    def _messages(self, group: Group, now: datetime) -> list[OutgoingMessage]:
        with session_scope(self.engine) as session:
            agency = session.get(Agency, group.agency_id) if group.agency_id else None
            if agency is None:
                raise ChannelError("Không xác định được cơ quan nhận.", permanent=True)
            addresses = _addresses(session, agency, group.channel, group.audience)
        if not addresses:
            what = (
                "địa chỉ email"
                if group.channel == "email"
                else f"cuộc trò chuyện {group.channel.capitalize()} đã liên kết"
            )
            raise ChannelError(f"{agency.name} chưa có {what}.", permanent=True)
        first = group.rows[0]
        template = first.template if len(group.rows) == 1 else "digest"
        today = now.astimezone(ZoneInfo(self.calendar.timezone)).date()
        try:
            rendered = self.renderer.render(
                template, items=[r.context for r in group.rows], locale=agency.locale, today=today
            )
        except Exception as exc:  # a broken (admin-edited) template must not wedge the outbox
            log.exception("rendering %s failed", template)
            raise ChannelError(f"Lỗi mẫu thư '{template}': {exc}", permanent=True) from exc
        attachments = _attachments(group.rows)
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

    def _postpone(self, groups: Sequence[Group], now: datetime, error: ChannelError) -> None:
        """Put groups back for a later try without counting an attempt against them."""
        ids = [row.id for group in groups for row in group.rows]
        if not ids:
            return
        later = self.calendar.next_working_time(now + backoff(1, error.retry_after, self.rng))
        with session_scope(self.engine) as session:
            session.execute(
                sa.update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(ids))
                .values(status="pending", claimed_by=None, next_attempt_at=later)
            )

    def _release(self, group: Group) -> None:
        with session_scope(self.engine) as session:
            session.execute(
                sa.update(OutboxMessage)
                .where(col(OutboxMessage.id).in_([r.id for r in group.rows]))
                .values(status="pending", claimed_by=None)
            )

    def _record_success(
        self,
        group: Group,
        now: datetime,
        provider_ids: list[str],
        errors: list[ChannelError],
        result: DeliveryResult,
    ) -> None:
        note = "; ".join(str(e) for e in errors) or None
        provider_id = ",".join(provider_ids)[:300]
        ids = [row.id for row in group.rows]
        with session_scope(self.engine) as session:
            session.execute(
                sa.update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(ids))
                .values(
                    status="sent",
                    sent_at=now,
                    attempts=OutboxMessage.attempts + 1,
                    provider_id=provider_id,
                    last_error=note,
                    claimed_by=None,
                )
            )
            session.add_all(
                DeliveryAttempt(
                    outbox_id=row_id or 0,
                    at=now,
                    outcome="sent",
                    error=note,
                    provider_id=provider_id,
                )
                for row_id in ids
            )
            if group.channel in ("telegram", "zalo"):
                _record_chat_messages(session, group, provider_ids, now)
        for row in group.rows:
            log.info(
                "send channel=%s agency=%s task=%s key=%s outcome=sent",
                group.channel,
                group.agency_id,
                row.context.get("task", {}).get("number"),
                row.key,
            )
        self.metrics.sent.labels(group.channel).inc(len(group.rows))
        result.sent += len(group.rows)

    def _record_failure(
        self, group: Group, now: datetime, error: ChannelError, result: DeliveryResult
    ) -> None:
        with session_scope(self.engine) as session:
            for row in group.rows:
                stored = session.get(OutboxMessage, row.id)
                if stored is None:
                    continue
                stored.attempts += 1
                stored.last_error = str(error)
                age = now - (stored.created_at or now)
                give_up = error.permanent or age >= GIVE_UP_AFTER
                if give_up:
                    stored.status = "failed"
                    self._notify_office(session, stored, now)
                else:
                    delay = backoff(stored.attempts, error.retry_after, self.rng)
                    stored.status = "pending"
                    stored.next_attempt_at = self.calendar.next_working_time(now + delay)
                stored.claimed_by = None
                session.add(stored)
                outcome = "failed" if give_up else "retry"
                session.add(
                    DeliveryAttempt(
                        outbox_id=row.id or 0, at=now, outcome=outcome, error=str(error)
                    )
                )
                log.warning(
                    "send channel=%s agency=%s task=%s key=%s outcome=%s error=%s",
                    group.channel,
                    group.agency_id,
                    row.context.get("task", {}).get("number"),
                    row.key,
                    outcome,
                    error,
                )
                if give_up:
                    result.failed += 1
                else:
                    result.retried += 1
        self.metrics.failed.labels(group.channel, str(error.permanent).lower()).inc(len(group.rows))
        result.errors.append(str(error))

    def _notify_office(self, session: Session, row: OutboxMessage, now: datetime) -> None:
        """A message that cannot be delivered is reported to the office, by email, once."""
        if row.kind == "notice" or self.office_agency_id is None:
            return  # never report a failed report-of-a-failure: it would loop
        office = session.get(Agency, self.office_agency_id)
        recipient = session.get(Agency, row.agency_id) if row.agency_id else None
        enqueue(
            session,
            key=f"failed:{row.key}",
            kind="notice",
            channel="email",
            agency_id=self.office_agency_id,
            stage="delivery_failed",
            template="delivery_failed",
            context={
                **row.context,
                "audience": "office",
                "failure": {
                    "channel": row.channel,
                    "error": row.last_error,
                    "key": row.key,
                    "recipient": {"code": recipient.code, "name": recipient.name}
                    if recipient
                    else None,
                },
                "office": {"code": office.code, "name": office.name} if office else None,
            },
            send_after=self.calendar.next_working_time(now),
            now=now,
        )


def _addresses(session: Session, agency: Agency, channel: str, audience: str) -> list[str]:
    contacts = session.exec(
        select(Contact).where(
            Contact.agency_id == agency.id, Contact.channel == channel, Contact.active
        )
    ).all()
    if audience == "head" and channel == "email":
        heads = [c.address for c in contacts if c.is_head]
        if heads:
            return heads
    return [c.address for c in contacts if not c.is_head or channel != "email"]


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


def _record_chat_messages(
    session: Session, group: Group, provider_ids: list[str], now: datetime
) -> None:
    """Remember which assignments a chat message was about, for replies and buttons."""
    assignment_ids = [r.assignment_id for r in group.rows if r.assignment_id is not None]
    asks = any(r.context.get("ask_explanation") for r in group.rows)
    for provider_id in provider_ids:
        chat_id, _, message_id = provider_id.rpartition(":")
        if chat_id and message_id:
            session.add(
                SentMessage(
                    channel=group.channel,
                    chat_id=chat_id,
                    message_id=message_id,
                    agency_id=group.agency_id,
                    assignment_ids=assignment_ids,
                    asks_explanation=asks,
                    at=now,
                )
            )
