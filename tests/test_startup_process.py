"""`dondoc run` as a real process on a store of 20k assignments whose rules changed: the
first good tick comes after one batch of the re-evaluation, not after all of it, and
/healthz stays 200 while the rest goes on in the background until every assignment has
been evaluated again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bench.startup_store import build
from dondoc.daemon_state import put_state
from dondoc.models import Assignment
from dondoc.store import make_engine, session_scope
from scheduler import reevaluation

pytestmark = pytest.mark.slow

STORE = 20_000
PARKED = datetime(2031, 1, 1, tzinfo=UTC)  # no evaluation computes it: it stays if unseen


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _health(port: int) -> tuple[int, dict[str, Any]]:
    try:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")
    except OSError:
        return 0, {}


def _parked(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            table = Assignment.__table__  # type: ignore[attr-defined]
            query = sa.select(sa.func.count()).where(table.c.next_due_at == PARKED)
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def test_a_rules_change_at_start_is_applied_in_the_background_behind_a_healthy_daemon(
    tmp_path: Path, store_url: str
) -> None:
    now = datetime.now(UTC)
    data = tmp_path / "data"
    build(store_url, assignments=STORE, data_dir=data, now=now)
    engine = make_engine(store_url)
    with session_scope(engine) as session:
        session.execute(sa.update(Assignment).values(next_due_at=PARKED))
        # Computed under other rules: the daemon must evaluate every assignment again.
        value = {"version": "older rules", "after_id": STORE, "done": True}
        put_state(session, reevaluation.STATE_KEY, value, now=now)
    engine.dispose()
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(
        DONDOC_DATA_DIR=str(data),
        DONDOC_DATABASE_URL=store_url,
        DONDOC_HTTP_HOST="127.0.0.1",
        DONDOC_HTTP_PORT=str(port),
    )
    daemon = subprocess.Popen(
        [sys.executable, "-m", "dondoc", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        status, body = _health(port)
        while status != 200 and time.monotonic() < deadline and daemon.poll() is None:
            time.sleep(0.05)
            status, body = _health(port)
        assert status == 200, body
        # Healthy after one batch: the pass is under way, most of the store not reached.
        under_way = body["scheduler"]["reevaluating_after_id"]
        assert under_way is not None and under_way < STORE
        assert _parked(store_url) > STORE // 2
        # The web app, built after the first tick, answers on the same port.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=60) as page:
            assert page.status == 200 and "Đăng nhập" in page.read().decode()
        probes = []
        while _parked(store_url) and time.monotonic() < deadline + 300:
            probes.append(_health(port)[0])
            time.sleep(0.2)
        assert _parked(store_url) == 0  # every assignment evaluated under the new rules
        assert probes and set(probes) == {200}  # healthy all the while
        status, body = _health(port)
        for _ in range(100):  # the last batch's step publishes that the pass is over
            if body["scheduler"]["reevaluating_after_id"] is None:
                break
            time.sleep(0.1)
            status, body = _health(port)
        assert status == 200 and body["scheduler"]["reevaluating_after_id"] is None
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    assert "the rules changed: every assignment is evaluated again, in batches" in err
