"""Several real `dondoc run` processes on one PostgreSQL, for tests and bench/bench_multi*.

The store holds `count` agencies, each with one email address, and one due reminder to
each (the real "upcoming" template and a real reminder's context, bench/sample.py): the
outbox a busy day leaves, drained by whole daemons on the wall clock, with rules that keep
the office open today, so the run does not depend on the hour it starts at.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.sample import reminder_context
from dondoc.models import Agency, Contact
from dondoc.outbox import enqueue_many
from dondoc.store import make_engine, migrate, session_scope

ROOT = Path(__file__).resolve().parent.parent
SENDER = "dondoc@vp-ubnd.tinhmau.example"


def seed(url: str, *, count: int, queue: bool = True) -> None:
    """A migrated store with `count` agencies and (`queue`) one due email reminder to each."""
    engine = make_engine(url)
    try:
        migrate(engine)
        with session_scope(engine) as session:
            connection = session.connection()
            connection.execute(
                Agency.__table__.insert(),  # type: ignore[attr-defined]
                [
                    {"code": f"co-quan-{n}", "name": f"Cơ quan số {n}", "kind": "department",
                     "locale": "vi", "aliases": []}
                    for n in range(count)
                ],
            )  # fmt: skip
            connection.execute(
                Contact.__table__.insert(),  # type: ignore[attr-defined]
                [
                    {"agency_id": agency_id, "channel": "email", "is_head": False,
                     "active": True, "address": f"co-quan-{n}@tinhmau.example"}
                    for n, agency_id in enumerate(_agency_ids(connection))
                ],
            )  # fmt: skip
    finally:
        engine.dispose()
    if queue:
        queue_reminders(url)


def _agency_ids(connection: sa.Connection) -> list[int]:
    table = Agency.__table__  # type: ignore[attr-defined]
    return [row[0] for row in connection.execute(sa.select(table.c.id).order_by(table.c.id))]


def queue_reminders(url: str) -> int:
    """One due email reminder to each agency, as a tick would queue them."""
    engine = make_engine(url)
    try:
        now = datetime.now(UTC)
        with session_scope(engine) as session:
            ids = _agency_ids(session.connection())
            rows = [
                {"key": f"multi:email:{agency_id}", "channel": "email",
                 "agency_id": agency_id, "stage": "before", "template": "upcoming",
                 "context": reminder_context(n), "send_after": now, "kind": "reminder"}
                for n, agency_id in enumerate(ids)
            ]  # fmt: skip
            for start in range(0, len(rows), 1000):  # within PostgreSQL's 65535 parameters
                enqueue_many(session, rows[start : start + 1000], now=now)
        return len(rows)
    finally:
        engine.dispose()


def always_open_rules(folder: Path) -> Path:
    """The bundled rules with the office open all day, today and tomorrow."""
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    days = f"[{today.isoformat()}, {(today + timedelta(days=1)).isoformat()}]"
    text = (ROOT / "config" / "rules.yaml").read_text(encoding="utf-8")
    text = text.replace('office_hours: "07:30-17:00"', 'office_hours: "00:00-23:59"')
    text = text.replace("working_days: []", f"working_days: {days}")
    rules = folder / "rules.yaml"
    rules.write_text(text, encoding="utf-8")
    return rules


def daemon_env(
    folder: Path, *, url: str, smtp_port: int, name: str, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
    env.update(
        {
            "DONDOC_DATA_DIR": str(folder / name),  # each replica its own, as in containers
            "DONDOC_DATABASE_URL": url,
            "DONDOC_RULES_FILE": str(always_open_rules(folder)),
            "DONDOC_SMTP__HOST": "127.0.0.1",
            "DONDOC_SMTP__PORT": str(smtp_port),
            "DONDOC_SMTP__SENDER": SENDER,
            "DONDOC_HTTP_PORT": "0",
            "DONDOC_TICK_SECONDS": "1",
            **extra,
        }
    )
    return env


@dataclass
class Daemon:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    killed_at: float | None = None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.killed_at = time.monotonic()

    def stop(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def cpu_seconds(self) -> float:
        """User + system CPU time so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_daemon(env: dict[str, str], folder: Path, name: str) -> Daemon:
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "dondoc", "run"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    return Daemon(name, process, log)


def outbox_counts(engine: Engine) -> Counter[str]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT status, count(*) FROM outbox GROUP BY status"))
        return Counter({status: int(count) for status, count in rows})


def sent_message_ids(engine: Engine) -> dict[str, str | None]:
    """key → the Message-ID recorded for it."""
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT key, provider_id FROM outbox"))
        return {key: provider_id for key, provider_id in rows}


def message_id(header: str | None) -> str:
    # Long Message-IDs are folded onto a continuation line: compare them unfolded.
    return "".join((header or "").split())


def wait_for(condition: Callable[[], bool], *, timeout: float, poll: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return False


@dataclass
class Verdict:
    """Every message by its key, against what reached the sink."""

    rows: int
    sent: int
    unsent: int
    lost: int  # recorded sent, yet never received
    duplicated: int  # extra copies received, summed over Message-IDs
    worst: int  # the most copies of one message
    strangers: int  # received Message-IDs that no row has
    by_status: Counter[str] = field(default_factory=Counter)


def judge(engine: Engine, received: Iterable[str]) -> Verdict:
    rows = sent_message_ids(engine)
    counts = outbox_counts(engine)
    copies = Counter(received)
    recorded = {key: pid for key, pid in rows.items() if pid}
    known = set(recorded.values())
    return Verdict(
        rows=len(rows),
        sent=counts["sent"],
        unsent=len(rows) - counts["sent"],
        lost=sum(1 for pid in recorded.values() if copies[pid] == 0),
        duplicated=sum(n - 1 for n in copies.values() if n > 1),
        worst=max(copies.values(), default=0),
        strangers=sum(1 for pid in copies if pid not in known),
        by_status=counts,
    )
