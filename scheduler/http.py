"""The daemon's HTTP side: /healthz and /metrics, served by uvicorn from a small ASGI app.

uvicorn serves many connections at once with timeouts, so an idle or slow client never
blocks a health probe. The server runs on its own thread and event loop: a long tick in
the daemon's loop must not make the daemon look dead. Another ASGI app (the web app) can
be mounted under the same server with `build_http_app(mount=...)`.
"""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from dondoc.errors import UserError
from scheduler.metrics import Metrics

# An HTTP/1.1 client that keeps a connection open and idle is let go after this long.
KEEP_ALIVE_SECONDS = 5
# A page asked for while the daemon starts waits this long for the web app to be built.
LATE_APP_WAIT = 60.0


class PortUnavailableError(UserError):
    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(
            f"Không mở được cổng HTTP {host}:{port} cho /healthz và /metrics ({reason}); "
            "đặt DONDOC_HTTP_PORT sang cổng khác, hoặc 0 để tắt."
        )
        self.port = port


def build_http_app(
    *,
    health: Callable[[], dict[str, Any]],
    metrics: Metrics,
    mount: ASGIApp | None = None,
) -> Starlette:
    """/healthz (JSON, 503 unless every part is healthy) and /metrics (Prometheus);
    `mount` serves every other path."""

    async def healthz(request: Request) -> Response:
        body = health()
        return Response(
            json.dumps(body, default=_iso, ensure_ascii=False),
            status_code=200 if body.get("ok") else 503,
            media_type="application/json",
        )

    async def prometheus(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/metrics", prometheus, methods=["GET"]),
    ]
    if mount is not None:
        routes.append(Mount("/", app=mount))
    return Starlette(routes=routes)


class LateApp:
    """An ASGI app built once the daemon's first tick is done, not before it: importing
    and building the web app (FastAPI, the API's models) takes a second or more, which
    the first tick and /healthz need not wait for. A request that comes earlier waits
    for it; `build` returning None (no web app configured) answers 404, as no mount does.
    """

    def __init__(self, build: Callable[[], ASGIApp | None]) -> None:
        self._build = build
        self._app: ASGIApp | None = None
        self._failed = False
        self._ready = threading.Event()  # set from the daemon's loop, read from uvicorn's

    def build(self) -> None:
        try:
            self._app = self._build()
        except BaseException:
            self._failed = True  # raised on: the daemon stops, as a failed start did
            raise
        finally:
            self._ready.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        deadline = time.monotonic() + LATE_APP_WAIT
        while not self._ready.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self._app is not None:
            await self._app(scope, receive, send)
            return
        status = 404 if self._ready.is_set() and not self._failed else 503
        await Response("Not Found" if status == 404 else "Starting", status_code=status)(
            scope, receive, send
        )


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, or one clear line when the port cannot be had."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise PortUnavailableError(host, port, f"địa chỉ không dùng được: {exc.strerror}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            reason = "cổng đang được một tiến trình khác dùng"
        elif exc.errno == errno.EACCES:
            reason = "không có quyền dùng cổng này"
        else:
            reason = exc.strerror or str(exc)
        raise PortUnavailableError(host, port, reason) from None
    sock.setblocking(False)
    return sock


class HttpServer:
    """uvicorn on an already bound socket, in a thread of its own."""

    def __init__(self, *, app: ASGIApp, host: str, port: int) -> None:
        self._socket = bind(host, port)
        config = uvicorn.Config(
            app,
            lifespan="off",
            access_log=False,  # probes every few seconds would drown the send log
            log_level="warning",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="dondoc-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def _serve(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(5)
        self._socket.close()


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
