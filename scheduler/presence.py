"""A daemon's row in the store (`dondoc status`): published by a heartbeat thread of its
own, so a long tick in the event loop never makes a live daemon look dead, and marked
stopped on a clean exit. A daemon killed outright simply stops beating: `status` shows it
as silent once its heartbeat is older than its `stale_after`, and forgets it a day later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dondoc.daemon_state import Presence, mark_stopped, publish_presence
from dondoc.store import session_scope

log = logging.getLogger("dondoc.daemon")


class Heartbeat:
    """Publishes `detail()` every `every` seconds from a thread, until `stop()`."""

    def __init__(
        self,
        *,
        engine: Engine,
        presence: Presence,
        detail: Callable[[], dict[str, Any]],
        every: float,
    ) -> None:
        self.engine = engine
        self.presence = presence
        self.detail = detail
        self.every = every
        self.error: str | None = None  # the last failed beat's, shown in /healthz
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> bool:
        try:
            with session_scope(self.engine) as session:
                publish_presence(session, self.presence, self.detail())
        except sa.exc.SQLAlchemyError as exc:
            # The store is down: the tick turns /healthz red; this only stops `status`
            # seeing the daemon, which is then shown as silent.
            self.error = exc.__class__.__name__
            log.warning("publishing this daemon's status failed: %s", self.error)
            return False
        self.error = None
        return True

    def start(self) -> Heartbeat:
        self.beat()
        self._thread = threading.Thread(target=self._run, name="dondoc-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.beat()
            except Exception as exc:  # a bug here must not silence the daemon for good
                self.error = exc.__class__.__name__
                log.exception("publishing this daemon's status failed")

    def stop(self) -> None:
        """Stop beating and mark the row stopped (a clean exit)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        stop_presence(self.engine, self.presence)


def stop_presence(engine: Engine, presence: Presence) -> None:
    try:
        with session_scope(engine) as session:
            mark_stopped(session, presence.instance)
    except sa.exc.SQLAlchemyError as exc:  # the row then goes silent, which is also true
        log.warning("marking this daemon stopped failed: %s", exc.__class__.__name__)
