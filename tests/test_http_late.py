"""The web app mounted on the daemon's port is built after the first tick: a page asked
for earlier waits for it, /healthz never does, and no web app means 404 as before."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from scheduler.http import HttpServer, LateApp, build_http_app
from scheduler.metrics import Metrics


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _web() -> ASGIApp:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("xin chào")

    return Starlette(routes=[Route("/hello", hello)])


@pytest.fixture
def serve() -> Iterator[list[HttpServer]]:
    servers: list[HttpServer] = []
    yield servers
    for server in servers:
        server.stop()


def _start(servers: list[HttpServer], late: LateApp) -> int:
    app = build_http_app(health=lambda: {"ok": True}, metrics=Metrics(), mount=late)
    server = HttpServer(app=app, host="127.0.0.1", port=0).start()
    servers.append(server)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            get(server.port, "/healthz")
            return server.port
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server did not start")


def test_a_page_asked_for_before_the_web_app_is_built_waits_for_it(
    serve: list[HttpServer],
) -> None:
    late = LateApp(_web)
    port = _start(serve, late)
    assert get(port, "/healthz")[0] == 200  # health answers before the web app exists
    answers: list[tuple[int, str]] = []
    asking = threading.Thread(target=lambda: answers.append(get(port, "/hello")))
    asking.start()
    time.sleep(0.5)
    assert not answers  # still waiting: not a 404, not a 503
    late.build()
    asking.join(10)
    assert answers == [(200, "xin chào")]


def test_no_web_app_answers_404_and_a_failed_build_503(serve: list[HttpServer]) -> None:
    none = LateApp(lambda: None)
    none.build()
    assert get(_start(serve, none), "/hello")[0] == 404

    def broken() -> ASGIApp:
        raise RuntimeError("templates missing")

    failed = LateApp(broken)
    with pytest.raises(RuntimeError):
        failed.build()
    assert get(_start(serve, failed), "/hello")[0] == 503
