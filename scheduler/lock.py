"""One daemon per store. The lock dies with its holder, so a SIGKILL never wedges a restart.

SQLite: an OS file lock next to the database file. PostgreSQL: a session advisory lock on
a connection held open for the daemon's lifetime.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from filelock import FileLock, Timeout
from sqlalchemy.engine import Engine

from dondoc.errors import UserError


class AlreadyRunningError(UserError):
    def __init__(self, where: str) -> None:
        super().__init__(
            f"Một tiến trình dondoc khác đang chạy với cơ sở dữ liệu này ({where}). "
            "Mỗi cơ sở dữ liệu chỉ chạy một daemon; hãy dừng tiến trình kia trước."
        )


class StoreLock:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._file_lock: FileLock | None = None
        self._connection: sa.Connection | None = None

    def _key(self) -> int:
        # Stable per database; advisory locks take a signed 64-bit key.
        return zlib.crc32(b"dondoc-daemon")

    def acquire(self) -> None:
        url = self._engine.url
        if url.get_backend_name() == "sqlite":
            path = Path(url.database or "dondoc.db").resolve()
            self._file_lock = FileLock(str(path) + ".lock", timeout=0)
            try:
                self._file_lock.acquire()
            except Timeout:
                self._file_lock = None
                raise AlreadyRunningError(str(path)) from None
            return
        connection = self._engine.connect()
        got = connection.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key()})
        if not got.scalar():
            connection.close()
            raise AlreadyRunningError(url.render_as_string(hide_password=True))
        connection.commit()
        self._connection = connection

    def release(self) -> None:
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None
        if self._connection is not None:
            self._connection.close()  # closing the session frees the advisory lock
            self._connection = None

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
