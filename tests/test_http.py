"""/healthz and /metrics over real HTTP (uvicorn on loopback), and what health means."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from daemon_support import at, make_app
from fakes.smtp import SmtpSink
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from test_delivery_workers import add_contact, notice, statuses

from dondoc.errors import UserError
from scheduler.http import HttpServer, build_http_app
from scheduler.metrics import Metrics
from scheduler.workers import STUCK_AFTER

pytest_plugins = ["fakes.fixtures"]


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def served() -> Iterator[tuple[HttpServer, dict[str, Any]]]:
    state: dict[str, Any] = {"ok": True, "channels": {}}
    metrics = Metrics()
    metrics.outbox_depth.set(7)

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("xin chào")

    web = Starlette(routes=[Route("/hello", hello)])
    app = build_http_app(health=lambda: dict(state), metrics=metrics, mount=web)
    server = HttpServer(app=app, host="127.0.0.1", port=0).start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            get(server.port, "/healthz")
            break
        except OSError:
            time.sleep(0.05)
    yield server, state
    server.stop()


def test_health_answers_while_other_clients_hold_connections_open(
    served: tuple[HttpServer, dict[str, Any]],
) -> None:
    server, _ = served
    idle = socket.create_connection(("127.0.0.1", server.port))  # says nothing at all
    slow = socket.create_connection(("127.0.0.1", server.port))
    slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never ends its request
    try:
        started = time.monotonic()
        status, body = get(server.port, "/healthz")
        assert status == 200 and json.loads(body)["ok"] is True
        assert time.monotonic() - started < 2
        status, metrics = get(server.port, "/metrics")
        assert status == 200 and "dondoc_outbox_depth 7.0" in metrics
    finally:
        idle.close()
        slow.close()


def test_unhealthy_is_503_and_a_mounted_app_serves_the_other_paths(
    served: tuple[HttpServer, dict[str, Any]],
) -> None:
    server, state = served
    state["ok"] = False
    status, body = get(server.port, "/healthz")
    assert status == 503 and json.loads(body)["ok"] is False
    assert get(server.port, "/hello") == (200, "xin chào")


def test_a_port_in_use_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UserError) as caught:
            HttpServer(app=Starlette(), host="127.0.0.1", port=port)
    message = caught.value.message
    assert f"127.0.0.1:{port}" in message and "DONDOC_HTTP_PORT" in message
    assert "\n" not in message


def test_a_busy_worker_is_healthy_and_a_stuck_one_is_not(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    app = make_app(tmp_path, smtp_sink)
    daemon = app.build_daemon()
    daemon.last_good_tick = app.clock.now()
    worker = daemon.workers["email"]
    worker.busy_since = time.monotonic() - 3600  # an hour into a big backlog…
    worker.last_progress = time.monotonic() - 1  # …still sending
    health = daemon.health()
    assert health["ok"] and health["scheduler"]["ok"] and health["channels"]["email"]["busy"]

    worker.last_progress = time.monotonic() - STUCK_AFTER - 1
    health = daemon.health()
    assert not health["ok"] and health["scheduler"]["ok"]
    assert not health["channels"]["email"]["ok"]


async def test_outcomes_the_store_refuses_are_kept_health_is_red_and_nothing_is_resent(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    app = make_app(tmp_path, smtp_sink, start="2022-12-19")
    app.clock.set(at("2022-12-19", 9, 0))  # type: ignore[attr-defined]
    agency = add_contact(app, "so-noi-vu", "email", "so-noi-vu.2@tinhmau.example")
    for n in range(3):
        notice(app, key=f"n{n}", channel="email", agency_id=agency)
    daemon = app.build_daemon()
    daemon.last_good_tick = app.clock.now()
    disk_full = {"on": True}

    def refuse_outcomes(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        writes_outcome = statement.startswith("UPDATE outbox") and "delivered_to" in statement
        if disk_full["on"] and writes_outcome:
            raise sa.exc.OperationalError(statement, {}, Exception("database or disk is full"))

    sa.event.listen(app.engine, "before_cursor_execute", refuse_outcomes)
    await daemon.workers["email"].drain(lambda: False)
    assert len(smtp_sink.messages) == 6  # sent to both addresses…
    assert statuses(app.engine) == {"sending": 3}  # …but not recorded
    health = daemon.health()
    assert not health["ok"] and "không ghi được" in health["channels"]["email"]["error"]

    disk_full["on"] = False
    await daemon.workers["email"].drain(lambda: False)
    await asyncio.sleep(0)
    assert statuses(app.engine) == {"sent": 3}
    assert len(smtp_sink.messages) == 6  # the kept outcomes were written, nothing resent
    assert daemon.health()["ok"]
