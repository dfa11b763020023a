"""Delivery end to end: outbox rows through the daemon's own worker to the server, next to
the bare library on the same server, in one run.

Email: 10,000 queued reminders (one per agency, each to its own address) drained by the
daemon's email worker (claim, group, render, send over its connection pool, record) to an
aiosmtpd in its own process, against a bare aiosmtplib loop on one connection sending the
same, already built, messages. Target (issue 15): daemon ≥ 50% of the bare loop.

Telegram: reminders to 300 chats, plus a few to one group, drained by the daemon's
Telegram worker (the real python-telegram-bot stack) against the fake Bot API enforcing
Telegram's exact windows. Target: ≥ 28 msg/s sustained, 0 × 429, and the group waits
without holding the chats up.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import multiprocessing
import tempfile
import time
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosmtplib
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from bench.sample import reminder_context, rendered_reminders
from config.rules_loader import load_rule_config
from config.settings import BUNDLED_RULES, SmtpSettings, TelegramSettings
from dondoc.models import Agency, Contact, OutboxMessage
from dondoc.outbox import enqueue_many
from dondoc.store import make_engine, migrate, session_scope
from notifiers.base import Channel
from notifiers.email import EmailChannel, build_email
from notifiers.render import Renderer
from notifiers.telegram import CallbackSigner, TelegramChannel, make_bot
from scheduler.metrics import Metrics
from scheduler.workers import ChannelWorker, DeliveryContext
from tests.fakes.smtp import SmtpSink
from tests.fakes.telegram_api import FakeBotApi, Limits

EMAILS = 10_000
CHATS = 300
PER_CHAT = 2
GROUP_MESSAGES = 5
GROUP_CHAT = "-100777"
EMAIL_TARGET = 0.5
TELEGRAM_TARGET = 28.0
# A Monday morning in the office's zone: delivery only runs in office hours.
MONDAY = datetime(2022, 12, 19, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
SENDER = "dondoc@vp-ubnd.tinhmau.example"


class RunningClock:
    """Real time, starting on a Monday morning: rescheduled rows come due as they would."""

    def __init__(self, start: datetime) -> None:
        self._start, self._at = start, time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._at)


def _store(folder: Path, name: str, *, agencies: int, channel: str) -> Engine:
    engine = make_engine(f"sqlite:///{folder / name}")
    migrate(engine)
    with session_scope(engine) as session:
        connection = session.connection()
        connection.execute(
            Agency.__table__.insert(),  # type: ignore[attr-defined]
            [
                {"code": f"co-quan-{n}", "name": f"Cơ quan số {n}", "kind": "department",
                 "locale": "vi", "aliases": []}
                for n in range(agencies)
            ],
        )  # fmt: skip
        ids = list(session.exec(select(Agency.id).order_by(col(Agency.id))).all())
        connection.execute(
            Contact.__table__.insert(),  # type: ignore[attr-defined]
            [
                {"agency_id": agency_id, "channel": channel, "is_head": False, "active": True,
                 "address": f"co-quan-{n}@tinhmau.example" if channel == "email"
                 else str(20_000 + n)}
                for n, agency_id in enumerate(ids)
            ],
        )  # fmt: skip
    return engine


def _queue(engine: Engine, rows: list[tuple[int, int]], channel: str, now: datetime) -> None:
    """(agency id, n) → one reminder each; several to one agency become one digest."""
    with session_scope(engine) as session:
        enqueue_many(
            session,
            [
                {"key": f"bench:{channel}:{agency_id}:{n}", "channel": channel,
                 "agency_id": agency_id, "stage": "before", "template": "upcoming",
                 "context": reminder_context(n), "send_after": now, "kind": "notice"}
                for agency_id, n in rows
            ],
            now=now,
        )  # fmt: skip


def _worker(engine: Engine, channel: Channel, clock: RunningClock) -> ChannelWorker:
    config = load_rule_config(BUNDLED_RULES)
    context = DeliveryContext(
        calendar=config.calendar(), renderer=Renderer(), digest=True, office_agency_id=None
    )
    return ChannelWorker(
        channel=channel,
        engine=engine,
        clock=clock,
        context=lambda: context,
        metrics=Metrics(),
        owner="bench:",
    )


def _count(engine: Engine, status: str) -> int:
    with session_scope(engine) as session:
        return int(session.exec(select(func.count()).where(OutboxMessage.status == status)).one())


def _serve(pipe: Connection) -> None:
    """The mail server process: its port, then (messages received, its CPU seconds)."""
    with SmtpSink() as sink:
        pipe.send(sink.port)
        while pipe.recv() == "count":
            pipe.send((len(sink.messages), time.process_time()))


def _server_cpu(pipe: Connection) -> float:
    pipe.send("count")
    return float(pipe.recv()[1])


async def _email(folder: Path) -> None:
    pipe, child = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(child,))
    server.start()
    port = pipe.recv()
    try:
        settings = SmtpSettings(host="127.0.0.1", port=port, sender=SENDER)
        rendered = rendered_reminders(50)
        emails = [
            build_email(
                rendered[n % 50].message(channel="email", address=f"x{n}@tinhmau.example"),
                sender=SENDER, message_id=f"<bare.{n}@bench>", now=MONDAY,
            )
            for n in range(EMAILS)
        ]  # fmt: skip
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
        await smtp.connect()
        server_cpu = _server_cpu(pipe)
        started, cpu = time.perf_counter(), time.process_time()
        for email in emails:
            await smtp.send_message(email)
        bare = EMAILS / (time.perf_counter() - started)
        bare_cpu = (time.process_time() - cpu) / EMAILS
        bare_server = (_server_cpu(pipe) - server_cpu) / EMAILS
        await smtp.quit()

        engine = _store(folder, "email.db", agencies=EMAILS, channel="email")
        clock = RunningClock(MONDAY)
        with session_scope(engine) as session:
            ids = list(session.exec(select(Agency.id).order_by(col(Agency.id))).all())
        _queue(engine, [(agency_id or 0, n) for n, agency_id in enumerate(ids)], "email", MONDAY)
        worker = _worker(engine, EmailChannel(settings), clock)
        gc.freeze()  # as `dondoc run` does once started
        server_cpu = _server_cpu(pipe)
        started, cpu = time.perf_counter(), time.process_time()
        tally = await worker.drain(lambda: False)
        daemon = tally.sent / (time.perf_counter() - started)
        daemon_cpu = (time.process_time() - cpu) / max(tally.sent, 1)
        daemon_server = (_server_cpu(pipe) - server_cpu) / max(tally.sent, 1)
        pipe.send("count")
        received = pipe.recv()[0]
        engine.dispose()
    finally:
        pipe.send("stop")
        server.join(10)
    ratio = daemon / bare
    verdict = "met" if ratio >= EMAIL_TARGET and tally.sent == EMAILS else "NOT met"
    print(f"Email: {EMAILS} queued reminders to aiosmtpd on 127.0.0.1 (its own process)")
    print(f"  bare aiosmtplib loop, one connection, prebuilt  {bare:8.1f} msg/s  "
          f"(CPU per message: {bare_cpu * 1e3:.2f} ms here, {bare_server * 1e3:.2f} ms "
          "in the server)")  # fmt: skip
    print(f"  daemon worker: outbox → pool of {worker.channel.concurrency} → recorded  "
          f"{daemon:8.1f} msg/s  (CPU per message: {daemon_cpu * 1e3:.2f} ms here for "
          f"claim, render, build, send, record; {daemon_server * 1e3:.2f} ms in the "
          "server)")  # fmt: skip
    print(f"  daemon / bare = {ratio:.2f} (target ≥ {EMAIL_TARGET:.2f}: {verdict}); "
          f"{tally.sent} recorded sent, {received - EMAILS} received by the server")  # fmt: skip


def _serve_bot_api(pipe: Connection) -> None:
    """The Bot API stand-in in its own process, as Telegram is: its URL and token, then
    (chat id, arrival) of every sendMessage and the number of 429s it answered."""
    with FakeBotApi(limits=Limits()) as fake:
        pipe.send((fake.url, fake.token))
        pipe.recv()
        calls = [(c.params.get("chat_id"), c.at) for c in fake.calls_to("sendMessage")]
        pipe.send((calls, fake.limit_violations))


async def _telegram(folder: Path) -> None:
    pipe, child = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve_bot_api, args=(child,))
    server.start()
    try:
        url, token = pipe.recv()
        engine = _store(folder, "telegram.db", agencies=CHATS + 1, channel="telegram")
        with session_scope(engine) as session:
            ids = list(session.exec(select(Agency.id).order_by(col(Agency.id))).all())
            group = session.exec(select(Contact).where(Contact.agency_id == ids[-1])).one()
            group.address = GROUP_CHAT
            session.add(group)
        rows = [(agency_id or 0, n) for n in range(PER_CHAT) for agency_id in ids[:-1]]
        rows += [(ids[-1] or 0, 1000 + n) for n in range(GROUP_MESSAGES)]
        _queue(engine, rows, "telegram", MONDAY)
        settings = TelegramSettings(token=SecretStr(token), api_url=url)
        channel = TelegramChannel(make_bot(settings), signer=CallbackSigner(token))
        await channel.open()
        worker = _worker(engine, channel, RunningClock(MONDAY))
        gc.freeze()  # as `dondoc run` does once started
        stop = asyncio.Event()
        started = time.perf_counter()
        running = asyncio.ensure_future(worker.run(stop, poll=0.1))
        chats_done_at: float | None = None
        while _count(engine, "sent") < len(rows) and time.perf_counter() - started < 60:
            await asyncio.sleep(0.2)
            if chats_done_at is None and _count(engine, "sent") >= CHATS * PER_CHAT:
                chats_done_at = time.perf_counter() - started
        stop.set()
        await running
        await channel.shutdown()
        engine.dispose()
    finally:
        pipe.send("stop")
        calls, violations = pipe.recv()
        server.join(10)
    to_chats = sorted(at for chat, at in calls if chat != int(GROUP_CHAT))
    to_group = sorted(at for chat, at in calls if chat == int(GROUP_CHAT))
    rate = (len(to_chats) - 1) / (to_chats[-1] - to_chats[0])
    verdict = "met" if rate >= TELEGRAM_TARGET and violations == 0 else "NOT met"
    group_gaps = [b - a for a, b in itertools.pairwise(to_group)]
    print(f"Telegram: {CHATS * PER_CHAT} reminders to {CHATS} chats and {GROUP_MESSAGES} to one "
          "group, through the daemon's worker to the fake Bot API (exact windows, its own "
          "process)")  # fmt: skip
    print(f"  daemon worker: {rate:6.1f} msg/s sustained = {rate / 30:.0%} of the 30 msg/s "
          f"limit, {violations} × 429 (target ≥ {TELEGRAM_TARGET:.0f} msg/s, 0 × 429: "
          f"{verdict})")  # fmt: skip
    print(f"  the group's {len(to_group)} messages were rescheduled, never slept on: "
          f"smallest gap {min(group_gaps, default=0):.2f} s; the chats were all served "
          f"after {chats_done_at or 0:.1f} s")  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_email(Path(folder)))
        print()
        asyncio.run(_telegram(Path(folder)))


if __name__ == "__main__":
    main()
