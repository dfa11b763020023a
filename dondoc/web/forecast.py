"""Next week's forecast on the overview, kept until the store or the rule config changes.

The forecast is a preview of the config in force over every assignment due by the end of
next week: on a large store that is seconds of simulation, while the overview is opened
many times a day and the answer changes only when something is written. The key is what
a write moves (the newest audit entry, message, assignment; the contacts), so an answer,
an import, a sent reminder or a linked chat all start a new forecast.

After a write the office is not made to wait for it: the overview shows the forecast it
has, says when that was computed, and a background thread computes the new one (stale
while revalidate). Only the first view for a config and week computes while it waits.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dondoc.clock import Clock
from dondoc.models import Assignment, AuditEntry, Contact, OutboxMessage

log = logging.getLogger(__name__)

Counts = Counter[tuple[str, str]]  # (template, channel) → messages
Compute = Callable[[Session], Counts]


def store_version(session: Session) -> tuple[int, ...]:
    """Moves whenever something the forecast reads is written."""
    tables = [t.__table__ for t in (AuditEntry, OutboxMessage, Assignment)]  # type: ignore[union-attr]
    contact = Contact.__table__  # type: ignore[attr-defined]
    query = sa.select(
        *(sa.select(sa.func.max(t.c.id)).scalar_subquery() for t in tables),
        sa.select(sa.func.count()).where(contact.c.active).scalar_subquery(),
        sa.select(sa.func.max(contact.c.id)).scalar_subquery(),
    )
    row = session.connection().execute(query).one()
    return tuple(int(v or 0) for v in row)


@dataclass(frozen=True)
class Forecast:
    counts: Counts
    computed_at: datetime
    # True while a newer forecast is being computed: the page says these are older figures.
    updating: bool = False


class ForecastCache:
    """The latest forecast only, replaced in the background when the store moves."""

    def __init__(self, *, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._lock = threading.Lock()
        self._key: Hashable | None = None
        self._found: Forecast | None = None
        self._refresh: threading.Thread | None = None

    def get(self, session: Session, *, config: object, monday: date, compute: Compute) -> Forecast:
        scope = (id(config), monday)
        key = (scope, store_version(session))
        with self._lock:
            found, current = self._found, self._key
            if found is not None and key == current:
                return found
            reusable = found is not None and isinstance(current, tuple) and current[0] == scope
            if reusable and found is not None:
                if self._refresh is None:
                    self._refresh = threading.Thread(
                        target=self._recompute,
                        args=(key, compute),
                        daemon=True,
                        name="dondoc-forecast",
                    )
                    self._refresh.start()
                return Forecast(found.counts, found.computed_at, updating=True)
        # Nothing for this config and week yet: computed outside the lock, so two first
        # views may both compute and neither waits for the other.
        fresh = Forecast(compute(session), self._clock.now())
        with self._lock:
            self._key, self._found = key, fresh
        return fresh

    def wait(self, timeout: float | None = None) -> None:
        """Block until a background refresh, if any, has finished (for `dondoc web` tests
        and for a clean shutdown)."""
        with self._lock:
            refresh = self._refresh
        if refresh is not None:
            refresh.join(timeout)

    def _recompute(self, key: Hashable, compute: Compute) -> None:
        try:
            with Session(self._engine) as session:
                counts = compute(session)
        except Exception:
            # Not only logged: the next view computes in its request again, so the error
            # reaches the office as any failed page does instead of staying in a thread.
            log.warning("the forecast could not be refreshed in the background", exc_info=True)
            with self._lock:
                self._key, self._found, self._refresh = None, None, None
            return
        with self._lock:
            self._key, self._found = key, Forecast(counts, self._clock.now())
            self._refresh = None
