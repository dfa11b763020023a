"""What `dondoc run` says about itself: one summary at start, one at the end of a simulation.

An operator starting the daemon learns at once whether anything can be delivered (no
channel configured is the silent failure to catch), where its health endpoint is, what it
tracks and when the next reminder is due. A simulation ends with what it sent per stage
and channel, and with the messages due by its end that still wait (for office hours).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from config.settings import Settings
from dondoc.evaluation import load_states
from dondoc.models import Assignment, OutboxMessage, Plan
from dondoc.store import session_scope
from rules.evaluate import evaluate
from rules.policy import RuleConfig
from scheduler import reevaluation

# Evaluations the start summary may spend on its "next reminder" line.
BUDGET = 1000


def local(moment: datetime, tz: tzinfo) -> str:
    """Times an officer reads: the office's zone, day first."""
    return moment.astimezone(tz).strftime("%d/%m/%Y %H:%M")


@dataclass(frozen=True)
class StartSummary:
    lines: list[str]
    warnings: list[str]


def start_summary(
    *,
    engine: Engine,
    settings: Settings,
    config: RuleConfig,
    channels: Collection[str],
    now: datetime,
    simulate_until: datetime | None = None,
) -> StartSummary:
    tz = settings.tz
    warnings = []
    reminders = sorted(set(channels) - {"webhook"})  # webhooks reach no agency
    if reminders:
        channel_text = ", ".join(reminders)
    else:
        channel_text = "KHÔNG CÓ"
        warnings.append(
            "KHÔNG CÓ KÊNH GỬI NÀO: không lời nhắc nào được gửi đi. Đặt DONDOC_SMTP__HOST "
            "(email) và/hoặc DONDOC_TELEGRAM__TOKEN (Telegram). (No channel is configured: "
            "nothing can be delivered.)"
        )
    http = (
        f"http://{settings.http_host}:{settings.http_port}/healthz"
        if settings.http_port
        else "tắt (DONDOC_HTTP_PORT=0)"
    )
    with session_scope(engine) as session:
        plans = session.exec(select(func.count()).select_from(Plan)).one()
        tracked = session.exec(select(func.count()).where(col(Assignment.active))).one()
        next_due, known = next_due_moment(session, config=config, now=now, engine=engine)
    if not known:
        due_text = (
            "chưa rõ: đang đánh giá lại các phân công theo từng đợt (quy tắc vừa đổi hoặc "
            "nhiều phân công đến hạn cùng lúc)"
        )
    elif next_due is None:
        due_text = "không còn lời nhắc nào theo lịch"
    else:
        send_at = config.calendar().next_working_time(next_due)
        due_text = local(next_due, tz)
        if send_at != next_due:
            due_text += f" (gửi lúc {local(send_at, tz)}, giờ làm việc)"
    mode = (
        f"mô phỏng {local(now, tz)} → {local(simulate_until, tz)}"
        if simulate_until is not None
        else f"giờ thật, múi giờ {settings.timezone}"
    )
    lines = [
        f"dondoc bắt đầu ({mode})",
        f"  kênh gửi: {channel_text}",
        f"  mỗi lượt: {settings.tick_seconds:g} giây",
        f"  HTTP: {http}",
        f"  theo dõi: {plans} kế hoạch, {tracked} phân công",
        f"  lời nhắc đến hạn tiếp theo: {due_text}",
    ]
    return StartSummary(lines, warnings)


def next_due_moment(
    session: Session, *, config: RuleConfig, now: datetime, engine: Engine, budget: int = BUDGET
) -> tuple[datetime | None, bool]:
    """(the earliest moment a reminder is due, whether that is known), from the index.

    A stored `next_due_at` in the future is exact under the rules it was computed
    under (it is the moment evaluation found the next reminder), so only the rows that
    are due and the rows a re-evaluation pass has not reached yet are evaluated, and at
    most `budget` of them: never a scan of every assignment. Beyond that the answer is
    not known until the ticks have done their work.
    """
    progress = reevaluation.progress(engine)
    stale_after = progress.after_id if progress is not None and not progress.done else None
    active = col(Assignment.active)
    current = [active] if stale_after is None else [active, col(Assignment.id) <= stale_after]
    stale: list[int | None] = []
    if stale_after is not None:
        stale = list(
            session.exec(
                select(Assignment.id)
                .where(active, col(Assignment.id) > stale_after)
                .order_by(col(Assignment.id))
                .limit(budget + 1)
            ).all()
        )
    due = list(
        session.exec(
            select(Assignment.id)
            .where(*current, col(Assignment.next_due_at) <= now)
            .order_by(col(Assignment.next_due_at))
            .limit(budget + 1)
        ).all()
    )
    if len(stale) + len(due) > budget:
        return None, False
    ids = [i for i in [*stale, *due] if i is not None]
    earliest = session.exec(
        select(func.min(Assignment.next_due_at)).where(*current, col(Assignment.next_due_at) > now)
    ).one()
    for _context, state, _name, policy in load_states(session, assignment_ids=ids, config=config):
        result = evaluate(state, policy, now, config=config)
        moment = now if result.reminders else result.next_at
        if moment is not None and (earliest is None or moment < earliest):
            earliest = moment
            if moment == now:
                break
    return earliest, True


def simulation_summary(
    *, engine: Engine, start: datetime, until: datetime, tz: tzinfo
) -> list[str]:
    """What a simulation sent per stage and channel, and what it leaves pending."""
    with session_scope(engine) as session:
        done = session.exec(
            select(OutboxMessage.stage, OutboxMessage.channel, OutboxMessage.status).where(
                col(OutboxMessage.status).in_(["sent", "failed", "skipped"]),
                or_(col(OutboxMessage.created_at) >= start, col(OutboxMessage.sent_at) >= start),
            )
        ).all()
        waiting = session.exec(
            select(OutboxMessage.stage, OutboxMessage.channel, OutboxMessage.next_attempt_at).where(
                col(OutboxMessage.status).in_(["pending", "sending"]),
                col(OutboxMessage.due_at) <= until,
            )
        ).all()
    counts = Counter(done)
    lines = [f"Kết thúc mô phỏng {local(start, tz)} → {local(until, tz)}:"]
    stages = sorted({(stage, channel) for stage, channel, _ in counts})
    if not stages:
        lines.append("  không có tin nào được gửi.")
    for stage, channel in stages:
        sent = counts[(stage, channel, "sent")]
        failed = counts[(stage, channel, "failed")]
        skipped = counts[(stage, channel, "skipped")]
        extra = f", {failed} thất bại" if failed else ""
        extra += f", {skipped} bỏ qua (bước sau thay thế)" if skipped else ""
        lines.append(f"  {stage} / {channel}: {sent} đã gửi{extra}")
    if waiting:
        first = min((w for _, _, w in waiting if w is not None), default=None)
        when = f"; sớm nhất lúc {local(first, tz)}" if first is not None else ""
        which = Counter((stage, channel) for stage, channel, _ in waiting)
        listed = ", ".join(
            f"{stage} / {channel}: {n}" for (stage, channel), n in sorted(which.items())
        )
        lines.append(
            f"  CÒN {len(waiting)} tin đã đến hạn trước {local(until, tz)} nhưng CHƯA GỬI "
            f"({listed}; chờ giờ làm việc hoặc gửi lại{when}): chạy tiếp với --simulate "
            f"{until.astimezone(tz).date().isoformat()} NGÀY_SAU để gửi chúng."
        )
    return lines
