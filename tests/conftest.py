"""Shared fixtures: real stores (SQLite file; PostgreSQL when it answers) and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dondoc.store import make_engine, migrate

# Helper modules that test modules import and also load as plugins (their fixtures).
pytest.register_assert_rewrite("telegram_support")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXAMPLE_PLAN = EXAMPLES / "nq131-phu-luc.csv"
PG_ADMIN_URL = os.environ.get(
    "DONDOC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_reason() -> str | None:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # any failure means: not available on this machine
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"PostgreSQL at {PG_ADMIN_URL} does not answer ({type(exc).__name__}: {first_line})"
    return None


_PG_REASON: list[str | None] = []


def postgres_unavailable() -> str | None:
    if not _PG_REASON:
        _PG_REASON.append(_postgres_reason())
    return _PG_REASON[0]


def postgres_required() -> bool:
    """Under CI PostgreSQL is part of the machine: its absence is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    reason = postgres_unavailable()
    if reason and postgres_required():
        pytest.fail(f"{reason}; CI=true expects PostgreSQL on 127.0.0.1:5432", pytrace=False)
    if reason:
        pytest.skip(reason)
    name = f"dondoc_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for each backend the store must support."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dondoc.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """A migrated, empty store (alembic upgrade from empty) on each backend."""
    engine = make_engine(store_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite store, for tests that are not about portability."""
    engine = make_engine(f"sqlite:///{tmp_path / 'dondoc.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@dataclass
class Cli:
    """Runs the real `dondoc` entry point in a subprocess with its own data dir."""

    env: dict[str, str]
    cwd: Path

    def __call__(self, *args: str, input: str | None = None, timeout: float = 120) -> CliResult:
        proc = subprocess.run(
            [sys.executable, "-m", "dondoc", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            input=input,
            timeout=timeout,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update({"DONDOC_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200", "NO_COLOR": "1"})
    return Cli(env=env, cwd=tmp_path)


@pytest.fixture
def initialized_cli(cli: Cli) -> Cli:
    """A CLI whose store is created and holds the example directory and plan."""
    result = cli("init")
    assert result.exit_code == 0, result.stderr
    result = cli("plan", "import", str(EXAMPLE_PLAN), "--plan", "nq131")
    assert result.exit_code == 0, result.stderr
    return cli
