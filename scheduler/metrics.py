"""Prometheus metrics and the /healthz + /metrics endpoint on a loopback port."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app


class Metrics:
    """One registry per daemon (never the global one), so tests can run several."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.sent = Counter(
            "dondoc_reminders_sent", "Messages delivered", ["channel"], registry=self.registry
        )
        self.failed = Counter(
            "dondoc_reminders_failed",
            "Delivery attempts that failed",
            ["channel", "permanent"],
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "dondoc_outbox_depth", "Messages waiting in the outbox", registry=self.registry
        )
        self.tick_seconds = Histogram(
            "dondoc_tick_duration_seconds", "Duration of one tick", registry=self.registry
        )
        self.last_good_tick = Gauge(
            "dondoc_last_good_tick_timestamp_seconds",
            "Unix time of the last tick that completed",
            registry=self.registry,
        )


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Health probes every few seconds would drown the send log."""


class HealthServer:
    """Serves /healthz (JSON, 503 when the last good tick is too old) and /metrics."""

    def __init__(
        self, *, host: str, port: int, metrics: Metrics, health: Callable[[], dict[str, Any]]
    ) -> None:
        metrics_app = make_wsgi_app(metrics.registry)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if path == "/metrics":
                return metrics_app(environ, start_response)
            if path == "/healthz":
                body = health()
                status = "200 OK" if body.get("ok") else "503 Service Unavailable"
                payload = json.dumps(body, default=_iso).encode()
                start_response(status, [("Content-Type", "application/json")])
                return [payload]
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]

        self._server: WSGIServer = make_server(host, port, app, handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
