"""`dondoc status` with one row per daemon: live daemons are listed with their heartbeat,
silent ones are shown as silent, a clean exit as stopped, and long-gone ones are pruned.

The rows on both backends; a real daemon on SQLite, probed on /healthz and listed by the
real CLI while it runs and after it stops. Several daemons on PostgreSQL, with their chat
roles and a killed leader, are in tests/test_multi_daemon_zalo.py.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from multi_daemon_support import daemon_env, seed, start_daemon, wait_for
from sqlalchemy.engine import Engine
from test_multi_daemon_zalo import daemons_by_pid, status

from dondoc.daemon_state import (
    PRUNE_AFTER,
    Presence,
    database_now,
    list_daemons,
    mark_stopped,
    publish_presence,
    stale_after,
)
from dondoc.models import DaemonInstance
from dondoc.store import session_scope

STARTED = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def _presence(name: str, pid: int) -> Presence:
    return Presence(
        instance=f"{name}:{pid}:abcd1234", host=name, pid=pid, started_at=STARTED,
        stale_after=stale_after(60),
    )  # fmt: skip


def _age(engine: Engine, instance: str, seconds: float) -> None:
    """As if the daemon's last heartbeat were `seconds` ago."""
    table = DaemonInstance.__table__  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        then = database_now(session) - timedelta(seconds=seconds)
        session.execute(sa.update(table).where(table.c.id == instance).values(heartbeat_at=then))


def test_each_daemon_has_its_row_a_silent_one_is_stale_and_old_ones_are_pruned(
    engine: Engine,
) -> None:
    web1, web2, web3 = _presence("web-1", 101), _presence("web-2", 202), _presence("web-3", 303)
    assert stale_after(60) == 50.0 and stale_after(1) == 8.0  # 3 heartbeats and a margin
    with session_scope(engine) as session:
        for presence, role in ((web1, "leader"), (web2, "follower"), (web3, "follower")):
            publish_presence(session, presence, {"role": role, "last_good_tick": None})
    with session_scope(engine) as session:
        views = list_daemons(session)
    assert [(v.host, v.state, v.detail["role"]) for v in views] == [
        ("web-1", "running", "leader"), ("web-2", "running", "follower"),
        ("web-3", "running", "follower"),
    ]  # fmt: skip

    _age(engine, web2.instance, 51)  # past its 50 s
    with session_scope(engine) as session:
        assert mark_stopped(session, web3.instance)
    with session_scope(engine) as session:
        states = {v.host: (v.state, v.silent_seconds) for v in list_daemons(session)}
    assert states["web-1"][0] == "running"
    assert states["web-2"][0] == "stale" and states["web-2"][1] >= 51
    assert states["web-3"][0] == "stopped"

    # A silent daemon that beats again is live again; a day of silence is forgotten.
    _age(engine, web3.instance, PRUNE_AFTER.total_seconds() + 60)
    with session_scope(engine) as session:
        publish_presence(session, web2, {"role": "leader"})
    with session_scope(engine) as session:
        states = {v.host: (v.state, v.detail["role"]) for v in list_daemons(session)}
    assert states == {"web-1": ("running", "leader"), "web-2": ("running", "leader")}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_daemon_on_sqlite_is_listed_with_its_workers_and_stopped_after_a_clean_exit(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'dondoc.db'}"
    seed(url, count=2)  # two due email reminders, to a server that refuses them
    port = _free_port()
    env = daemon_env(tmp_path, url=url, smtp_port=1, name="a", DONDOC_HTTP_PORT=str(port))
    daemon = start_daemon(env, tmp_path, "a")
    pid = daemon.process.pid
    try:

        def healthz() -> dict[str, object] | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    return dict(json.load(r))
            except OSError:
                return None

        assert wait_for(lambda: healthz() is not None, timeout=60), daemon.output()
        assert wait_for(
            lambda: bool(daemons_by_pid(env).get(pid, {}).get("last_good_tick")), timeout=60
        ), daemon.output()
        row = daemons_by_pid(env)[pid]
        assert row["state"] == "running" and row["role"] is None  # no chat bot here
        assert set(row["channels"]) == {"email", "webhook"}
        assert row["host"] == socket.gethostname() and row["silent_seconds"] < row["stale_after"]
        shown = status(env)
        assert shown.returncode == 0, shown.stderr
        assert "Daemon: 1 đang chạy, 0 im lặng, 0 đã dừng." in shown.stdout, shown.stdout
        assert f"PID {pid}: đang chạy" in shown.stdout
        assert "Kênh: email: " in shown.stdout and "Nhịp tốt gần nhất: " in shown.stdout
        assert "Tồn đọng theo kênh: email " in shown.stdout  # the refused reminders wait
    finally:
        code = daemon.stop()
    assert code == 0, daemon.output()[-3000:]
    row = daemons_by_pid(env)[pid]
    assert row["state"] == "stopped" and row["stopped_at"] is not None
    stopped = status(env, "--lang", "en").stdout
    assert (
        f"PID {pid}: stopped at " in stopped
        and "Daemons: 0 running, 0 silent, 1 stopped." in stopped
    )
    assert "Queue: " in stopped and "Hàng đợi" not in stopped  # English throughout
