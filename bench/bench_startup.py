"""`dondoc run` start to its first good tick, with nothing due, at 10k, 100k and 1M.

The real daemon as a subprocess (`python -m dondoc run`), timed from outside: from the
moment the process is started (Python's own start and every import included) until
`/healthz` answers 200, which it does only after a tick has completed. The web app
starts with it, as in production. The store is a restart under the rules in force
(bench/startup_store.py: built once through the DBAPI and cached). The daemon's own CPU
seconds are read from /proc, a figure the machine's other load does not inflate. The
daemon's bytecode is cached (under the temporary directory) as an installed one's is.

Then a rules edit at the largest size: while the daemon re-evaluates every assignment in
the background, batch by batch, `/healthz` is probed and queued emails go on reaching a
loopback SMTP server. Printed: the time to the first good tick after the edit, how long
the whole pass took, the probes that failed, and what was delivered during the pass.

Target (issue 15): start to first good tick under 5 s at 1M assignments. Sizes:
`BENCH_STARTUP_SIZES` (default 10000,100000,1000000); `BENCH_STARTUP_POSTGRES=1` adds
the largest size on PostgreSQL (127.0.0.1:5432); `BENCH_STARTUP_EDIT=0` leaves out the edit.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.startup_run import (
    DaemonRun,
    bench_rules,
    edit_while_delivering,
    mark_rules_current,
    postgres_store,
)
from bench.startup_store import sqlite_store

SIZES = tuple(
    int(n) for n in os.environ.get("BENCH_STARTUP_SIZES", "10000,100000,1000000").split(",")
)
RUNS = int(os.environ.get("BENCH_STARTUP_RUNS", "3"))
TARGET_SECONDS = 5.0


def _starts(folder: Path, url: str, rules: Path, data: Path) -> tuple[float, float, float]:
    """Median (wall to healthy, daemon CPU to healthy, wall to the start summary)."""
    walls, cpus, summaries = [], [], []
    for _ in range(RUNS):
        with DaemonRun(url=url, data_dir=data, rules=rules, log=folder / "daemon.log") as run:
            walls.append(run.healthy_after)
            cpus.append(run.cpu_at_healthy)
            summaries.append(run.summary_after)
    return statistics.median(walls), statistics.median(cpus), statistics.median(summaries)


def _sqlite(folder: Path, size: int, rules: Path) -> tuple[float, float, float, Path]:
    now = datetime.now(UTC)
    database, built = sqlite_store(assignments=size, into=folder / str(size), now=now)
    if built is not None:
        print(f"  (built the {size:,}-assignment store in {built:.1f} s; cached for later runs)")
    url = f"sqlite:///{database}"
    mark_rules_current(url, rules=rules, now=now)
    return (*_starts(folder, url, rules, database.parent), database)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="dondoc-startup-"))
    try:
        rules = bench_rules(folder)
        print("Start-up: `dondoc run` (a subprocess) to its first good tick (/healthz 200), "
              f"nothing due, SQLite, median of {RUNS}")  # fmt: skip
        print(f"  {'assignments':>12}  {'wall':>7}  {'daemon CPU':>10}  {'to summary':>10}")
        results: dict[int, tuple[float, float, float, Path]] = {}
        for size in SIZES:
            results[size] = _sqlite(folder, size, rules)
            wall, cpu, summary, _ = results[size]
            print(f"  {size:>12,}  {wall:6.2f}s  {cpu:9.2f}s  {summary:9.2f}s")
        small, large = min(SIZES), max(SIZES)
        wall, cpu, _, database = results[large]
        verdict = "met" if wall < TARGET_SECONDS else "NOT met"
        print(f"  {large:,} / {small:,}: wall {wall / results[small][0]:.2f}×, CPU "
              f"{cpu / results[small][1]:.2f}×; target < {TARGET_SECONDS:g} s at "
              f"{large:,}: {wall:.2f} s wall, {verdict}")  # fmt: skip
        if os.environ.get("BENCH_STARTUP_POSTGRES") == "1":
            with postgres_store(assignments=large, data_dir=folder / "pg") as url:
                if url is None:
                    print("  PostgreSQL: skipped, no server on 127.0.0.1:5432")
                else:
                    mark_rules_current(url, rules=rules, now=datetime.now(UTC))
                    wall, cpu, summary = _starts(folder, url, rules, folder / "pg")
                    print(f"  PostgreSQL {large:,}: {wall:.2f}s wall, {cpu:.2f}s daemon CPU, "
                          f"{summary:.2f}s to the summary")  # fmt: skip
        if os.environ.get("BENCH_STARTUP_EDIT", "1") == "1":
            edit_while_delivering(
                folder,
                url=f"sqlite:///{database}",
                data_dir=database.parent,
                rules=rules,
                size=large,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
