"""The daemon as a real process: signals, a crash and restart, one daemon per store."""

from __future__ import annotations

import email
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


def _message_id(raw: bytes) -> str:
    # Long Message-IDs are folded onto a continuation line: compare them unfolded.
    return "".join(str(email.message_from_bytes(raw)["Message-ID"] or "").split())


def test_sigterm_finishes_in_flight_sends_and_exits_cleanly(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    env = _prepared(tmp_path, smtp_sink)
    smtp_sink.answer_delay = 1.0  # every send is in flight for a second
    daemon = _start(env, "--simulate", "2022-11-01", "2023-06-30", "--speed", "1000000")
    _wait_for(lambda: len(_outbox(tmp_path, "status = 'sent'")) >= 5)
    _wait_for(lambda: len(smtp_sink.started) > len(smtp_sink.messages))
    daemon.send_signal(signal.SIGTERM)
    in_flight = {_message_id(raw) for raw in list(smtp_sink.started)} - {
        _message_id(m.raw) for m in list(smtp_sink.messages)
    }
    _, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    assert "stopped cleanly" in err
    assert _outbox(tmp_path, "status = 'sending'") == []

    received = Counter(_message_id(m.raw) for m in smtp_sink.messages)
    assert in_flight and in_flight <= set(received)  # finished, not released unsent
    sent = {p for _, _, p in _outbox(tmp_path, "status = 'sent'")}
    assert in_flight <= sent
    assert max(received.values()) == 1 and set(received) == sent


def test_sigterm_stops_sends_that_outlast_the_grace_and_returns_them(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    env = _prepared(tmp_path, smtp_sink, DONDOC_SHUTDOWN_GRACE="0.5")
    smtp_sink.answer_delay = 30.0  # a server that hangs
    daemon = _start(env, "--simulate", "2022-11-01", "2023-06-30", "--speed", "1000000")
    _wait_for(lambda: len(smtp_sink.started) >= 1)
    started = time.monotonic()
    daemon.send_signal(signal.SIGTERM)
    _, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    assert time.monotonic() - started < 10
    assert _outbox(tmp_path, "status = 'sending'") == []
    assert _outbox(tmp_path, "status = 'pending'")  # returned, to be sent by the next run
    assert smtp_sink.messages == []


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


def test_a_busy_http_port_is_one_line_and_a_rehearsal_still_runs(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    import socket

    with socket.socket() as taken:  # as if a real daemon were serving its /healthz
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _prepared(tmp_path, smtp_sink, DONDOC_HTTP_PORT=str(port))
        refused = _dondoc(env, "run")
        assert refused.returncode == 2
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1, refused.stderr
        assert f"127.0.0.1:{port}" in lines[0] and "DONDOC_HTTP_PORT" in lines[0]
        rehearsal = _dondoc(env, "run", "--simulate", "2022-11-01", "2022-12-31")
        assert rehearsal.returncode == 0, rehearsal.stderr
    assert _outbox(tmp_path, "status = 'sent'")


def _always_open_rules(tmp_path: Path) -> Path:
    """The bundled rules with the office open all day today and tomorrow, so the real
    daemon on the wall clock has work to deliver whenever the test runs."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    days = f"[{today.isoformat()}, {(today + timedelta(days=1)).isoformat()}]"
    text = (Path(__file__).parent.parent / "config" / "rules.yaml").read_text(encoding="utf-8")
    text = text.replace('office_hours: "07:30-17:00"', 'office_hours: "00:00-23:59"')
    text = text.replace("working_days: []", f"working_days: {days}")
    rules = tmp_path / "rules.yaml"
    rules.write_text(text, encoding="utf-8")
    return rules


def test_the_real_daemon_delivers_stays_healthy_while_busy_and_stops_cleanly(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = _prepared(
        tmp_path,
        smtp_sink,
        DONDOC_RULES_FILE=str(_always_open_rules(tmp_path)),
        DONDOC_TICK_SECONDS="1",
        DONDOC_HTTP_PORT=str(port),
    )
    smtp_sink.answer_delay = 0.3  # a backlog that takes a while
    daemon = _start(env)
    try:
        _wait_for(lambda: len(_outbox(tmp_path, "status = 'sent'")) >= 3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            health = json.load(response)
        assert response.status == 200 and health["channels"]["email"]["ok"]
        # The office's web app answers on the same port while the daemon is busy.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
            page = response.read().decode()
        assert response.status == 200 and "Đăng nhập" in page
        _wait_for(lambda: len(smtp_sink.started) > len(smtp_sink.messages))
    finally:
        daemon.send_signal(signal.SIGTERM)
        in_flight = {_message_id(raw) for raw in list(smtp_sink.started)} - {
            _message_id(m.raw) for m in list(smtp_sink.messages)
        }
        _, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    assert _outbox(tmp_path, "status = 'sending'") == []
    received = Counter(_message_id(m.raw) for m in smtp_sink.messages)
    assert in_flight and in_flight <= set(received)
    assert max(received.values()) == 1
    assert set(received) == {p for _, _, p in _outbox(tmp_path, "status = 'sent'")}
