"""The real daemon as a subprocess, watched from outside: for bench/bench_startup.py."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, func, select

from bench.sample import reminder_context
from config.settings import BUNDLED_RULES
from dondoc.daemon_state import put_state
from dondoc.models import Agency, Assignment, OutboxMessage
from dondoc.outbox import enqueue_many
from dondoc.store import make_engine, session_scope
from scheduler import reevaluation

PG_ADMIN_URL = os.environ.get(
    "DONDOC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START_TIMEOUT = 900.0
PASS_TIMEOUT = 3600.0  # a million assignments take many minutes on a busy machine
SENDER = "dondoc@tinhmau.example"
WAVE = 100  # emails queued at a time during the re-evaluation
WAVE_EVERY = 10.0  # seconds
PYCACHE = Path(tempfile.gettempdir()) / "dondoc-bench-startup" / "pycache"


def bench_rules(folder: Path) -> Path:
    """The bundled rules, sending at any hour of today and the next two days, so the
    delivery part of the bench does not wait for office hours."""
    text = BUNDLED_RULES.read_text(encoding="utf-8")
    text = text.replace('office_hours: "07:30-17:00"', 'office_hours: "00:00-23:59"', 1)
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    days = ", ".join((today + timedelta(days=n)).isoformat() for n in range(3))
    text = text.replace("working_days: []", f"working_days: [{days}]", 1)
    path = folder / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def mark_rules_current(url: str, *, rules: Path, now: datetime) -> None:
    """Every `next_due_at` counts as computed under `rules`: a restart, no pass due."""
    version = reevaluation.rules_version(reevaluation.rules_digest(rules))
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            last = session.exec(select(func.max(Assignment.id))).one() or 0
            value = {"version": version, "after_id": int(last), "done": True}
            put_state(session, reevaluation.STATE_KEY, value, now=now)
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a live process (Linux), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class DaemonRun:
    """`python -m dondoc run` from its start until healthy; stopped with SIGTERM."""

    def __init__(
        self, *, url: str, data_dir: Path, rules: Path, log: Path, **settings: str
    ) -> None:
        self.port = _free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DONDOC_")}
        # Bytecode cached, as in an installed deployment (pip and the Docker image compile
        # it): without it every start compiles dondoc's hundred modules from source.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env.update(
            {
                "PYTHONPYCACHEPREFIX": str(PYCACHE),
                "DONDOC_DATA_DIR": str(data_dir),
                "DONDOC_DATABASE_URL": url,
                "DONDOC_HTTP_HOST": "127.0.0.1",
                "DONDOC_HTTP_PORT": str(self.port),
                "DONDOC_RULES_FILE": str(rules),
                **settings,
            }
        )
        self.log = log
        self.lines: list[tuple[float, str]] = []
        self.healthy_after = self.cpu_at_healthy = self.summary_after = float("nan")

    def __enter__(self) -> DaemonRun:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dondoc", "run"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            self._wait_healthy()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _read(self) -> None:
        stream = self.process.stderr
        if stream is None:
            return
        with self.log.open("a", encoding="utf-8") as out:
            for line in stream:
                self.lines.append((time.perf_counter() - self.started, line.rstrip()))
                out.write(line)

    def seen(self, text: str) -> float | None:
        """Seconds from the start to the first log line containing `text`."""
        return next((at for at, line in list(self.lines) if text in line), None)

    def health(self, timeout: float = 5.0) -> tuple[int, dict[str, object], float]:
        """(status, body, seconds the answer took); status 0 when nothing answered."""
        started = time.perf_counter()
        url = f"http://127.0.0.1:{self.port}/healthz"
        try:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as answer:
                    status, raw = answer.status, answer.read()
            except urllib.error.HTTPError as exc:
                status, raw = exc.code, exc.read()
        except OSError:  # refused, reset or timed out: no answer
            return 0, {}, time.perf_counter() - started
        return status, json.loads(raw or b"{}"), time.perf_counter() - started

    def _wait_healthy(self) -> None:
        deadline = self.started + START_TIMEOUT
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                self._reader.join(5)
                tail = "\n".join(line for _, line in self.lines[-15:])
                raise RuntimeError(f"dondoc run exited with {self.process.returncode}:\n{tail}")
            if self.health(timeout=2)[0] == 200:
                self.healthy_after = time.perf_counter() - self.started
                self.cpu_at_healthy = _cpu_seconds(self.process.pid)
                self._wait_summary()
                return
            time.sleep(0.02)
        raise RuntimeError(f"dondoc run was not healthy within {START_TIMEOUT:g} s")

    def _wait_summary(self) -> None:
        """The start summary is written beside the first tick, sometimes just after it."""
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline and self.process.poll() is None:
            found = self.seen("dondoc bắt đầu")
            if found is not None:
                self.summary_after = found
                return
            time.sleep(0.02)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)


@contextmanager
def postgres_store(*, assignments: int, data_dir: Path) -> Iterator[str | None]:
    """A new PostgreSQL database holding the store (built each time), dropped after."""
    from bench.startup_store import build

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"dondoc_bench_startup_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError:
        admin.dispose()
        yield None
        return
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(False)
    try:
        started = time.perf_counter()
        build(url, assignments=assignments, data_dir=data_dir, now=datetime.now(UTC))
        print(f"  (built the PostgreSQL store in {time.perf_counter() - started:.1f} s)")
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _serve_smtp(pipe: Connection) -> None:
    """The mail server, in a process of its own so it does not share the bench's GIL."""
    from tests.fakes.smtp import SmtpSink

    with SmtpSink() as sink:
        pipe.send(sink.port)
        while pipe.recv() == "count":
            pipe.send(len(sink.messages))


def _queue_wave(url: str, *, wave: int, now: datetime) -> None:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            agencies = list(session.exec(select(Agency.id).order_by(col(Agency.id))).all())
            rows = [
                {"key": f"bench:startup:{wave}:{n}", "channel": "email",
                 "agency_id": agencies[n % len(agencies)], "stage": "before",
                 "template": "upcoming", "context": reminder_context(n), "send_after": now,
                 "kind": "notice"}
                for n in range(WAVE)
            ]  # fmt: skip
            enqueue_many(session, rows, now=now)
    finally:
        engine.dispose()


def _unsent(url: str, wave: int) -> int:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            query = select(func.count()).where(
                col(OutboxMessage.key).startswith(f"bench:startup:{wave}:"),
                OutboxMessage.status != "sent",
            )
            return int(session.exec(query).one())
    finally:
        engine.dispose()


def edit_while_delivering(
    folder: Path, *, url: str, data_dir: Path, rules: Path, size: int
) -> None:
    """Edit the rules under a running daemon; probe health and deliver during the pass."""
    pipe, child = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve_smtp, args=(child,))
    server.start()
    smtp_port = pipe.recv()
    settings = {
        "DONDOC_SMTP__HOST": "127.0.0.1",
        "DONDOC_SMTP__PORT": str(smtp_port),
        "DONDOC_SMTP__SENDER": SENDER,
        "DONDOC_TICK_SECONDS": "2",  # the edit is seen within 2 s
    }
    try:
        with DaemonRun(
            url=url, data_dir=data_dir, rules=rules, log=folder / "edit.log", **settings
        ) as run:
            _edit(run, url=url, rules=rules, size=size, pipe=pipe)
    finally:
        pipe.send("stop")
        server.join(10)


def _edit(run: DaemonRun, *, url: str, rules: Path, size: int, pipe: Connection) -> None:
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("at: -14d", "at: -13d", 1), encoding="utf-8")
    edited_at = time.perf_counter() - run.started
    edited = datetime.now(UTC)
    version = reevaluation.rules_version(reevaluation.rules_digest(rules))
    engine = make_engine(url)
    probes: list[tuple[int, float]] = []
    waves: list[float] = []  # seconds from queueing a wave to its last email recorded sent
    first_tick: float | None = None
    done_at: float | None = None
    wave, queued_at = 0, -WAVE_EVERY
    open_waves: dict[int, float] = {}
    try:
        while time.perf_counter() - run.started < edited_at + PASS_TIMEOUT:
            elapsed = time.perf_counter() - run.started
            if done_at is None and elapsed - queued_at >= WAVE_EVERY:
                _queue_wave(url, wave=wave, now=datetime.now(UTC))
                open_waves[wave], queued_at, wave = elapsed, elapsed, wave + 1
            status, body, seconds = run.health()
            probes.append((status, seconds))
            tick = str(body.get("last_good_tick") or "")
            reloaded = run.seen("config reloaded") is not None
            if first_tick is None and reloaded and tick and datetime.fromisoformat(tick) > edited:
                first_tick = time.perf_counter() - run.started
            for number, at in list(open_waves.items()):
                if _unsent(url, number) == 0:
                    waves.append(time.perf_counter() - run.started - at)
                    del open_waves[number]
            if done_at is None:
                found = reevaluation.progress(engine)
                if found is not None and found.version == version and found.done:
                    done_at = time.perf_counter() - run.started
            if done_at is not None and not open_waves:
                break
            time.sleep(0.5)
    finally:
        engine.dispose()
    noticed = run.seen("config reloaded")
    pipe.send("count")
    received = pipe.recv()
    bad = [s for s, _ in probes if s != 200]
    slowest = max(seconds for _, seconds in probes)
    print(f"Rules edited under a running daemon, {size:,} assignments (SQLite):")
    if noticed is None or first_tick is None:
        print(f"  the edit was not applied within {PASS_TIMEOUT:g} s")
        return
    print(f"  edit noticed after {noticed - edited_at:.2f} s (ticks every 2 s); first good "
          f"tick after it {first_tick - noticed:.2f} s later")  # fmt: skip
    if done_at is None:
        engine = make_engine(url)
        reached = reevaluation.progress(engine)
        engine.dispose()
        after = reached.after_id if reached is not None else 0
        spent = time.perf_counter() - run.started - noticed
        print(f"  re-evaluation NOT finished within {PASS_TIMEOUT:g} s: {after:,} of {size:,} "
              f"({after / spent:,.0f} assignments/s)")  # fmt: skip
    else:
        print(f"  whole re-evaluation in the background: {done_at - noticed:.1f} s "
              f"({size / (done_at - noticed):,.0f} assignments/s)")  # fmt: skip
    print(f"  /healthz during it: {len(probes)} probes, {len(bad)} not 200, slowest answer "
          f"{slowest * 1000:.0f} ms")  # fmt: skip
    if waves:
        print(f"  {len(waves)} waves of {WAVE} emails queued every {WAVE_EVERY:g} s: queued "
              f"to all sent median {statistics.median(waves):.1f} s, slowest {max(waves):.1f} s; "
              f"{received} received by the SMTP server")  # fmt: skip
