"""The chat bots poll in one daemon only: the advisory-lock leader, fenced on takeover.

Real PostgreSQL, real lock connections; the leader's connection is killed from outside
with pg_terminate_backend, as the issue's fault did. `on_gain`/`on_loss` stand for
starting and stopping the pollers and record when each daemon polled.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fakes.telegram_api import FakeBotApi
from multi_daemon_support import daemon_env, start_daemon, wait_for
from sqlalchemy.engine import Engine

from dondoc.store import make_engine, migrate
from scheduler.leader import Leadership
from scheduler.lock import LEADER_KEY, AlreadyRunningError, LeaderLock, StoreLock

pytest_plugins = ["fakes.fixtures"]

FAST = {"retry": 0.1, "check": 0.2, "check_timeout": 1.0, "stop_timeout": 1.0}
TAKEOVER = 2.0  # the old leader notices within 0.2 + 1.0 s and stops within 1.0 s more


@pytest.fixture
def pg_engines(postgres_url: str) -> Iterator[tuple[Engine, Engine, Engine]]:
    """Three engines on one migrated database: two daemons and an outsider."""
    engines = (make_engine(postgres_url), make_engine(postgres_url), make_engine(postgres_url))
    migrate(engines[0])
    yield engines
    for engine in engines:
        engine.dispose()


class Polls:
    """When each daemon polled: (name, start, end) spans."""

    def __init__(self) -> None:
        self.spans: list[list[object]] = []
        self.stop_seconds = 0.3  # stopping a poller takes a while (a long poll ending)

    def leadership(self, name: str, engine: Engine) -> Leadership:
        async def gain() -> None:
            self.spans.append([name, time.monotonic(), None])

        async def loss() -> None:
            await asyncio.sleep(self.stop_seconds)
            for span in self.spans:
                if span[0] == name and span[2] is None:
                    span[2] = time.monotonic()

        return Leadership(
            LeaderLock(engine), on_gain=gain, on_loss=loss, takeover_delay=TAKEOVER, **FAST
        )

    def overlaps(self) -> list[tuple[object, object]]:
        found = []
        spans = [(n, s, e if e is not None else float("inf")) for n, s, e in self.spans]
        for i, (name, start, end) in enumerate(spans):
            for other, start2, end2 in spans[i + 1 :]:
                if other != name and start < end2 and start2 < end:  # type: ignore[operator]
                    found.append((name, other))
        return found


def _kill_lock_connection(outsider: Engine) -> int:
    with outsider.connect() as connection:
        pids = (
            connection.execute(
                sa.text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = :k "
                    "AND classid = 0 AND objsubid = 1 AND granted"
                ),
                {"k": LEADER_KEY},
            )
            .scalars()
            .all()
        )
        for pid in pids:
            connection.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        connection.commit()
    return len(pids)


async def _until(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.mark.postgres
async def test_one_leader_polls_and_a_killed_lock_connection_hands_over_fenced(
    pg_engines: tuple[Engine, Engine, Engine],
) -> None:
    a_engine, b_engine, outsider = pg_engines
    polls = Polls()
    stop = asyncio.Event()
    a, b = polls.leadership("a", a_engine), polls.leadership("b", b_engine)
    started = time.monotonic()
    running = [asyncio.ensure_future(a.run(stop))]
    await _until(lambda: a.leader, 5)
    # A fresh store: no previous leader to wait for.
    assert time.monotonic() - started < TAKEOVER
    running.append(asyncio.ensure_future(b.run(stop)))
    await asyncio.sleep(1.0)
    assert a.leader and not b.leader  # the second daemon follows

    assert _kill_lock_connection(outsider) == 1
    killed = time.monotonic()
    await _until(lambda: b.leader, 10)
    took = time.monotonic() - killed
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*running)

    assert not a.leader and not b.leader
    assert polls.overlaps() == [], polls.spans  # never two pollers at once
    a_span = next(s for s in polls.spans if s[0] == "a")
    assert a_span[2] is not None and a_span[2] - killed < 2.0  # a stopped, and promptly
    # b waited for a's last stamp + the delay, not longer than a few checks past it.
    assert TAKEOVER - 0.5 <= took < TAKEOVER + 2.0, took
    assert b.terms == 1 and a.terms == 1  # a asked again but b held the lock


@pytest.mark.postgres
async def test_a_leader_that_dies_is_replaced_and_a_stopped_daemon_hands_over(
    pg_engines: tuple[Engine, Engine, Engine],
) -> None:
    a_engine, b_engine, _ = pg_engines
    polls = Polls()
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    a, b = polls.leadership("a", a_engine), polls.leadership("b", b_engine)
    run_a = asyncio.ensure_future(a.run(stop_a))
    await _until(lambda: a.leader, 5)
    run_b = asyncio.ensure_future(b.run(stop_b))
    await asyncio.sleep(0.5)
    stop_a.set()  # a clean stop: the lock is released with the pollers stopped
    await run_a
    await _until(lambda: b.leader, 10)
    stop_b.set()
    await run_b
    assert polls.overlaps() == []
    assert [s[0] for s in polls.spans] == ["a", "b"]


def test_sqlite_keeps_one_daemon_per_store_and_it_always_leads(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'dondoc.db'}")
    migrate(engine)
    first = StoreLock(engine)
    first.acquire()
    try:
        assert not first.shared
        with pytest.raises(AlreadyRunningError) as refused:
            StoreLock(engine).acquire()
        assert "Một tiến trình dondoc khác đang chạy" in refused.value.message
        leader = LeaderLock(engine)
        assert not leader.fenced and leader.try_acquire() and leader.held()
    finally:
        first.release()
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_lets_several_daemons_run_but_never_next_to_an_old_one(
    pg_engines: tuple[Engine, Engine, Engine],
) -> None:
    from scheduler.lock import STORE_KEY, OldDaemonRunningError

    a_engine, b_engine, outsider = pg_engines
    first, second = StoreLock(a_engine), StoreLock(b_engine)
    first.acquire()
    second.acquire()  # several daemons on one PostgreSQL
    assert first.shared and second.shared
    first.release()
    second.release()
    # A dondoc from before held this key exclusively: a new one does not start next to it.
    with outsider.connect() as old:
        assert old.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": STORE_KEY}).scalar()
        with pytest.raises(OldDaemonRunningError):
            StoreLock(a_engine).acquire()


@pytest.mark.slow
@pytest.mark.postgres
def test_two_real_daemons_poll_telegram_one_at_a_time_across_a_killed_lock_connection(
    tmp_path: Path, postgres_url: str, fake_bot_api: FakeBotApi
) -> None:
    engine = make_engine(postgres_url)
    migrate(engine)

    def env(name: str) -> dict[str, str]:
        return daemon_env(
            tmp_path,
            url=postgres_url,
            smtp_port=1,
            name=name,
            DONDOC_SMTP__HOST="",  # Telegram alone
            DONDOC_TELEGRAM__TOKEN=fake_bot_api.token,
            DONDOC_TELEGRAM__API_URL=fake_bot_api.url,
        )

    leading = "this daemon polls the chat bots"
    a = start_daemon(env("a"), tmp_path, "a")
    daemons = [a]
    try:
        assert wait_for(lambda: leading in a.output(), timeout=30), a.output()
        assert wait_for(lambda: fake_bot_api.get_updates_calls > 0, timeout=10)
        b = start_daemon(env("b"), tmp_path, "b")
        daemons.append(b)
        assert wait_for(lambda: "dondoc bắt đầu" in b.output(), timeout=30), b.output()
        time.sleep(2.0)
        assert leading not in b.output()  # a follower does not poll

        assert _kill_lock_connection(engine) == 1  # the fault
        assert wait_for(lambda: "lost the chat-polling lock" in a.output(), timeout=15)
        polls_then = fake_bot_api.get_updates_calls
        assert wait_for(lambda: leading in b.output(), timeout=45), b.output()
        assert wait_for(lambda: fake_bot_api.get_updates_calls > polls_then + 2, timeout=10)
    finally:
        codes = [d.stop() for d in daemons]
        engine.dispose()
    assert codes == [0, 0], [d.output()[-2000:] for d in daemons]
    assert a.output().count(leading) == 1  # a stopped and did not poll again
    assert fake_bot_api.poll_conflicts == 0  # never two getUpdates open at once
