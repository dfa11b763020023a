"""Who may run on a store, and which daemon polls the chats.

SQLite: one daemon per store, an OS file lock next to the database file. It dies with its
holder, so a SIGKILL never wedges a restart.

PostgreSQL: any number of daemons share one database. The work is shared through the
store itself (evaluation and delivery claim rows with `FOR UPDATE SKIP LOCKED` and a
lease, reports are claimed once), so no daemon needs to be the only one. Each daemon holds
a *shared* advisory lock for its lifetime: a dondoc from before several daemons were
allowed takes the same key *exclusively*, so old and new never run side by side. The chat
bots' polling is the one thing a single daemon must do: `LeaderLock` elects it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import zlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from filelock import FileLock, Timeout
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine

from dondoc.errors import UserError
from dondoc.models import DaemonState

log = logging.getLogger("dondoc.daemon")

# Advisory lock keys: stable per database; PostgreSQL takes a signed 64-bit key.
STORE_KEY = zlib.crc32(b"dondoc-daemon")
LEADER_KEY = zlib.crc32(b"dondoc-chat-pollers")
HEARTBEAT = "chat_leader"  # the DaemonState row the leader stamps at every check


class AlreadyRunningError(UserError):
    def __init__(self, where: str) -> None:
        super().__init__(
            f"Một tiến trình dondoc khác đang chạy với cơ sở dữ liệu này ({where}). "
            "Mỗi cơ sở dữ liệu SQLite chỉ chạy một daemon; hãy dừng tiến trình kia trước, "
            "hoặc dùng PostgreSQL để chạy nhiều daemon."
        )


class OldDaemonRunningError(UserError):
    def __init__(self, where: str) -> None:
        super().__init__(
            f"Một daemon dondoc phiên bản cũ (chỉ cho phép một daemon) đang chạy với cơ sở "
            f"dữ liệu này ({where}); hãy dừng nó trước khi chạy phiên bản mới."
        )


def _dedicated(engine: Engine) -> sa.Connection:
    """A connection of its own, never handed back to the pool: a session-level advisory
    lock lives exactly as long as it."""
    connection = engine.connect()
    connection.detach()
    return connection


class StoreLock:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._file_lock: FileLock | None = None
        self._connection: sa.Connection | None = None

    @property
    def shared(self) -> bool:
        """Whether other daemons may run on this store next to this one."""
        return self._engine.url.get_backend_name() != "sqlite"

    def acquire(self) -> None:
        url = self._engine.url
        if not self.shared:
            path = Path(url.database or "dondoc.db").resolve()
            self._file_lock = FileLock(str(path) + ".lock", timeout=0)
            try:
                self._file_lock.acquire()
            except Timeout:
                self._file_lock = None
                raise AlreadyRunningError(str(path)) from None
            return
        connection = _dedicated(self._engine)
        got = connection.execute(
            sa.text("SELECT pg_try_advisory_lock_shared(:k)"), {"k": STORE_KEY}
        ).scalar()
        connection.commit()
        if not got:
            connection.close()
            raise OldDaemonRunningError(url.render_as_string(hide_password=True))
        self._connection = connection

    def release(self) -> None:
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None
        if self._connection is not None:
            # Closing the session frees the advisory lock; one already gone holds nothing.
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self._connection.close()
            self._connection = None

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


class LeaderLock:
    """The right to poll the chat bots: a session advisory lock on a connection of its own.

    PostgreSQL frees the lock the moment that connection ends (the daemon died, or the
    connection was killed), and another daemon may take it. Losing it is only learnt by
    asking (`held`), so a leader asks often and a new leader waits, before it polls, longer
    than the old one can take to notice and stop (see scheduler/leader.py). On SQLite the
    store lock already makes this daemon the only one: it always leads, at once.
    """

    def __init__(self, engine: Engine, *, key: int = LEADER_KEY) -> None:
        self._engine = engine
        self._key = key
        self._connection: sa.Connection | None = None

    @property
    def fenced(self) -> bool:
        """Whether a new leader must wait for an old one to stop (several daemons)."""
        return self._engine.url.get_backend_name() != "sqlite"

    def try_acquire(self) -> bool:
        """Take the lock unless another daemon holds it; blocking (run it in a thread)."""
        if not self.fenced:
            return True
        self.release()
        connection = _dedicated(self._engine)
        try:
            got = bool(
                connection.execute(
                    sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}
                ).scalar()
            )
            connection.commit()
        except BaseException:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def held(self) -> bool:
        """Whether this daemon still holds the lock: its connection answers and the server
        lists the lock as this session's. When it does, the moment is stamped in the store
        (the database's own clock) for `takeover_wait`. Blocking; any failure means no."""
        if not self.fenced:
            return True
        connection = self._connection
        if connection is None:
            return False
        try:
            found = connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND granted "
                    "AND classid = 0 AND objid = :k AND objsubid = 1"
                ),
                {"k": self._key},
            ).scalar()
            if found:
                connection.execute(_heartbeat())
            connection.commit()
        except sa.exc.SQLAlchemyError as exc:
            log.warning("the leader lock's connection failed: %s", exc.__class__.__name__)
            return False
        return bool(found)

    def takeover_wait(self, delay: float) -> float:
        """Seconds a new leader still waits: until `delay` after the last moment a leader
        knew it held the lock (0 on a store no leader ever polled, or long ago)."""
        if not self.fenced or self._connection is None:
            return 0.0
        since = self._connection.execute(
            sa.text(
                "SELECT extract(epoch FROM now() - updated_at) FROM daemonstate WHERE key = :k"
            ),
            {"k": HEARTBEAT},
        ).scalar()
        self._connection.commit()
        return 0.0 if since is None else max(0.0, delay - float(since))

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        # The session ends, and the lock with it; one already gone holds nothing.
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            connection.close()


def _heartbeat() -> Any:
    table = DaemonState.__table__  # type: ignore[attr-defined]
    values = {"key": HEARTBEAT, "value": {"pid": os.getpid()}, "updated_at": sa.func.now()}
    statement = pg_insert(table).values(**values)
    return statement.on_conflict_do_update(
        index_elements=["key"],
        set_={"value": statement.excluded.value, "updated_at": sa.func.now()},
    )
