"""Daemon start to first good tick, with nothing due, at many assignments.

Three starts of the real daemon's step on one SQLite store: the first start ever (the
rules' version is new: one batch of the re-evaluation, the rest follows in later steps),
a restart under the same rules (only what is due), and, for comparison, the whole
re-evaluation in one go, which is what every start used to cost.
Target (issue 15): the restart's first good tick under 5 s at 1M assignments
(`BENCH_ASSIGNMENTS=1000000`; 100k by default, to keep `make bench` short).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import Engine

from bench.bench_tick import NOW, build_store
from config.settings import load_settings
from dondoc.clock import ManualClock
from notifiers.render import Renderer
from scheduler import reevaluation
from scheduler.daemon import Daemon

ASSIGNMENTS = int(os.environ.get("BENCH_ASSIGNMENTS", "100000"))
TARGET_SECONDS = 5.0


def _daemon(folder: Path, engine: Engine) -> Daemon:
    settings = load_settings(
        data_dir=folder, database_url=str(engine.url.render_as_string(False)), http_port=0
    )
    return Daemon(
        settings=settings,
        engine=engine,
        clock=ManualClock(NOW),
        channels={},
        renderer=Renderer(),
    )


async def _first_good_tick(folder: Path, engine: Engine, *, all_at_once: bool) -> float:
    started = time.perf_counter()
    daemon = _daemon(folder, engine)
    daemon._reevaluate_all(NOW)  # what `run` does first
    daemon._continuous = not all_at_once  # the wall clock: one batch a step
    await daemon.step()
    return time.perf_counter() - started


async def _run(folder: Path) -> None:
    engine = build_store(folder / "startup.db", ASSIGNMENTS)
    first = await _first_good_tick(folder, engine, all_at_once=False)
    while reevaluation.pending(engine):  # the later steps of that first start
        await _daemon(folder, engine).step()
    restart = await _first_good_tick(folder, engine, all_at_once=False)
    reevaluation.require(engine, version="an edit", now=NOW)
    whole = await _first_good_tick(folder, engine, all_at_once=True)
    engine.dispose()
    verdict = "met" if restart < TARGET_SECONDS else "NOT met"
    print(f"Start-up: daemon start to first good tick, {ASSIGNMENTS:,} assignments, none due")
    print(f"  restart under the same rules          {restart:8.2f} s")
    print(f"  first start (one batch of the pass)   {first:8.2f} s")
    print(f"  the whole re-evaluation at once       {whole:8.2f} s (what every start cost)")
    print(f"  whole / restart = {whole / restart:.0f}×; restart target < {TARGET_SECONDS:g} s: "
          f"{verdict}")  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_run(Path(folder)))


if __name__ == "__main__":
    main()
