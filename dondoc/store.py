"""Engine, sessions and migrations. The engine is built by the caller and passed down."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dondoc.errors import UserError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration. Every command checks the store against it first with one query,
# and loads alembic (a third of the CLI's start-up) only when the store says otherwise.
# tests/test_migrations.py checks that it is alembic's head: a new migration updates it.
SCHEMA_HEAD = "0012"
SQLITE_BUSY_TIMEOUT_MS = 15_000


_URL_EXAMPLES = "sqlite:////var/lib/dondoc/dondoc.db hoặc postgresql://user:pass@host/dondoc"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        # Never echo the URL: it may carry a password.
        raise UserError(f"DONDOC_DATABASE_URL không hợp lệ; ví dụ: {_URL_EXAMPLES}.") from None
    if parsed.drivername in ("postgresql", "postgres"):
        # A bare postgresql:// would ask for psycopg2; dondoc ships psycopg 3.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL cannot corrupt the file; a power cut may lose the last
            # commits, which the outbox turns into a resend, never into a lost reminder.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, **kwargs)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError):
        raise UserError(
            f"DONDOC_DATABASE_URL: không hỗ trợ loại cơ sở dữ liệu '{parsed.drivername}'; "
            f"ví dụ: {_URL_EXAMPLES}."
        ) from None


def _cannot_open(exc: sa.exc.OperationalError) -> str:
    # Drivers add hints on extra lines; the CLI promises one line.
    return "Không mở được cơ sở dữ liệu: " + " ".join(str(exc.orig).split())


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    from alembic import command

    try:
        command.upgrade(_alembic_config(engine), "head")
    except sa.exc.OperationalError as exc:
        raise UserError(_cannot_open(exc)) from None


def schema_is_current(engine: Engine) -> bool:
    """Whether the store is migrated to the newest revision."""
    if _stored_revision(engine) == SCHEMA_HEAD:
        return True
    # Anything else (an older or unknown revision, no version table, a store that cannot
    # be opened) is for alembic to judge, so the answer and its errors stay alembic's.
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head


def _stored_revision(engine: Engine) -> str | None:
    """The store's one alembic revision, or None when it has none, several or no table."""
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    except sa.exc.DBAPIError:
        return None  # the caller asks alembic, which raises what a person should see
    return str(found[0][0]) if len(found) == 1 else None


def require_current_schema(engine: Engine) -> None:
    try:
        current = schema_is_current(engine)
    except sa.exc.OperationalError as exc:
        raise UserError(_cannot_open(exc)) from None
    if not current:
        raise UserError(
            "Cơ sở dữ liệu chưa được khởi tạo hoặc cần nâng cấp: hãy chạy `dondoc init`."
        )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
