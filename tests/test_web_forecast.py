"""The overview's forecast cache on a real SQLite store: reused until a write, then shown
as it was while a background refresh runs, and never left broken by a failed refresh."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from dondoc.clock import ManualClock
from dondoc.models import AuditEntry
from dondoc.store import make_engine, migrate, session_scope
from dondoc.web.forecast import Counts, ForecastCache

NOW = datetime(2023, 1, 4, 2, 0, tzinfo=UTC)
MONDAY = date(2023, 1, 9)


class Counting:
    """A compute function that counts its calls and can be told to fail."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    def __call__(self, session: Session) -> Counts:
        self.calls += 1
        if self.fail:
            raise RuntimeError("the preview failed")
        return Counter({("overdue", "email"): self.calls})


def _write(engine: object) -> None:
    with session_scope(engine) as session:  # type: ignore[arg-type]
        session.add(AuditEntry(at=NOW, actor="t", action="t.write"))


def test_a_failed_background_refresh_is_computed_again_by_the_next_view(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    cache = ForecastCache(engine=engine, clock=ManualClock(NOW))
    compute, config = Counting(), object()
    try:
        with Session(engine) as session:
            first = cache.get(session, config=config, monday=MONDAY, compute=compute)
            again = cache.get(session, config=config, monday=MONDAY, compute=compute)
        assert (first.counts, first.updating, again is first) == (
            Counter({("overdue", "email"): 1}),
            False,
            True,
        )
        _write(engine)
        compute.fail = True
        with Session(engine) as session:
            stale = cache.get(session, config=config, monday=MONDAY, compute=compute)
        cache.wait(timeout=30)
        assert stale.updating and stale.counts == first.counts and compute.calls == 2
        # The refresh failed: the next view computes in its own request and sees the error.
        with Session(engine) as session, pytest.raises(RuntimeError, match="preview failed"):
            cache.get(session, config=config, monday=MONDAY, compute=compute)
        compute.fail = False
        with Session(engine) as session:
            fresh = cache.get(session, config=config, monday=MONDAY, compute=compute)
        assert not fresh.updating and fresh.counts == Counter({("overdue", "email"): 4})
    finally:
        engine.dispose()


def test_another_config_or_week_is_computed_in_the_request_not_shown_stale(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    cache = ForecastCache(engine=engine, clock=ManualClock(NOW))
    compute = Counting()
    try:
        with Session(engine) as session:
            cache.get(session, config="a", monday=MONDAY, compute=compute)
            other_week = cache.get(session, config="a", monday=date(2023, 1, 16), compute=compute)
            other_config = cache.get(session, config="b", monday=MONDAY, compute=compute)
        assert not other_week.updating and not other_config.updating
        assert compute.calls == 3
    finally:
        engine.dispose()
