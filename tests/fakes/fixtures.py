"""pytest fixtures around the fakes; a test module imports the ones it uses:

    from fakes.fixtures import fake_bot_api, plan_store, smtp_sink  # noqa: F401

- `smtp_sink`: a started SmtpSink (tests/fakes/smtp.py) on 127.0.0.1.
- `fake_bot_api`: a started FakeBotApi (tests/fakes/telegram_api.py).
- `fake_zalo_api`: a started FakeZaloApi (tests/fakes/zalo_api.py).
- `tls_files`: a self-signed certificate for 127.0.0.1 (cert, key) made with openssl.
- `tls_pair`: server and client SSL contexts for 127.0.0.1 from a throwaway CA (trustme).
- `plan_store`: a migrated SQLite store holding the bundled directory and the example
  plan as "nq131", copied from one built per session (importing takes seconds).
"""

from __future__ import annotations

import shutil
import sqlite3
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme
from sqlalchemy.engine import Engine

from dondoc.directory import BUNDLED_DIRECTORY, load_directory, read_directory_file
from dondoc.plan_import import import_plan
from dondoc.store import make_engine, migrate, session_scope
from fakes.smtp import SmtpSink
from fakes.telegram_api import FakeBotApi
from fakes.zalo_api import FakeZaloApi

EXAMPLE_PLAN = Path(__file__).resolve().parents[2] / "examples" / "nq131-phu-luc.csv"
IMPORTED_AT = datetime(2022, 11, 1, 1, 0, tzinfo=UTC)


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def fake_bot_api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


@pytest.fixture
def fake_zalo_api() -> Iterator[FakeZaloApi]:
    with FakeZaloApi() as fake:
        yield fake


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return TlsFiles(cert, key)


@dataclass(frozen=True)
class TlsPair:
    server: ssl.SSLContext  # presents a certificate for 127.0.0.1
    client: ssl.SSLContext  # trusts only the throwaway CA that signed it


@pytest.fixture(scope="session")
def tls_pair() -> TlsPair:
    ca = trustme.CA()
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return TlsPair(server, client)


@pytest.fixture(scope="session")
def _plan_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with session_scope(engine) as session:
        load_directory(session, read_directory_file(BUNDLED_DIRECTORY))
        import_plan(session, path=EXAMPLE_PLAN, now=IMPORTED_AT, plan_code="nq131")
    engine.dispose()
    with sqlite3.connect(path) as conn:  # fold the WAL into the file before copying it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def plan_store(_plan_store_template: Path, tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "dondoc.db"
    shutil.copyfile(_plan_store_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()
