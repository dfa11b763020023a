"""Several daemons on one PostgreSQL: aggregate email throughput, and repeated kill -9.

Whole `dondoc run` processes on the wall clock drain a backlog of due email reminders
(tests/multi_daemon_support.py seeds it: one reminder to each of N agencies, the real
template and context) to an aiosmtpd in its own process, which notes when each message
arrived and its Message-ID (made from the row's key, so a resend is visible).

1. Throughput: one daemon, then three on a fresh copy of the same backlog; messages per
   second from the first arrival to the last, against a server that answers at once and
   one that takes 50 ms a message. Target (issue 15): three ≥ 2× one. Against the instant
   server each daemon is bound by its own CPU: on a machine with fewer cores than daemons
   (plus PostgreSQL and the server) the ratio measures the cores, so the core count is
   printed next to it, and so is the daemons' CPU time per email (start-up included),
   which does not depend on how busy the machine is: if three daemons spend about what
   one spends per email, they add nothing but cores, and the ratio follows the cores.
2. Kill -9: three daemons; every 0.5-2 s one of them, at random, is killed with SIGKILL
   and a fresh one started, 20 times; then the survivors finish. Printed: rows lost (never
   sent, or recorded sent but never received) and duplicated (extra copies received),
   against the bound of one resend per in-flight message per kill (FLUSH_ROWS + the
   email pool's 4 connections).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

import sqlalchemy as sa

from dondoc.store import make_engine
from scheduler.workers import FLUSH_ROWS
from tests.fakes.smtp import SmtpSink
from tests.multi_daemon_support import (
    Daemon,
    daemon_env,
    judge,
    message_id,
    outbox_counts,
    seed,
    start_daemon,
    wait_for,
)

EMAILS = 3000
# The server's time to accept a message: none (a loopback sink: the daemons' own CPU is
# the limit), and 50 ms (a relay that scans what it accepts: each daemon's 4 connections
# are the limit, and more daemons bring more connections).
LATENCIES = ((0.0, "server answers at once"), (0.05, "server takes 50 ms a message"))
KILLS = 20
KILL_EMAILS = 6000
THROUGHPUT_TARGET = 2.0
PER_KILL = FLUSH_ROWS + 4
PG_ADMIN_URL = os.environ.get(
    "DONDOC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _serve(pipe: Connection, latency: float) -> None:
    """The mail server process: answers 'count', 'report' (arrival span and Message-IDs)."""
    with SmtpSink() as sink:
        sink.answer_delay = latency
        pipe.send(sink.port)
        arrivals: list[float] = []
        seen = 0
        while True:
            if pipe.poll(0.05):
                order = pipe.recv()
                if order == "stop":
                    return
                messages = list(sink.messages)
                if order == "count":
                    pipe.send(len(messages))
                elif order == "report":
                    ids = [message_id(m.header("Message-ID")) for m in messages]
                    span = (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0
                    pipe.send((ids, span))
            count = len(sink.messages)
            now = time.monotonic()
            arrivals.extend([now] * (count - seen))  # noted within 50 ms of arrival
            seen = count


@contextmanager
def _sink(latency: float = 0.0) -> Iterator[tuple[int, Connection]]:
    pipe, child = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(child, latency))
    server.start()
    try:
        yield pipe.recv(), pipe
    finally:
        pipe.send("stop")
        server.join(10)


@contextmanager
def _database() -> Iterator[str]:
    name = f"dondoc_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _postgres_absent() -> str | None:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    return None


def _report(pipe: Connection) -> tuple[list[str], float]:
    """The Message-IDs received, and the seconds from the first arrival to the last."""
    pipe.send("report")
    ids, span = pipe.recv()
    return list(ids), float(span)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _drain(
    folder: Path, daemons: int, emails: int, latency: float
) -> tuple[float, int, float]:
    """(aggregate msg/s from first to last arrival, duplicates, CPU ms per email of the
    daemon processes, start-up included) for `daemons` processes."""
    with _database() as url, _sink(latency) as (port, pipe):
        seed(url, count=emails)
        engine = make_engine(url)
        cpu = _children_cpu()  # the sink is reaped later: only the daemons count
        running = [
            start_daemon(
                daemon_env(folder, url=url, smtp_port=port, name=f"t{daemons}-{n}"),
                folder,
                f"t{daemons}-{n}",
            )
            for n in range(daemons)
        ]
        try:
            done = wait_for(lambda: outbox_counts(engine)["sent"] >= emails, timeout=600, poll=0.5)
        finally:
            for daemon in running:
                daemon.stop()
        cpu = _children_cpu() - cpu
        ids, span = _report(pipe)
        verdict = judge(engine, ids)
        engine.dispose()
    if not done:
        raise RuntimeError(f"{daemons} daemon(s) did not drain {emails} emails in 10 minutes")
    rate = (len(ids) - 1) / span if span else float("inf")
    return rate, verdict.duplicated, 1000 * cpu / emails


def _kill_run(folder: Path, rng: random.Random) -> None:
    with _database() as url, _sink() as (port, pipe):
        seed(url, count=KILL_EMAILS)
        engine = make_engine(url)

        def spawn(n: int) -> Daemon:
            env = daemon_env(
                folder, url=url, smtp_port=port, name=f"k{n}", DONDOC_DELIVERY_LEASE="5"
            )
            return start_daemon(env, folder, f"k{n}")

        alive = [spawn(n) for n in range(3)]
        spawned, kills, started = 3, 0, time.monotonic()
        try:
            while kills < KILLS and outbox_counts(engine)["sent"] < KILL_EMAILS:
                time.sleep(rng.uniform(0.5, 2.0))
                victim = alive.pop(rng.randrange(len(alive)))
                victim.kill()
                kills += 1
                alive.append(spawn(spawned))
                spawned += 1
            done = wait_for(
                lambda: outbox_counts(engine)["sent"] >= KILL_EMAILS, timeout=300, poll=0.5
            )
        finally:
            for daemon in alive:
                daemon.stop()
        elapsed = time.monotonic() - started
        ids, _ = _report(pipe)
        verdict = judge(engine, ids)
        engine.dispose()
    bound = kills * PER_KILL
    ok = done and verdict.lost == 0 and verdict.unsent == 0 and verdict.duplicated <= bound
    print(f"Kill -9: {KILL_EMAILS} emails, 3 daemons, {kills} kills at random moments "
          f"(each replaced), {elapsed:.0f} s")  # fmt: skip
    print(f"  lost {verdict.lost}, never sent {verdict.unsent}, duplicated {verdict.duplicated} "
          f"(bound {kills} × {PER_KILL} = {bound}: {'met' if ok else 'NOT met'}); "
          f"most copies of one message {verdict.worst}")  # fmt: skip


def main() -> None:
    absent = _postgres_absent()
    if absent:
        print(f"Several daemons on PostgreSQL: skipped, PostgreSQL at {PG_ADMIN_URL} "
              f"does not answer ({absent})")  # fmt: skip
        return
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        print(f"Several daemons: {EMAILS} queued emails on one PostgreSQL to aiosmtpd "
              f"(its own process), {os.cpu_count()} CPU cores")  # fmt: skip
        for latency, what in LATENCIES:
            one, _, one_cpu = _drain(folder, 1, EMAILS, latency)
            three, duplicated, three_cpu = _drain(folder, 3, EMAILS, latency)
            ratio = three / one
            verdict = "met" if ratio >= THROUGHPUT_TARGET else "NOT met"
            print(f"  {what}:")
            print(f"    one daemon     {one:8.1f} msg/s, {one_cpu:5.2f} ms CPU an email")
            print(f"    three daemons  {three:8.1f} msg/s aggregate, {three_cpu:5.2f} ms CPU an "
                  f"email (all three), {duplicated} duplicates")  # fmt: skip
            per_core = 1000 / one_cpu
            print(f"    three / one = {ratio:.2f} (target ≥ {THROUGHPUT_TARGET:.1f}: {verdict}); "
                  f"a core's worth of daemon CPU sends {per_core:.0f} emails a second")  # fmt: skip
        print()
        _kill_run(folder, random.Random())


if __name__ == "__main__":
    main()
