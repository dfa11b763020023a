"""Next week's forecast on the overview, kept until the store or the rule config changes.

The forecast is a preview of the config in force over every assignment due by the end of
next week: on a large store that is seconds of simulation, while the overview is opened
many times a day and the answer changes only when something is written. The key is what
a write moves (the newest audit entry, message, assignment; the contacts), so an answer,
an import, a sent reminder or a linked chat all start a new forecast.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Hashable
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session

from dondoc.models import Assignment, AuditEntry, Contact, OutboxMessage

Counts = Counter[tuple[str, str]]  # (template, channel) → messages


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


class ForecastCache:
    """The latest forecast only: one key, replaced when the key moves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: Hashable | None = None
        self._counts: Counts = Counter()

    def get(
        self, session: Session, *, config: object, monday: date, compute: Callable[[], Counts]
    ) -> Counts:
        key = (id(config), monday, store_version(session))
        with self._lock:
            if key == self._key:
                return self._counts
        # Computed outside the lock: two first views may both compute, neither waits.
        counts = compute()
        with self._lock:
            self._key, self._counts = key, counts
        return counts
