"""Several `dondoc run` processes on one PostgreSQL: they share the outbox, a kill -9 loses
nothing, and a daemon that starts takes nothing from the live ones.

Real processes, a real PostgreSQL, a real SMTP server (aiosmtpd on 127.0.0.1). Every
outbox row has a key, and the Message-ID of its email is made from that key, so the sink
tells exactly how many times each message went out.

The bound on duplicates, stated: a daemon killed with -9 has recorded nothing for the
sends in flight on its connections (4) nor for the outcomes it had not yet written (at
most FLUSH_ROWS = 100, written every 0.25 s); those rows come back when its lease ends
and are sent again. So each kill may duplicate at most 4 + 100 messages, and no message
gets more than one extra copy per kill.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from fakes.smtp import SmtpSink
from multi_daemon_support import (
    Daemon,
    daemon_env,
    judge,
    message_id,
    outbox_counts,
    seed,
    start_daemon,
    wait_for,
)

from dondoc.store import make_engine
from scheduler.workers import FLUSH_ROWS

pytest_plugins = ["fakes.fixtures"]
pytestmark = [pytest.mark.slow, pytest.mark.postgres]

COUNT = 1500
LEASE = "10"  # seconds: a killed daemon's rows come back soon, batches still finish
CONNECTIONS = 4  # the email channel's pool (notifiers/email.py)
PER_KILL = FLUSH_ROWS + CONNECTIONS


def _received(sink: SmtpSink) -> list[str]:
    return [message_id(m.header("Message-ID")) for m in list(sink.messages)]


def test_three_daemons_share_the_outbox_and_two_kills_lose_nothing(
    tmp_path: Path, smtp_sink: SmtpSink, postgres_url: str
) -> None:
    seed(postgres_url, count=COUNT)
    engine = make_engine(postgres_url)
    rng = random.Random()

    def env(name: str) -> dict[str, str]:
        return daemon_env(
            tmp_path,
            url=postgres_url,
            smtp_port=smtp_sink.port,
            name=name,
            DONDOC_DELIVERY_LEASE=LEASE,
            DONDOC_SMTP__TIMEOUT="1",
        )

    smtp_sink.answer_delay = 0.01  # a server's own latency: the run lasts a few seconds
    daemons = [start_daemon(env(f"d{n}"), tmp_path, f"d{n}") for n in range(3)]
    started = time.monotonic()
    try:
        # Killed at random moments while the backlog is being delivered: the first once
        # 10-35% is out, the second (another daemon) at 45-70%.
        first, second = rng.sample(range(3), 2)
        for victim, share in ((first, rng.uniform(0.10, 0.35)), (second, rng.uniform(0.45, 0.7))):
            assert wait_for(lambda s=share: len(smtp_sink.messages) >= COUNT * s, timeout=90), (
                "delivery did not progress",
                [d.output()[-2000:] for d in daemons],
            )
            daemons[victim].kill()
            if victim == first:
                # A daemon starting while the others hold claimed rows takes none of them.
                daemons.append(start_daemon(env("d3"), tmp_path, "d3"))
        done = wait_for(lambda: outbox_counts(engine)["sent"] >= COUNT, timeout=90)
        assert done, (outbox_counts(engine), [d.output()[-3000:] for d in daemons])
    finally:
        codes = [d.stop() for d in daemons if d.killed_at is None]
    elapsed = time.monotonic() - started

    verdict = judge(engine, _received(smtp_sink))
    engine.dispose()
    print(f"{COUNT} emails, 3 daemons (+1 restarted), 2 kills: {elapsed:.1f} s, {verdict}")
    assert codes == [0, 0], [d.output()[-2000:] for d in daemons]
    # Exactly once by key: every row sent, and each sent row's message arrived.
    assert verdict.rows == verdict.sent == COUNT and verdict.unsent == 0
    assert verdict.lost == 0 and verdict.strangers == 0
    # Resends only for what the killed daemons had in flight (module docstring).
    assert verdict.duplicated <= 2 * PER_KILL, verdict
    assert verdict.worst <= 3, verdict
    # The work was shared: every daemon there from the start that lived to the end sent
    # some of it. The replacement starts late and may find the backlog already gone.
    survivors = [d for d in daemons[:3] if d.killed_at is None]
    for daemon in survivors:
        assert "outcome=sent" in daemon.output(), daemon.name
    assert any("outcome=sent" in d.output() for d in daemons if d.killed_at is not None)


def test_a_daemon_started_next_to_a_busy_one_takes_none_of_its_rows(
    tmp_path: Path, smtp_sink: SmtpSink, postgres_url: str
) -> None:
    count = 300
    seed(postgres_url, count=count)
    engine = make_engine(postgres_url)
    smtp_sink.answer_delay = 0.1  # 4 connections: 300 messages take 7.5 s

    def env(name: str) -> dict[str, str]:
        return daemon_env(tmp_path, url=postgres_url, smtp_port=smtp_sink.port, name=name)

    busy = start_daemon(env("busy"), tmp_path, "busy")
    late: list[Daemon] = []
    try:
        assert wait_for(lambda: len(smtp_sink.messages) >= 10, timeout=30), busy.output()
        assert outbox_counts(engine)["sending"] > 0  # the busy one holds claimed rows
        late.append(start_daemon(env("late"), tmp_path, "late"))
        assert wait_for(lambda: "dondoc bắt đầu" in late[0].output(), timeout=30)
        assert len(smtp_sink.messages) < count  # it started before the busy one was done
        assert wait_for(lambda: outbox_counts(engine)["sent"] >= count, timeout=40)
    finally:
        codes = [d.stop() for d in [busy, *late]]
    verdict = judge(engine, _received(smtp_sink))
    engine.dispose()
    assert codes == [0, 0]
    assert verdict.sent == count and verdict.lost == 0
    assert verdict.duplicated == 0, verdict  # no kill: not a single message twice
    assert "left in 'sending'" not in late[0].output()
