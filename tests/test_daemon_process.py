"""The daemon as a real process: signals, a crash and restart, one daemon per store."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from conftest import EXAMPLE_PLAN
from fakes.smtp import SmtpSink

pytest_plugins = ["fakes.fixtures"]
pytestmark = pytest.mark.slow


def _env(tmp_path: Path, sink: SmtpSink, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(
        {
            "DONDOC_DATA_DIR": str(tmp_path / "data"),
            "DONDOC_SMTP__HOST": sink.host,
            "DONDOC_SMTP__PORT": str(sink.port),
            "DONDOC_SMTP__SENDER": "dondoc@tinhmau.example",
            "DONDOC_HTTP_PORT": "0",
            **extra,
        }
    )
    return env


def _dondoc(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dondoc", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _prepared(tmp_path: Path, sink: SmtpSink, **extra: str) -> dict[str, str]:
    env = _env(tmp_path, sink, **extra)
    assert _dondoc(env, "init").returncode == 0
    # Imported as of the simulation's start: nothing is owed before an agency is assigned.
    imported = _dondoc(
        env, "--now", "2022-11-01", "plan", "import", str(EXAMPLE_PLAN), "--plan", "nq131"
    )
    assert imported.returncode == 0, imported.stderr
    return env


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dondoc", "run", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _outbox(tmp_path: Path, where: str = "1=1") -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(tmp_path / "data" / "dondoc.db", timeout=30) as db:
        return db.execute(f"SELECT key, status, provider_id FROM outbox WHERE {where}").fetchall()


def _wait_for(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():  # type: ignore[operator]
                return
        except sqlite3.OperationalError:
            pass  # the table may not exist yet or be busy for a moment
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_a_daemon_killed_mid_run_loses_nothing_and_resends_nothing_sent(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    env = _prepared(tmp_path, smtp_sink)
    window = ("2022-11-01", "2023-02-28")
    first = _start(env, "--simulate", *window, "--speed", "2000000")
    _wait_for(lambda: len(_outbox(tmp_path, "status = 'sent'")) >= 20)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    sent_before = {p for _, _, p in _outbox(tmp_path, "status = 'sent'") if p}
    assert sent_before

    second = _start(env, "--simulate", *window)
    _, err = second.communicate(timeout=180)
    assert second.returncode == 0, err

    rows = _outbox(tmp_path)
    # Nothing lost: every message was sent, or superseded by a later stage before its
    # office hours came ("skipped"), never left pending or failed.
    assert rows and all(status in ("sent", "skipped") for _, status, _ in rows)
    assert any(status == "sent" for _, status, _ in rows)
    # Long Message-IDs are folded onto a continuation line: compare them unfolded.
    received = Counter("".join((m.header("Message-ID") or "").split()) for m in smtp_sink.messages)
    for message_id in sent_before:  # nothing already marked sent went out again
        assert received[message_id] == 1, message_id
    every_sent = {p for _, _, p in rows if p}
    assert every_sent <= set(received)


def test_sigterm_finishes_in_flight_sends_and_exits_cleanly(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    env = _prepared(tmp_path, smtp_sink)
    daemon = _start(env, "--simulate", "2022-11-01", "2023-06-30", "--speed", "1000000")
    _wait_for(lambda: len(_outbox(tmp_path, "status = 'sent'")) >= 5)
    daemon.send_signal(signal.SIGTERM)
    _, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    assert "stopped cleanly" in err
    assert _outbox(tmp_path, "status = 'sending'") == []


def test_a_second_daemon_on_the_same_store_refuses_to_start(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    env = _prepared(tmp_path, smtp_sink, DONDOC_TICK_SECONDS="0.5")
    first = _start(env)
    try:
        _wait_for(lambda: _outbox(tmp_path) is not None and (tmp_path / "data").exists())
        time.sleep(1.0)
        second = _dondoc(env, "run")
        assert second.returncode == 2
        assert "Một tiến trình dondoc khác đang chạy" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert first.returncode == 0


def test_health_and_metrics_are_served_on_loopback(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = _prepared(tmp_path, smtp_sink, DONDOC_TICK_SECONDS="0.5", DONDOC_HTTP_PORT=str(port))
    daemon = _start(env)
    try:

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    return bool(r.status == 200 and json.load(r)["ok"])
            except OSError:
                return False

        _wait_for(healthy, timeout=60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert "dondoc_outbox_depth" in metrics
        assert "dondoc_last_good_tick_timestamp_seconds" in metrics
        status = _dondoc(env, "status", "--json")
        assert status.returncode == 0
        assert json.loads(status.stdout)["daemon"]["pid"] == daemon.pid
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=60)
    assert daemon.returncode == 0
