"""Re-evaluating every assignment after the rules changed, in batches, never all at once.

Each assignment's `next_due_at` was computed under some version of the rules (the rule
file's digest and dondoc's version). While that version is still in force, start-up
evaluates only what is due. When it changes (an edit, an upgrade, a first start), the
assignments are made due again batch by batch, in id order behind a cursor kept in the
store, so the first tick after a start is quick, delivery and health are not held back,
and a restart in the middle picks up where the last run stopped.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from dondoc.daemon_state import put_state
from dondoc.models import Assignment, DaemonState
from dondoc.store import session_scope

STATE_KEY = "reevaluation"
# About a second of evaluation: the event loop (sends, health) is never held long.
BATCH = 1000


def rules_digest(path: Path) -> str:
    """The digest of the rule file's bytes; "" when it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def rules_version(digest: str) -> str:
    """The version every `next_due_at` is computed under: the rules and dondoc itself
    (an upgrade may evaluate the same rules differently)."""
    try:
        dondoc = importlib.metadata.version("dondoc")
    except importlib.metadata.PackageNotFoundError:
        dondoc = "unknown"
    return f"{digest}:{dondoc}"


@dataclass(frozen=True)
class Progress:
    version: str
    after_id: int  # assignments up to this id are evaluated under `version`
    done: bool


def progress(engine: Engine) -> Progress | None:
    with session_scope(engine) as session:
        state = session.get(DaemonState, STATE_KEY)
        if state is None:
            return None
        value = state.value
        return Progress(str(value["version"]), int(value["after_id"]), bool(value["done"]))


def _save(engine: Engine, found: Progress, now: datetime) -> None:
    value = {"version": found.version, "after_id": found.after_id, "done": found.done}
    with session_scope(engine) as session:  # an upsert: daemons may start side by side
        put_state(session, STATE_KEY, value, now=now)


def require(engine: Engine, *, version: str, now: datetime) -> bool:
    """Ask for every assignment to be evaluated under `version` unless it already is (or
    is being); True when a new pass starts."""
    current = progress(engine)
    if current is not None and current.version == version:
        return False
    _save(engine, Progress(version, 0, False), now)
    return True


def advance(engine: Engine, *, now: datetime, batch: int | None = None) -> int:
    """Make the next batch of assignments due now; the number made due (0 when done)."""
    batch = batch or BATCH
    current = progress(engine)
    if current is None or current.done:
        return 0
    with session_scope(engine) as session:
        ids = list(
            session.exec(
                select(Assignment.id)
                .where(col(Assignment.id) > current.after_id, col(Assignment.active))
                .order_by(col(Assignment.id))
                .limit(batch)
            ).all()
        )
        if ids:
            session.execute(
                sa.update(Assignment).where(col(Assignment.id).in_(ids)).values(next_due_at=now)
            )
    last = ids[-1] if ids else current.after_id
    _save(engine, Progress(current.version, last or 0, len(ids) < batch), now)
    return len(ids)


def pending(engine: Engine) -> bool:
    current = progress(engine)
    return current is not None and not current.done
