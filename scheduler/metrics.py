"""Prometheus metrics of one daemon; scheduler/http.py serves them."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
